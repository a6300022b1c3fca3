// Calibrated thresholds of the built-in embedders, measured on LFW.
//
// For each model: the highest impostor cosine similarities and the lowest impostor Hamming
// distances (of the default sign codes) among the 3,000 different-person pairs of LFW's
// pairs.txt, with the default pipeline. Any false-accept rate from 1 / 3000 to 40 / 3000
// reads off a threshold from these tails through calibrate(). docs/ACCURACY.md records the
// run and the held-out check.

import { calibrate } from './calibrate';
import { FacebitsError, invalidParameter } from './errors';

/** The false-accept rate compare() decides at unless told otherwise. */
export const DEFAULT_FAR = 1e-2;

export interface ModelCalibration {
  /** Impostor pairs behind the tails. */
  impostors: number;
  /** Highest impostor cosine similarities, descending. */
  cosineTail: number[];
  /** Bits of the codes behind hammingTail. */
  bits: number;
  /** Lowest impostor Hamming distances of the sign codes, ascending. */
  hammingTail: number[];
}

export const CALIBRATIONS: Record<string, ModelCalibration> = {
  // npx tsx: cosine and packSigns Hamming over LFW pairs.txt, default pipeline, 2026-12-04.
  'fr_feature@faceplugin-face-recognition-js@0.0.1': {
    impostors: 3000,
    cosineTail: [
      0.39176, 0.37643, 0.36483, 0.3471, 0.33395, 0.33233, 0.31634, 0.30309, 0.29774, 0.29599, 0.28968, 0.28549,
      0.28359, 0.27995, 0.27837, 0.27087, 0.27068, 0.26937, 0.26813, 0.26332, 0.2596, 0.25937, 0.25504, 0.25346,
      0.25343, 0.25337, 0.25321, 0.25022, 0.24638, 0.2462, 0.24429, 0.24354, 0.24348, 0.24069, 0.23926, 0.23852,
      0.23826, 0.23591, 0.2288, 0.22869,
    ],
    bits: 512,
    hammingTail: [
      187, 195, 196, 198, 198, 199, 199, 200, 200, 201, 202, 202, 203, 203, 203, 203, 204, 205, 205, 206, 206, 206,
      206, 207, 207, 207, 208, 208, 209, 209, 210, 210, 211, 211, 211, 211, 211, 211, 211, 212,
    ],
  },
};

function fromTail(tail: number[], impostors: number, far: number, direction: 'higher' | 'lower', what: string): number {
  if (!(far > 0 && far < 1)) throw invalidParameter('far', 'a number between 0 and 1', far);
  const allowed = Math.floor(far * impostors);
  if (allowed >= tail.length) {
    throw new FacebitsError('INVALID_ARGUMENT', `The ${what} calibration covers false-accept rates up to ${(tail.length - 1) / impostors}; use calibrate() on your own pairs for far ${far}`);
  }
  // The scores below the stored tail only matter beyond it, so a stand-in keeps them rejected.
  const filler = direction === 'higher' ? -Infinity : Infinity;
  const scores = [...tail, ...new Array(Math.max(0, impostors - tail.length)).fill(filler)].filter(Number.isFinite);
  // calibrate() counts the impostors it is given, so scale far to the stored tail.
  return calibrate(scores, { far: Math.min(0.999999, (allowed + 0.5) / scores.length), direction }).threshold;
}

/** The model's calibrated cosine threshold at `far`; throws for models without a calibration. */
export function cosineThresholdAt(modelId: string, far: number): number {
  const c = CALIBRATIONS[modelId];
  if (!c) throw new FacebitsError('INVALID_ARGUMENT', `No calibration ships for model ${modelId}; pass { threshold } or compute one with calibrate()`);
  return fromTail(c.cosineTail, c.impostors, far, 'higher', 'cosine');
}

/** The model's calibrated Hamming threshold (accept at or below) for its sign codes at `far`. */
export function hammingThresholdAt(modelId: string, far: number, bits: number): number | undefined {
  const c = CALIBRATIONS[modelId];
  if (!c || c.bits !== bits) return undefined;
  return fromTail(c.hammingTail, c.impostors, far, 'lower', 'Hamming');
}

// Cosine thresholds at DEFAULT_FAR, by built-in embedder name (load() reads these).
export const DEFAULT_THRESHOLDS = {
  'fr-feature': cosineThresholdAt('fr_feature@faceplugin-face-recognition-js@0.0.1', DEFAULT_FAR),
};
