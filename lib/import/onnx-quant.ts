// Lowering of the ONNX dynamic-quantisation pattern that onnxruntime's quantize_dynamic writes:
//   x -> DynamicQuantizeLinear -> (xq, xScale, xZero)
//   ConvInteger(xq, wq, xZero, wZero) or MatMulInteger(...) -> Cast(float) -> Mul(., xScale * wScale)
// becomes one float CONV2D or FULLY_CONNECTED on x with weights (wq - wZero) * wScale.
//
// NOTE: activations stay float32 here, while onnxruntime rounds them to uint8 per tensor, so the
// outputs differ slightly from onnxruntime's (expect a cosine near, not at, 1 for embeddings).


import { invalidModel, unsupportedOp } from '../errors';
import type { ImportContext, QuantValue, TensorValue, Value } from './onnx';
import { emitConv, emitFullyConnected } from './onnx-lower';
import { intAttribute } from './onnx-node';
import { DataType, NodeProto } from './onnx-schema';
import { ConstTensor, foldBinary, sizeOf, transposeConst } from './onnx-tensor';

type Node = NodeProto;

export const QUANT_OPS = new Set(['DynamicQuantizeLinear', 'ConvInteger', 'MatMulInteger']);

function quant(ctx: ImportContext, node: Node, label: string, value: Value | undefined, role: QuantValue['role']): QuantValue {
  if (!value || value.kind !== 'quant' || value.role !== role) {
    throw unsupportedOp(ctx.file, node.opType ?? '', label, `expected the ${role} output of the dynamic-quantisation pattern`);
  }
  return value;
}

function constant(ctx: ImportContext, node: Node, label: string, value: Value | undefined, description: string): ConstTensor {
  if (!value || value.kind !== 'const') throw unsupportedOp(ctx.file, node.opType ?? '', label, `${description} must be a constant`);
  return value.tensor;
}

/** Returns `weight - zeroPoint` as float, with the zero point a scalar or one value per entry of `axis`. */
function removeZeroPoint(ctx: ImportContext, label: string, weight: ConstTensor, zero: ConstTensor | undefined, axis: number): ConstTensor {
  if (!zero) return { isFloat: true, shape: weight.shape.slice(), data: Float32Array.from(weight.data) };
  const shape = weight.shape.map((_, i) => (i === axis && sizeOf(zero.shape) > 1 ? zero.data.length : 1));
  const result = foldBinary(weight, { ...zero, shape }, (w, z) => w - z);
  if (!result) throw invalidModel(ctx.file, `node "${label}" has a weight zero point that does not match its weights`);
  return { isFloat: true, shape: result.shape, data: Float32Array.from(result.data) };
}

/** Lowers a node of the pattern, or any node that reads one of its values. */
export function lowerQuantized(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const op = node.opType ?? '';
  const outputs = node.output ?? [];
  switch (op) {
    case 'DynamicQuantizeLinear': {
      const x = inputs[0];
      if (!x || x.kind !== 'tensor') throw unsupportedOp(ctx.file, op, label, 'the input must be a computed float tensor');
      ctx.values.set(outputs[0] ?? '', { kind: 'quant', role: 'data', source: x });
      ctx.values.set(outputs[1] ?? '', { kind: 'quant', role: 'scale' });
      ctx.values.set(outputs[2] ?? '', { kind: 'quant', role: 'zero' });
      return;
    }
    case 'ConvInteger':
    case 'MatMulInteger': {
      const data = quant(ctx, node, label, inputs[0], 'data');
      if (inputs[2]) quant(ctx, node, label, inputs[2], 'zero');
      const weight = constant(ctx, node, label, inputs[1], 'the weight');
      const zero = inputs[3] ? constant(ctx, node, label, inputs[3], 'the weight zero point') : undefined;
      const axis = op === 'ConvInteger' ? 0 : 1;
      const dequantised = removeZeroPoint(ctx, label, weight, zero, axis);
      ctx.values.set(outputs[0] ?? '', { kind: 'quant', role: 'product', source: data.source, node, weight: dequantised });
      return;
    }
    case 'Cast': {
      const product = quant(ctx, node, label, inputs[0], 'product');
      if (intAttribute(node, 'to', 0) !== DataType.FLOAT) {
        throw unsupportedOp(ctx.file, op, label, 'only a cast of the integer product to float32 is supported');
      }
      ctx.values.set(outputs[0] ?? '', product);
      return;
    }
    case 'Mul':
      return lowerScaleMul(ctx, node, label, inputs);
    default:
      throw unsupportedOp(ctx.file, op, label, 'it reads a value of the dynamic-quantisation pattern in a way the importer does not support');
  }
}

/** Handles Mul(xScale, wScale) and Mul(product, scale), which emits the float op. */
function lowerScaleMul(ctx: ImportContext, node: Node, label: string, inputs: Array<Value | undefined>): void {
  const [a, b] = inputs;
  const isQuant = (v: Value | undefined, role: QuantValue['role']) => v?.kind === 'quant' && v.role === role;
  const result = node.output?.[0] ?? '';

  if (isQuant(a, 'scale') || isQuant(b, 'scale')) {
    const scale = (isQuant(a, 'scale') ? a : b) as QuantValue;
    const other = isQuant(a, 'scale') ? b : a;
    if (other?.kind === 'const' && !scale.weightScale) {
      ctx.values.set(result, { kind: 'quant', role: 'scale', weightScale: other.tensor });
      return;
    }
    if (other?.kind === 'quant' && other.role === 'product' && scale.weightScale) {
      emitDequantised(ctx, label, other, scale.weightScale, result);
      return;
    }
  }
  throw unsupportedOp(ctx.file, 'Mul', label, 'the operands do not match the dynamic-quantisation pattern');
}

function emitDequantised(ctx: ImportContext, label: string, product: QuantValue, weightScale: ConstTensor, resultName: string): void {
  const node = product.node!;
  const source = product.source as TensorValue;
  const weight = product.weight!;
  const isConv = node.opType === 'ConvInteger';
  const outAxis = isConv ? 0 : 1;
  const outCount = weight.shape[outAxis];
  const scales = weightScale.data;
  if (scales.length !== 1 && scales.length !== outCount) {
    throw unsupportedOp(ctx.file, node.opType ?? '', label, `a weight scale of ${scales.length} values for ${outCount} outputs is not supported`);
  }
  const scaleShape = weight.shape.map((_, i) => (i === outAxis ? scales.length : 1));
  const scaled = foldBinary(weight, { isFloat: true, shape: scaleShape, data: Float32Array.from(scales) }, (w, s) => w * s)!;

  if (isConv) {
    if (source.shape.length !== 4) throw unsupportedOp(ctx.file, 'ConvInteger', label, 'only rank-4 NCHW inputs are supported');
    emitConv(ctx, node, label, source, scaled, undefined, resultName);
    return;
  }
  if (weight.shape.length !== 2 || source.shape.length < 2) {
    throw unsupportedOp(ctx.file, 'MatMulInteger', label, 'only a rank-2 constant weight and a rank-2 or higher input are supported');
  }
  const k = source.shape[source.shape.length - 1];
  if (weight.shape[0] !== k) {
    throw invalidModel(ctx.file, `node "${label}" multiplies [${source.shape.join(', ')}] by [${weight.shape.join(', ')}]`);
  }
  const weights = Float32Array.from(transposeConst(scaled, [1, 0]).data);
  emitFullyConnected(ctx, label, source, source.shape.slice(0, -1), k, weights, outCount, new Float32Array(0), resultName);
}
