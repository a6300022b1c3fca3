// Loads the native addon and describes what it exports.

import * as path from 'node:path';

import { FacebitsError } from './errors';

export interface NativeTensor {
  data: Float32Array;
  shape: number[];
}

/** A compiled plan: weights are validated and packed once, at construction. */
export interface NativeModel {
  /** Runs the plan on the libuv thread pool. Inputs match the plan's input shapes. */
  run(inputs: Float32Array[]): Promise<NativeTensor[]>;
  runSync(inputs: Float32Array[]): NativeTensor[];
  /** Frees the packed weights once no run is in flight. Later calls reject. */
  dispose(): void;
}

export interface NativeBinding {
  Model: new (words: Int32Array, weights: Float32Array) => NativeModel;
  /** The kernel set in use: 'avx512', 'avx2', 'neon' or 'scalar'. */
  isa(): string;
  /** The kernel sets this CPU can run, best first. */
  supportedIsas(): string[];
  /** Forces a kernel set, for tests and benchmarks. Throws when the CPU lacks it. */
  setIsa(name: string): void;
  /** Bilinear resize of HWC uint8 pixels to HWC float32 in 0..255 (half-pixel centres). */
  resizeBilinear(
    src: Uint8Array, width: number, height: number, channels: number,
    dstWidth: number, dstHeight: number, swapRB: boolean,
  ): Float32Array;
  /**
   * Affine warp of HWC uint8 pixels to HWC float32, bilinear, with `border` outside the source.
   * `matrix` is the 2x3 row-major map from destination to source pixel coordinates.
   */
  warpAffine(
    src: Uint8Array, width: number, height: number, channels: number,
    matrix: Float64Array, dstWidth: number, dstHeight: number, border: number, swapRB: boolean,
  ): Float32Array;
  /** Packs sign bits (x > 0 is 1) into 64-bit little-endian words; bit i sits in word i / 64. */
  packSigns(values: Float32Array): Uint8Array;
  /** Hamming distance of two codes of equal length, a multiple of 8 bytes. */
  hamming(a: Uint8Array, b: Uint8Array): number;
  /** Hamming distance from one query to `count` codes stored back to back. */
  hammingMany(query: Uint8Array, codes: Uint8Array, count: number): Uint32Array;
  /**
   * The k codes nearest to `query` by Hamming distance, nearest first, ties by lower index.
   * `threads` 0 uses every hardware thread for scans of 64 Ki codes or more.
   */
  hammingTopK(
    query: Uint8Array, codes: Uint8Array, count: number, k: number, threads: number,
  ): { indices: Uint32Array; distances: Uint32Array };
  /**
   * Sums `buffer` as 64-bit words, modulo 2^53. Benchmarks time it as the single-core read
   * bandwidth. The length must be a non-empty multiple of 8 bytes.
   */
  readSum(buffer: Uint8Array): number;
}

let binding: NativeBinding | undefined;
let loadError: unknown;

/** Returns the addon, loading it on first use from prebuilds/ or build/. */
export function native(): NativeBinding {
  if (binding) return binding;
  if (loadError === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      binding = require('node-gyp-build')(path.join(__dirname, '..')) as NativeBinding;
      return binding;
    } catch (error) {
      loadError = error;
    }
  }
  throw new FacebitsError(
    'NATIVE_UNAVAILABLE',
    `The native addon failed to load (${(loadError as Error).message}). Run "npm run build:native" to build it from source.`,
    { cause: loadError },
  );
}
