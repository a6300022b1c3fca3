// Binary codes of any length: centre the embedding, project it onto `bits` directions and
// keep the sign of each (above a per-bit offset). The default projection is seeded random
// orthogonal; fitQuantizer() (quantizer-fit.ts) learns one from embeddings.

import { invalidParameter } from './errors';
import { verifyNative as native } from './verify-native';

export interface Quantizer {
  /** 'random': seeded orthogonal rows; 'fitted': centre, projection and offsets learned by fitQuantizer(). */
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

export const DEFAULT_BITS = 512;
export const DEFAULT_SEED = 1;

export function checkBits(bits: unknown): number {
  if (!Number.isInteger(bits) || (bits as number) < 1 || (bits as number) > 65536) {
    throw invalidParameter('bits', 'an integer from 1 to 65536', bits);
  }
  return bits as number;
}

export function checkSeed(seed: unknown): number {
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
