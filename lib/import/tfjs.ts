// Importer for TF.js graph models (model.json with a weights manifest). Nodes are lowered
// on demand from the graph outputs with static shapes, constants are folded, and bias,
// batch-norm, activations and zero padding are fused into convolutions where the
// intermediate value has no other reader.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { invalidModel, unsupportedOp } from '../errors';
import { Activation, BinaryKind, f32, OpType, PadMode, PoolKind, ResizeCoordinates, ResizeMode, UnaryKind } from '../plan';
import { DecodedWeight, loadWeightsManifest } from './tfjs-weights';
import {
  ConstValue,
  convOutputSize,
  depthwiseToOhwi,
  hwioToOhwi,
  ImportedModel,
  LoweringBuilder,
  perChannel,
  samePadding,
  scaleLayer,
  shiftLayer,
  sizeOf,
  TensorValue,
  Value,
} from './tfjs-lowering';

export type { ImportedModel } from './tfjs-lowering';

export interface TfjsImportOptions {
  /** NHWC input shape; required when the placeholder has unknown spatial dims. Batch must be 1. */
  inputShape?: number[];
}

interface AttrValue {
  s?: string;
  i?: string | number;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { i?: Array<string | number>; s?: string[]; f?: number[] };
  shape?: { dim?: Array<{ size: string | number }>; unknownRank?: boolean };
  tensor?: TensorProto;
}

interface TensorProto {
  dtype?: string;
  tensorShape?: { dim?: Array<{ size: string | number }> };
  floatVal?: number[];
  intVal?: number[];
  int64Val?: Array<string | number>;
  boolVal?: boolean[];
  tensorContent?: string;
}

interface GraphNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, AttrValue>;
}

const BINARY_KINDS: Record<string, BinaryKind> = {
  Add: BinaryKind.ADD,
  AddV2: BinaryKind.ADD,
  BiasAdd: BinaryKind.ADD,
  Sub: BinaryKind.SUB,
  Mul: BinaryKind.MUL,
  RealDiv: BinaryKind.DIV,
  Maximum: BinaryKind.MAX,
  Minimum: BinaryKind.MIN,
};

const PASS_THROUGH = new Set(['Identity', 'Snapshot', 'StopGradient', 'PreventGradient']);

function decodeString(base64: string | undefined): string {
  return base64 === undefined ? '' : Buffer.from(base64, 'base64').toString('utf8');
}

function dimsOf(shape: { dim?: Array<{ size: string | number }> } | undefined): number[] {
  return (shape?.dim ?? []).map((d) => Number(d.size));
}

/** Splits "name:1" or "^name" into the node name and output index; control inputs return null. */
function parseInputRef(ref: string): { node: string; index: number } | null {
  if (ref.startsWith('^')) return null;
  const match = /^(.*):(\d+)$/.exec(ref);
  return match ? { node: match[1], index: Number(match[2]) } : { node: ref, index: 0 };
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Broadcast shape of two shapes (NumPy rules), or null when they do not broadcast. */
function broadcastShape(a: number[], b: number[]): number[] | null {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return null;
    out.push(da === 1 ? db : da);
  }
  return out;
}

function applyBinary(kind: BinaryKind, x: number, y: number): number {
  switch (kind) {
    case BinaryKind.ADD: return x + y;
    case BinaryKind.SUB: return x - y;
    case BinaryKind.MUL: return x * y;
    case BinaryKind.DIV: return x / y;
    case BinaryKind.MAX: return Math.max(x, y);
    case BinaryKind.MIN: return Math.min(x, y);
  }
}

/** Evaluates a binary op on two constants with broadcasting. */
function foldBinary(kind: BinaryKind, a: ConstValue, b: ConstValue, shape: number[]): ConstValue {
  const isInt = a.data instanceof Int32Array && b.data instanceof Int32Array;
  const data = isInt ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  const indexIn = (src: number[], flat: number): number => {
    let index = 0;
    let stride = 1;
    let rest = flat;
    const coords: number[] = new Array(shape.length);
    for (let i = shape.length - 1; i >= 0; i--) {
      coords[i] = rest % shape[i];
      rest = Math.floor(rest / shape[i]);
    }
    for (let i = src.length - 1; i >= 0; i--) {
      const coord = coords[shape.length - src.length + i];
      index += (src[i] === 1 ? 0 : coord) * stride;
      stride *= src[i];
    }
    return index;
  };
  for (let i = 0; i < data.length; i++) {
    const value = applyBinary(kind, a.data[indexIn(a.shape, i)], b.data[indexIn(b.shape, i)]);
    data[i] = isInt && kind === BinaryKind.DIV ? Math.trunc(value) : value;
  }
  return { kind: 'const', shape, data };
}

class GraphLowering {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly consumers = new Map<string, Set<string>>();
  private readonly values = new Map<string, Value>();
  private readonly visiting = new Set<string>();
  /** Every node whose value is a given tensor id: pass-through and fused nodes share one tensor. */
  private readonly aliases = new Map<number, Set<string>>();
  private readonly builder = new LoweringBuilder();
  private inputName = '';
  private inputShape: number[] = [];

  constructor(
    private readonly file: string,
    nodes: GraphNode[],
    private readonly weights: Map<string, DecodedWeight>,
    private readonly options: TfjsImportOptions,
    private readonly outputNames: string[],
  ) {
    for (const node of nodes) {
      if (typeof node?.name !== 'string' || typeof node.op !== 'string') {
        throw invalidModel(file, `graph node ${JSON.stringify(node)?.slice(0, 120)} lacks a name or op`);
      }
      this.nodes.set(node.name, node);
    }
    for (const node of nodes) {
      for (const ref of node.input ?? []) {
        const parsed = parseInputRef(ref);
        if (!parsed) continue;
        if (!this.consumers.has(parsed.node)) this.consumers.set(parsed.node, new Set());
        this.consumers.get(parsed.node)!.add(node.name);
      }
    }
    for (const name of outputNames) {
      if (!this.consumers.has(name)) this.consumers.set(name, new Set());
      this.consumers.get(name)!.add('<graph output>');
    }
  }

  run(): ImportedModel {
    const placeholders = [...this.nodes.values()].filter((n) => n.op === 'Placeholder');
    if (placeholders.length !== 1) {
      throw invalidModel(this.file, `expected exactly one Placeholder input but found ${placeholders.length}`);
    }
    this.lowerPlaceholder(placeholders[0]);

    const outputs: TensorValue[] = [];
    const outputShapes: number[][] = [];
    for (const name of this.outputNames) {
      const value = this.valueOf(name, name);
      if (value.kind !== 'tensor') {
        throw unsupportedOp(this.file, this.nodes.get(name)?.op ?? '?', name, 'the output is a constant, which a plan cannot return');
      }
      outputs.push(value);
      outputShapes.push(value.shape.slice());
    }
    return {
      plan: this.builder.build(outputs),
      inputName: this.inputName,
      inputShape: this.inputShape.slice(),
      outputNames: this.outputNames.slice(),
      outputShapes,
    };
  }

  // ---- graph access -------------------------------------------------------------------

  private fail(node: GraphNode, detail: string): Error {
    return unsupportedOp(this.file, node.op, node.name, detail);
  }

  private valueOf(ref: string, reader: string): Value {
    const parsed = parseInputRef(ref);
    if (!parsed) throw invalidModel(this.file, `node "${reader}" uses control input ${ref} as data`);
    if (parsed.index !== 0) {
      const op = this.nodes.get(parsed.node)?.op ?? 'unknown';
      throw unsupportedOp(this.file, op, parsed.node, `output ${parsed.index} is read by "${reader}"; only output 0 is supported`);
    }
    const cached = this.values.get(parsed.node);
    if (cached) return cached;

    const node = this.nodes.get(parsed.node);
    if (!node) throw invalidModel(this.file, `node "${reader}" reads "${parsed.node}", which is not in the graph`);
    if (this.visiting.has(node.name)) throw invalidModel(this.file, `the graph has a cycle through node "${node.name}"`);
    this.visiting.add(node.name);
    const value = this.lower(node);
    this.visiting.delete(node.name);
    this.values.set(node.name, value);
    if (value.kind === 'tensor') {
      if (!this.aliases.has(value.id)) this.aliases.set(value.id, new Set());
      this.aliases.get(value.id)!.add(node.name);
    }
    return value;
  }

  private inputsOf(node: GraphNode): Value[] {
    return (node.input ?? []).filter((ref) => !ref.startsWith('^')).map((ref) => this.valueOf(ref, node.name));
  }

  private inputNode(node: GraphNode, index: number): GraphNode | undefined {
    const refs = (node.input ?? []).filter((ref) => !ref.startsWith('^'));
    const parsed = refs[index] === undefined ? null : parseInputRef(refs[index]);
    return parsed ? this.nodes.get(parsed.node) : undefined;
  }

  /**
   * True when only `allowed` nodes (or nodes sharing the tensor) read `value`, so changing the
   * op that wrote it in place cannot change the value any other node reads.
   */
  private isExclusive(value: TensorValue, allowed: string[]): boolean {
    const names = this.aliases.get(value.id) ?? new Set<string>();
    for (const name of names) {
      for (const reader of this.consumers.get(name) ?? []) {
        if (!allowed.includes(reader) && !names.has(reader)) return false;
      }
    }
    return true;
  }

  /** True when every reader of `name` is in `allowed`, so a fusion cannot change what others see. */
  private onlyReadBy(name: string, allowed: string[]): boolean {
    const readers = this.consumers.get(name) ?? new Set();
    for (const reader of readers) if (!allowed.includes(reader)) return false;
    return true;
  }

  private constInput(node: GraphNode, value: Value, what: string): ConstValue {
    if (value.kind !== 'const') throw this.fail(node, `${what} must be a constant`);
    return value;
  }

  private tensorInput(node: GraphNode, value: Value, rank?: number): TensorValue {
    if (value.kind !== 'tensor') throw this.fail(node, 'expected a tensor input, not a constant');
    if (rank !== undefined && value.shape.length !== rank) {
      throw this.fail(node, `expected a rank-${rank} input but the input shape is [${value.shape}]`);
    }
    return value;
  }

  private ints(node: GraphNode, attr: string, fallback?: number[]): number[] {
    const list = node.attr?.[attr]?.list?.i;
    if (list && list.length) return list.map(Number);
    if (fallback) return fallback;
    throw invalidModel(this.file, `node "${node.name}" (${node.op}) lacks the ${attr} attribute`);
  }

  private str(node: GraphNode, attr: string): string {
    return decodeString(node.attr?.[attr]?.s);
  }

  private checkNhwc(node: GraphNode): void {
    const format = this.str(node, 'data_format');
    if (format && format !== 'NHWC') throw this.fail(node, `data_format ${format} is not supported; expected NHWC`);
  }

  // ---- node lowering ------------------------------------------------------------------

  private lowerPlaceholder(node: GraphNode): void {
    const declared = dimsOf(node.attr?.shape?.shape);
    const requested = this.options.inputShape;
    let shape: number[];
    if (requested) {
      if (requested.length !== 4 || !requested.every((d) => Number.isInteger(d) && d > 0)) {
        throw invalidModel(this.file, `options.inputShape [${requested}] must be four positive integers (NHWC)`);
      }
      const fits = declared.length === 0 || (declared.length === 4 && declared.every((d, i) => d < 0 || d === requested[i] || (i === 0 && requested[0] === 1)));
      if (!fits) throw invalidModel(this.file, `options.inputShape [${requested}] does not fit the declared input shape [${declared}]`);
      shape = requested.slice();
    } else {
      if (declared.length !== 4) {
        throw invalidModel(this.file, `input "${node.name}" has shape [${declared}]; pass options.inputShape (NHWC)`);
      }
      shape = declared.map((d, i) => (i === 0 && d < 0 ? 1 : d));
      if (shape.some((d) => d < 0)) {
        throw invalidModel(this.file, `input "${node.name}" has unknown dims [${declared}]; pass options.inputShape (NHWC)`);
      }
    }
    if (shape[0] !== 1) throw invalidModel(this.file, `input batch must be 1 but options.inputShape is [${shape}]`);
    this.inputName = node.name;
    this.inputShape = shape;
    this.values.set(node.name, this.builder.input(shape));
  }

  private lower(node: GraphNode): Value {
    const op = node.op;
    if (op === 'Placeholder') throw invalidModel(this.file, `unexpected second input "${node.name}"`);
    if (op === 'Const') return this.lowerConst(node);
    if (PASS_THROUGH.has(op)) return this.inputsOf(node)[0];
    if (op in BINARY_KINDS) return this.lowerBinary(node, BINARY_KINDS[op]);

    switch (op) {
      case 'Conv2D':
      case '_FusedConv2D':
        return this.lowerConv(node, false);
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.lowerConv(node, true);
      case 'MatMul':
      case '_FusedMatMul':
        return this.lowerMatMul(node);
      case 'FusedBatchNorm':
      case 'FusedBatchNormV3':
        return this.lowerBatchNorm(node);
      case 'Relu':
      case 'Relu6':
      case 'LeakyRelu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Exp':
      case 'Abs':
      case 'Sqrt':
      case 'Neg':
      case 'Prelu':
      case 'Rsqrt':
      case 'Square':
        return this.lowerUnary(node);
      case 'MaxPool':
      case 'AvgPool':
        return this.lowerPool(node);
      case 'Mean':
        return this.lowerMean(node);
      case 'Pad':
      case 'PadV2':
      case 'MirrorPad':
        return this.lowerPad(node);
      case 'Reshape':
      case 'Squeeze':
      case 'ExpandDims':
        return this.lowerReshape(node);
      case 'Transpose':
        return this.lowerTranspose(node);
      case 'ConcatV2':
        return this.lowerConcat(node);
      case 'Softmax':
        return this.lowerSoftmax(node);
      case 'ResizeBilinear':
      case 'ResizeNearestNeighbor':
        return this.lowerResize(node);
      case 'StridedSlice':
      case 'Slice':
        return this.lowerSlice(node);
      case 'Cast':
        return this.lowerCast(node);
      case 'Shape': {
        const [x] = this.inputsOf(node);
        return { kind: 'const', shape: [x.shape.length], data: Int32Array.from(x.shape) };
      }
      default:
        throw unsupportedOp(this.file, op, node.name);
    }
  }

  private lowerConst(node: GraphNode): Value {
    const tensor = node.attr?.value?.tensor;
    const dtype = tensor?.dtype ?? node.attr?.dtype?.type;
    const shape = dimsOf(tensor?.tensorShape);
    const weight = this.weights.get(node.name);
    if (weight) {
      if (sizeOf(weight.shape) !== sizeOf(shape)) {
        throw invalidModel(this.file, `weight "${node.name}" has shape [${weight.shape}] but its Const node declares [${shape}]`);
      }
      return { kind: 'const', shape, data: weight.data };
    }

    const isFloat = dtype === 'DT_FLOAT';
    const isInt = dtype === 'DT_INT32' || dtype === 'DT_INT64' || dtype === 'DT_BOOL';
    if (!isFloat && !isInt) throw unsupportedOp(this.file, 'Const', node.name, `dtype ${dtype} is not supported`);
    const count = sizeOf(shape);
    const data = isFloat ? new Float32Array(count) : new Int32Array(count);
    let inline: number[] | undefined;
    if (tensor?.floatVal?.length) inline = tensor.floatVal.map(Number);
    else if (tensor?.intVal?.length) inline = tensor.intVal.map(Number);
    else if (tensor?.int64Val?.length) inline = tensor.int64Val.map(Number);
    else if (tensor?.boolVal?.length) inline = tensor.boolVal.map((b) => (b ? 1 : 0));
    if (inline) {
      // TensorProto repeats its last value to fill the shape.
      for (let i = 0; i < count; i++) data[i] = inline[Math.min(i, inline.length - 1)];
      return { kind: 'const', shape, data };
    }
    if (tensor?.tensorContent && dtype !== 'DT_INT64') {
      const bytes = Buffer.from(tensor.tensorContent, 'base64');
      if (bytes.length !== count * 4) throw invalidModel(this.file, `Const "${node.name}" has ${bytes.length} content bytes for shape [${shape}]`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      for (let i = 0; i < count; i++) data[i] = isFloat ? view.getFloat32(i * 4, true) : view.getInt32(i * 4, true);
      return { kind: 'const', shape, data };
    }
    if (count === 0) return { kind: 'const', shape, data };
    throw invalidModel(this.file, `Const "${node.name}" has no inline value and no weight of that name in the manifest`);
  }

  private lowerCast(node: GraphNode): Value {
    const [x] = this.inputsOf(node);
    const to = node.attr?.DstT?.type;
    if (x.kind === 'const') {
      const toFloat = to === 'DT_FLOAT';
      const data = toFloat ? Float32Array.from(x.data) : Int32Array.from(x.data, (v) => Math.trunc(v));
      return { kind: 'const', shape: x.shape, data };
    }
    if (to !== 'DT_FLOAT') throw this.fail(node, `a cast of a tensor to ${to} cannot be lowered; plans compute in float32`);
    return x;
  }

  private lowerConv(node: GraphNode, depthwise: boolean): Value {
    this.checkNhwc(node);
    const inputs = this.inputsOf(node);
    let x = this.tensorInput(node, inputs[0], 4);
    const filter = this.constInput(node, inputs[1], 'the filter');
    if (filter.shape.length !== 4) throw this.fail(node, `filter shape [${filter.shape}] is not rank 4`);
    const [kh, kw, filterIn, filterOut] = filter.shape;
    const inC = x.shape[3];
    // A filter that does not fit its input is a broken model, not a missing feature.
    if (filterIn !== inC) {
      throw invalidModel(this.file, `node "${node.name}" (${node.op}): filter expects ${filterIn} input channels but the input has ${inC}`);
    }

    const strides = this.ints(node, 'strides', [1, 1, 1, 1]);
    const dilations = this.ints(node, 'dilations', [1, 1, 1, 1]);
    const [sh, sw, dh, dw] = [strides[1], strides[2], dilations[1], dilations[2]];
    const padding = this.str(node, 'padding');
    let pads: number[];
    if (padding === 'SAME') {
      const [pt, pb] = samePadding(x.shape[1], kh, sh, dh);
      const [pl, pr] = samePadding(x.shape[2], kw, sw, dw);
      pads = [pt, pl, pb, pr];
    } else if (padding === 'VALID') {
      pads = [0, 0, 0, 0];
    } else if (padding === 'EXPLICIT') {
      const e = this.ints(node, 'explicit_paddings');
      pads = [e[2], e[4], e[3], e[5]];
    } else {
      throw this.fail(node, `padding ${padding || '(none)'} is not supported`);
    }

    // A zero constant Pad of only H and W read by nothing else becomes conv padding.
    const padOp = this.builder.producerOf(x);
    if (padOp?.type === OpType.PAD && this.isExclusive(x, [node.name])) {
      const [top, bottom, left, right, before, after, mode, value] = padOp.params as Array<number | { f32: number }>;
      const fill = typeof value === 'number' ? value : value.f32;
      if (before === 0 && after === 0 && mode === PadMode.CONSTANT && fill === 0) {
        pads = [pads[0] + (top as number), pads[1] + (left as number), pads[2] + (bottom as number), pads[3] + (right as number)];
        this.builder.remove(padOp);
        const inputShape = [x.shape[0], x.shape[1] - (top as number) - (bottom as number), x.shape[2] - (left as number) - (right as number), x.shape[3]];
        x = { kind: 'tensor', id: padOp.inputs[0], shape: inputShape };
      }
    }

    const outC = depthwise ? inC * filterOut : filterOut;
    const weights = depthwise
      ? depthwiseToOhwi(Float32Array.from(filter.data), kh, kw, inC, filterOut)
      : hwioToOhwi(Float32Array.from(filter.data), kh, kw, inC, outC);
    const outH = convOutputSize(x.shape[1], kh, sh, dh, pads[0], pads[2]);
    const outW = convOutputSize(x.shape[2], kw, sw, dw, pads[1], pads[3]);
    if (outH < 1 || outW < 1) throw this.fail(node, `the output would be empty for input [${x.shape}]`);
    const spatial = [kh, kw, sh, sw, dh, dw, pads[0], pads[1], pads[2], pads[3], depthwise ? inC : 1];
    const out = this.builder.emitLayer(x, weights, null, outC, [1, outH, outW, outC], node.name, spatial);
    this.applyFusedOps(node, out, inputs.slice(2), outC);
    return out;
  }

  private lowerMatMul(node: GraphNode): Value {
    const inputs = this.inputsOf(node);
    const a = this.tensorInput(node, inputs[0], 2);
    const b = this.constInput(node, inputs[1], 'the second operand');
    if (node.attr?.transpose_a?.b) throw this.fail(node, 'transpose_a is not supported');
    const transposeB = Boolean(node.attr?.transpose_b?.b);
    if (b.shape.length !== 2) throw this.fail(node, `weights shape [${b.shape}] is not rank 2`);
    const [k, m] = transposeB ? [b.shape[1], b.shape[0]] : b.shape;
    if (k !== a.shape[1]) throw this.fail(node, `weights expect ${k} inputs but the input shape is [${a.shape}]`);
    const weights = new Float32Array(m * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) weights[j * k + i] = transposeB ? b.data[j * k + i] : b.data[i * m + j];
    const out = this.builder.emitLayer(a, weights, null, m, [a.shape[0], m], node.name);
    this.applyFusedOps(node, out, inputs.slice(2), m);
    return out;
  }

  /** Applies the fused_ops list of _FusedConv2D, FusedDepthwiseConv2dNative or _FusedMatMul. */
  private applyFusedOps(node: GraphNode, out: TensorValue, args: Value[], channels: number): void {
    const fused = (node.attr?.fused_ops?.list?.s ?? []).map(decodeString);
    const layer = this.builder.layerOf(out)!;
    let next = 0;
    const takeArg = (what: string): ConstValue => {
      const arg = args[next++];
      if (!arg) throw invalidModel(this.file, `node "${node.name}" lacks the ${what} argument of its fused ops`);
      return this.constInput(node, arg, what);
    };
    for (const name of fused) {
      if (name === 'BiasAdd') {
        const bias = perChannel(takeArg('bias'), channels);
        if (!bias) throw this.fail(node, 'the fused bias is not per channel');
        shiftLayer(layer, bias);
      } else if (name === 'FusedBatchNorm') {
        const [scale, offset, mean, variance] = [takeArg('scale'), takeArg('offset'), takeArg('mean'), takeArg('variance')];
        const epsilon = node.attr?.epsilon?.f ?? 0;
        const affine = this.batchNormAffine(node, scale, offset, mean, variance, epsilon, channels);
        scaleLayer(layer, affine.scale);
        shiftLayer(layer, affine.shift);
      } else if (!this.fuseActivation(node, layer, name, () => takeArg('PReLU alpha'))) {
        throw this.fail(node, `fused op ${name} is not supported`);
      }
    }
  }

  /** Sets an activation on a layer with none yet; returns false for an unknown activation. */
  private fuseActivation(node: GraphNode, layer: NonNullable<ReturnType<LoweringBuilder['layerOf']>>, name: string, alpha: () => ConstValue): boolean {
    const activation = layer.layer!.activation;
    if (activation.kind !== Activation.NONE) return false;
    switch (name) {
      case 'Relu':
        activation.kind = Activation.RELU;
        return true;
      case 'Relu6':
        Object.assign(activation, { kind: Activation.CLIP, a: 0, b: 6 });
        return true;
      case 'Sigmoid':
        activation.kind = Activation.SIGMOID;
        return true;
      case 'LeakyRelu':
        Object.assign(activation, { kind: Activation.LEAKY_RELU, a: node.attr?.leakyrelu_alpha?.f ?? node.attr?.alpha?.f ?? 0.2 });
        return true;
      case 'Prelu': {
        const slopes = perChannel(alpha(), layer.layer!.outChannels);
        if (!slopes) throw this.fail(node, 'PReLU alpha is not per channel');
        Object.assign(activation, { kind: Activation.PRELU, slopes });
        return true;
      }
      default:
        return false;
    }
  }

  private batchNormAffine(node: GraphNode, scale: ConstValue, offset: ConstValue, mean: ConstValue, variance: ConstValue, epsilon: number, channels: number) {
    const parts = [scale, offset, mean, variance].map((v) => perChannel(v, channels));
    if (parts.some((p) => !p)) throw this.fail(node, `batch-norm parameters do not have ${channels} channels`);
    const [gamma, beta, mu, sigma2] = parts as Float32Array[];
    const outScale = new Float32Array(channels);
    const outShift = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      outScale[c] = gamma[c] / Math.sqrt(sigma2[c] + epsilon);
      outShift[c] = beta[c] - mu[c] * outScale[c];
    }
    return { scale: outScale, shift: outShift };
  }

  private lowerBatchNorm(node: GraphNode): Value {
    this.checkNhwc(node);
    if (node.attr?.is_training?.b) throw this.fail(node, 'training-mode batch norm is not supported');
    const [x, scale, offset, mean, variance] = this.inputsOf(node);
    const input = this.tensorInput(node, x);
    const channels = input.shape[input.shape.length - 1];
    const affine = this.batchNormAffine(
      node,
      this.constInput(node, scale, 'scale'),
      this.constInput(node, offset, 'offset'),
      this.constInput(node, mean, 'mean'),
      this.constInput(node, variance, 'variance'),
      node.attr?.epsilon?.f ?? 0.001,
      channels,
    );
    const layer = this.fusableLayer(node, input);
    if (layer) {
      scaleLayer(layer, affine.scale);
      shiftLayer(layer, affine.shift);
      return input;
    }
    return this.builder.emit(OpType.CHANNEL_AFFINE, [input], [], [affine.scale, affine.shift], input.shape, node.name);
  }

  /**
   * Returns the layer that wrote `value` when it has no activation yet and only `node` reads
   * it, so changing the layer in place is invisible to other nodes.
   */
  private fusableLayer(node: GraphNode, value: Value) {
    const layer = this.builder.layerOf(value);
    if (!layer || value.kind !== 'tensor' || layer.layer!.activation.kind !== Activation.NONE) return undefined;
    return this.isExclusive(value, [node.name]) ? layer : undefined;
  }

  private lowerUnary(node: GraphNode): Value {
    const op = node.op;
    const inputs = this.inputsOf(node);
    const x = inputs[0];
    if (x.kind === 'const') return this.foldUnary(node, x);

    const layer = this.fusableLayer(node, x);
    if (layer && op !== 'Prelu' && this.fuseActivation(node, layer, op, () => ({ kind: 'const', shape: [], data: new Float32Array(0) }))) return x;
    if (layer && op === 'Prelu' && this.fuseActivation(node, layer, op, () => this.constInput(node, inputs[1], 'alpha'))) return x;

    const binary = this.builder.producerOf(x);
    if (binary?.type === OpType.BINARY && binary.params[1] === Activation.NONE && this.isExclusive(x, [node.name])) {
      const activation = { Relu: [Activation.RELU, 0, 0], Relu6: [Activation.CLIP, 0, 6], Sigmoid: [Activation.SIGMOID, 0, 0] }[op];
      if (activation) {
        binary.params[1] = activation[0];
        binary.params[2] = f32(activation[1]);
        binary.params[3] = f32(activation[2]);
        return x;
      }
    }

    const channels = x.shape[x.shape.length - 1];
    const unary = (kind: UnaryKind, a = 0, b = 0, consts: Float32Array[] = [], source: TensorValue = x) =>
      this.builder.emit(OpType.UNARY, [source], [kind, f32(a), f32(b)], consts, source.shape, node.name);
    switch (op) {
      case 'Relu': return unary(UnaryKind.RELU);
      case 'Relu6': return unary(UnaryKind.CLIP, 0, 6);
      case 'LeakyRelu': return unary(UnaryKind.LEAKY_RELU, node.attr?.alpha?.f ?? 0.2);
      case 'Sigmoid': return unary(UnaryKind.SIGMOID);
      case 'Tanh': return unary(UnaryKind.TANH);
      case 'Exp': return unary(UnaryKind.EXP);
      case 'Abs': return unary(UnaryKind.ABS);
      case 'Sqrt': return unary(UnaryKind.SQRT);
      case 'Neg': return unary(UnaryKind.NEG);
      case 'Prelu': {
        const slopes = perChannel(this.constInput(node, inputs[1], 'alpha'), channels);
        if (!slopes) throw this.fail(node, 'PReLU alpha must have one value or one per channel');
        return unary(UnaryKind.PRELU, 0, 0, [slopes]);
      }
      case 'Rsqrt': {
        const root = unary(UnaryKind.SQRT);
        return this.builder.emit(OpType.BINARY, [root], [BinaryKind.DIV, Activation.NONE, f32(0), f32(0), 1], [new Float32Array([1])], x.shape, node.name);
      }
      case 'Square':
        return this.builder.emit(OpType.BINARY, [x, x], [BinaryKind.MUL, Activation.NONE, f32(0), f32(0), 0], [], x.shape, node.name);
      default:
        throw unsupportedOp(this.file, op, node.name);
    }
  }

  private foldUnary(node: GraphNode, x: ConstValue): Value {
    const fns: Record<string, (v: number) => number> = {
      Relu: (v) => Math.max(v, 0),
      Relu6: (v) => Math.min(Math.max(v, 0), 6),
      Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      Tanh: Math.tanh,
      Exp: Math.exp,
      Abs: Math.abs,
      Sqrt: Math.sqrt,
      Neg: (v) => -v,
      Rsqrt: (v) => 1 / Math.sqrt(v),
      Square: (v) => v * v,
    };
    const fn = fns[node.op];
    if (!fn) throw this.fail(node, 'constant input cannot be folded');
    return { kind: 'const', shape: x.shape, data: Float32Array.from(x.data, fn) };
  }

  private lowerBinary(node: GraphNode, kind: BinaryKind): Value {
    if (node.op === 'BiasAdd') this.checkNhwc(node);
    if (kind === BinaryKind.ADD) {
      const prelu = this.matchPrelu(node);
      if (prelu) return prelu;
    }
    if (kind === BinaryKind.MUL) {
      const normalized = this.matchL2Normalize(node);
      if (normalized) return normalized;
    }

    const [a, b] = this.inputsOf(node);
    const shape = broadcastShape(a.shape, b.shape);
    if (!shape) throw this.fail(node, `shapes [${a.shape}] and [${b.shape}] do not broadcast`);
    if (a.kind === 'const' && b.kind === 'const') return foldBinary(kind, a, b, shape);

    if (a.kind === 'tensor' && b.kind === 'tensor') {
      if (shape.length > 4) throw this.fail(node, `the result has rank ${shape.length}; plans support rank 4 at most`);
      return this.builder.emit(OpType.BINARY, [a, b], [kind, Activation.NONE, f32(0), f32(0), 0], [], shape, node.name);
    }

    const swap = a.kind === 'const';
    const x = (swap ? b : a) as TensorValue;
    const c = (swap ? a : b) as ConstValue;
    if (shape.length !== x.shape.length || shape.some((d, i) => d !== x.shape[i])) {
      throw this.fail(node, `the constant [${c.shape}] would change the tensor shape [${x.shape}]`);
    }
    const fused = this.fuseConstIntoLayer(node, x, kind, c, swap);
    if (fused) return fused;
    return this.clipOrBinary(node, x, kind, c, swap);
  }

  /** Folds x + c, x - c, x * c or x / c with per-channel c into the layer that wrote x. */
  private fuseConstIntoLayer(node: GraphNode, x: TensorValue, kind: BinaryKind, c: ConstValue, swap: boolean): Value | null {
    const layer = this.fusableLayer(node, x);
    if (!layer) return null;
    const values = perChannel(c, layer.layer!.outChannels);
    if (!values) return null;
    if (kind === BinaryKind.ADD) shiftLayer(layer, values);
    else if (kind === BinaryKind.SUB && !swap) shiftLayer(layer, values.map((v) => -v));
    else if (kind === BinaryKind.MUL) scaleLayer(layer, values);
    else if (kind === BinaryKind.DIV && !swap) scaleLayer(layer, values.map((v) => 1 / v));
    else return null;
    return x;
  }

  /** Lowers Maximum/Minimum by a scalar into the layer's clip when it has one, else a BINARY op. */
  private clipOrBinary(node: GraphNode, x: TensorValue, kind: BinaryKind, c: ConstValue, swap: boolean): Value {
    const isBound = (kind === BinaryKind.MAX || kind === BinaryKind.MIN) && c.data.length === 1;
    const layer = this.builder.layerOf(x);
    if (isBound && layer && this.isExclusive(x, [node.name])) {
      const activation = layer.layer!.activation;
      const bound = c.data[0];
      let range: [number, number] | null = null;
      if (activation.kind === Activation.NONE) range = [-Infinity, Infinity];
      else if (activation.kind === Activation.RELU) range = [0, Infinity];
      else if (activation.kind === Activation.CLIP) range = [activation.a, activation.b];
      if (range) {
        const [low, high] = kind === BinaryKind.MAX ? [Math.max(range[0], bound), range[1]] : [range[0], Math.min(range[1], bound)];
        if (high === Infinity && low === 0) Object.assign(activation, { kind: Activation.RELU, a: 0, b: 0 });
        else if (high === Infinity || low === -Infinity) return this.emitConstBinary(node, x, kind, c, swap);
        else Object.assign(activation, { kind: Activation.CLIP, a: low, b: high });
        return x;
      }
    }
    return this.emitConstBinary(node, x, kind, c, swap);
  }

  private emitConstBinary(node: GraphNode, x: TensorValue, kind: BinaryKind, c: ConstValue, swap: boolean): Value {
    const last = x.shape[x.shape.length - 1];
    let operand: Float32Array | null = null;
    if (c.data.length === 1) operand = Float32Array.from(c.data);
    else if (sizeOf(c.shape) === sizeOf(x.shape) && c.shape.length <= x.shape.length && c.shape.every((d, i) => d === x.shape[x.shape.length - c.shape.length + i])) operand = Float32Array.from(c.data);
    else operand = perChannel(c, last);
    if (!operand) throw this.fail(node, `constant shape [${c.shape}] must be a scalar, per last dim (${last}) or the full shape [${x.shape}]`);
    return this.builder.emit(OpType.BINARY, [x], [kind, Activation.NONE, f32(0), f32(0), swap ? 1 : 0], [operand], x.shape, node.name);
  }

  /**
   * Matches PReLU written with element-wise ops, as exported by MXNet and TF-Slim:
   * Add(Maximum(0, x), Mul(alpha, Minimum(0, x))) and Add(Relu(x), Mul(Sub(x, Abs(x)), alpha / 2)).
   * Also matches Add(x, Mul(Sub(x, Abs(x)), c)), which is x for x >= 0 and x * (1 + 2c) below,
   * so PReLU with slope 1 + 2c. TF graph optimisers leave that form when they fuse the Relu of
   * the TF-Slim form into the layer before it.
   */
  private matchPrelu(node: GraphNode): Value | null {
    const left = this.inputNode(node, 0);
    const right = this.inputNode(node, 1);
    if (!left || !right) return null;
    const refOf = (n: GraphNode, i: number) => parseInputRef((n.input ?? [])[i] ?? '')?.node;
    const isZero = (name: string | undefined) => {
      const n = name ? this.nodes.get(name) : undefined;
      if (n?.op !== 'Const') return false;
      const v = this.lowerConstCached(n);
      return v.data.length === 1 && v.data[0] === 0;
    };
    const otherOf = (n: GraphNode) => (isZero(refOf(n, 0)) ? refOf(n, 1) : isZero(refOf(n, 1)) ? refOf(n, 0) : undefined);

    for (const [positive, negative] of [[left, right], [right, left]]) {
      if (negative.op !== 'Mul') continue;
      const m0 = this.nodes.get(refOf(negative, 0) ?? '');
      const m1 = this.nodes.get(refOf(negative, 1) ?? '');
      if (!m0 || !m1) continue;
      const [alphaNode, inner] = m0.op === 'Const' ? [m0, m1] : [m1, m0];
      if (alphaNode.op !== 'Const') continue;

      let x: string | undefined;
      let factor = 1;
      let offset = 0;
      let internal: string[] = [];
      if (positive.op === 'Maximum' && inner.op === 'Minimum') {
        x = otherOf(positive);
        if (!x || otherOf(inner) !== x) continue;
        internal = [positive.name, inner.name];
      } else if (positive.op === 'Relu' && inner.op === 'Sub') {
        x = refOf(positive, 0);
        const absNode = this.nodes.get(refOf(inner, 1) ?? '');
        if (!x || refOf(inner, 0) !== x || absNode?.op !== 'Abs' || refOf(absNode, 0) !== x) continue;
        factor = 2;
        internal = [positive.name, inner.name, absNode.name];
      } else if (inner.op === 'Sub' && positive.name === refOf(inner, 0)) {
        // The Add reads x itself, the tensor the Sub starts from.
        x = positive.name;
        const absNode = this.nodes.get(refOf(inner, 1) ?? '');
        if (!x || absNode?.op !== 'Abs' || refOf(absNode, 0) !== x) continue;
        factor = 2;
        offset = 1;
        internal = [inner.name, absNode.name];
      } else {
        continue;
      }
      const privateNodes = [...internal, negative.name];
      if (!privateNodes.every((n) => this.onlyReadBy(n, [...privateNodes, node.name]))) continue;

      const input = this.valueOf(x, node.name);
      if (input.kind !== 'tensor') return null;
      const channels = input.shape[input.shape.length - 1];
      const alpha = perChannel(this.lowerConstCached(alphaNode), channels);
      if (!alpha) continue;
      const slopes = alpha.map((v) => offset + v * factor);
      const layer = this.builder.layerOf(input);
      // PReLU leaves every value of at least 0 unchanged, so after a ReLU it does nothing.
      if (layer && layer.layer!.activation.kind === Activation.RELU) return input;
      if (layer && layer.layer!.activation.kind === Activation.NONE && this.isExclusive(input, [...internal, node.name])) {
        Object.assign(layer.layer!.activation, { kind: Activation.PRELU, slopes });
        return input;
      }
      return this.builder.emit(OpType.UNARY, [input], [UnaryKind.PRELU, f32(0), f32(0)], [slopes], input.shape, node.name);
    }
    return null;
  }

  /** Matches x * Rsqrt(Maximum(Sum(Square(x), last axis, keep_dims), eps)) as L2_NORMALIZE. */
  private matchL2Normalize(node: GraphNode): Value | null {
    const refOf = (n: GraphNode | undefined, i: number) => (n ? parseInputRef((n.input ?? [])[i] ?? '')?.node : undefined);
    for (const [xi, ri] of [[0, 1], [1, 0]]) {
      const rsqrt = this.inputNode(node, ri);
      if (rsqrt?.op !== 'Rsqrt') continue;
      const max = this.nodes.get(refOf(rsqrt, 0) ?? '');
      if (max?.op !== 'Maximum') continue;
      const sumIndex = this.nodes.get(refOf(max, 0) ?? '')?.op === 'Sum' ? 0 : 1;
      const sum = this.nodes.get(refOf(max, sumIndex) ?? '');
      const epsNode = this.nodes.get(refOf(max, 1 - sumIndex) ?? '');
      if (sum?.op !== 'Sum' || epsNode?.op !== 'Const' || !sum.attr?.keep_dims?.b) continue;
      const square = this.nodes.get(refOf(sum, 0) ?? '');
      const x = refOf(node, xi);
      if (square?.op !== 'Square' || refOf(square, 0) !== x || !x) continue;

      const input = this.valueOf(x, node.name);
      const axes = this.lowerConstCached(this.nodes.get(refOf(sum, 1) ?? '')!);
      const eps = this.lowerConstCached(epsNode);
      if (input.kind !== 'tensor' || eps.data.length !== 1) continue;
      const rank = input.shape.length;
      if (axes.data.length !== 1 || (axes.data[0] + rank) % rank !== rank - 1) continue;
      return this.builder.emit(OpType.L2_NORMALIZE, [input], [f32(Math.sqrt(eps.data[0]))], [], input.shape, node.name);
    }
    return null;
  }

  private lowerConstCached(node: GraphNode): ConstValue {
    const value = this.valueOf(node.name, node.name);
    if (value.kind !== 'const') throw invalidModel(this.file, `node "${node.name}" is not a constant`);
    return value;
  }

  private lowerPool(node: GraphNode): Value {
    this.checkNhwc(node);
    const x = this.tensorInput(node, this.inputsOf(node)[0], 4);
    const [, kh, kw] = this.ints(node, 'ksize');
    const [, sh, sw] = this.ints(node, 'strides');
    const padding = this.str(node, 'padding');
    let pads = [0, 0, 0, 0];
    if (padding === 'SAME') {
      const [pt, pb] = samePadding(x.shape[1], kh, sh, 1);
      const [pl, pr] = samePadding(x.shape[2], kw, sw, 1);
      pads = [pt, pl, pb, pr];
    } else if (padding !== 'VALID') {
      throw this.fail(node, `padding ${padding} is not supported`);
    }
    const outH = convOutputSize(x.shape[1], kh, sh, 1, pads[0], pads[2]);
    const outW = convOutputSize(x.shape[2], kw, sw, 1, pads[1], pads[3]);
    const kind = node.op === 'MaxPool' ? PoolKind.MAX : PoolKind.AVERAGE;
    // TF average pooling divides by the number of real (unpadded) cells.
    const params = [kind, kh, kw, sh, sw, pads[0], pads[1], pads[2], pads[3], 0];
    return this.builder.emit(OpType.POOL2D, [x], params, [], [x.shape[0], outH, outW, x.shape[3]], node.name);
  }

  private lowerMean(node: GraphNode): Value {
    const [input, axesValue] = this.inputsOf(node);
    const x = this.tensorInput(node, input, 4);
    const axes = [...this.constInput(node, axesValue, 'the reduction axes').data].map((a) => (a + 4) % 4).sort();
    if (axes.length !== 2 || axes[0] !== 1 || axes[1] !== 2) throw this.fail(node, `only a mean over H and W (axes 1, 2) is supported, not axes [${axes}]`);
    const pooled = this.builder.emit(OpType.POOL2D, [x], [PoolKind.AVERAGE, 0, 0, 1, 1, 0, 0, 0, 0, 0], [], [x.shape[0], 1, 1, x.shape[3]], node.name);
    if (node.attr?.keep_dims?.b) return pooled;
    const shape = [x.shape[0], x.shape[3]];
    return this.builder.emit(OpType.RESHAPE, [pooled], [2, ...shape], [], shape, node.name + '/reshape');
  }

  private lowerPad(node: GraphNode): Value {
    const [input, paddingsValue, constantValue] = this.inputsOf(node);
    const paddings = this.constInput(node, paddingsValue, 'paddings');
    if (input.kind === 'const') throw this.fail(node, 'padding a constant is not supported');
    const x = this.tensorInput(node, input, 4);
    const p = [...paddings.data];
    if (p.length !== 8) throw this.fail(node, `paddings shape [${paddings.shape}] must be [4, 2]`);
    if (p[0] !== 0 || p[1] !== 0) throw this.fail(node, 'padding the batch axis is not supported');

    let mode = PadMode.CONSTANT;
    let value = 0;
    if (node.op === 'MirrorPad') {
      const requested = this.str(node, 'mode');
      if (requested !== 'REFLECT') throw this.fail(node, `mirror mode ${requested} is not supported; only REFLECT is`);
      mode = PadMode.REFLECT;
    } else if (node.op === 'PadV2' && constantValue) {
      value = this.constInput(node, constantValue, 'the pad value').data[0];
    }
    const shape = [x.shape[0], x.shape[1] + p[2] + p[3], x.shape[2] + p[4] + p[5], x.shape[3] + p[6] + p[7]];
    return this.builder.emit(OpType.PAD, [x], [p[2], p[3], p[4], p[5], p[6], p[7], mode, f32(value)], [], shape, node.name);
  }

  private reshapeTo(node: GraphNode, x: Value, shape: number[]): Value {
    if (sizeOf(shape) !== sizeOf(x.shape)) throw this.fail(node, `cannot reshape [${x.shape}] to [${shape}]`);
    if (x.kind === 'const') return { kind: 'const', shape, data: x.data };
    if (shape.length < 1 || shape.length > 4) throw this.fail(node, `the result has rank ${shape.length}; plans support rank 1 to 4`);
    if (shape.length === x.shape.length && shape.every((d, i) => d === x.shape[i])) return x;
    return this.builder.emit(OpType.RESHAPE, [x], [shape.length, ...shape], [], shape, node.name);
  }

  private lowerReshape(node: GraphNode): Value {
    const [x, arg] = this.inputsOf(node);
    if (node.op === 'Squeeze') {
      const dims = this.ints(node, 'squeeze_dims', []).map((d) => (d + x.shape.length) % x.shape.length);
      const shape = x.shape.filter((d, i) => (dims.length ? !dims.includes(i) : d !== 1));
      return this.reshapeTo(node, x, shape);
    }
    if (node.op === 'ExpandDims') {
      const axis = this.constInput(node, arg, 'the axis').data[0];
      const shape = x.shape.slice();
      shape.splice(axis < 0 ? axis + x.shape.length + 1 : axis, 0, 1);
      return this.reshapeTo(node, x, shape);
    }
    const requested = [...this.constInput(node, arg, 'the target shape').data];
    const known = requested.reduce((n, d) => (d === -1 ? n : n * d), 1);
    const shape = requested.map((d) => (d === -1 ? sizeOf(x.shape) / known : d));
    return this.reshapeTo(node, x, shape);
  }

  private lowerTranspose(node: GraphNode): Value {
    const [input, permValue] = this.inputsOf(node);
    const x = this.tensorInput(node, input);
    const perm = [...this.constInput(node, permValue, 'the permutation').data];
    const shape = perm.map((p) => x.shape[p]);
    if (perm.every((p, i) => p === i)) return x;
    return this.builder.emit(OpType.TRANSPOSE, [x], [perm.length, ...perm], [], shape, node.name);
  }

  private lowerConcat(node: GraphNode): Value {
    const inputs = this.inputsOf(node);
    const axisValue = this.constInput(node, inputs[inputs.length - 1], 'the axis');
    const parts = inputs.slice(0, -1);
    if (parts.some((p) => p.kind !== 'tensor')) throw this.fail(node, 'concatenating a constant with a tensor is not supported');
    const rank = parts[0].shape.length;
    const axis = (axisValue.data[0] + rank) % rank;
    const shape = parts[0].shape.slice();
    shape[axis] = parts.reduce((n, p) => n + p.shape[axis], 0);
    if (parts.length === 1) return parts[0];
    return this.builder.emit(OpType.CONCAT, parts as TensorValue[], [axis], [], shape, node.name);
  }

  private lowerSoftmax(node: GraphNode): Value {
    const x = this.tensorInput(node, this.inputsOf(node)[0]);
    return this.builder.emit(OpType.SOFTMAX, [x], [x.shape.length - 1], [], x.shape, node.name);
  }

  private lowerResize(node: GraphNode): Value {
    const [input, sizeValue] = this.inputsOf(node);
    const x = this.tensorInput(node, input, 4);
    const [outH, outW] = this.constInput(node, sizeValue, 'the size').data;
    const alignCorners = Boolean(node.attr?.align_corners?.b);
    const halfPixel = Boolean(node.attr?.half_pixel_centers?.b);
    const mode = node.op === 'ResizeBilinear' ? ResizeMode.BILINEAR : ResizeMode.NEAREST;
    let coordinates = ResizeCoordinates.ASYMMETRIC;
    if (alignCorners) coordinates = ResizeCoordinates.ALIGN_CORNERS;
    else if (halfPixel) coordinates = ResizeCoordinates.HALF_PIXEL;
    // NOTE: TF nearest-neighbour with half_pixel_centers rounds where the plan's HALF_PIXEL
    // mode may floor; that combination has no reference test here.
    return this.builder.emit(OpType.RESIZE, [x], [outH, outW, mode, coordinates], [], [x.shape[0], outH, outW, x.shape[3]], node.name);
  }

  private lowerSlice(node: GraphNode): Value {
    const inputs = this.inputsOf(node);
    const x = inputs[0];
    const rank = x.shape.length;
    const begin = [...this.constInput(node, inputs[1], 'begin').data];
    const starts: number[] = [];
    const ends: number[] = [];
    const keep: boolean[] = [];

    if (node.op === 'Slice') {
      const size = [...this.constInput(node, inputs[2], 'size').data];
      for (let i = 0; i < rank; i++) {
        starts.push(begin[i]);
        ends.push(size[i] === -1 ? x.shape[i] : begin[i] + size[i]);
        keep.push(true);
      }
    } else {
      const end = [...this.constInput(node, inputs[2], 'end').data];
      const strides = [...this.constInput(node, inputs[3], 'strides').data];
      const mask = (name: string) => Number(node.attr?.[name]?.i ?? 0);
      if (mask('ellipsis_mask') || mask('new_axis_mask')) throw this.fail(node, 'ellipsis_mask and new_axis_mask are not supported');
      if (strides.some((s) => s !== 1)) throw this.fail(node, `strides [${strides}] are not supported; only 1 is`);
      for (let i = 0; i < rank; i++) {
        const dim = x.shape[i];
        const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
        const shrink = (mask('shrink_axis_mask') >> i) & 1;
        const start = i < begin.length && !((mask('begin_mask') >> i) & 1) ? clamp(begin[i]) : 0;
        let stop = i < end.length && !((mask('end_mask') >> i) & 1) ? clamp(end[i]) : dim;
        if (shrink) stop = start + 1;
        starts.push(start);
        ends.push(Math.max(stop, start));
        keep.push(!shrink);
      }
    }

    const sliced = ends.map((e, i) => e - starts[i]);
    const finalShape = sliced.filter((_, i) => keep[i]);
    if (x.kind === 'const') {
      const data = x.data instanceof Int32Array ? new Int32Array(sizeOf(sliced)) : new Float32Array(sizeOf(sliced));
      for (let flat = 0; flat < data.length; flat++) {
        let rest = flat;
        let source = 0;
        let stride = 1;
        for (let i = rank - 1; i >= 0; i--) {
          const coord = rest % sliced[i];
          rest = Math.floor(rest / sliced[i]);
          source += (coord + starts[i]) * stride;
          stride *= x.shape[i];
        }
        data[flat] = x.data[source];
      }
      return { kind: 'const', shape: finalShape, data };
    }

    const isWhole = starts.every((s, i) => s === 0 && ends[i] === x.shape[i]);
    const out = isWhole ? x : this.builder.emit(OpType.SLICE, [x], [rank, ...starts, ...ends], [], sliced, node.name);
    return this.reshapeTo(node, out, finalShape);
  }
}

/** Reads and parses a JSON file, reporting failures as INVALID_MODEL. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw invalidModel(file, `the file could not be read (${(error as Error).message})`, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidModel(file, `the file is not valid JSON (${(error as Error).message})`, error);
  }
}

/** Output node names: the signature's outputs when present, else every node that nothing reads. */
function findOutputs(file: string, model: { signature?: { outputs?: Record<string, { name?: string }> } }, nodes: GraphNode[]): string[] {
  const signature = model.signature?.outputs;
  if (signature && Object.keys(signature).length) {
    return Object.values(signature).map((o) => (o.name ?? '').replace(/:0$/, ''));
  }
  const read = new Set<string>();
  for (const node of nodes) for (const ref of node.input ?? []) read.add(parseInputRef(ref)?.node ?? ref.slice(1));
  const sinks = nodes.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp' && n.op !== 'Placeholder').map((n) => n.name);
  if (!sinks.length) throw invalidModel(file, 'the graph has no output node');
  return sinks.sort(naturalCompare);
}

/**
 * Imports a TF.js graph model (model.json plus its weight shards) as a plan. The model must
 * have one NHWC float input with batch 1; `options.inputShape` fixes unknown spatial dims.
 */
export function importTfjsGraph(modelJsonPath: string, options: TfjsImportOptions = {}): ImportedModel {
  const file = modelJsonPath;
  const model = readJson(file) as {
    format?: string;
    modelTopology?: { node?: GraphNode[] };
    weightsManifest?: unknown;
    signature?: { outputs?: Record<string, { name?: string }> };
  };
  if (!model || typeof model !== 'object' || !Array.isArray(model.modelTopology?.node)) {
    throw invalidModel(file, 'expected a TF.js graph model with modelTopology.node; Keras layers models are not supported');
  }
  if (model.weightsManifest === undefined) throw invalidModel(file, 'the model has no weightsManifest');
  const nodes = model.modelTopology!.node!;
  const weights = loadWeightsManifest(file, model.weightsManifest, path.dirname(path.resolve(file)));
  const outputs = findOutputs(file, model, nodes);
  return new GraphLowering(file, nodes, weights, options, outputs).run();
}
