// Scores between two embeddings: cosine similarity and Hamming distance of sign codes.

import { invalidParameter } from './errors';
import { native } from './native';

export interface CompareOptions {
  /** Cosine similarity at or above which the faces count as the same person. */
  threshold?: number;
  /**
   * Decide at this false-accept rate instead, from the model's LFW calibration
   * (lib/thresholds.ts). Default: DEFAULT_FAR (1e-2) for built-in models.
   */
  far?: number;
}

export interface Comparison {
  cosine: number;
  /** Differing sign bits between the two codes. */
  hamming: number;
  /** Code length in bits. */
  bits: number;
  same: boolean;
  threshold: number;
  /** The false-accept rate the threshold was calibrated for, when it came from a calibration. */
  far?: number;
  /** Hamming distance at or below which the codes match at `far`, when calibrated for these codes. */
  hammingThreshold?: number;
  /** The learned head's probability of the same person, when a head is in use. */
  probability?: number;
}

export function cosineSimilarity(a: Float32Array, b: Float32Array): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const denominator = Math.sqrt(na * nb);
  return denominator > 0 ? dot / denominator : 0;
}

export interface CompareWith {
  threshold: number;
  far?: number;
  hammingThreshold?: number;
  /** Codes of the embeddings; default their sign bits. */
  encode?: (e: Float32Array) => Uint8Array;
  /** Code length in bits when `encode` is given. */
  bits?: number;
  /** The learned head's probability for the pair. */
  probability?: (a: Float32Array, b: Float32Array) => number;
}

export function compareEmbeddings(a: Float32Array, b: Float32Array, options: CompareWith): Comparison {
  if (a.length === 0) throw invalidParameter('a', 'a non-empty embedding', a);
  if (a.length !== b.length) throw invalidParameter('b', `an embedding of length ${a.length}, the length of a,`, b);
  if (!Number.isFinite(options.threshold)) throw invalidParameter('threshold', 'a finite number', options.threshold);

  const cosine = cosineSimilarity(a, b);
  const binding = native();
  const encode = options.encode ?? ((e: Float32Array) => binding.packSigns(e));
  const hamming = binding.hamming(encode(a), encode(b));
  const result: Comparison = { cosine, hamming, bits: options.encode ? options.bits ?? a.length : a.length, same: cosine >= options.threshold, threshold: options.threshold };
  if (options.far !== undefined) result.far = options.far;
  if (options.hammingThreshold !== undefined) result.hammingThreshold = options.hammingThreshold;
  if (options.probability) result.probability = options.probability(a, b);
  return result;
}
