// Scores between two embeddings: cosine similarity and Hamming distance of sign codes.

import { invalidParameter } from './errors';
import { native } from './native';

export interface CompareOptions {
  /** Cosine similarity at or above which the faces count as the same person. */
  threshold?: number;
}

export interface Comparison {
  cosine: number;
  /** Differing sign bits between the two codes. */
  hamming: number;
  /** Code length in bits. */
  bits: number;
  same: boolean;
  threshold: number;
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

export function compareEmbeddings(a: Float32Array, b: Float32Array, options: { threshold: number }): Comparison {
  if (a.length !== b.length || a.length === 0) {
    throw invalidParameter('b', `an embedding of length ${a.length}, the same as a`, b);
  }
  if (!Number.isFinite(options.threshold)) throw invalidParameter('threshold', 'a finite number', options.threshold);

  const cosine = cosineSimilarity(a, b);
  const binding = native();
  const hamming = binding.hamming(binding.packSigns(a), binding.packSigns(b));
  return { cosine, hamming, bits: a.length, same: cosine >= options.threshold, threshold: options.threshold };
}
