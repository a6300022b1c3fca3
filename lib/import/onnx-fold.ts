// Constant folding for the ONNX importer: evaluates nodes whose inputs are all known at
// import time, so shape subgraphs and constant arithmetic never reach the plan.

import { invalidModel, unsupportedOp } from '../errors';
import {
  ConstTensor,
  broadcastShape,
  broadcastTo,
  concatConst,
  constOf,
  decodeTensor,
  foldBinary,
  gatherConst,
  sizeOf,
  sliceConst,
  transposeConst,
  valuesOf,
} from './onnx-tensor';
import {
  OnnxNode,
  floatAttribute,
  floatsAttribute,
  intAttribute,
  intsAttribute,
  tensorAttribute,
} from './onnx-node';
import { DataType } from './onnx-schema';

/** Context for error messages and opset-dependent attributes. */
export interface FoldContext {
  file: string;
  label: string;
  opset: number;
}

export const FOLDABLE_OPS = new Set([
  'Constant', 'Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Cast', 'ConstantOfShape', 'Range',
  'Add', 'Sub', 'Mul', 'Div', 'Floor', 'Reshape', 'Identity', 'Neg', 'Max', 'Min', 'Equal', 'Where',
  'Transpose', 'Flatten', 'Sqrt', 'Ceil',
]);

/** Resolves a possibly negative axis against `rank`; throws INVALID_MODEL when out of range. */
export function normalizeAxis(axis: number, rank: number, ctx: FoldContext): number {
  const resolved = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved >= rank) {
    throw invalidModel(ctx.file, `node "${ctx.label}" has axis ${axis}, outside a rank-${rank} tensor`);
  }
  return resolved;
}

/** Evaluates a Constant node. */
export function constantValue(node: OnnxNode, ctx: FoldContext): ConstTensor {
  const tensor = tensorAttribute(node, 'value');
  if (tensor) return decodeTensor(tensor, ctx.file);
  const floats = floatsAttribute(node, 'value_floats');
  if (floats) return constOf(floats, [floats.length], true);
  const ints = intsAttribute(node, 'value_ints');
  if (ints) return constOf(ints);
  if ((node.attribute ?? []).some((a) => a.name === 'value_float')) {
    return constOf([floatAttribute(node, 'value_float', 0)], [], true);
  }
  if ((node.attribute ?? []).some((a) => a.name === 'value_int')) return constOf([intAttribute(node, 'value_int', 0)], []);
  throw unsupportedOp(ctx.file, 'Constant', ctx.label, 'only tensor, float and int values are supported');
}

/** Returns the axes of Squeeze/Unsqueeze/Slice-style nodes: an attribute before opset 13, else input `index`. */
function axesOf(node: OnnxNode, inputs: Array<ConstTensor | undefined>, index: number, ctx: FoldContext): number[] | undefined {
  const fromAttribute = intsAttribute(node, 'axes');
  if (fromAttribute) return fromAttribute;
  const input = inputs[index];
  return input ? valuesOf(input) : undefined;
}

/** Returns the output shape of Unsqueeze. */
export function unsqueezeShape(shape: number[], axes: number[], ctx: FoldContext): number[] {
  const rank = shape.length + axes.length;
  const resolved = axes.map((a) => normalizeAxis(a, rank, ctx)).sort((a, b) => a - b);
  const out = shape.slice();
  for (const a of resolved) out.splice(a, 0, 1);
  return out;
}

/** Returns the output shape of Squeeze; without axes every 1 is removed. */
export function squeezeShape(shape: number[], axes: number[] | undefined, ctx: FoldContext): number[] {
  if (!axes) return shape.filter((d) => d !== 1);
  const resolved = new Set(axes.map((a) => normalizeAxis(a, shape.length, ctx)));
  for (const a of resolved) {
    if (shape[a] !== 1) throw invalidModel(ctx.file, `node "${ctx.label}" squeezes axis ${a} of size ${shape[a]}`);
  }
  return shape.filter((_, i) => !resolved.has(i));
}

/** Resolves the target of Reshape: 0 copies the input dim (unless allowzero) and -1 is inferred. */
export function reshapeShape(input: number[], target: number[], allowZero: boolean, ctx: FoldContext): number[] {
  const out = target.map((d, i) => (d === 0 && !allowZero ? input[i] : d));
  const size = sizeOf(input);
  const unknown = out.indexOf(-1);
  if (unknown >= 0) {
    const known = sizeOf(out.filter((_, i) => i !== unknown));
    if (known === 0 || size % known !== 0) {
      throw invalidModel(ctx.file, `node "${ctx.label}" cannot reshape [${input.join(', ')}] to [${target.join(', ')}]`);
    }
    out[unknown] = size / known;
  }
  if (out.some((d) => d === undefined || d < 0) || sizeOf(out) !== size) {
    throw invalidModel(ctx.file, `node "${ctx.label}" cannot reshape [${input.join(', ')}] to [${target.join(', ')}]`);
  }
  return out;
}

/** Resolves Slice parameters to per-axis clamped starts and ends with step 1. */
export function sliceBounds(
  node: OnnxNode,
  shape: number[],
  inputs: Array<ConstTensor | undefined>,
  ctx: FoldContext,
): { starts: number[]; ends: number[] } {
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = intsAttribute(node, 'starts') ?? [];
    ends = intsAttribute(node, 'ends') ?? [];
    axes = intsAttribute(node, 'axes');
  } else {
    if (!inputs[1] || !inputs[2]) throw unsupportedOp(ctx.file, 'Slice', ctx.label, 'starts and ends must be constants');
    starts = valuesOf(inputs[1]);
    ends = valuesOf(inputs[2]);
    axes = inputs[3] ? valuesOf(inputs[3]) : undefined;
    steps = inputs[4] ? valuesOf(inputs[4]) : undefined;
  }
  if (node.input && node.input.length > 3 && node.input[3] && !inputs[3]) {
    throw unsupportedOp(ctx.file, 'Slice', ctx.label, 'axes must be a constant');
  }
  if (node.input && node.input.length > 4 && node.input[4] && !inputs[4]) {
    throw unsupportedOp(ctx.file, 'Slice', ctx.label, 'steps must be a constant');
  }
  if (steps && steps.some((s) => s !== 1)) {
    throw unsupportedOp(ctx.file, 'Slice', ctx.label, `steps [${steps.join(', ')}] are not supported, only step 1`);
  }

  if (starts.length !== ends.length) {
    throw invalidModel(ctx.file, `node "${ctx.label}" has ${starts.length} starts but ${ends.length} ends`);
  }

  const outStarts = shape.map(() => 0);
  const outEnds = shape.slice();
  const axisList = axes ?? starts.map((_, i) => i);
  axisList.forEach((rawAxis, i) => {
    const axis = normalizeAxis(rawAxis, shape.length, ctx);
    const dim = shape[axis];
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    outStarts[axis] = clamp(starts[i]);
    outEnds[axis] = Math.max(clamp(ends[i]), outStarts[axis]);
  });
  return { starts: outStarts, ends: outEnds };
}

const BINARY_FOLDS: Record<string, (x: number, y: number, isFloat: boolean) => number> = {
  Add: (x, y) => x + y,
  Sub: (x, y) => x - y,
  Mul: (x, y) => x * y,
  // Integer Div truncates toward zero, as in onnxruntime.
  Div: (x, y, isFloat) => (isFloat ? x / y : Math.trunc(x / y)),
  Max: (x, y) => Math.max(x, y),
  Min: (x, y) => Math.min(x, y),
  Equal: (x, y) => (x === y ? 1 : 0),
};

const UNARY_FOLDS: Record<string, (x: number) => number> = {
  Floor: Math.floor,
  Ceil: Math.ceil,
  Neg: (x) => -x,
  Sqrt: Math.sqrt,
};

/**
 * Evaluates `node` on constant inputs (undefined marks an absent optional input). Returns
 * undefined when the op is not one the folder evaluates.
 */
export function foldNode(node: OnnxNode, inputs: Array<ConstTensor | undefined>, ctx: FoldContext): ConstTensor | undefined {
  const op = node.opType ?? '';
  const x = inputs[0];
  if (op === 'Constant') return constantValue(node, ctx);
  if (!x && op !== 'ConstantOfShape') return undefined;

  if (op in BINARY_FOLDS) {
    if (!inputs[1]) return undefined;
    const isFloat = x!.isFloat || inputs[1].isFloat;
    const result = foldBinary(x!, inputs[1], (a, b) => BINARY_FOLDS[op](a, b, isFloat));
    if (!result) {
      throw invalidModel(ctx.file, `node "${ctx.label}" has operands [${x!.shape.join(', ')}] and [${inputs[1].shape.join(', ')}], which do not broadcast`);
    }
    if (op === 'Equal') return { isFloat: false, shape: result.shape, data: Float64Array.from(result.data) };
    return result;
  }
  if (op in UNARY_FOLDS) {
    const data = x!.isFloat ? new Float32Array(x!.data.length) : new Float64Array(x!.data.length);
    for (let i = 0; i < data.length; i++) data[i] = UNARY_FOLDS[op](x!.data[i]);
    return { isFloat: x!.isFloat, shape: x!.shape.slice(), data };
  }

  switch (op) {
    case 'Identity':
      return x;
    case 'Cast': {
      const to = intAttribute(node, 'to', DataType.FLOAT);
      const isFloat = to === DataType.FLOAT || to === DataType.DOUBLE || to === DataType.FLOAT16;
      if (isFloat) return { isFloat, shape: x!.shape.slice(), data: Float32Array.from(x!.data) };
      const toBool = to === DataType.BOOL;
      const data = Float64Array.from(x!.data, (v) => {
        if (toBool) return v !== 0 ? 1 : 0;
        return Math.trunc(v);
      });
      return { isFloat: false, shape: x!.shape.slice(), data };
    }
    case 'Gather': {
      if (!inputs[1]) return undefined;
      const axis = normalizeAxis(intAttribute(node, 'axis', 0), x!.shape.length, ctx);
      const dim = x!.shape[axis];
      if (valuesOf(inputs[1]).some((i) => i < -dim || i >= dim)) {
        throw invalidModel(ctx.file, `node "${ctx.label}" gathers an index outside axis ${axis} of size ${dim}`);
      }
      return gatherConst(x!, inputs[1], axis);
    }
    case 'Unsqueeze': {
      const axes = axesOf(node, inputs, 1, ctx);
      if (!axes) throw unsupportedOp(ctx.file, op, ctx.label, 'axes must be a constant');
      return { ...x!, shape: unsqueezeShape(x!.shape, axes, ctx) };
    }
    case 'Squeeze':
      return { ...x!, shape: squeezeShape(x!.shape, axesOf(node, inputs, 1, ctx), ctx) };
    case 'Flatten': {
      const rank = x!.shape.length;
      const rawAxis = intAttribute(node, 'axis', 1);
      const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
      return { ...x!, shape: [sizeOf(x!.shape.slice(0, axis)), sizeOf(x!.shape.slice(axis))] };
    }
    case 'Reshape': {
      const target = ctx.opset < 5 ? intsAttribute(node, 'shape') : inputs[1] && valuesOf(inputs[1]);
      if (!target) return undefined;
      return { ...x!, shape: reshapeShape(x!.shape, target, intAttribute(node, 'allowzero', 0) === 1, ctx) };
    }
    case 'Concat': {
      if (inputs.some((t) => !t)) return undefined;
      const tensors = inputs as ConstTensor[];
      const axis = normalizeAxis(intAttribute(node, 'axis', 0), x!.shape.length, ctx);
      checkConcatShapes(tensors.map((t) => t.shape), axis, ctx);
      return concatConst(tensors, axis);
    }
    case 'Slice': {
      const { starts, ends } = sliceBounds(node, x!.shape, inputs, ctx);
      return sliceConst(x!, starts, ends);
    }
    case 'ConstantOfShape': {
      const shape = x ? valuesOf(x) : [];
      const valueTensor = tensorAttribute(node, 'value');
      const value = valueTensor ? decodeTensor(valueTensor, ctx.file) : constOf([0], [1], true);
      const data = value.isFloat ? new Float32Array(sizeOf(shape)) : new Float64Array(sizeOf(shape));
      data.fill(value.data[0] ?? 0);
      return { isFloat: value.isFloat, shape, data };
    }
    case 'Range': {
      if (!inputs[1] || !inputs[2]) return undefined;
      const start = x!.data[0];
      const limit = inputs[1].data[0];
      const delta = inputs[2].data[0];
      if (delta === 0) throw invalidModel(ctx.file, `node "${ctx.label}" has a Range delta of 0`);
      const count = Math.max(Math.ceil((limit - start) / delta), 0);
      const values = Array.from({ length: count }, (_, i) => start + i * delta);
      return constOf(values, [count], x!.isFloat);
    }
    case 'Where': {
      if (!inputs[1] || !inputs[2]) return undefined;
      const shape = broadcastShape(broadcastShape(x!.shape, inputs[1].shape) ?? [-1], inputs[2].shape);
      if (!shape || shape.includes(-1)) {
        throw invalidModel(ctx.file, `node "${ctx.label}" has operands that do not broadcast`);
      }
      const condition = broadcastTo(x!, shape);
      const a = broadcastTo(inputs[1], shape);
      const b = broadcastTo(inputs[2], shape);
      const data = a.isFloat ? new Float32Array(condition.data.length) : new Float64Array(condition.data.length);
      for (let i = 0; i < data.length; i++) data[i] = condition.data[i] ? a.data[i] : b.data[i];
      return { isFloat: a.isFloat, shape, data };
    }
    case 'Transpose': {
      const rank = x!.shape.length;
      const perm = intsAttribute(node, 'perm') ?? x!.shape.map((_, i) => rank - 1 - i);
      return transposeConst(x!, perm);
    }
    default:
      return undefined;
  }
}

/** Checks that concatenated shapes agree on every axis but `axis`; throws INVALID_MODEL otherwise. */
export function checkConcatShapes(shapes: number[][], axis: number, ctx: FoldContext): void {
  const first = shapes[0];
  for (const shape of shapes) {
    const mismatch = shape.length !== first.length || shape.some((d, i) => i !== axis && d !== first[i]);
    if (mismatch) {
      throw invalidModel(ctx.file, `node "${ctx.label}" concatenates [${first.join(', ')}] with [${shape.join(', ')}] on axis ${axis}`);
    }
  }
}
