// Binary codes of any length: centre the embedding, project it onto `bits` directions and
// keep the sign of each (above a per-bit offset). The default projection is seeded random
// orthogonal; fitQuantizer() learns the centre and per-bit median offsets from embeddings
// (optionally rotating principal axes instead).

import { invalidParameter } from './errors';
import { verifyNative as native } from './verify-native';

export interface Quantizer {
  /** 'random': seeded orthogonal rows; 'fitted': centre and offsets (and axes) learned by fitQuantizer(). */
  kind: 'random' | 'fitted';
  dim: number;
  bits: number;
  seed: number;
  /** Subtracted before projecting (zeros for 'random'). */
  mean: Float32Array;
  /** bits x dim, row-major. */
  matrix: Float32Array;
  /** A bit is 1 when its projection exceeds its offset. */
  offsets: Float32Array;
}

export interface QuantizerOptions {
  /** Code length in bits; any positive integer, padded to whole 64-bit words. Default 512. */
  bits?: number;
  /** Seed of the orthogonal rotation. Default 1. */
  seed?: number;
}

export interface FitQuantizerOptions extends QuantizerOptions {
  /**
   * Rotate principal axes instead of the raw embedding: keep `components` axes, each scaled
   * by eigenvalue^(-whiten / 2). Off by default: on LFW it did not beat the plain rotation,
   * and the eigen-solver takes tens of seconds at 512 dimensions.
   */
  pca?: boolean;
  /** With pca: 0 keeps the axes at their own scale, 1 whitens fully. Default 0. */
  whiten?: number;
  /** With pca: principal axes kept; default min(bits, dim). */
  components?: number;
  /** Offsets at each bit's median on the fitting set, so every bit splits it in half. Default true. */
  balance?: boolean;
}

export const DEFAULT_BITS = 512;
const DEFAULT_SEED = 1;

function checkBits(bits: unknown): number {
  if (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > 65536) {
    throw invalidParameter('bits', 'an integer from 1 to 65536', bits);
  }
  return bits as number;
}

function checkSeed(seed: unknown): number {
  if (!Number.isSafeInteger(seed) || (seed as number) < 0) throw invalidParameter('seed', 'a non-negative integer', seed);
  return seed as number;
}

/** Bytes of one code: whole 64-bit words. */
export function codeBytes(bits: number): number {
  return Math.ceil(bits / 64) * 8;
}

/** The seeded random orthogonal quantiser; rows beyond `dim` come from further independent rotations. */
export function randomQuantizer(dim: number, options: QuantizerOptions = {}): Quantizer {
  if (!Number.isInteger(dim) || dim < 1) throw invalidParameter('dim', 'a positive integer', dim);
  const bits = checkBits(options.bits ?? DEFAULT_BITS);
  const seed = checkSeed(options.seed ?? DEFAULT_SEED);
  return {
    kind: 'random', dim, bits, seed,
    mean: new Float32Array(dim),
    matrix: native().randomOrthogonal(bits, dim, seed),
    offsets: new Float32Array(bits),
  };
}

/** Principal axes of a set of embeddings, shared by quantisers of several lengths. */
export interface Pca {
  dim: number;
  mean: Float32Array;
  /** Eigenvalues of the covariance, descending. */
  values: Float64Array;
  /** Row k is the k-th principal axis. */
  vectors: Float64Array;
}

function checkEmbeddings(embeddings: unknown): number {
  if (!Array.isArray(embeddings) || embeddings.length < 2 || !(embeddings[0] instanceof Float32Array)) {
    throw invalidParameter('embeddings', 'an array of at least 2 Float32Array embeddings', embeddings);
  }
  const dim = embeddings[0].length;
  for (const e of embeddings) {
    if (!(e instanceof Float32Array) || e.length !== dim) throw invalidParameter('embeddings', `Float32Array embeddings of length ${dim}`, e);
  }
  return dim;
}

export function pcaOf(embeddings: Float32Array[]): Pca {
  const dim = checkEmbeddings(embeddings);
  const n = embeddings.length;
  const mean = new Float64Array(dim);
  for (const e of embeddings) for (let i = 0; i < dim; i++) mean[i] += e[i] / n;
  const covariance = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (const e of embeddings) {
    for (let i = 0; i < dim; i++) centred[i] = e[i] - mean[i];
    for (let i = 0; i < dim; i++) {
      const ci = centred[i] / n;
      const row = i * dim;
      for (let j = i; j < dim; j++) covariance[row + j] += ci * centred[j];
    }
  }
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) covariance[i * dim + j] = covariance[j * dim + i];
  const { values, vectors } = native().symmetricEigen(covariance, dim);
  return { dim, mean: Float32Array.from(mean), values, vectors };
}

/** Learns a quantiser from embeddings of one model (at least 2, ideally thousands). */
export function fitQuantizer(embeddings: Float32Array[], options: FitQuantizerOptions = {}, pca?: Pca): Quantizer {
  const dim = checkEmbeddings(embeddings);
  const bits = checkBits(options.bits ?? DEFAULT_BITS);
  const seed = checkSeed(options.seed ?? DEFAULT_SEED);
  const whiten = options.whiten ?? 0;
  if (!(whiten >= 0 && whiten <= 1)) throw invalidParameter('whiten', 'a number from 0 to 1', options.whiten);
  const components = options.components ?? Math.min(bits, dim);
  if (!Number.isInteger(components) || components < 1 || components > dim) {
    throw invalidParameter('components', `an integer from 1 to ${dim}`, options.components);
  }
  if (!options.pca && !pca) {
    // Centre, rotate, and put each bit's offset at its median on the fitting set.
    const quantizer = randomQuantizer(dim, { bits, seed });
    quantizer.kind = 'fitted';
    for (const e of embeddings) for (let i = 0; i < dim; i++) quantizer.mean[i] += e[i] / embeddings.length;
    if (options.balance ?? true) balance(quantizer, embeddings);
    return quantizer;
  }
  const { values, vectors, mean } = pca && pca.dim === dim ? pca : pcaOf(embeddings);

  // P (components x dim): principal axes scaled by eigenvalue^(-whiten/2), relative to the
  // largest so the numbers stay near 1. Then R (bits x components) rotates them.
  const floor = values[0] * 1e-6;
  const projection = new Float64Array(components * dim);
  for (let k = 0; k < components; k++) {
    const scale = Math.pow(Math.max(values[k], floor) / values[0], -whiten / 2);
    for (let i = 0; i < dim; i++) projection[k * dim + i] = vectors[k * dim + i] * scale;
  }
  const rotation = native().randomOrthogonal(bits, components, seed);
  const matrix = new Float32Array(bits * dim);
  for (let b = 0; b < bits; b++) {
    const out = b * dim;
    for (let k = 0; k < components; k++) {
      const r = rotation[b * components + k];
      if (r === 0) continue;
      const row = k * dim;
      for (let i = 0; i < dim; i++) matrix[out + i] += r * projection[row + i];
    }
  }

  const quantizer: Quantizer = { kind: 'fitted', dim, bits, seed, mean: Float32Array.from(mean), matrix, offsets: new Float32Array(bits) };
  if (options.balance ?? true) balance(quantizer, embeddings);
  return quantizer;
}

/** Sets each bit's offset to its median projection over `embeddings`. */
function balance(quantizer: Quantizer, embeddings: Float32Array[]): void {
  const n = embeddings.length, bits = quantizer.bits;
  const projected = projectAll(quantizer, embeddings);
  const column = new Float32Array(n);
  for (let b = 0; b < bits; b++) {
    for (let r = 0; r < n; r++) column[r] = projected[r * bits + b];
    column.sort();
    quantizer.offsets[b] = n % 2 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
  }
}

/** Real-valued projections, rows x bits, before the sign. */
function projectAll(q: Quantizer, embeddings: Float32Array[]): Float32Array {
  const flat = new Float32Array(embeddings.length * q.dim);
  embeddings.forEach((e, i) => flat.set(e, i * q.dim));
  return native().projectValues(flat, q.dim, q.mean, q.matrix, q.bits);
}

/** The code of one embedding: codeBytes(bits) bytes, bit j in byte j / 8 at position j % 8. */
export function encode(q: Quantizer, embedding: Float32Array): Uint8Array {
  if (!(embedding instanceof Float32Array) || embedding.length !== q.dim) {
    throw invalidParameter('embedding', `a Float32Array of length ${q.dim}`, embedding);
  }
  return native().projectSigns(embedding, q.dim, q.mean, q.matrix, q.bits, q.offsets);
}

/** Codes of many embeddings, back to back (codeBytes(bits) each), for hammingMany(). */
export function encodeMany(q: Quantizer, embeddings: Float32Array[]): Uint8Array {
  const flat = new Float32Array(embeddings.length * q.dim);
  embeddings.forEach((e, i) => {
    if (!(e instanceof Float32Array) || e.length !== q.dim) throw invalidParameter(`embeddings[${i}]`, `a Float32Array of length ${q.dim}`, e);
    flat.set(e, i * q.dim);
  });
  return native().projectSigns(flat, q.dim, q.mean, q.matrix, q.bits, q.offsets);
}
