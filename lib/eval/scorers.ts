// Cosine, Hamming (at each code length) and the learned head side by side on a k-fold
// protocol. Everything a scorer learns (quantiser, head, thresholds) comes from the training
// folds only; the held-out fold is scored once.

import { calibrate } from '../calibrate';
import { cosineSimilarity } from '../compare';
import { fitHead, headLogit } from '../head';
import { codeBytes, encode, encodeMany, fitQuantizer } from '../quantizer';
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

export interface ScorerOptions {
  /** Code lengths to evaluate Hamming at. */
  bits?: number[];
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

function trainingImages(train: LfwPair[], embeddings: Map<string, Float32Array | null>): Float32Array[] {
  const out: Float32Array[] = [];
  for (const file of new Set(train.flatMap((p) => [p.a, p.b]))) {
    const e = embeddings.get(file);
    if (e) out.push(e);
  }
  return out;
}

function hammingFit(bits: number): Fit {
  return (train, embeddings) => {
    const q = fitQuantizer(trainingImages(train, embeddings), { bits });
    // Every image's code in one native call.
    const all = [...embeddings.values()].filter((e): e is Float32Array => e !== null);
    const flat = encodeMany(q, all);
    const bytes = codeBytes(bits);
    const codes = new Map<Float32Array, Uint8Array>(all.map((e, i) => [e, flat.subarray(i * bytes, (i + 1) * bytes)]));
    const code = (e: Float32Array): Uint8Array => codes.get(e) ?? encode(q, e);
    const binding = verifyNative() as unknown as { hamming(a: Uint8Array, b: Uint8Array): number };
    return (a, b) => -binding.hamming(code(a), code(b));
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

/** Runs cosine, Hamming at each of `bits` and (unless off) the head on the k-fold protocol. */
export function evaluateScorers(pairs: LfwPair[], embedded: LfwEmbeddings, options: ScorerOptions = {}): ScorerReport[] {
  const reports = [runScorer('cosine', () => cosineSimilarity, pairs, embedded, options)];
  for (const bits of options.bits ?? []) reports.push(runScorer(`hamming-${bits}`, hammingFit(bits), pairs, embedded, options));
  if (options.head ?? true) reports.push(runScorer('head', headFit, pairs, embedded, options));
  return reports;
}
