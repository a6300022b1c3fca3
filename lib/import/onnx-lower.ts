// Lowering of ONNX compute nodes to plan ops, after constant folding.


import { invalidModel, unsupportedOp } from '../errors';
import {
  Activation,
  BinaryKind,
  MAX_RANK,
  OpType,
  PadMode,
  PoolKind,
  ResizeCoordinates,
  ResizeMode,
  UnaryKind,
  f32,
} from '../plan';
import { checkConcatShapes, normalizeAxis, reshapeShape, sliceBounds, squeezeShape, unsqueezeShape } from './onnx-fold';
import {
  floatAttribute,
  hasAttribute,
  intAttribute,
  intsAttribute,
  floatsAttribute,
  stringAttribute,
} from './onnx-node';
import { ConstTensor, broadcastShape, broadcastTo, sizeOf, transposeConst, valuesOf } from './onnx-tensor';
import type { ImportContext, TensorValue, Value } from './onnx';
import { QUANT_OPS, lowerQuantized } from './onnx-quant';
import { DataType, NodeProto } from './onnx-schema';

type Node = NodeProto;

/** A fusable activation with its plan parameters. */
interface FusedActivation {
  kind: Activation;
  a: number;
  b: number;
  /** PReLU slopes, of length 1 or the channel count. */
  slopes?: Float32Array;
}

const FLOAT_MAX = 3.4028234663852886e38;

/** Returns the node's output name, or '' when absent. */
function outputName(node: Node, index = 0): string {
  return node.output?.[index] ?? '';
}

function bind(ctx: ImportContext, name: string, value: Value): void {
  ctx.values.set(name, value);
}

function tensorInput(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>, index: number): TensorValue {
  const value = inputs[index];
  if (!value) throw invalidModel(ctx.file, `node "${label}" (${node.opType}) is missing input ${index}`);
  if (value.kind !== 'tensor') {
    throw unsupportedOp(ctx.file, node.opType ?? '', label, `input ${index} is a constant where the plan needs a computed tensor`);
  }
  return value;
}

function constInput(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>, index: number): ConstTensor {
  const value = inputs[index];
  if (!value) throw invalidModel(ctx.file, `node "${label}" (${node.opType}) is missing input ${index}`);
  if (value.kind !== 'const') {
    throw unsupportedOp(ctx.file, node.opType ?? '', label, `input ${index} must be a constant (an initializer or a folded subgraph)`);
  }
  return value.tensor;
}

function optionalConst(inputs: Array<Value | undefined>, index: number): ConstTensor | undefined {
  const value = inputs[index];
  return value && value.kind === 'const' ? value.tensor : undefined;
}

/**
 * Returns the values of `tensor` as a vector along `axis` of a rank-`rank` tensor with `size`
 * entries on that axis: length `size`, or length 1 when the constant is a single value.
 * Returns undefined when the constant varies along any other axis.
 */
function perAxisVector(tensor: ConstTensor, rank: number, axis: number, size: number): Float32Array | undefined {
  if (tensor.shape.length > rank) return undefined;
  const padded = new Array<number>(rank - tensor.shape.length).fill(1).concat(tensor.shape);
  if (padded.some((d, i) => i !== axis && d !== 1)) return undefined;
  if (padded[axis] === 1) return Float32Array.of(tensor.data[0]);
  if (padded[axis] !== size) return undefined;
  return Float32Array.from(tensor.data);
}

/** Lowers one node whose outputs cannot be folded into constants. */
export function lowerNode(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  if (QUANT_OPS.has(op) || inputs.some((v) => v?.kind === 'quant')) {
    lowerQuantized(ctx, node, label, inputs);
    return;
  }
  switch (op) {
    case 'Identity':
    case 'Dropout':
    case 'Cast': {
      if (op === 'Cast' && intAttribute(node, 'to', 1) !== DataType.FLOAT) {
        throw unsupportedOp(ctx.file, op, label, 'only casts to float32 are supported on computed tensors');
      }
      bind(ctx, outputName(node), tensorInput(ctx, node, label, inputs, 0));
      return;
    }
    case 'Conv':
      return lowerConv(ctx, node, label, inputs);
    case 'BatchNormalization':
      return lowerBatchNorm(ctx, node, label, inputs);
    case 'Gemm':
    case 'MatMul':
      return lowerFullyConnected(ctx, node, label, inputs);
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
    case 'Max':
    case 'Min':
      return lowerBinary(ctx, node, label, inputs);
    case 'Relu':
    case 'Clip':
    case 'PRelu':
    case 'LeakyRelu':
    case 'Sigmoid':
    case 'Exp':
    case 'Tanh':
    case 'Abs':
    case 'Sqrt':
    case 'Neg':
      return lowerUnary(ctx, node, label, inputs);
    case 'Softmax':
      return lowerSoftmax(ctx, node, label, inputs);
    case 'MaxPool':
    case 'AveragePool':
      return lowerPool(ctx, node, label, inputs);
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const x = ctx.toNhwc(tensorInput(ctx, node, label, inputs, 0), label);
      const kind = op === 'GlobalMaxPool' ? PoolKind.MAX : PoolKind.AVERAGE;
      const id = ctx.builder.add(OpType.POOL2D, [x.id], [kind, 0, 0, 1, 1, 0, 0, 0, 0, 0], [], label);
      bind(ctx, outputName(node), { kind: 'tensor', id, shape: [x.shape[0], x.shape[1], 1, 1], nhwc: true });
      return;
    }
    case 'Pad':
      return lowerPad(ctx, node, label, inputs);
    case 'Resize':
    case 'Upsample':
      return lowerResize(ctx, node, label, inputs);
    case 'Concat':
      return lowerConcat(ctx, node, label, inputs);
    case 'Flatten': {
      const x = tensorInput(ctx, node, label, inputs, 0);
      const rank = x.shape.length;
      const rawAxis = intAttribute(node, 'axis', 1);
      const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
      const shape = [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))];
      bind(ctx, outputName(node), ctx.reshape(x, shape, label));
      return;
    }
    case 'Reshape': {
      const x = tensorInput(ctx, node, label, inputs, 0);
      const target = ctx.opset < 5 ? intsAttribute(node, 'shape') ?? [] : valuesOf(constInput(ctx, node, label, inputs, 1));
      const shape = reshapeShape(x.shape, target, intAttribute(node, 'allowzero', 0) === 1, ctx.foldContext(label));
      bind(ctx, outputName(node), ctx.reshape(x, shape, label));
      return;
    }
    case 'Squeeze':
    case 'Unsqueeze': {
      const x = tensorInput(ctx, node, label, inputs, 0);
      const axesInput = optionalConst(inputs, 1);
      const axes = intsAttribute(node, 'axes') ?? (axesInput ? valuesOf(axesInput) : undefined);
      const fold = ctx.foldContext(label);
      if (op === 'Unsqueeze' && !axes) throw unsupportedOp(ctx.file, op, label, 'axes must be a constant');
      const shape = op === 'Squeeze' ? squeezeShape(x.shape, axes, fold) : unsqueezeShape(x.shape, axes!, fold);
      bind(ctx, outputName(node), ctx.reshape(x, shape, label));
      return;
    }
    case 'Transpose':
      return lowerTranspose(ctx, node, label, inputs);
    case 'Slice':
      return lowerSlice(ctx, node, label, inputs);
    default:
      throw unsupportedOp(ctx.file, op, label);
  }
}

/** Returns the single node reading `name`, or undefined when it has other readers or is a graph output. */
function soleReader(ctx: ImportContext, name: string): Node | undefined {
  const readers = ctx.readers.get(name) ?? [];
  if (readers.length !== 1 || readers[0] === 'output') return undefined;
  return readers[0];
}

function constOf(ctx: ImportContext, name: string | undefined | null): ConstTensor | undefined {
  if (!name) return undefined;
  const value = ctx.values.get(name);
  return value && value.kind === 'const' ? value.tensor : undefined;
}

/** Returns the Clip bounds of a node, or undefined when a bound is computed at run time. */
function clipBounds(ctx: ImportContext, node: Node): { min: number; max: number } | undefined {
  if (ctx.opset < 11) {
    return { min: floatAttribute(node, 'min', -FLOAT_MAX), max: floatAttribute(node, 'max', FLOAT_MAX) };
  }
  const minName = node.input?.[1];
  const maxName = node.input?.[2];
  const min = constOf(ctx, minName);
  const max = constOf(ctx, maxName);
  if ((minName && !min) || (maxName && !max)) return undefined;
  return { min: min ? min.data[0] : -FLOAT_MAX, max: max ? max.data[0] : FLOAT_MAX };
}

/**
 * Returns the activation of `node` when it can run fused into the op before it, whose output has
 * `channels` entries on `axis` of a rank-`rank` ONNX tensor.
 */
function activationOf(ctx: ImportContext, node: Node, rank: number, axis: number, channels: number): FusedActivation | undefined {
  switch (node.opType) {
    case 'Relu':
      return { kind: Activation.RELU, a: 0, b: 0 };
    case 'Sigmoid':
      return { kind: Activation.SIGMOID, a: 0, b: 0 };
    case 'LeakyRelu':
      return { kind: Activation.LEAKY_RELU, a: floatAttribute(node, 'alpha', 0.01), b: 0 };
    case 'Clip': {
      const bounds = clipBounds(ctx, node);
      return bounds && { kind: Activation.CLIP, a: bounds.min, b: bounds.max };
    }
    case 'PRelu': {
      const slope = constOf(ctx, node.input?.[1]);
      const slopes = slope && perAxisVector(slope, rank, axis, channels);
      return slopes && { kind: Activation.PRELU, a: 0, b: 0, slopes };
    }
    default:
      return undefined;
  }
}

/** Fuses the activation that alone reads `name` and returns the name of the value that then contains the result. */
function fuseActivation(
  ctx: ImportContext,
  name: string,
  rank: number,
  axis: number,
  channels: number,
): { activation: FusedActivation; name: string } {
  const none = { activation: { kind: Activation.NONE, a: 0, b: 0 }, name };
  const reader = soleReader(ctx, name);
  if (!reader || reader.input?.[0] !== name) return none;
  const activation = activationOf(ctx, reader, rank, axis, channels);
  if (!activation) return none;
  ctx.fused.add(reader);
  return { activation, name: outputName(reader) };
}

/**
 * Absorbs an Add of a constant vector along `axis` that alone reads `name`, a bias add that the
 * exporter left separate. Returns the vector and the name of the Add output.
 */
function absorbBiasAdd(
  ctx: ImportContext,
  name: string,
  rank: number,
  axis: number,
  channels: number,
): { vector: Float32Array; name: string } | undefined {
  const reader = soleReader(ctx, name);
  if (!reader || reader.opType !== 'Add' || (reader.input ?? []).length !== 2) return undefined;
  const other = reader.input![0] === name ? reader.input![1] : reader.input![0];
  const constant = constOf(ctx, other);
  const vector = constant && perAxisVector(constant, rank, axis, channels);
  if (!vector) return undefined;
  ctx.fused.add(reader);
  return { vector, name: outputName(reader) };
}

function activationParams(activation: FusedActivation): Array<number | { f32: number }> {
  return [activation.kind, f32(activation.a), f32(activation.b)];
}

/** Computes begin and end padding for one spatial axis, honouring auto_pad. */
function resolvePads(
  autoPad: string,
  size: number,
  kernel: number,
  stride: number,
  dilation: number,
  begin: number,
  end: number,
): [number, number] {
  if (autoPad === 'VALID') return [0, 0];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const out = Math.ceil(size / stride);
    const total = Math.max(0, (out - 1) * stride + (kernel - 1) * dilation + 1 - size);
    const small = Math.floor(total / 2);
    return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
  }
  return [begin, end];
}

function lowerConv(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const x = spatialInput(ctx, node, label, inputs);
  const weight = constInput(ctx, node, label, inputs, 1);
  const bias = optionalConst(inputs, 2);
  if (inputs[2] && !bias) throw unsupportedOp(ctx.file, 'Conv', label, 'the bias must be a constant');
  emitConv(ctx, node, label, x, weight, bias, outputName(node));
}

/**
 * Adds a CONV2D for `node` with OIHW `weight`, binding the result to `resultName` or to the
 * output of a bias Add, batch norm and activation that it absorbs.
 */
export function emitConv(
  ctx: ImportContext,
  node: Node,
  label: string,
  input: TensorValue,
  weight: ConstTensor,
  bias: ConstTensor | undefined,
  resultName: string,
): void {
  const x = ctx.toNhwc(input, label);
  if (weight.shape.length !== 4) throw unsupportedOp(ctx.file, 'Conv', label, `only 2-D convolution is supported (weight rank ${weight.shape.length})`);

  const [outC, groupC, kh, kw] = weight.shape;
  const [n, inC, h, w] = x.shape;
  const groups = intAttribute(node, 'group', 1);
  if (groups < 1 || groupC * groups !== inC || outC % groups !== 0) {
    throw invalidModel(ctx.file, `node "${label}" has weight [${weight.shape.join(', ')}] and ${groups} groups for ${inC} input channels`);
  }
  const kernel = intsAttribute(node, 'kernel_shape');
  if (kernel && (kernel[0] !== kh || kernel[1] !== kw)) {
    throw invalidModel(ctx.file, `node "${label}" has kernel_shape [${kernel.join(', ')}] but weight [${weight.shape.join(', ')}]`);
  }
  const [sh, sw] = intsAttribute(node, 'strides') ?? [1, 1];
  const [dh, dw] = intsAttribute(node, 'dilations') ?? [1, 1];
  const pads = intsAttribute(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  const [pt, pb] = resolvePads(autoPad, h, kh, sh, dh, pads[0], pads[2]);
  const [pl, pr] = resolvePads(autoPad, w, kw, sw, dw, pads[1], pads[3]);
  const outH = Math.floor((h + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
  const outW = Math.floor((w + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
  if (outH < 1 || outW < 1) throw invalidModel(ctx.file, `node "${label}" produces an empty output from a ${h}x${w} input`);

  // OIHW -> OHWI, then fold a batch norm that alone reads the conv output.
  const weights = transposeConst(weight, [0, 2, 3, 1]).data as Float32Array;
  let biases = bias ? Float32Array.from(bias.data) : new Float32Array(outC);
  const biasAdd = absorbBiasAdd(ctx, resultName, 4, 1, outC);
  if (biasAdd) {
    for (let o = 0; o < outC; o++) biases[o] += biasAdd.vector[biasAdd.vector.length === 1 ? 0 : o];
    resultName = biasAdd.name;
  }
  const batchNorm = soleReader(ctx, resultName);
  const folded = batchNorm?.opType === 'BatchNormalization' ? batchNormAffine(ctx, batchNorm, outC) : undefined;
  if (batchNorm && folded) {
    const perOut = kh * kw * groupC;
    for (let o = 0; o < outC; o++) {
      for (let i = 0; i < perOut; i++) weights[o * perOut + i] *= folded.scale[o];
      biases[o] = biases[o] * folded.scale[o] + folded.shift[o];
    }
    ctx.fused.add(batchNorm);
    resultName = outputName(batchNorm);
  }
  if (!bias && !folded && !biasAdd) biases = new Float32Array(0);

  const fused = fuseActivation(ctx, resultName, 4, 1, outC);
  const consts: Float32Array[] = [Float32Array.from(weights), biases];
  if (fused.activation.slopes) consts.push(fused.activation.slopes);
  const params = [kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups, outC, ...activationParams(fused.activation)];
  const id = ctx.builder.add(OpType.CONV2D, [x.id], params, consts, label);
  bind(ctx, fused.name, { kind: 'tensor', id, shape: [n, outC, outH, outW], nhwc: true });
}

/** Returns the per-channel scale and shift of a BatchNormalization node, or undefined when its parameters are not constant. */
function batchNormAffine(ctx: ImportContext, node: Node, channels: number): { scale: Float32Array; shift: Float32Array } | undefined {
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constOf(ctx, node.input?.[i]));
  if (!gamma || !beta || !mean || !variance) return undefined;
  if ((node.output ?? []).filter((o) => o).length > 1) return undefined;
  if ([gamma, beta, mean, variance].some((t) => t.data.length !== channels)) {
    throw invalidModel(ctx.file, `BatchNormalization "${node.name}" has parameters that do not match ${channels} channels`);
  }
  const epsilon = floatAttribute(node, 'epsilon', 1e-5);
  const scale = new Float32Array(channels);
  const shift = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    scale[c] = gamma.data[c] / Math.sqrt(variance.data[c] + epsilon);
    shift[c] = beta.data[c] - mean.data[c] * scale[c];
  }
  return { scale, shift };
}

/** Returns input 0 as a rank-4 tensor; spatial ops reject other ranks. */
function spatialInput(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): TensorValue {
  const x = tensorInput(ctx, node, label, inputs, 0);
  if (x.shape.length !== 4) {
    throw unsupportedOp(ctx.file, node.opType ?? '', label, `only rank-4 NCHW inputs are supported (got rank ${x.shape.length})`);
  }
  return x;
}

function lowerBatchNorm(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  let x = tensorInput(ctx, node, label, inputs, 0);
  const channels = x.shape[1] ?? 0;
  const affine = batchNormAffine(ctx, node, channels);
  if (!affine) throw unsupportedOp(ctx.file, 'BatchNormalization', label, 'parameters must be constants and only the Y output may be used');
  if (x.shape.length === 4) x = ctx.toNhwc(x, label);
  else if (x.shape.length !== 2) {
    throw unsupportedOp(ctx.file, 'BatchNormalization', label, `only rank-2 and rank-4 inputs are supported (got rank ${x.shape.length})`);
  }
  const id = ctx.builder.add(OpType.CHANNEL_AFFINE, [x.id], [], [affine.scale, affine.shift], label);
  bind(ctx, outputName(node), { ...x, id });
}

function lowerFullyConnected(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const x = tensorInput(ctx, node, label, inputs, 0);
  const b = constInput(ctx, node, label, inputs, 1);
  if (b.shape.length !== 2) throw unsupportedOp(ctx.file, op, label, `the weight must be a rank-2 constant (got [${b.shape.join(', ')}])`);

  let transB = false;
  let alpha = 1;
  let beta = 1;
  let rows: number[];
  let k: number;
  if (op === 'Gemm') {
    if (intAttribute(node, 'transA', 0) !== 0) throw unsupportedOp(ctx.file, op, label, 'transA = 1 is not supported');
    if (x.shape.length !== 2) throw invalidModel(ctx.file, `node "${label}" (Gemm) reads a rank-${x.shape.length} input`);
    transB = intAttribute(node, 'transB', 0) === 1;
    alpha = floatAttribute(node, 'alpha', 1);
    beta = floatAttribute(node, 'beta', 1);
    rows = [x.shape[0]];
    k = x.shape[1];
  } else {
    if (x.shape.length < 2) throw unsupportedOp(ctx.file, op, label, 'a rank-1 left operand is not supported');
    rows = x.shape.slice(0, -1);
    k = x.shape[x.shape.length - 1];
  }
  const [bRows, bCols] = b.shape;
  const outFeatures = transB ? bRows : bCols;
  if ((transB ? bCols : bRows) !== k) {
    throw invalidModel(ctx.file, `node "${label}" multiplies [${x.shape.join(', ')}] by [${b.shape.join(', ')}]${transB ? ' (transposed)' : ''}`);
  }

  const weights = (transB ? Float32Array.from(b.data) : Float32Array.from(transposeConst(b, [1, 0]).data)).map((v) => v * alpha);
  let bias = new Float32Array(0);
  const c = op === 'Gemm' ? optionalConst(inputs, 2) : undefined;
  if (op === 'Gemm' && inputs[2] && !c) throw unsupportedOp(ctx.file, op, label, 'C must be a constant');
  if (c) {
    const vector = perAxisVector(c, 2, 1, outFeatures);
    if (!vector) throw unsupportedOp(ctx.file, op, label, `C of shape [${c.shape.join(', ')}] is not a bias vector`);
    bias = new Float32Array(outFeatures).map((_, i) => beta * vector[vector.length === 1 ? 0 : i]);
  }

  emitFullyConnected(ctx, label, x, rows, k, weights, outFeatures, bias, outputName(node));
}

/**
 * Adds a FULLY_CONNECTED over the last axis of `x` (rows x k) with weights [outFeatures][k],
 * binding the result to `resultName` or to the output of a bias Add and activation it absorbs.
 */
export function emitFullyConnected(
  ctx: ImportContext,
  label: string,
  x: TensorValue,
  rows: number[],
  k: number,
  weights: Float32Array,
  outFeatures: number,
  bias: Float32Array,
  resultName: string,
): void {
  const rank = rows.length + 1;
  const biasAdd = absorbBiasAdd(ctx, resultName, rank, rank - 1, outFeatures);
  if (biasAdd) {
    const base = bias.length > 0 ? bias : new Float32Array(outFeatures);
    bias = base.map((b, i) => b + biasAdd.vector[biasAdd.vector.length === 1 ? 0 : i]);
    resultName = biasAdd.name;
  }
  const m = sizeOf(rows);
  const flat = ctx.reshape(x, [m, k], label);
  const fused = fuseActivation(ctx, resultName, rank, rank - 1, outFeatures);
  const consts: Float32Array[] = [weights, bias];
  if (fused.activation.slopes) consts.push(fused.activation.slopes);
  const id = ctx.builder.add(OpType.FULLY_CONNECTED, [flat.id], [outFeatures, ...activationParams(fused.activation)], consts, label);
  const result: TensorValue = { kind: 'tensor', id, shape: [m, outFeatures], nhwc: false };
  bind(ctx, fused.name, rows.length === 1 ? result : ctx.reshape(result, [...rows, outFeatures], label));
}

const BINARY_KINDS: Record<string, BinaryKind> = {
  Add: BinaryKind.ADD,
  Sub: BinaryKind.SUB,
  Mul: BinaryKind.MUL,
  Div: BinaryKind.DIV,
  Max: BinaryKind.MAX,
  Min: BinaryKind.MIN,
};

function lowerBinary(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const kind = BINARY_KINDS[op];
  if ((node.input ?? []).length !== 2 || !inputs[0] || !inputs[1]) {
    throw unsupportedOp(ctx.file, op, label, 'only the two-operand form is supported');
  }
  const a = inputs[0];
  const b = inputs[1];
  if (a.kind === 'quant' || b.kind === 'quant') throw unsupportedOp(ctx.file, op, label, 'quantised operands are not supported');
  const shape = broadcastShape(a.kind === 'const' ? a.tensor.shape : a.shape, b.kind === 'const' ? b.tensor.shape : b.shape);
  if (!shape) throw invalidModel(ctx.file, `node "${label}" (${op}) has operands that do not broadcast`);
  if (shape.length > MAX_RANK) throw unsupportedOp(ctx.file, op, label, `rank ${shape.length} is above ${MAX_RANK}`);

  if (a.kind === 'tensor' && b.kind === 'tensor') {
    let left = a;
    let right = b;
    if (left.nhwc !== right.nhwc) {
      if (left.shape.length === 4 && right.shape.length === 4) {
        left = ctx.toNhwc(left, label);
        right = ctx.toNhwc(right, label);
      } else {
        left = ctx.toPlain(left, label);
        right = ctx.toPlain(right, label);
      }
    }
    const id = ctx.builder.add(OpType.BINARY, [left.id, right.id], [kind, Activation.NONE, f32(0), f32(0), 0], [], label);
    bind(ctx, outputName(node), { kind: 'tensor', id, shape, nhwc: left.nhwc });
    return;
  }

  const swap = a.kind === 'const' ? 1 : 0;
  const x = (a.kind === 'tensor' ? a : b) as TensorValue;
  const c = (a.kind === 'const' ? a.tensor : (b as { tensor: ConstTensor }).tensor);
  if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) {
    throw unsupportedOp(ctx.file, op, label, `the constant operand [${c.shape.join(', ')}] would broadcast the tensor [${x.shape.join(', ')}] to a larger shape`);
  }

  const rank = x.shape.length;
  let operand: Float32Array | undefined;
  if (sizeOf(c.shape) === 1) {
    operand = Float32Array.of(c.data[0]);
  } else if (x.nhwc) {
    operand = perAxisVector(c, 4, 1, x.shape[1]);
  } else {
    operand = perAxisVector(c, rank, rank - 1, x.shape[rank - 1]);
  }
  if (!operand) {
    // A constant that varies along other axes is expanded to the full tensor, in plan layout.
    const full = broadcastTo(c, x.shape);
    operand = Float32Array.from(x.nhwc ? transposeConst(full, [0, 2, 3, 1]).data : full.data);
  }
  const id = ctx.builder.add(OpType.BINARY, [x.id], [kind, Activation.NONE, f32(0), f32(0), swap], [operand], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape, nhwc: x.nhwc });
}

const UNARY_KINDS: Record<string, UnaryKind> = {
  Relu: UnaryKind.RELU,
  Clip: UnaryKind.CLIP,
  PRelu: UnaryKind.PRELU,
  LeakyRelu: UnaryKind.LEAKY_RELU,
  Sigmoid: UnaryKind.SIGMOID,
  Exp: UnaryKind.EXP,
  Tanh: UnaryKind.TANH,
  Abs: UnaryKind.ABS,
  Sqrt: UnaryKind.SQRT,
  Neg: UnaryKind.NEG,
};

function lowerUnary(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const x = tensorInput(ctx, node, label, inputs, 0);
  let a = 0;
  let b = 0;
  const consts: Float32Array[] = [];
  if (op === 'Clip') {
    const bounds = clipBounds(ctx, node);
    if (!bounds) throw unsupportedOp(ctx.file, op, label, 'min and max must be constants');
    a = bounds.min;
    b = bounds.max;
  } else if (op === 'LeakyRelu') {
    a = floatAttribute(node, 'alpha', 0.01);
  } else if (op === 'PRelu') {
    const slope = constInput(ctx, node, label, inputs, 1);
    const rank = x.shape.length;
    const slopes = x.nhwc ? perAxisVector(slope, 4, 1, x.shape[1]) : perAxisVector(slope, rank, rank - 1, x.shape[rank - 1]);
    if (!slopes) throw unsupportedOp(ctx.file, op, label, `slope of shape [${slope.shape.join(', ')}] is neither per-channel nor a single value`);
    consts.push(slopes);
  }
  const id = ctx.builder.add(OpType.UNARY, [x.id], [UNARY_KINDS[op], f32(a), f32(b)], consts, label);
  bind(ctx, outputName(node), { ...x, id });
}

function lowerSoftmax(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const x = tensorInput(ctx, node, label, inputs, 0);
  const rank = x.shape.length;
  const axis = normalizeAxis(intAttribute(node, 'axis', ctx.opset < 13 ? 1 : -1), rank, ctx.foldContext(label));
  const inner = sizeOf(x.shape.slice(axis + 1));
  if (ctx.opset < 13 && inner !== 1) {
    // Before opset 13 Softmax normalises over all axes from `axis` on, as one flattened row.
    const flat = ctx.reshape(x, [sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))], label);
    const id = ctx.builder.add(OpType.SOFTMAX, [flat.id], [1], [], label);
    bind(ctx, outputName(node), ctx.reshape({ ...flat, id }, x.shape, label));
    return;
  }
  const planAxis = x.nhwc ? [0, 3, 1, 2][axis] : axis;
  const id = ctx.builder.add(OpType.SOFTMAX, [x.id], [planAxis], [], label);
  bind(ctx, outputName(node), { ...x, id });
}

function lowerPool(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const x = ctx.toNhwc(spatialInput(ctx, node, label, inputs), label);
  const kernel = intsAttribute(node, 'kernel_shape');
  if (!kernel || kernel.length !== 2) throw unsupportedOp(ctx.file, op, label, 'only 2-D kernels are supported');
  const [kh, kw] = kernel;
  const [sh, sw] = intsAttribute(node, 'strides') ?? [1, 1];
  const dilations = intsAttribute(node, 'dilations') ?? [1, 1];
  if (dilations.some((d) => d !== 1)) throw unsupportedOp(ctx.file, op, label, 'dilations other than 1 are not supported');
  const pads = intsAttribute(node, 'pads') ?? [0, 0, 0, 0];
  const autoPad = stringAttribute(node, 'auto_pad', 'NOTSET');
  const ceilMode = intAttribute(node, 'ceil_mode', 0) === 1;
  const countIncludePad = op === 'AveragePool' ? intAttribute(node, 'count_include_pad', 0) : 0;
  const [n, c, h, w] = x.shape;

  const axis = (size: number, k: number, s: number, begin: number, end: number) => {
    const [pb, pe] = resolvePads(autoPad, size, k, s, 1, begin, end);
    const span = size + pb + pe - k;
    let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // The last window must start inside the input or the begin padding, as in onnxruntime.
    if (ceilMode && (out - 1) * s >= size + pb) out--;
    const extra = Math.max(0, (out - 1) * s + k - (size + pb + pe));
    return { begin: pb, end: pe + extra, extra, out };
  };
  const rows = axis(h, kh, sh, pads[0], pads[2]);
  const cols = axis(w, kw, sw, pads[1], pads[3]);
  if (rows.out < 1 || cols.out < 1) throw invalidModel(ctx.file, `node "${label}" produces an empty output from a ${h}x${w} input`);
  if (countIncludePad === 1 && (rows.extra > 0 || cols.extra > 0)) {
    // onnxruntime leaves the cells that ceil_mode adds out of the divisor while the plan would count them.
    throw unsupportedOp(ctx.file, op, label, 'ceil_mode with count_include_pad = 1 is not supported when it adds padding');
  }
  const kind = op === 'MaxPool' ? PoolKind.MAX : PoolKind.AVERAGE;
  const params = [kind, kh, kw, sh, sw, rows.begin, cols.begin, rows.end, cols.end, countIncludePad];
  const id = ctx.builder.add(OpType.POOL2D, [x.id], params, [], label);
  if ((node.output ?? []).filter((o) => o).length > 1) throw unsupportedOp(ctx.file, op, label, 'the Indices output is not supported');
  bind(ctx, outputName(node), { kind: 'tensor', id, shape: [n, c, rows.out, cols.out], nhwc: true });
}

const PAD_MODES: Record<string, PadMode> = { constant: PadMode.CONSTANT, reflect: PadMode.REFLECT, edge: PadMode.EDGE };

function lowerPad(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const x = ctx.toNhwc(spatialInput(ctx, node, label, inputs), label);
  const modeName = stringAttribute(node, 'mode', 'constant');
  const mode = PAD_MODES[modeName];
  if (mode === undefined) throw unsupportedOp(ctx.file, 'Pad', label, `mode "${modeName}" is not supported`);

  let pads: number[];
  let value = 0;
  if (ctx.opset < 11) {
    pads = intsAttribute(node, 'pads') ?? intsAttribute(node, 'paddings') ?? [];
    value = floatAttribute(node, 'value', 0);
  } else {
    pads = valuesOf(constInput(ctx, node, label, inputs, 1));
    if (inputs[2]) value = constInput(ctx, node, label, inputs, 2).data[0] ?? 0;
    if (inputs[3]) {
      // Opset 18 can name the padded axes, so the given pads are spread onto all four.
      const axes = valuesOf(constInput(ctx, node, label, inputs, 3)).map((a) => normalizeAxis(a, 4, ctx.foldContext(label)));
      const full = new Array<number>(8).fill(0);
      axes.forEach((a, i) => {
        full[a] = pads[i];
        full[a + 4] = pads[i + axes.length];
      });
      pads = full;
    }
  }

  if (pads.length !== 8) throw invalidModel(ctx.file, `node "${label}" has ${pads.length} pads for a rank-4 input`);
  if (pads.some((p) => p < 0)) throw unsupportedOp(ctx.file, 'Pad', label, 'negative pads (cropping) are not supported');
  if (pads[0] !== 0 || pads[4] !== 0) throw unsupportedOp(ctx.file, 'Pad', label, 'padding the batch axis is not supported');
  const [, c0, h0, w0, , c1, h1, w1] = pads;
  const [n, c, h, w] = x.shape;
  if (mode === PadMode.REFLECT && (h0 >= h || h1 >= h || w0 >= w || w1 >= w || c0 >= c || c1 >= c)) {
    throw invalidModel(ctx.file, `node "${label}" reflect-pads by as much as the axis size`);
  }

  const id = ctx.builder.add(OpType.PAD, [x.id], [h0, h1, w0, w1, c0, c1, mode, f32(value)], [], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape: [n, c + c0 + c1, h + h0 + h1, w + w0 + w1], nhwc: true });
}

const LINEAR_COORDINATES: Record<string, ResizeCoordinates> = {
  asymmetric: ResizeCoordinates.ASYMMETRIC,
  half_pixel: ResizeCoordinates.HALF_PIXEL,
  align_corners: ResizeCoordinates.ALIGN_CORNERS,
  pytorch_half_pixel: ResizeCoordinates.PYTORCH_HALF_PIXEL,
};

function lowerResize(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const x = ctx.toNhwc(spatialInput(ctx, node, label, inputs), label);
  const [n, c, h, w] = x.shape;

  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (op === 'Upsample' && ctx.opset < 9) {
    scales = floatsAttribute(node, 'scales');
  } else if (op === 'Upsample' || ctx.opset < 11) {
    scales = valuesOf(constInput(ctx, node, label, inputs, 1));
  } else {
    const scaleInput = inputs[2] ? constInput(ctx, node, label, inputs, 2) : undefined;
    const sizeInput = inputs[3] ? constInput(ctx, node, label, inputs, 3) : undefined;
    if (sizeInput && sizeInput.data.length > 0) sizes = valuesOf(sizeInput);
    else if (scaleInput && scaleInput.data.length > 0) scales = valuesOf(scaleInput);
    if (hasAttribute(node, 'axes')) throw unsupportedOp(ctx.file, op, label, 'the axes attribute is not supported');
  }
  let outH: number;
  let outW: number;
  if (sizes) {
    if (sizes.length !== 4 || sizes[0] !== n || sizes[1] !== c) {
      throw unsupportedOp(ctx.file, op, label, `sizes [${sizes.join(', ')}] must keep the batch and channel dims`);
    }
    [, , outH, outW] = sizes;
  } else if (scales) {
    if (scales.length !== 4 || scales[0] !== 1 || scales[1] !== 1) {
      throw unsupportedOp(ctx.file, op, label, `scales [${scales.join(', ')}] must be 1 on the batch and channel dims`);
    }
    outH = Math.floor(h * scales[2]);
    outW = Math.floor(w * scales[3]);
  } else {
    throw invalidModel(ctx.file, `node "${label}" (${op}) gives neither scales nor sizes`);
  }
  if (outH < 1 || outW < 1) throw invalidModel(ctx.file, `node "${label}" resizes ${h}x${w} to ${outH}x${outW}`);

  const modeName = stringAttribute(node, 'mode', 'nearest');
  const legacy = op === 'Upsample' || ctx.opset < 11;
  const coordinatesName = legacy ? 'asymmetric' : stringAttribute(node, 'coordinate_transformation_mode', 'half_pixel');
  let mode: ResizeMode;
  let coordinates: ResizeCoordinates;
  if (modeName === 'nearest') {
    const nearestMode = legacy ? 'floor' : stringAttribute(node, 'nearest_mode', 'round_prefer_floor');
    const integerUpscale = outH % h === 0 && outW % w === 0;
    const floorAsymmetric = coordinatesName === 'asymmetric' && nearestMode === 'floor';
    // With integer upscale factors, half-pixel centres with either rounding tie rule pick the same
    // source pixel as asymmetric floor: (x + 0.5) / s - 0.5 lies strictly within 0.5 of floor(x / s).
    const halfPixelRound = ['half_pixel', 'pytorch_half_pixel'].includes(coordinatesName) &&
      ['round_prefer_floor', 'round_prefer_ceil'].includes(nearestMode) && integerUpscale && (outH > 1 && outW > 1);
    if (!floorAsymmetric && !halfPixelRound) {
      throw unsupportedOp(ctx.file, op, label, `nearest resize with ${coordinatesName} coordinates and nearest_mode ${nearestMode} is not supported`);
    }
    mode = ResizeMode.NEAREST;
    coordinates = ResizeCoordinates.ASYMMETRIC;
  } else if (modeName === 'linear' || modeName === 'bilinear') {
    const mapped = LINEAR_COORDINATES[coordinatesName];
    if (mapped === undefined) throw unsupportedOp(ctx.file, op, label, `coordinate_transformation_mode "${coordinatesName}" is not supported`);
    if (!legacy && intAttribute(node, 'antialias', 0) !== 0) throw unsupportedOp(ctx.file, op, label, 'antialias is not supported');
    mode = ResizeMode.BILINEAR;
    coordinates = mapped;
  } else {
    throw unsupportedOp(ctx.file, op, label, `mode "${modeName}" is not supported`);
  }
  const id = ctx.builder.add(OpType.RESIZE, [x.id], [outH, outW, mode, coordinates], [], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape: [n, c, outH, outW], nhwc: true });
}

function lowerConcat(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const parts = inputs.map((_, i) => tensorInput(ctx, node, label, inputs, i));
  const rank = parts[0].shape.length;
  const axis = normalizeAxis(intAttribute(node, 'axis', 0), rank, ctx.foldContext(label));
  checkConcatShapes(parts.map((p) => p.shape), axis, ctx.foldContext(label));
  const shape = parts[0].shape.slice();
  shape[axis] = parts.reduce((sum, p) => sum + p.shape[axis], 0);
  const nhwc = parts.every((p) => p.nhwc);
  const ready = nhwc ? parts : parts.map((p) => ctx.toPlain(p, label));
  const planAxis = nhwc ? [0, 3, 1, 2][axis] : axis;
  const id = ctx.builder.add(OpType.CONCAT, ready.map((p) => p.id), [planAxis], [], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape, nhwc });
}

function lowerTranspose(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const x = tensorInput(ctx, node, label, inputs, 0);
  const rank = x.shape.length;
  const perm = intsAttribute(node, 'perm') ?? x.shape.map((_, i) => rank - 1 - i);
  if (perm.length !== rank || new Set(perm).size !== rank || perm.some((p) => p < 0 || p >= rank)) {
    throw invalidModel(ctx.file, `node "${label}" has perm [${perm.join(', ')}] for a rank-${rank} input`);
  }
  const shape = perm.map((p) => x.shape[p]);
  // For an NHWC-stored value, ONNX axis a sits at plan axis [0, 3, 1, 2][a].
  const planPerm = x.nhwc ? perm.map((p) => [0, 3, 1, 2][p]) : perm;
  if (planPerm.every((p, i) => p === i)) {
    bind(ctx, outputName(node), { kind: 'tensor', id: x.id, shape, nhwc: false });
    return;
  }
  const id = ctx.builder.add(OpType.TRANSPOSE, [x.id], [rank, ...planPerm], [], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape, nhwc: false });
}

function lowerSlice(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const x = tensorInput(ctx, node, label, inputs, 0);
  const constants = inputs.map((v) => (v && v.kind === 'const' ? v.tensor : undefined));
  const { starts, ends } = sliceBounds(node, x.shape, constants, ctx.foldContext(label));
  const shape = starts.map((s, i) => ends[i] - s);
  if (shape.some((d) => d === 0)) throw unsupportedOp(ctx.file, 'Slice', label, 'an empty slice is not supported');
  const toPlan = (values: number[]) => (x.nhwc ? [values[0], values[2], values[3], values[1]] : values);
  const id = ctx.builder.add(OpType.SLICE, [x.id], [x.shape.length, ...toPlan(starts), ...toPlan(ends)], [], label);
  bind(ctx, outputName(node), { kind: 'tensor', id, shape, nhwc: x.nhwc });
}

