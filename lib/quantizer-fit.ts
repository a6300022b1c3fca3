// Quantisers learned from embeddings. fitQuantizer() composes, in this order:
//   centring       subtract the mean of the fitting set
//   whitening      with identity labels: scale the within-class covariance Sw toward the
//                  identity, x -> (Sw + ridge)^(-power / 2) x, so that directions along which
//                  photos of one person vary count less
//   PCA            keep the leading principal axes of what the steps above give
//   rotation       seeded random orthogonal, or ITQ (iterative quantisation), which turns the
//                  axes until the sign bits lose little of the projections
//   offsets        optionally each bit's median on the fitting set
// With bitsPerAxis 1, codes longer than the kept axes stack further independent random
// rotations of them. With bitsPerAxis n > 1, each rotated axis gives n thermometer bits, set
// where the projection exceeds its quantiles 1 / (n + 1) ... n / (n + 1) on the fitting set,
// so the Hamming distance counts the quantile steps between two projections.

import { invalidParameter } from './errors';
import { checkBits, checkSeed, DEFAULT_BITS, DEFAULT_SEED, Quantizer, randomQuantizer } from './quantizer';
import { verifyNative as native } from './verify-native';

export interface FitQuantizerOptions {
  /** Code length in bits; any positive integer, padded to whole 64-bit words. Default 512. */
  bits?: number;
  /** Seed of the random rotation, and of ITQ's starting rotation. Default 1. */
  seed?: number;
  /**
   * Identity of each embedding (same order, any string or number). Turns on the within-class
   * whitening, fitted on the identities with at least 2 embeddings.
   */
  labels?: ArrayLike<string | number>;
  /** With labels: the power p of (Sw + ridge)^(-p / 2), from 0 (off) to 1 (full whitening). Default 0.5. */
  withinPower?: number;
  /** With labels: the ridge added to Sw, as a fraction of Sw's mean eigenvalue. Default 0.1. */
  ridge?: number;
  /** 'random' (default) or 'itq'. ITQ turns on PCA. */
  rotation?: 'random' | 'itq';
  /** ITQ rounds. Default 50. */
  iterations?: number;
  /** Project to principal axes before rotating. Default on with labels or ITQ, else off. */
  pca?: boolean;
  /** Bits per rotated axis: 1 for sign bits, more for thermometer bits. Default 1. */
  bitsPerAxis?: number;
  /** With PCA: principal axes kept. Default min(ceil(bits / bitsPerAxis), dim). */
  components?: number;
  /** With PCA: scale each axis by eigenvalue^(-whiten / 2); 0 keeps their scale, 1 whitens fully. Default 0. */
  whiten?: number;
  /**
   * Offsets at each bit's median on the fitting set, so every bit splits it in half. Default
   * on for the plain rotation and off once PCA is on, because ITQ fits the rotation to signs
   * at zero. Thermometer bits (bitsPerAxis > 1) set their own offsets and ignore it.
   */
  balance?: boolean;
}

function checkEmbeddings(embeddings: unknown): number {
  if (!Array.isArray(embeddings) || embeddings.length < 2 || !(embeddings[0] instanceof Float32Array)) {
    throw invalidParameter('embeddings', 'an array of at least 2 Float32Array embeddings', embeddings);
  }
  const dim = embeddings[0].length;
  embeddings.forEach((e, i) => {
    if (!(e instanceof Float32Array) || e.length !== dim) throw invalidParameter(`embeddings[${i}]`, `a Float32Array of length ${dim}`, e);
    for (let k = 0; k < dim; k++) {
      if (!Number.isFinite(e[k])) throw invalidParameter(`embeddings[${i}][${k}]`, 'a finite number', e[k]);
    }
  });
  return dim;
}

function checkFraction(name: string, value: unknown, fallback: number): number {
  const v = value ?? fallback;
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw invalidParameter(name, 'a number from 0 to 1', value);
  return v;
}

function meanOf(embeddings: Float32Array[], dim: number): Float64Array {
  const mean = new Float64Array(dim);
  for (const e of embeddings) for (let i = 0; i < dim; i++) mean[i] += e[i];
  for (let i = 0; i < dim; i++) mean[i] /= embeddings.length;
  return mean;
}

/** Adds (x - centre)(x - centre)^T to the upper triangle of `scatter`. */
function addOuter(scatter: Float64Array, x: Float32Array, centre: Float64Array, centred: Float64Array): void {
  const dim = centre.length;
  for (let i = 0; i < dim; i++) centred[i] = x[i] - centre[i];
  for (let i = 0; i < dim; i++) {
    const ci = centred[i];
    const row = i * dim;
    for (let j = i; j < dim; j++) scatter[row + j] += ci * centred[j];
  }
}

function mirrorUpper(matrix: Float64Array, dim: number): void {
  for (let i = 0; i < dim; i++) for (let j = 0; j < i; j++) matrix[i * dim + j] = matrix[j * dim + i];
}

function covariance(embeddings: Float32Array[], mean: Float64Array): Float64Array {
  const dim = mean.length;
  const scatter = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  for (const e of embeddings) addOuter(scatter, e, mean, centred);
  mirrorUpper(scatter, dim);
  for (let i = 0; i < scatter.length; i++) scatter[i] /= embeddings.length;
  return scatter;
}

/** Within-class covariance over the identities with 2 or more embeddings. */
function withinClassCovariance(embeddings: Float32Array[], labels: ArrayLike<string | number>, dim: number): Float64Array {
  const groups = new Map<string | number, Float32Array[]>();
  for (let i = 0; i < embeddings.length; i++) {
    const list = groups.get(labels[i]);
    if (list) list.push(embeddings[i]);
    else groups.set(labels[i], [embeddings[i]]);
  }
  const scatter = new Float64Array(dim * dim);
  const centred = new Float64Array(dim);
  let samples = 0, classes = 0;
  for (const members of groups.values()) {
    if (members.length < 2) continue;
    const centre = meanOf(members, dim);
    for (const e of members) addOuter(scatter, e, centre, centred);
    samples += members.length;
    classes++;
  }
  if (classes === 0) throw invalidParameter('labels', 'at least one identity with 2 or more embeddings', labels);
  mirrorUpper(scatter, dim);
  const degrees = Math.max(1, samples - classes);
  for (let i = 0; i < scatter.length; i++) scatter[i] /= degrees;
  return scatter;
}

/** (Sw + ridge I)^(-power / 2), scaled so that its largest factor is 1 (signs do not change). */
function withinWhitening(within: Float64Array, dim: number, power: number, ridge: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < dim; i++) trace += within[i * dim + i];
  const shift = (ridge * trace) / dim;
  const { values, vectors } = native().symmetricEigen(within, dim);
  const floor = Math.max(values[0], 1e-30) * 1e-12;
  const factors = Float64Array.from(values, (v) => Math.pow(Math.max(v + shift, floor), -power / 2));
  const largest = Math.max(...factors);
  const whitening = new Float64Array(dim * dim);
  for (let k = 0; k < dim; k++) {
    const f = factors[k] / largest;
    const axis = k * dim;
    for (let i = 0; i < dim; i++) {
      const vi = vectors[axis + i] * f;
      if (vi === 0) continue;
      const row = i * dim;
      for (let j = 0; j < dim; j++) whitening[row + j] += vi * vectors[axis + j];
    }
  }
  return whitening;
}

/** Learns a quantiser from embeddings of one model (at least 2, ideally thousands). */
export function fitQuantizer(embeddings: Float32Array[], options: FitQuantizerOptions = {}): Quantizer {
  const dim = checkEmbeddings(embeddings);
  const bits = checkBits(options.bits ?? DEFAULT_BITS);
  const seed = checkSeed(options.seed ?? DEFAULT_SEED);
  const rotation = options.rotation ?? 'random';
  if (rotation !== 'random' && rotation !== 'itq') throw invalidParameter('rotation', '"random" or "itq"', options.rotation);
  const iterations = options.iterations ?? 50;
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 10000) {
    throw invalidParameter('iterations', 'an integer from 0 to 10000', options.iterations);
  }
  const labels = options.labels;
  if (labels !== undefined && (labels === null || typeof labels !== 'object' || labels.length !== embeddings.length)) {
    throw invalidParameter('labels', `an array of ${embeddings.length} identities, one per embedding`, labels);
  }
  const withinPower = checkFraction('withinPower', options.withinPower, 0.5);
  const ridge = options.ridge ?? 0.1;
  if (typeof ridge !== 'number' || !(ridge > 0) || !Number.isFinite(ridge)) throw invalidParameter('ridge', 'a positive number', options.ridge);
  const whiten = checkFraction('whiten', options.whiten, 0);
  const bitsPerAxis = options.bitsPerAxis ?? 1;
  if (!Number.isInteger(bitsPerAxis) || bitsPerAxis < 1 || bitsPerAxis > bits) {
    throw invalidParameter('bitsPerAxis', `an integer from 1 to bits (${bits})`, options.bitsPerAxis);
  }
  if (bitsPerAxis > 1 && rotation === 'itq') throw invalidParameter('bitsPerAxis', '1 with rotation "itq"', options.bitsPerAxis);
  const components = options.components ?? Math.min(Math.ceil(bits / bitsPerAxis), dim);
  const pca = options.pca ?? (labels !== undefined || rotation === 'itq' || bitsPerAxis > 1);
  if (rotation === 'itq' && !pca) throw invalidParameter('pca', 'true (or unset) with rotation "itq"', options.pca);
  if (!Number.isInteger(components) || components < 1 || components > dim) {
    throw invalidParameter('components', `an integer from 1 to ${dim}`, options.components);
  }
  if (rotation === 'itq' && components > bits) {
    throw invalidParameter('components', `at most bits (${bits}) with rotation "itq"`, options.components);
  }
  const balance = options.balance ?? !pca;
  const mean = meanOf(embeddings, dim);

  if (!pca && labels === undefined) {
    // Centre, rotate, and (by default) put each bit's offset at its median on the fitting set.
    const quantizer = randomQuantizer(dim, { bits, seed });
    quantizer.kind = 'fitted';
    quantizer.mean = Float32Array.from(mean);
    if (balance) setMedianOffsets(quantizer, embeddings);
    return quantizer;
  }

  // P (rows x dim) maps a centred embedding to the space that is rotated.
  let projection: Float64Array;
  let rows: number;
  let cov = covariance(embeddings, mean);
  let whitening: Float64Array | undefined;
  if (labels !== undefined && withinPower > 0) {
    whitening = withinWhitening(withinClassCovariance(embeddings, labels, dim), dim, withinPower, ridge);
    cov = multiply(multiply(whitening, dim, cov, dim), dim, whitening, dim);
  }
  if (pca) {
    const { values, vectors } = native().symmetricEigen(cov, dim);
    rows = components;
    const floor = Math.max(values[0], 1e-30) * 1e-6;
    const axes = new Float64Array(rows * dim);
    for (let k = 0; k < rows; k++) {
      const scale = Math.pow(Math.max(values[k], floor) / Math.max(values[0], 1e-30), -whiten / 2);
      for (let i = 0; i < dim; i++) axes[k * dim + i] = vectors[k * dim + i] * scale;
    }
    projection = whitening ? multiply(axes, rows, whitening, dim) : axes;
  } else {
    rows = dim;
    projection = whitening!;
  }

  if (bitsPerAxis > 1) return thermometerQuantizer(embeddings, projection, rows, mean, bits, seed);

  // R (bits x rows): ITQ on the first block when asked, independent random blocks after it.
  const rotationMatrix = native().randomOrthogonal(bits, rows, seed);
  if (rotation === 'itq') {
    const projected = native().projectValues(flatten(embeddings, dim), dim, Float32Array.from(mean), Float32Array.from(projection), rows);
    const start = rotationMatrix.slice(0, rows * rows);
    rotationMatrix.set(native().iterativeQuantization(projected, rows, start, iterations).rotation, 0);
  }

  const quantizer: Quantizer = {
    kind: 'fitted', dim, bits, seed,
    mean: Float32Array.from(mean),
    matrix: rotate(rotationMatrix, bits, projection, rows, dim),
    offsets: new Float32Array(bits),
  };
  if (balance) setMedianOffsets(quantizer, embeddings);
  return quantizer;
}

/** rotation (bits x rows) x projection (rows x dim), as float32. */
function rotate(rotation: Float32Array, bits: number, projection: Float64Array, rows: number, dim: number): Float32Array {
  const matrix = new Float32Array(bits * dim);
  for (let b = 0; b < bits; b++) {
    const out = b * dim;
    for (let k = 0; k < rows; k++) {
      const r = rotation[b * rows + k];
      if (r === 0) continue;
      const row = k * dim;
      for (let i = 0; i < dim; i++) matrix[out + i] += r * projection[row + i];
    }
  }
  return matrix;
}

/**
 * Rotates the `rows` axes with one seeded random rotation. Bit b reads axis b % rows at level
 * floor(b / rows), and its offset is the (level + 1) / (levels + 1) quantile on the fitting set.
 */
function thermometerQuantizer(
  embeddings: Float32Array[], projection: Float64Array, rows: number, mean: Float64Array, bits: number, seed: number,
): Quantizer {
  const dim = mean.length;
  const axes = rotate(native().randomOrthogonal(rows, rows, seed), rows, projection, rows, dim);
  const centre = Float32Array.from(mean);
  const levels = Math.ceil(bits / rows);
  const matrix = new Float32Array(bits * dim);
  for (let b = 0; b < bits; b++) matrix.set(axes.subarray((b % rows) * dim, (b % rows + 1) * dim), b * dim);

  const n = embeddings.length;
  const projected = native().projectValues(flatten(embeddings, dim), dim, centre, axes, rows);
  const column = new Float32Array(n);
  const offsets = new Float32Array(bits);
  for (let k = 0; k < rows; k++) {
    for (let r = 0; r < n; r++) column[r] = projected[r * rows + k];
    column.sort();
    for (let level = 0; level < levels; level++) {
      const b = level * rows + k;
      if (b < bits) offsets[b] = quantile(column, (level + 1) / (levels + 1));
    }
  }
  return { kind: 'fitted', dim, bits, seed, mean: centre, matrix, offsets };
}

/** Returns the q-quantile of sorted values, interpolating linearly between neighbours. */
function quantile(sorted: Float32Array, q: number): number {
  const at = q * (sorted.length - 1);
  const low = Math.floor(at);
  const high = Math.min(low + 1, sorted.length - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** a (rows x dim) x b (dim x dim). */
function multiply(a: Float64Array, rows: number, b: Float64Array, dim: number): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let i = 0; i < rows; i++) {
    const row = i * dim;
    for (let k = 0; k < dim; k++) {
      const x = a[row + k];
      if (x === 0) continue;
      const bRow = k * dim;
      for (let j = 0; j < dim; j++) out[row + j] += x * b[bRow + j];
    }
  }
  return out;
}

function flatten(embeddings: Float32Array[], dim: number): Float32Array {
  const flat = new Float32Array(embeddings.length * dim);
  embeddings.forEach((e, i) => flat.set(e, i * dim));
  return flat;
}

/** Sets each bit's offset to its median projection over `embeddings`. */
function setMedianOffsets(quantizer: Quantizer, embeddings: Float32Array[]): void {
  const n = embeddings.length, bits = quantizer.bits;
  const projected = native().projectValues(flatten(embeddings, quantizer.dim), quantizer.dim, quantizer.mean, quantizer.matrix, bits);
  const column = new Float32Array(n);
  for (let b = 0; b < bits; b++) {
    for (let r = 0; r < n; r++) column[r] = projected[r * bits + b];
    column.sort();
    quantizer.offsets[b] = quantile(column, 0.5);
  }
}
