// The learned verification head: p = sigmoid(w . g(f1, f2) + bias) over the features
//   g[i]     = d * f1[i] * f2[i]
//   g[d + i] = sqrt(d) * |f1[i] - f2[i]|
// of L2-normalised embeddings. Uniform weights s / d on the products and 0 on the differences
// give sigmoid(s * cosine + bias), the cosine solution. fitHead() first fits s and the bias
// on cosine alone, then fits all weights in the native core (L-BFGS) with an L2 pull of
// strength lambda toward that solution, and picks lambda on held-out parts of the pairs.

import * as fs from 'node:fs';

import { FacebitsError, invalidParameter } from './errors';
import { bestThreshold } from './eval/metrics';
import { verifyNative } from './verify-native';

export interface LabelledPair {
  a: Float32Array;
  b: Float32Array;
  same: boolean;
}

export interface Head {
  dim: number;
  /** 2 x dim feature weights, then the bias. */
  weights: Float64Array;
  /** The pull toward the cosine solution the fit used; Infinity means the cosine solution itself. */
  lambda: number;
  /** The cosine solution: p = sigmoid(scale * cosine + bias). */
  cosine: { scale: number; bias: number };
  /** The embedding model the head was fitted for, when known. */
  modelId?: string;
}

export interface FitHeadOptions {
  /**
   * The L2 pull toward the cosine solution. A number fits once; an array (default
   * [1e-1, 1e-2, 1e-3, 1e-4]) picks the value with the best accuracy over 3 held-out
   * parts of the pairs, keeping the cosine solution unless a value beats it.
   */
  lambda?: number | number[];
  /** L-BFGS iteration limit per fit. Default 150. */
  maxIterations?: number;
  modelId?: string;
}

export const HEAD_FORMAT = 'facebits-head';
export const HEAD_VERSION = 1;
const DEFAULT_LAMBDAS = [1e-1, 1e-2, 1e-3, 1e-4];

function normalised(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  const scale = n > 0 ? 1 / Math.sqrt(n) : 0;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] * scale;
  return out;
}

function dotProduct(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Logistic regression of the label on cosine alone (Newton's method on two parameters). */
function fitCosine(cosines: Float64Array, labels: Uint8Array): { scale: number; bias: number } {
  let s = 10, b = 0;
  for (let it = 0; it < 50; it++) {
    let gs = 0, gb = 0, hss = 1e-9, hsb = 0, hbb = 1e-9;
    for (let i = 0; i < cosines.length; i++) {
      const x = cosines[i];
      const p = 1 / (1 + Math.exp(-(s * x + b)));
      const r = p - labels[i], w = p * (1 - p);
      gs += r * x; gb += r;
      hss += w * x * x; hsb += w * x; hbb += w;
    }
    const det = hss * hbb - hsb * hsb;
    const ds = (hbb * gs - hsb * gb) / det, db = (hss * gb - hsb * gs) / det;
    s -= ds; b -= db;
    if (Math.abs(ds) + Math.abs(db) < 1e-10) break;
  }
  return { scale: s, bias: b };
}

interface Prepared {
  a: Float32Array;
  b: Float32Array;
  labels: Uint8Array;
  cosines: Float64Array;
  embeddingsA: Float32Array[];
  embeddingsB: Float32Array[];
}

function prepare(pairs: LabelledPair[], dim: number): Prepared {
  const n = pairs.length;
  const a = new Float32Array(n * dim), b = new Float32Array(n * dim);
  const labels = new Uint8Array(n), cosines = new Float64Array(n);
  const embeddingsA: Float32Array[] = [], embeddingsB: Float32Array[] = [];
  pairs.forEach((p, i) => {
    const x = normalised(p.a), y = normalised(p.b);
    a.set(x, i * dim);
    b.set(y, i * dim);
    embeddingsA.push(x);
    embeddingsB.push(y);
    labels[i] = p.same ? 1 : 0;
    cosines[i] = dotProduct(x, y);
  });
  return { a, b, labels, cosines, embeddingsA, embeddingsB };
}

function subset(data: Prepared, dim: number, keep: (i: number) => boolean): Prepared {
  const idx: number[] = [];
  for (let i = 0; i < data.labels.length; i++) if (keep(i)) idx.push(i);
  const a = new Float32Array(idx.length * dim), b = new Float32Array(idx.length * dim);
  idx.forEach((src, dst) => {
    a.set(data.a.subarray(src * dim, (src + 1) * dim), dst * dim);
    b.set(data.b.subarray(src * dim, (src + 1) * dim), dst * dim);
  });
  return {
    a, b,
    labels: Uint8Array.from(idx.map((i) => data.labels[i])),
    cosines: Float64Array.from(idx.map((i) => data.cosines[i])),
    embeddingsA: idx.map((i) => data.embeddingsA[i]),
    embeddingsB: idx.map((i) => data.embeddingsB[i]),
  };
}

function cosinePrior(dim: number, cosine: { scale: number; bias: number }): Float64Array {
  const prior = new Float64Array(2 * dim + 1);
  prior.fill(cosine.scale / dim, 0, dim);
  prior[2 * dim] = cosine.bias;
  return prior;
}

function fitOnce(data: Prepared, dim: number, lambda: number, maxIterations: number): { weights: Float64Array; cosine: { scale: number; bias: number } } {
  const cosine = fitCosine(data.cosines, data.labels);
  const prior = cosinePrior(dim, cosine);
  if (lambda === Infinity) return { weights: prior, cosine };
  const fit = verifyNative().fitHead(data.a, data.b, data.labels, dim, prior, lambda, maxIterations);
  return { weights: fit.weights, cosine };
}

function logitOf(weights: Float64Array, dim: number, a: Float32Array, b: Float32Array): number {
  const sd = Math.sqrt(dim);
  let z = weights[2 * dim];
  for (let i = 0; i < dim; i++) z += weights[i] * dim * a[i] * b[i] + weights[dim + i] * sd * Math.abs(a[i] - b[i]);
  return z;
}

function accuracyOn(weights: Float64Array, dim: number, train: Prepared, test: Prepared): number {
  const score = (d: Prepared) => d.embeddingsA.map((x, i) => ({ score: logitOf(weights, dim, x, d.embeddingsB[i]), same: d.labels[i] === 1, fold: 0 }));
  const threshold = bestThreshold(score(train));
  return score(test).filter((p) => (p.score >= threshold) === p.same).length;
}

function checkPairs(pairs: unknown): number {
  if (!Array.isArray(pairs) || pairs.length < 2) throw invalidParameter('pairs', 'an array of at least 2 { a, b, same } pairs', pairs);
  const first = pairs[0] as LabelledPair;
  if (!first || !(first.a instanceof Float32Array)) throw invalidParameter('pairs[0].a', 'a Float32Array embedding', first?.a);
  const dim = first.a.length;
  pairs.forEach((p: LabelledPair, i) => {
    if (!p || !(p.a instanceof Float32Array) || p.a.length !== dim) throw invalidParameter(`pairs[${i}].a`, `a Float32Array of length ${dim}`, p?.a);
    if (!(p.b instanceof Float32Array) || p.b.length !== dim) throw invalidParameter(`pairs[${i}].b`, `a Float32Array of length ${dim}`, p.b);
    if (typeof p.same !== 'boolean') throw invalidParameter(`pairs[${i}].same`, 'a boolean', p.same);
  });
  const same = (pairs as LabelledPair[]).filter((p) => p.same).length;
  if (same === 0 || same === pairs.length) throw invalidParameter('pairs', 'both same-person and different-person pairs', pairs);
  return dim;
}

/** Fits the head on labelled pairs of embeddings from one model. */
export function fitHead(pairs: LabelledPair[], options: FitHeadOptions = {}): Head {
  const dim = checkPairs(pairs);
  const maxIterations = options.maxIterations ?? 150;
  if (!Number.isInteger(maxIterations) || maxIterations < 1) throw invalidParameter('maxIterations', 'a positive integer', options.maxIterations);
  const lambdas = options.lambda === undefined ? DEFAULT_LAMBDAS : options.lambda;
  const grid = Array.isArray(lambdas) ? lambdas : [lambdas];
  if (grid.length === 0 || grid.some((l) => !(l >= 0))) throw invalidParameter('lambda', 'a number >= 0 or a non-empty array of them', options.lambda);

  const data = prepare(pairs, dim);
  let lambda = grid[0];
  if (grid.length > 1) {
    // Held-out accuracy of each lambda over 3 interleaved parts; Infinity is cosine itself.
    const candidates = [Infinity, ...grid];
    const correct = candidates.map(() => 0);
    for (let part = 0; part < 3; part++) {
      const train = subset(data, dim, (i) => i % 3 !== part);
      const test = subset(data, dim, (i) => i % 3 === part);
      candidates.forEach((l, k) => {
        correct[k] += accuracyOn(fitOnce(train, dim, l, maxIterations).weights, dim, train, test);
      });
    }
    let best = 0;
    for (let k = 1; k < candidates.length; k++) if (correct[k] > correct[best]) best = k;
    lambda = candidates[best];
  }
  const fit = fitOnce(data, dim, lambda, maxIterations);
  return { dim, weights: fit.weights, lambda, cosine: fit.cosine, modelId: options.modelId };
}

function checkHead(head: Head, a: Float32Array, b: Float32Array): void {
  if (!head || !(head.weights instanceof Float64Array) || head.weights.length !== 2 * head.dim + 1) {
    throw invalidParameter('head', 'a head from fitHead() or loadHead()', head);
  }
  if (!(a instanceof Float32Array) || a.length !== head.dim) throw invalidParameter('a', `a Float32Array of length ${head.dim}`, a);
  if (!(b instanceof Float32Array) || b.length !== head.dim) throw invalidParameter('b', `a Float32Array of length ${head.dim}`, b);
}

/** w . g + bias for two embeddings (normalised here). */
export function headLogit(head: Head, a: Float32Array, b: Float32Array): number {
  checkHead(head, a, b);
  return logitOf(head.weights, head.dim, normalised(a), normalised(b));
}

/** The head's probability that a and b show the same person. */
export function headProbability(head: Head, a: Float32Array, b: Float32Array): number {
  return 1 / (1 + Math.exp(-headLogit(head, a, b)));
}

/** The head as a versioned JSON document (weights as base64 float64, little-endian). */
export function serializeHead(head: Head): string {
  const bytes = Buffer.from(new Float64Array(head.weights).buffer);
  return JSON.stringify({
    format: HEAD_FORMAT, version: HEAD_VERSION, dim: head.dim, modelId: head.modelId ?? null,
    lambda: Number.isFinite(head.lambda) ? head.lambda : 'Infinity', cosine: head.cosine, weights: bytes.toString('base64'),
  });
}

function badHead(source: string, detail: string): FacebitsError {
  return new FacebitsError('INVALID_MODEL', `${source} is not a facebits head file: ${detail}`);
}

/** Reads a head written by serializeHead() or saveHead(). */
export function parseHead(text: string, source = 'The head'): Head {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text);
  } catch {
    throw badHead(source, 'it is not JSON');
  }
  if (!doc || doc.format !== HEAD_FORMAT) throw badHead(source, `format is ${JSON.stringify(doc?.format)}, expected "${HEAD_FORMAT}"`);
  if (doc.version !== HEAD_VERSION) {
    throw new FacebitsError('INVALID_MODEL', `${source} has head format version ${String(doc.version)}; this facebits reads version ${HEAD_VERSION}`);
  }
  const dim = doc.dim as number;
  if (!Number.isInteger(dim) || dim < 1) throw badHead(source, 'dim is not a positive integer');
  const bytes = typeof doc.weights === 'string' ? Buffer.from(doc.weights, 'base64') : Buffer.alloc(0);
  if (bytes.length !== (2 * dim + 1) * 8) throw badHead(source, `weights hold ${bytes.length} bytes, expected ${(2 * dim + 1) * 8}`);
  const weights = new Float64Array(2 * dim + 1);
  new Uint8Array(weights.buffer).set(bytes);
  if (weights.some((w) => !Number.isFinite(w))) throw badHead(source, 'weights are not finite');
  const cosine = doc.cosine as Head['cosine'];
  if (!cosine || !Number.isFinite(cosine.scale) || !Number.isFinite(cosine.bias)) throw badHead(source, 'cosine is missing');
  const lambda = doc.lambda === 'Infinity' ? Infinity : Number(doc.lambda);
  return { dim, weights, lambda, cosine, modelId: typeof doc.modelId === 'string' ? doc.modelId : undefined };
}

export function saveHead(head: Head, file: string): void {
  fs.writeFileSync(file, serializeHead(head));
}

export function loadHead(file: string): Head {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new FacebitsError('INVALID_ARGUMENT', `Cannot read head file ${file}: ${(error as Error).message}`);
  }
  return parseHead(text, file);
}
