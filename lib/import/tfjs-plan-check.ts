// A slow, plain JavaScript executor of plans. The importer tests use it to check that a
// lowered plan computes what the reference runtime computes, also where the native addon
// is not built. It follows the op semantics documented in lib/plan.ts. RESIZE follows
// TensorFlow's ResizeBilinear and ResizeNearestNeighbor index rules.

import { Activation, BinaryKind, OpType, PadMode, Plan, PlanOp, PoolKind, ResizeCoordinates, ResizeMode, UnaryKind } from '../plan';

interface Tensor {
  data: Float32Array;
  shape: number[];
}

function param(op: PlanOp, index: number): number {
  const p = op.params[index];
  return typeof p === 'number' ? p : p.f32;
}

function size(shape: number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

function activate(kind: number, a: number, b: number, value: number, slope: number): number {
  switch (kind) {
    case Activation.NONE: return value;
    case Activation.RELU: return value > 0 ? value : 0;
    case Activation.CLIP: return Math.min(Math.max(value, a), b);
    case Activation.PRELU: return value > 0 ? value : value * slope;
    case Activation.LEAKY_RELU: return value > 0 ? value : value * a;
    case Activation.SIGMOID: return 1 / (1 + Math.exp(-value));
    default: throw new Error(`Unknown activation ${kind}`);
  }
}

function slopeOf(slopes: Float32Array | undefined, channel: number): number {
  if (!slopes || slopes.length === 0) return 0;
  return slopes.length === 1 ? slopes[0] : slopes[channel];
}

function conv2d(op: PlanOp, x: Tensor, outShape: number[]): Float32Array {
  const [kh, kw, sh, sw, dh, dw, pt, pl] = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => param(op, i));
  const groups = param(op, 10);
  const outC = param(op, 11);
  const [act, a, b] = [param(op, 12), param(op, 13), param(op, 14)];
  const [weights, bias, slopes] = op.consts;
  const [, inH, inW, inC] = x.shape;
  const [, outH, outW] = outShape;
  const inPerGroup = inC / groups;
  const outPerGroup = outC / groups;
  const out = new Float32Array(size(outShape));

  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let o = 0; o < outC; o++) {
        const g = Math.floor(o / outPerGroup);
        let sum = bias && bias.length ? bias[o] : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky * dh - pt;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx * dw - pl;
            if (ix < 0 || ix >= inW) continue;
            const wBase = ((o * kh + ky) * kw + kx) * inPerGroup;
            const xBase = (iy * inW + ix) * inC + g * inPerGroup;
            for (let i = 0; i < inPerGroup; i++) sum += weights[wBase + i] * x.data[xBase + i];
          }
        }
        out[(oy * outW + ox) * outC + o] = activate(act, a, b, sum, slopeOf(slopes, o));
      }
    }
  }
  return out;
}

function broadcastIndex(shape: number[], outShape: number[], flat: number): number {
  let index = 0;
  let stride = 1;
  let rest = flat;
  const offset = outShape.length - shape.length;
  for (let i = outShape.length - 1; i >= 0; i--) {
    const coord = rest % outShape[i];
    rest = Math.floor(rest / outShape[i]);
    if (i >= offset) {
      const d = shape[i - offset];
      index += (d === 1 ? 0 : coord) * stride;
      stride *= d;
    }
  }
  return index;
}

function binary(kind: number, x: number, y: number): number {
  switch (kind) {
    case BinaryKind.ADD: return x + y;
    case BinaryKind.SUB: return x - y;
    case BinaryKind.MUL: return x * y;
    case BinaryKind.DIV: return x / y;
    case BinaryKind.MAX: return Math.max(x, y);
    case BinaryKind.MIN: return Math.min(x, y);
    default: throw new Error(`Unknown binary kind ${kind}`);
  }
}

function unary(op: PlanOp, value: number, channel: number): number {
  const [kind, a, b] = [param(op, 0), param(op, 1), param(op, 2)];
  switch (kind) {
    case UnaryKind.RELU: return Math.max(value, 0);
    case UnaryKind.CLIP: return Math.min(Math.max(value, a), b);
    case UnaryKind.PRELU: return value > 0 ? value : value * slopeOf(op.consts[0], channel);
    case UnaryKind.LEAKY_RELU: return value > 0 ? value : value * a;
    case UnaryKind.SIGMOID: return 1 / (1 + Math.exp(-value));
    case UnaryKind.EXP: return Math.exp(value);
    case UnaryKind.TANH: return Math.tanh(value);
    case UnaryKind.ABS: return Math.abs(value);
    case UnaryKind.SQRT: return Math.sqrt(value);
    case UnaryKind.NEG: return -value;
    default: throw new Error(`Unknown unary kind ${kind}`);
  }
}

function pool(op: PlanOp, x: Tensor, outShape: number[]): Float32Array {
  const [kind, kh0, kw0, sh, sw, pt, pl, , , countPad] = op.params.map((_, i) => param(op, i));
  const [, inH, inW, c] = x.shape;
  const [, outH, outW] = outShape;
  const kh = kh0 === 0 ? inH : kh0;
  const kw = kw0 === 0 ? inW : kw0;
  const out = new Float32Array(size(outShape));
  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      for (let ch = 0; ch < c; ch++) {
        let acc = kind === PoolKind.MAX ? -Infinity : 0;
        let count = 0;
        for (let ky = 0; ky < kh; ky++) {
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh + ky - pt;
            const ix = ox * sw + kx - pl;
            if (iy < 0 || iy >= inH || ix < 0 || ix >= inW) {
              if (countPad) count++;
              continue;
            }
            const v = x.data[(iy * inW + ix) * c + ch];
            acc = kind === PoolKind.MAX ? Math.max(acc, v) : acc + v;
            count++;
          }
        }
        out[(oy * outW + ox) * c + ch] = kind === PoolKind.MAX ? acc : acc / count;
      }
    }
  }
  return out;
}

/** Source coordinate of output index `dst` for a resize from `inSize` to `outSize`. */
function resizeSource(mode: number, dst: number, inSize: number, outSize: number): number {
  if (mode === ResizeCoordinates.ALIGN_CORNERS) return outSize > 1 ? (dst * (inSize - 1)) / (outSize - 1) : 0;
  const scale = inSize / outSize;
  if (mode === ResizeCoordinates.HALF_PIXEL) return (dst + 0.5) * scale - 0.5;
  if (mode === ResizeCoordinates.PYTORCH_HALF_PIXEL) return outSize > 1 ? (dst + 0.5) * scale - 0.5 : 0;
  return dst * scale;
}

function resize(op: PlanOp, x: Tensor, outShape: number[]): Float32Array {
  const [, , kind, mode] = [0, 1, 2, 3].map((i) => param(op, i));
  const [, inH, inW, c] = x.shape;
  const [, outH, outW] = outShape;
  const out = new Float32Array(size(outShape));
  const at = (y: number, xx: number, ch: number) => x.data[(y * inW + xx) * c + ch];

  for (let oy = 0; oy < outH; oy++) {
    for (let ox = 0; ox < outW; ox++) {
      const sy = resizeSource(mode, oy, inH, outH);
      const sx = resizeSource(mode, ox, inW, outW);
      for (let ch = 0; ch < c; ch++) {
        let value: number;
        if (kind === ResizeMode.NEAREST) {
          // TF rounds for align_corners and floors (after the half-pixel shift) otherwise.
          const pick = (s: number, dst: number, inSize: number, outSize: number) => {
            if (mode === ResizeCoordinates.ALIGN_CORNERS) return Math.round(s);
            if (mode === ResizeCoordinates.HALF_PIXEL) return Math.floor((dst + 0.5) * (inSize / outSize));
            return Math.floor(s);
          };
          const ny = Math.min(pick(sy, oy, inH, outH), inH - 1);
          const nx = Math.min(pick(sx, ox, inW, outW), inW - 1);
          value = at(ny, nx, ch);
        } else {
          const y0 = Math.floor(sy);
          const x0 = Math.floor(sx);
          const top = Math.max(y0, 0);
          const bottom = Math.min(Math.ceil(sy), inH - 1);
          const left = Math.max(x0, 0);
          const right = Math.min(Math.ceil(sx), inW - 1);
          const dy = sy - y0;
          const dx = sx - x0;
          const upper = at(top, left, ch) + (at(top, right, ch) - at(top, left, ch)) * dx;
          const lower = at(bottom, left, ch) + (at(bottom, right, ch) - at(bottom, left, ch)) * dx;
          value = upper + (lower - upper) * dy;
        }
        out[(oy * outW + ox) * c + ch] = value;
      }
    }
  }
  return out;
}

function pad(op: PlanOp, x: Tensor, outShape: number[]): Float32Array {
  const [top, , left, , before] = [0, 1, 2, 3, 4].map((i) => param(op, i));
  const mode = param(op, 6);
  const value = param(op, 7);
  const [, inH, inW, inC] = x.shape;
  const [, outH, outW, outC] = outShape;
  const out = new Float32Array(size(outShape));
  const source = (coord: number, dim: number): number => {
    if (coord >= 0 && coord < dim) return coord;
    if (mode === PadMode.CONSTANT) return -1;
    if (mode === PadMode.EDGE) return Math.min(Math.max(coord, 0), dim - 1);
    return coord < 0 ? -coord : 2 * (dim - 1) - coord;
  };
  for (let y = 0; y < outH; y++) {
    for (let xx = 0; xx < outW; xx++) {
      for (let c = 0; c < outC; c++) {
        const sy = source(y - top, inH);
        const sx = source(xx - left, inW);
        const sc = c - before >= 0 && c - before < inC ? c - before : -1;
        out[(y * outW + xx) * outC + c] = sy < 0 || sx < 0 || sc < 0 ? value : x.data[(sy * inW + sx) * inC + sc];
      }
    }
  }
  return out;
}

/** Output shape of one op given its input shapes. */
function outputShape(op: PlanOp, inputs: Tensor[]): number[] {
  const x = inputs[0];
  switch (op.type) {
    case OpType.CONV2D: {
      const [kh, kw, sh, sw, dh, dw, pt, pl, pb, pr] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => param(op, i));
      const outH = Math.floor((x.shape[1] + pt + pb - (kh - 1) * dh - 1) / sh) + 1;
      const outW = Math.floor((x.shape[2] + pl + pr - (kw - 1) * dw - 1) / sw) + 1;
      return [x.shape[0], outH, outW, param(op, 11)];
    }
    case OpType.FULLY_CONNECTED:
      return [x.shape[0], param(op, 0)];
    case OpType.BINARY: {
      if (inputs.length === 1) return x.shape;
      const [a, b] = inputs.map((t) => t.shape);
      const rank = Math.max(a.length, b.length);
      return Array.from({ length: rank }, (_, i) => Math.max(a[a.length - rank + i] ?? 1, b[b.length - rank + i] ?? 1));
    }
    case OpType.PAD:
      return [x.shape[0], x.shape[1] + param(op, 0) + param(op, 1), x.shape[2] + param(op, 2) + param(op, 3), x.shape[3] + param(op, 4) + param(op, 5)];
    case OpType.POOL2D: {
      const [, kh, kw, sh, sw, pt, pl, pb, pr] = op.params.map((_, i) => param(op, i));
      if (kh === 0) return [x.shape[0], 1, 1, x.shape[3]];
      return [x.shape[0], Math.floor((x.shape[1] + pt + pb - kh) / sh) + 1, Math.floor((x.shape[2] + pl + pr - kw) / sw) + 1, x.shape[3]];
    }
    case OpType.RESHAPE:
      return op.params.slice(1).map((_, i) => param(op, i + 1));
    case OpType.TRANSPOSE:
      return op.params.slice(1).map((_, i) => x.shape[param(op, i + 1)]);
    case OpType.CONCAT: {
      const axis = param(op, 0);
      const shape = x.shape.slice();
      shape[axis] = inputs.reduce((n, t) => n + t.shape[axis], 0);
      return shape;
    }
    case OpType.RESIZE:
      return [x.shape[0], param(op, 0), param(op, 1), x.shape[3]];
    case OpType.SLICE: {
      const rank = param(op, 0);
      return Array.from({ length: rank }, (_, i) => param(op, 1 + rank + i) - param(op, 1 + i));
    }
    default:
      return x.shape;
  }
}

function strides(shape: number[]): number[] {
  const result = new Array(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) result[i] = result[i + 1] * shape[i + 1];
  return result;
}

function runOp(op: PlanOp, inputs: Tensor[]): Tensor {
  const x = inputs[0];
  const shape = outputShape(op, inputs);
  const n = size(shape);
  let data: Float32Array;
  switch (op.type) {
    case OpType.CONV2D:
      data = conv2d(op, x, shape);
      break;
    case OpType.FULLY_CONNECTED: {
      const [outF, act, a, b] = [0, 1, 2, 3].map((i) => param(op, i));
      const [weights, bias, slopes] = op.consts;
      const k = size(x.shape) / x.shape[0];
      data = new Float32Array(n);
      for (let row = 0; row < x.shape[0]; row++) {
        for (let o = 0; o < outF; o++) {
          let sum = bias && bias.length ? bias[o] : 0;
          for (let i = 0; i < k; i++) sum += weights[o * k + i] * x.data[row * k + i];
          data[row * outF + o] = activate(act, a, b, sum, slopeOf(slopes, o));
        }
      }
      break;
    }
    case OpType.BINARY: {
      const [kind, act, a, b, swap] = [0, 1, 2, 3, 4].map((i) => param(op, i));
      data = new Float32Array(n);
      const last = shape[shape.length - 1];
      for (let i = 0; i < n; i++) {
        let lhs: number;
        let rhs: number;
        if (inputs.length === 2) {
          lhs = inputs[0].data[broadcastIndex(inputs[0].shape, shape, i)];
          rhs = inputs[1].data[broadcastIndex(inputs[1].shape, shape, i)];
        } else {
          const c = op.consts[0];
          lhs = x.data[i];
          if (c.length === 1) rhs = c[0];
          else if (c.length === n) rhs = c[i];
          else rhs = c[i % last];
        }
        const value = swap ? binary(kind, rhs, lhs) : binary(kind, lhs, rhs);
        data[i] = activate(act, a, b, value, 0);
      }
      break;
    }
    case OpType.UNARY: {
      const last = shape[shape.length - 1];
      data = Float32Array.from(x.data, (v, i) => unary(op, v, i % last));
      break;
    }
    case OpType.PAD:
      data = pad(op, x, shape);
      break;
    case OpType.POOL2D:
      data = pool(op, x, shape);
      break;
    case OpType.RESIZE:
      data = resize(op, x, shape);
      break;
    case OpType.RESHAPE:
      data = x.data;
      break;
    case OpType.TRANSPOSE: {
      const perm = op.params.slice(1).map((_, i) => param(op, i + 1));
      const inStrides = strides(x.shape);
      const outStrides = strides(shape);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let source = 0;
        for (let d = 0; d < shape.length; d++) source += Math.floor(i / outStrides[d]) % shape[d] * inStrides[perm[d]];
        data[i] = x.data[source];
      }
      break;
    }
    case OpType.CONCAT: {
      const axis = param(op, 0);
      const outer = size(shape.slice(0, axis));
      data = new Float32Array(n);
      let at = 0;
      for (let o = 0; o < outer; o++) {
        for (const t of inputs) {
          const inner = size(t.shape.slice(axis));
          data.set(t.data.subarray(o * inner, (o + 1) * inner), at);
          at += inner;
        }
      }
      break;
    }
    case OpType.SOFTMAX: {
      const last = shape[shape.length - 1];
      data = new Float32Array(n);
      for (let row = 0; row < n / last; row++) {
        const slice = x.data.subarray(row * last, (row + 1) * last);
        const max = Math.max(...slice);
        let total = 0;
        for (let i = 0; i < last; i++) total += Math.exp(slice[i] - max);
        for (let i = 0; i < last; i++) data[row * last + i] = Math.exp(slice[i] - max) / total;
      }
      break;
    }
    case OpType.L2_NORMALIZE: {
      const last = shape[shape.length - 1];
      const eps = param(op, 0);
      data = new Float32Array(n);
      for (let row = 0; row < n / last; row++) {
        let total = 0;
        for (let i = 0; i < last; i++) total += x.data[row * last + i] ** 2;
        const norm = Math.max(Math.sqrt(total), eps);
        for (let i = 0; i < last; i++) data[row * last + i] = x.data[row * last + i] / norm;
      }
      break;
    }
    case OpType.SLICE: {
      const rank = param(op, 0);
      const starts = Array.from({ length: rank }, (_, i) => param(op, 1 + i));
      const inStrides = strides(x.shape);
      const outStrides = strides(shape);
      data = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        let source = 0;
        for (let d = 0; d < rank; d++) source += (Math.floor(i / outStrides[d]) % shape[d] + starts[d]) * inStrides[d];
        data[i] = x.data[source];
      }
      break;
    }
    case OpType.CHANNEL_AFFINE: {
      const [scale, shift] = op.consts;
      const last = shape[shape.length - 1];
      data = Float32Array.from(x.data, (v, i) => v * scale[i % last] + shift[i % last]);
      break;
    }
    default:
      throw new Error(`The JavaScript plan executor does not implement ${OpType[op.type]}`);
  }
  return { data, shape };
}

/** Runs `plan` on `inputs` (one Float32Array per plan input) and returns its outputs. */
export function runPlanInJs(plan: Plan, inputs: Float32Array[]): Tensor[] {
  const tensors = new Map<number, Tensor>();
  plan.inputs.forEach((input, i) => tensors.set(input.id, { data: inputs[i], shape: input.shape }));
  for (const op of plan.ops) {
    const args = op.inputs.map((id) => {
      const t = tensors.get(id);
      if (!t) throw new Error(`Op ${op.name ?? OpType[op.type]} reads tensor ${id} before any op writes it`);
      return t;
    });
    tensors.set(op.output, runOp(op, args));
  }
  return plan.outputs.map((id) => tensors.get(id)!);
}
