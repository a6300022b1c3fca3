// Loads the native addon or the WebAssembly build of the same core, and describes what
// both export.

import * as fs from 'node:fs';
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
  /**
   * Runs the plan once per input set, one set after another in a single task on the libuv
   * thread pool, and resolves to each set's outputs. A batch costs one hand-off to the pool
   * and back instead of one per set. To use several cores, split it into one call per core.
   */
  runBatch(sets: Float32Array[][]): Promise<NativeTensor[][]>;
  /** Frees the packed weights once no run is in flight. Later calls reject. */
  dispose(): void;
  /** Layers that run in bfloat16: 0 unless created with precision 'bf16' where bf16Gemm() is not null. */
  bf16Layers(): number;
  /** Runs the plan `runs` times on the calling thread and returns the time of each op (bench/profile.ts). */
  profileSync(inputs: Float32Array[], runs: number): OpProfile[];
}

/** One op of NativeModel.profileSync, in plan order. */
export interface OpProfile {
  /** Kind, shape and kernel, for example "conv 1x1 64->128, 56x56 out, gemm bf16". */
  description: string;
  /** Multiply-adds x 2 per run, or 0 for ops that are not convolutions or fully connected layers. */
  flops: number;
  /** Summed over the runs. */
  seconds: number;
  /** Index of the op whose kernel also ran this one (its time is counted there), else -1. */
  fusedInto: number;
}

/**
 * 'fp32' (default) runs every layer in float32. 'bf16' lets the layers that run as a GEMM
 * (1x1 and im2col convolutions, fully connected) multiply bfloat16-rounded operands, summing
 * in float32, where bf16Gemm() is not null. Elsewhere it runs float32.
 */
export type Precision = 'fp32' | 'bf16';

export interface ModelOptions {
  precision?: Precision;
}

/** 'native' is the Node-API addon, 'wasm' the WebAssembly SIMD128 build (wasm/facebits.wasm). */
export type Backend = 'native' | 'wasm';

export interface NativeBinding {
  /** Which build of the core this is. */
  backend: Backend;
  Model: new (words: Int32Array, weights: Float32Array, options?: ModelOptions) => NativeModel;
  /**
   * The bfloat16 GEMM that models created with precision 'bf16' run: 'amx' (AMX-BF16 tiles)
   * or 'avx512-bf16' (VDPBF16PS). null where they run float32.
   */
  bf16Gemm(): string | null;
  /** The bfloat16 GEMMs this CPU, OS and build can run, best first. */
  supportedBf16Gemms(): string[];
  /** Forces a bfloat16 GEMM, for tests and benchmarks. Throws when it cannot run here. */
  setBf16Gemm(name: string): void;
  /** The kernel set in use: 'avx512', 'avx2', 'neon', 'simd128' (WebAssembly) or 'scalar'. */
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
  /**
   * Hamming distance from one query to `count` codes stored back to back. When `out` is given
   * (at least `count` long), the distances go into its first `count` entries and `out` is
   * returned, so repeated scans reuse one buffer.
   */
  hammingMany(query: Uint8Array, codes: Uint8Array, count: number, out?: Uint32Array): Uint32Array;
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
  /**
   * Runs `iterations` steps of 12 independent float32 fused multiply-adds on the widest
   * vectors of the kernel set in use and returns the floating-point operations done.
   * Benchmarks time it as the core's float32 arithmetic peak. iterations is at most 1e9
   * (about 3 s at 120 GFLOP/s).
   */
  fmaLoop(iterations: number): number;
}

let addon: NativeBinding | undefined;
let addonError: unknown;
let wasm: NativeBinding | undefined;
let wasmError: unknown;
let selected: NativeBinding | undefined;

/** The WebAssembly core shipped with the package. */
export const WASM_FILE = path.join(__dirname, '..', 'wasm', 'facebits.wasm');

function loadAddon(): NativeBinding {
  if (addon) return addon;
  if (addonError === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const exports = require('node-gyp-build')(path.join(__dirname, '..')) as Omit<NativeBinding, 'backend'>;
      addon = Object.assign(exports, { backend: 'native' as const });
      return addon;
    } catch (error) {
      addonError = error;
    }
  }
  throw new FacebitsError(
    'NATIVE_UNAVAILABLE',
    `The native addon failed to load (${(addonError as Error).message}). Build it from source with "npm rebuild facebits" in your project (needs a C++ compiler and Python), or "npm run build:native" in a facebits checkout, or pass { backend: 'wasm' }.`,
    { cause: addonError },
  );
}

function loadWasm(): NativeBinding {
  if (wasm) return wasm;
  if (wasmError === undefined) {
    try {
      // Required here, not imported, so this module loads even where wasm.ts is not needed.
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { instantiateCoreSync } = require('./wasm') as typeof import('./wasm');
      wasm = instantiateCoreSync(fs.readFileSync(WASM_FILE));
      return wasm;
    } catch (error) {
      wasmError = error;
    }
  }
  throw new FacebitsError(
    'NATIVE_UNAVAILABLE',
    `The WebAssembly core failed to load from ${WASM_FILE} (${(wasmError as Error).message}). Run "npm run build:wasm" with emscripten installed to build it.`,
    { cause: wasmError },
  );
}

/**
 * Returns the core for a backend: 'native' or 'wasm' load that build or raise
 * NATIVE_UNAVAILABLE; undefined picks the addon when it loads and the WebAssembly build
 * otherwise.
 */
export function binding(backend?: Backend): NativeBinding {
  if (backend === 'native') return loadAddon();
  if (backend === 'wasm') return loadWasm();
  try {
    return loadAddon();
  } catch (error) {
    let core: NativeBinding;
    try {
      core = loadWasm();
    } catch {
      throw error;
    }
    if (!fallbackNoticePrinted) {
      // One line: node-gyp-build's message spans several lines, so only its first is kept.
      const reason = String((addonError as Error).message).split('\n')[0];
      console.warn(`facebits: the native addon did not load (${reason}), so facebits runs on the WASM backend`);
      fallbackNoticePrinted = true;
    }
    return core;
  }
}

let fallbackNoticePrinted = false;

/** Reads FACEBITS_BACKEND: 'native', 'wasm', or unset (or empty) for automatic choice. */
export function backendFromEnvironment(): Backend | undefined {
  const value = process.env.FACEBITS_BACKEND;
  if (value === undefined || value === '') return undefined;
  if (value === 'native' || value === 'wasm') return value;
  throw new FacebitsError(
    'INVALID_ARGUMENT',
    `Invalid FACEBITS_BACKEND "${value}"; set it to "native" or "wasm", or unset it to pick automatically.`,
  );
}

/** Makes `core` the default core; the browser build passes its asynchronously loaded one. */
export function useBinding(core: NativeBinding): void {
  selected = core;
}

/** Returns the default core: the one FACEBITS_BACKEND names, else the addon, else WebAssembly. */
export function native(): NativeBinding {
  if (!selected) selected = binding(backendFromEnvironment());
  return selected;
}
