// Cosine, Hamming (at each code length) and the learned head side by side on a k-fold
// protocol. Everything a scorer learns (quantiser, head, thresholds) comes from the training
// folds only; the held-out fold is scored once.

import * as path from 'node:path';

import { calibrate } from '../calibrate';
import { cosineSimilarity } from '../compare';
import { fitHead, headLogit } from '../head';
import { codeBytes, encodeMany, Quantizer, randomQuantizer } from '../quantizer';
import { fitQuantizer } from '../quantizer-fit';
import { verifyNative } from '../verify-native';
import type { LfwEmbeddings, LfwPair } from './lfw';
import { bestThreshold, ScoredPair } from './metrics';

export interface ScorerReport {
  name: string;
  accuracy: { mean: number; std: number };
  /** Mean over folds of TAR at a threshold calibrated on the training folds' impostors. */
  tar: { '1e-2': number; '1e-3': number };
  /** Mean over folds of the held-out FAR at those thresholds. */
  heldOutFar: { '1e-2': number; '1e-3': number };
  folds: number[];
  /** Held-out scores of every pair (higher means more alike), for ROC curves. */
  scores: ScoredPair[];
}

/**
 * How codes are made for the Hamming scorers, each fitted on the training folds' images:
 *   labelled  the default quantiser of the evaluation: within-class whitening on the training
 *             images' identities (LFW folder names), PCA to bits / 2 axes, a seeded random
 *             rotation and 2 thermometer bits per axis
 *   itq       PCA to the code length, then ITQ (no labels)
 *   centred   centring, a seeded random rotation and median offsets
 *   random    the seeded random orthogonal projection, nothing fitted
 *   sign      the sign bits of the embedding itself, only where the code length is the dimension
 */
export const QUANTIZER_METHODS = ['labelled', 'itq', 'centred', 'random', 'sign'] as const;
export type QuantizerMethod = (typeof QUANTIZER_METHODS)[number];

export interface ScorerOptions {
  /** Code lengths to evaluate Hamming at. */
  bits?: number[];
  /** Quantisers to compare at each code length. Default ['labelled']. */
  quantizers?: QuantizerMethod[];
  /** Evaluate the learned head. Default true. */
  head?: boolean;
  /** Called once per scorer and fold, for progress. */
  onFold?: (scorer: string, fold: number) => void;
}

type Score = (a: Float32Array, b: Float32Array) => number;
type Fit = (train: LfwPair[], embeddings: Map<string, Float32Array | null>) => Score;

const MISSING = -1e9;

function scorePairs(pairs: LfwPair[], embeddings: Map<string, Float32Array | null>, score: Score): ScoredPair[] {
  return pairs.map((p) => {
    const a = embeddings.get(p.a), b = embeddings.get(p.b);
    return { score: a && b ? score(a, b) : MISSING, same: p.same, fold: p.fold };
  });
}

/** The training folds' embedded images, and the identity of each from its folder name. */
function trainingImages(train: LfwPair[], embeddings: Map<string, Float32Array | null>): { images: Float32Array[]; labels: string[] } {
  const images: Float32Array[] = [];
  const labels: string[] = [];
  for (const file of new Set(train.flatMap((p) => [p.a, p.b]))) {
    const e = embeddings.get(file);
    if (!e) continue;
    images.push(e);
    labels.push(path.basename(path.dirname(file)));
  }
  return { images, labels };
}

function quantizerFor(method: QuantizerMethod, bits: number, dim: number, train: { images: Float32Array[]; labels: string[] }): Quantizer {
  switch (method) {
    case 'labelled': return fitQuantizer(train.images, { bits, labels: train.labels, bitsPerAxis: 2 });
    case 'itq': return fitQuantizer(train.images, { bits, rotation: 'itq' });
    case 'centred': return fitQuantizer(train.images, { bits });
    case 'random': return randomQuantizer(dim, { bits });
    case 'sign': {
      // The identity projection: bit i is the sign of embedding[i].
      const q = randomQuantizer(dim, { bits });
      q.matrix.fill(0);
      for (let i = 0; i < dim; i++) q.matrix[i * dim + i] = 1;
      return q;
    }
  }
}

function hammingFit(method: QuantizerMethod, bits: number): Fit {
  return (train, embeddings) => {
    const all = [...embeddings.values()].filter((e): e is Float32Array => e !== null);
    const q = quantizerFor(method, bits, all[0].length, trainingImages(train, embeddings));
    // Every image's code in one native call.
    const flat = encodeMany(q, all);
    const bytes = codeBytes(bits);
    const codes = new Map<Float32Array, Uint8Array>(all.map((e, i) => [e, flat.subarray(i * bytes, (i + 1) * bytes)]));
    const binding = verifyNative() as unknown as { hamming(a: Uint8Array, b: Uint8Array): number };
    return (a, b) => -binding.hamming(codes.get(a)!, codes.get(b)!);
  };
}

const headFit: Fit = (train, embeddings) => {
  const labelled = train.flatMap((p) => {
    const a = embeddings.get(p.a), b = embeddings.get(p.b);
    return a && b ? [{ a, b, same: p.same }] : [];
  });
  const head = fitHead(labelled);
  return (a, b) => headLogit(head, a, b);
};

function runScorer(name: string, fit: Fit, pairs: LfwPair[], embedded: LfwEmbeddings, options: ScorerOptions): ScorerReport {
  const folds = Math.max(...pairs.map((p) => p.fold)) + 1;
  const accuracies: number[] = [];
  const tar = { '1e-2': 0, '1e-3': 0 };
  const far = { '1e-2': 0, '1e-3': 0 };
  const scores: ScoredPair[] = [];
  for (let f = 0; f < folds; f++) {
    options.onFold?.(name, f);
    const train = pairs.filter((p) => p.fold !== f);
    const test = pairs.filter((p) => p.fold === f);
    const score = fit(train, embedded.embeddings);
    const trainScores = scorePairs(train, embedded.embeddings, score);
    const testScores = scorePairs(test, embedded.embeddings, score);
    const threshold = bestThreshold(trainScores);
    accuracies.push(testScores.filter((p) => (p.score >= threshold) === p.same).length / testScores.length);
    for (const key of ['1e-2', '1e-3'] as const) {
      const t = calibrate(trainScores, { far: Number(key) }).threshold;
      const genuine = testScores.filter((p) => p.same), impostors = testScores.filter((p) => !p.same);
      tar[key] += genuine.filter((p) => p.score >= t).length / genuine.length / folds;
      far[key] += impostors.filter((p) => p.score >= t).length / impostors.length / folds;
    }
    scores.push(...testScores);
  }
  const mean = accuracies.reduce((s, a) => s + a, 0) / folds;
  const std = Math.sqrt(accuracies.reduce((s, a) => s + (a - mean) ** 2, 0) / folds);
  return { name, accuracy: { mean, std }, tar, heldOutFar: far, folds: accuracies, scores };
}

/** Runs cosine, Hamming at each of `bits` with each quantiser, and (unless off) the head on the k-fold protocol. */
export function evaluateScorers(pairs: LfwPair[], embedded: LfwEmbeddings, options: ScorerOptions = {}): ScorerReport[] {
  const reports = [runScorer('cosine', () => cosineSimilarity, pairs, embedded, options)];
  const dim = [...embedded.embeddings.values()].find((e) => e)?.length ?? 0;
  for (const bits of options.bits ?? []) {
    for (const method of options.quantizers ?? ['labelled']) {
      if (method === 'sign' && bits !== dim) continue;
      const name = method === 'labelled' ? `hamming-${bits}` : `hamming-${bits}-${method}`;
      reports.push(runScorer(name, hammingFit(method, bits), pairs, embedded, options));
    }
  }
  if (options.head ?? true) reports.push(runScorer('head', headFit, pairs, embedded, options));
  return reports;
}
