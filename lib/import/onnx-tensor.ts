// Constant tensors of the ONNX importer: decoding TensorProto data and the NumPy-style
// arithmetic used to fold shape subgraphs and constants before lowering.

import { invalidModel } from '../errors';
import { DataLocation, DataType, TensorProto } from './onnx-schema';

/**
 * A tensor whose value is known at import time. Integer and boolean tensors keep their
 * values as float64, which is exact for every shape and index value (|x| < 2^53).
 */
export interface ConstTensor {
  isFloat: boolean;
  shape: number[];
  data: Float32Array | Float64Array;
}

export function sizeOf(shape: number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

export function isFloatType(dataType: number): boolean {
  return dataType === DataType.FLOAT || dataType === DataType.DOUBLE || dataType === DataType.FLOAT16;
}

function halfToFloat(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Bytes per element of the raw_data encoding, or 0 for types the importer does not read. */
function rawElementSize(dataType: number): number {
  switch (dataType) {
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 4;
    case DataType.DOUBLE:
    case DataType.INT64:
    case DataType.UINT64:
      return 8;
    case DataType.FLOAT16:
    case DataType.INT16:
    case DataType.UINT16:
      return 2;
    case DataType.INT8:
    case DataType.UINT8:
    case DataType.BOOL:
      return 1;
    default:
      return 0;
  }
}

function readRaw(raw: Uint8Array, dataType: number, count: number, out: Float32Array | Float64Array): void {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < count; i++) {
    switch (dataType) {
      case DataType.FLOAT: out[i] = view.getFloat32(i * 4, true); break;
      case DataType.DOUBLE: out[i] = view.getFloat64(i * 8, true); break;
      case DataType.FLOAT16: out[i] = halfToFloat(view.getUint16(i * 2, true)); break;
      case DataType.INT64: out[i] = Number(view.getBigInt64(i * 8, true)); break;
      case DataType.UINT64: out[i] = Number(view.getBigUint64(i * 8, true)); break;
      case DataType.INT32: out[i] = view.getInt32(i * 4, true); break;
      case DataType.UINT32: out[i] = view.getUint32(i * 4, true); break;
      case DataType.INT16: out[i] = view.getInt16(i * 2, true); break;
      case DataType.UINT16: out[i] = view.getUint16(i * 2, true); break;
      case DataType.INT8: out[i] = view.getInt8(i); break;
      case DataType.UINT8:
      case DataType.BOOL: out[i] = view.getUint8(i); break;
    }
  }
}

/** Decodes an initializer or Constant value. Throws INVALID_MODEL when the data does not match the dims. */
export function decodeTensor(tensor: TensorProto, file: string): ConstTensor {
  const name = tensor.name || '(unnamed)';
  const dataType = tensor.dataType ?? 0;
  const shape = tensor.dims.slice();
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw invalidModel(file, `tensor "${name}" has invalid dims [${shape.join(', ')}]`);
  }
  if (tensor.dataLocation === DataLocation.EXTERNAL || tensor.externalData.length > 0) {
    const location = tensor.externalData.find((entry) => entry.key === 'location')?.value;
    const where = location ? `the external file "${location}"` : 'an external file';
    const fix = 'Save the model with its weights inside the .onnx file, for example with onnx.save_model(model, path, save_as_external_data=False)';
    throw invalidModel(file, `tensor "${name}" stores its data in ${where}, which the importer does not read. ${fix}`);
  }
  if (tensor.segment) {
    throw invalidModel(file, `tensor "${name}" holds one segment of a split tensor, which the importer does not read. Save the model with whole tensors`);
  }
  const elementSize = rawElementSize(dataType);
  if (elementSize === 0) {
    throw invalidModel(file, `tensor "${name}" has data type ${dataType}, which the importer does not read`);
  }

  // Sizes are checked against the stored data before anything is allocated.
  const count = sizeOf(shape);
  const isFloat = isFloatType(dataType);
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    if (raw.length !== count * elementSize) {
      throw invalidModel(file, `tensor "${name}" has ${raw.length} bytes of data, but dims [${shape.join(', ')}] need ${count * elementSize}`);
    }
    const data = isFloat ? new Float32Array(count) : new Float64Array(count);
    readRaw(raw, dataType, count, data);
    return { isFloat, shape, data };
  }

  let values: number[];
  switch (dataType) {
    case DataType.FLOAT: values = tensor.floatData; break;
    case DataType.DOUBLE: values = tensor.doubleData; break;
    case DataType.INT64: values = tensor.int64Data; break;
    case DataType.UINT32:
    case DataType.UINT64: values = tensor.uint64Data; break;
    default: values = tensor.int32Data; break;
  }
  if (values.length !== count) {
    throw invalidModel(file, `tensor "${name}" has ${values.length} values, but dims [${shape.join(', ')}] need ${count}`);
  }
  const data = isFloat ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const v = values[i];
    data[i] = dataType === DataType.FLOAT16 ? halfToFloat(v) : v;
  }
  return { isFloat, shape, data };
}

export function constOf(values: number[], shape: number[] = [values.length], isFloat = false): ConstTensor {
  return { isFloat, shape, data: isFloat ? Float32Array.from(values) : Float64Array.from(values) };
}

/** Returns the values as a plain array of numbers. */
export function valuesOf(tensor: ConstTensor): number[] {
  return Array.from(tensor.data);
}

export function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i];
  }
  return strides;
}

/** Returns the NumPy broadcast of two shapes, or undefined when they do not broadcast. */
export function broadcastShape(a: number[], b: number[]): number[] | undefined {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) return undefined;
    out.push(da === 1 ? db : da);
  }
  return out;
}

/** Expands `tensor` to `shape` by NumPy broadcasting. The caller checks that it broadcasts. */
export function broadcastTo(tensor: ConstTensor, shape: number[]): ConstTensor {
  const size = sizeOf(shape);
  const data = tensor.isFloat ? new Float32Array(size) : new Float64Array(size);
  const rank = shape.length;
  const padded = new Array<number>(rank - tensor.shape.length).fill(1).concat(tensor.shape);
  const srcStrides = stridesOf(padded).map((s, i) => (padded[i] === 1 ? 0 : s));
  const outStrides = stridesOf(shape);
  for (let i = 0; i < size; i++) {
    let src = 0;
    let rest = i;
    for (let d = 0; d < rank; d++) {
      const index = Math.floor(rest / outStrides[d]);
      rest -= index * outStrides[d];
      src += index * srcStrides[d];
    }
    data[i] = tensor.data[src];
  }
  return { isFloat: tensor.isFloat, shape: shape.slice(), data };
}

/** Applies `fn` element-wise with NumPy broadcasting; undefined when the shapes do not broadcast. */
export function foldBinary(a: ConstTensor, b: ConstTensor, fn: (x: number, y: number) => number): ConstTensor | undefined {
  const shape = broadcastShape(a.shape, b.shape);
  if (!shape) return undefined;
  const ea = broadcastTo(a, shape);
  const eb = broadcastTo(b, shape);
  const isFloat = a.isFloat || b.isFloat;
  const data = isFloat ? new Float32Array(ea.data.length) : new Float64Array(ea.data.length);
  for (let i = 0; i < data.length; i++) data[i] = fn(ea.data[i], eb.data[i]);
  return { isFloat, shape, data };
}

/** Permutes the axes of a constant: output axis i is input axis perm[i]. */
export function transposeConst(tensor: ConstTensor, perm: number[]): ConstTensor {
  const shape = perm.map((p) => tensor.shape[p]);
  const size = sizeOf(shape);
  const data = tensor.isFloat ? new Float32Array(size) : new Float64Array(size);
  const inStrides = stridesOf(tensor.shape);
  const outStrides = stridesOf(shape);
  for (let i = 0; i < size; i++) {
    let src = 0;
    let rest = i;
    for (let d = 0; d < shape.length; d++) {
      const index = Math.floor(rest / outStrides[d]);
      rest -= index * outStrides[d];
      src += index * inStrides[perm[d]];
    }
    data[i] = tensor.data[src];
  }
  return { isFloat: tensor.isFloat, shape, data };
}

/** Slices a constant with step 1; `starts` and `ends` cover every axis and are already clamped. */
export function sliceConst(tensor: ConstTensor, starts: number[], ends: number[]): ConstTensor {
  const shape = starts.map((s, i) => Math.max(0, ends[i] - s));
  const size = sizeOf(shape);
  const data = tensor.isFloat ? new Float32Array(size) : new Float64Array(size);
  const inStrides = stridesOf(tensor.shape);
  const outStrides = stridesOf(shape);
  for (let i = 0; i < size; i++) {
    let src = 0;
    let rest = i;
    for (let d = 0; d < shape.length; d++) {
      const index = Math.floor(rest / outStrides[d]);
      rest -= index * outStrides[d];
      src += (index + starts[d]) * inStrides[d];
    }
    data[i] = tensor.data[src];
  }
  return { isFloat: tensor.isFloat, shape, data };
}

/** Gathers along `axis` with constant indices (negative indices count from the end). */
export function gatherConst(tensor: ConstTensor, indices: ConstTensor, axis: number): ConstTensor {
  const dim = tensor.shape[axis];
  const outer = sizeOf(tensor.shape.slice(0, axis));
  const inner = sizeOf(tensor.shape.slice(axis + 1));
  const idx = valuesOf(indices).map((i) => (i < 0 ? i + dim : i));
  const shape = [...tensor.shape.slice(0, axis), ...indices.shape, ...tensor.shape.slice(axis + 1)];
  const data = tensor.isFloat ? new Float32Array(sizeOf(shape)) : new Float64Array(sizeOf(shape));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const i of idx) {
      for (let b = 0; b < inner; b++) data[o++] = tensor.data[(a * dim + i) * inner + b];
    }
  }
  return { isFloat: tensor.isFloat, shape, data };
}

/** Concatenates constants along `axis`; the caller checks that the other dims match. */
export function concatConst(tensors: ConstTensor[], axis: number): ConstTensor {
  const base = tensors[0].shape;
  const shape = base.slice();
  shape[axis] = tensors.reduce((sum, t) => sum + t.shape[axis], 0);
  const isFloat = tensors.some((t) => t.isFloat);
  const data = isFloat ? new Float32Array(sizeOf(shape)) : new Float64Array(sizeOf(shape));
  const outer = sizeOf(base.slice(0, axis));
  const inner = sizeOf(base.slice(axis + 1));
  let o = 0;
  for (let a = 0; a < outer; a++) {
    for (const t of tensors) {
      const chunk = t.shape[axis] * inner;
      for (let i = 0; i < chunk; i++) data[o++] = t.data[a * chunk + i];
    }
  }
  return { isFloat, shape, data };
}
