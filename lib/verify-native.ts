// The verification functions of the core (native/verify_core.cpp): the pair-head solver,
// projected sign codes, seeded orthogonal rotations, a symmetric eigen-solver and ITQ.

import { FacebitsError } from './errors';
import { native } from './native';

export interface VerifyBinding {
  /**
   * Fits the pair head by L-BFGS: weights over the 2 x dim features, then the bias,
   * penalised by (lambda / 2) |w - prior|^2.
   */
  fitHead(
    a: Float32Array, b: Float32Array, labels: Uint8Array, dim: number, prior: Float64Array, lambda: number, maxIterations: number,
  ): { weights: Float64Array; iterations: number; loss: number; gradientNorm: number };
  /** Codes of rows of x: bit j is 1 when matrix[j] . (x - mean) > offsets[j]; ceil(bits / 64) * 8 bytes per row. */
  projectSigns(x: Float32Array, dim: number, mean: Float32Array, matrix: Float32Array, bits: number, offsets: Float32Array): Uint8Array;
  /** rows x bits projections matrix[j] . (x[r] - mean), before any sign is taken. */
  projectValues(x: Float32Array, dim: number, mean: Float32Array, matrix: Float32Array, bits: number): Float32Array;
  /** rows x cols with orthonormal rows in blocks of cols, from a seeded generator. */
  randomOrthogonal(rows: number, cols: number, seed: number): Float32Array;
  /** Eigen-decomposition of a symmetric n x n matrix; values descend, row k of vectors is the k-th vector. */
  symmetricEigen(a: Float64Array, n: number): { values: Float64Array; vectors: Float64Array };
  /**
   * ITQ: the c x c rotation R minimising |sign(V R^T) - V R^T|^2 over the rows of v, after
   * `iterations` rounds from `rotation` (not changed); loss is the final value divided by the rows.
   */
  iterativeQuantization(v: Float32Array, c: number, rotation: Float32Array, iterations: number): { rotation: Float32Array; loss: number };
}

const VERIFY_FUNCTIONS = [
  'fitHead', 'projectSigns', 'projectValues', 'randomOrthogonal', 'symmetricEigen', 'iterativeQuantization',
] as const;

/**
 * Returns the core's verification functions, or throws NATIVE_UNAVAILABLE naming the first one
 * missing, as in an addon built from older sources than the JavaScript.
 */
export function verifyNative(): VerifyBinding {
  const binding = native() as unknown as Partial<VerifyBinding> & { backend?: string };
  const missing = VERIFY_FUNCTIONS.find((name) => typeof binding[name] !== 'function');
  if (missing) {
    throw new FacebitsError(
      'NATIVE_UNAVAILABLE',
      `The ${binding.backend ?? 'loaded'} core has no ${missing}() function, so it was built from older sources than this facebits; reinstall facebits, or rebuild the addon with "npm rebuild facebits" (in a checkout: "npm run build:native")`,
    );
  }
  return binding as VerifyBinding;
}
