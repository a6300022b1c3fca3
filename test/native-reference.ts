// Straightforward TypeScript versions of the native kernels, used as test oracles.
// Shapes are NHWC for the spatial ops, as in lib/plan.ts.

import * as assert from 'node:assert/strict';

import { Activation, BinaryKind, ResizeCoordinates, ResizeMode } from '../lib/plan';

/** Seeded PRNG (mulberry32) so failures reproduce. */
export function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(length: number, next: () => number, low = -1, high = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = low + (high - low) * next();
  return out;
}

export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export interface Act {
  kind: Activation;
  a?: number;
  b?: number;
  slopes?: Float32Array;
}

export function activate(x: number, act: Act, channel: number): number {
  switch (act.kind) {
    case Activation.NONE: return x;
    case Activation.RELU: return Math.max(x, 0);
    case Activation.CLIP: return Math.min(Math.max(x, act.a ?? 0), act.b ?? 0);
    case Activation.PRELU: {
      const slopes = act.slopes!;
      const slope = slopes.length === 1 ? slopes[0] : slopes[channel];
      return x >= 0 ? x : x * slope;
    }
    case Activation.LEAKY_RELU: return x >= 0 ? x : x * (act.a ?? 0);
    case Activation.SIGMOID: return 1 / (1 + Math.exp(-x));
  }
}

export interface ConvParams {
  kh: number; kw: number; sh: number; sw: number; dh: number; dw: number;
  pt: number; pl: number; pb: number; pr: number; groups: number; oc: number;
}

export function conv2d(x: Float32Array, shape: number[], w: Float32Array, bias: Float32Array, p: ConvParams, act: Act) {
  const [n, h, wd, c] = shape;
  const oh = Math.floor((h + p.pt + p.pb - (p.kh - 1) * p.dh - 1) / p.sh) + 1;
  const ow = Math.floor((wd + p.pl + p.pr - (p.kw - 1) * p.dw - 1) / p.sw) + 1;
  const cg = c / p.groups;
  const ocg = p.oc / p.groups;
  const out = new Float32Array(n * oh * ow * p.oc);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let o = 0; o < p.oc; o++) {
          const g = Math.floor(o / ocg);
          let acc = bias.length ? bias[o] : 0;
          for (let ky = 0; ky < p.kh; ky++) {
            const iy = oy * p.sh - p.pt + ky * p.dh;
            if (iy < 0 || iy >= h) continue;
            for (let kx = 0; kx < p.kw; kx++) {
              const ix = ox * p.sw - p.pl + kx * p.dw;
              if (ix < 0 || ix >= wd) continue;
              for (let ci = 0; ci < cg; ci++) {
                acc += x[((b * h + iy) * wd + ix) * c + g * cg + ci] * w[((o * p.kh + ky) * p.kw + kx) * cg + ci];
              }
            }
          }
          out[((b * oh + oy) * ow + ox) * p.oc + o] = activate(acc, act, o);
        }
  return { data: out, shape: [n, oh, ow, p.oc] };
}

export function fullyConnected(x: Float32Array, rows: number, w: Float32Array, bias: Float32Array, outF: number, act: Act) {
  const k = x.length / rows;
  const out = new Float32Array(rows * outF);
  for (let r = 0; r < rows; r++)
    for (let o = 0; o < outF; o++) {
      let acc = bias.length ? bias[o] : 0;
      for (let i = 0; i < k; i++) acc += x[r * k + i] * w[o * k + i];
      out[r * outF + o] = activate(acc, act, o);
    }
  return out;
}

export interface PoolParams {
  max: boolean; kh: number; kw: number; sh: number; sw: number;
  pt: number; pl: number; pb: number; pr: number; countIncludePad: boolean;
}

export function pool2d(x: Float32Array, shape: number[], p: PoolParams) {
  const [n, h, w, c] = shape;
  const global = p.kh === 0;
  const kh = global ? h : p.kh;
  const kw = global ? w : p.kw;
  const oh = global ? 1 : Math.floor((h + p.pt + p.pb - kh) / p.sh) + 1;
  const ow = global ? 1 : Math.floor((w + p.pl + p.pr - kw) / p.sw) + 1;
  const out = new Float32Array(n * oh * ow * c);
  for (let b = 0; b < n; b++)
    for (let oy = 0; oy < oh; oy++)
      for (let ox = 0; ox < ow; ox++)
        for (let ch = 0; ch < c; ch++) {
          let acc = p.max ? -Infinity : 0;
          let cells = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = global ? ky : oy * p.sh - p.pt + ky;
              const ix = global ? kx : ox * p.sw - p.pl + kx;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              const v = x[((b * h + iy) * w + ix) * c + ch];
              acc = p.max ? Math.max(acc, v) : acc + v;
              cells++;
            }
          if (!p.max) acc /= p.countIncludePad && !global ? kh * kw : cells;
          out[((b * oh + oy) * ow + ox) * c + ch] = acc;
        }
  return { data: out, shape: [n, oh, ow, c] };
}

function sourceCoordinate(d: number, input: number, output: number, mode: ResizeCoordinates): number {
  switch (mode) {
    case ResizeCoordinates.ASYMMETRIC: return (d * input) / output;
    case ResizeCoordinates.HALF_PIXEL: return ((d + 0.5) * input) / output - 0.5;
    case ResizeCoordinates.PYTORCH_HALF_PIXEL: return output > 1 ? ((d + 0.5) * input) / output - 0.5 : 0;
    case ResizeCoordinates.ALIGN_CORNERS: return output > 1 ? (d * (input - 1)) / (output - 1) : 0;
  }
}

export function resize(x: Float32Array, shape: number[], oh: number, ow: number, mode: ResizeMode, coords: ResizeCoordinates) {
  const [n, h, w, c] = shape;
  const out = new Float32Array(n * oh * ow * c);
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  for (let b = 0; b < n; b++)
    for (let y = 0; y < oh; y++)
      for (let xo = 0; xo < ow; xo++)
        for (let ch = 0; ch < c; ch++) {
          const sy = sourceCoordinate(y, h, oh, coords);
          const sx = sourceCoordinate(xo, w, ow, coords);
          const at = (yy: number, xx: number) => x[((b * h + yy) * w + xx) * c + ch];
          let v: number;
          if (mode === ResizeMode.NEAREST) {
            const round = coords === ResizeCoordinates.ASYMMETRIC ? Math.floor : (s: number) => Math.floor(s + 0.5);
            v = at(clamp(round(sy), h - 1), clamp(round(sx), w - 1));
          } else {
            const cy = clamp(sy, h - 1);
            const cx = clamp(sx, w - 1);
            const y0 = Math.floor(cy), x0 = Math.floor(cx);
            const y1 = Math.min(y0 + 1, h - 1), x1 = Math.min(x0 + 1, w - 1);
            const fy = cy - y0, fx = cx - x0;
            const top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * fx;
            const bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * fx;
            v = top + (bottom - top) * fy;
          }
          out[((b * oh + y) * ow + xo) * c + ch] = v;
        }
  return out;
}

export function binary(kind: BinaryKind, a: Float32Array, shapeA: number[], b: Float32Array, shapeB: number[]) {
  const rank = Math.max(shapeA.length, shapeB.length);
  const pad = (s: number[]) => [...new Array(rank - s.length).fill(1), ...s];
  const da = pad(shapeA), db = pad(shapeB);
  const shape = da.map((d, i) => Math.max(d, db[i]));
  const out = new Float32Array(sizeOf(shape));
  const index = new Array(rank).fill(0);
  const offset = (dims: number[]) => index.reduce((acc, v, i) => acc * dims[i] + (dims[i] === 1 ? 0 : v), 0);
  for (let i = 0; i < out.length; i++) {
    let rest = i;
    for (let d = rank - 1; d >= 0; d--) {
      index[d] = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
    }
    const x = a[offset(da)], y = b[offset(db)];
    const ops = [x + y, x - y, x * y, x / y, Math.max(x, y), Math.min(x, y)];
    out[i] = ops[kind];
  }
  return { data: out, shape };
}

/** Bilinear sample of an HWC uint8 image with `border` outside, pixel centres at integers. */
function sample(src: Uint8Array, w: number, h: number, c: number, x: number, y: number, ch: number, border: number) {
  const at = (xx: number, yy: number) => (xx < 0 || yy < 0 || xx >= w || yy >= h ? border : src[(yy * w + xx) * c + ch]);
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const fx = x - x0, fy = y - y0;
  const top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
  const bottom = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
  return top + (bottom - top) * fy;
}

function sourceChannel(ch: number, c: number, swapRB: boolean) {
  return swapRB && c >= 3 && (ch === 0 || ch === 2) ? 2 - ch : ch;
}

export function resizeImage(src: Uint8Array, w: number, h: number, c: number, dw: number, dh: number, swapRB: boolean) {
  const out = new Float32Array(dw * dh * c);
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * w) / dw - 0.5, 0), w - 1);
      const sy = Math.min(Math.max(((y + 0.5) * h) / dh - 0.5, 0), h - 1);
      for (let ch = 0; ch < c; ch++) {
        out[(y * dw + x) * c + ch] = sample(src, w, h, c, sx, sy, sourceChannel(ch, c, swapRB), 0);
      }
    }
  return out;
}

export function warpImage(src: Uint8Array, w: number, h: number, c: number, m: Float64Array, dw: number, dh: number, border: number, swapRB: boolean) {
  const out = new Float32Array(dw * dh * c);
  for (let y = 0; y < dh; y++)
    for (let x = 0; x < dw; x++) {
      const sx = m[0] * x + m[1] * y + m[2];
      const sy = m[3] * x + m[4] * y + m[5];
      for (let ch = 0; ch < c; ch++) {
        out[(y * dw + x) * c + ch] = sample(src, w, h, c, sx, sy, sourceChannel(ch, c, swapRB), border);
      }
    }
  return out;
}

/** Asserts |actual - expected| <= tolerance * max(1, |expected|) element-wise. */
export function assertClose(actual: Float32Array, expected: ArrayLike<number>, tolerance: number, label: string) {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let i = 0; i < actual.length; i++) {
    const limit = tolerance * Math.max(1, Math.abs(expected[i]));
    if (!(Math.abs(actual[i] - expected[i]) <= limit)) {
      assert.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]} (tolerance ${limit})`);
    }
  }
}
