// Calibrated thresholds of the built-in embedders, measured on LFW.
//
// For each model: the highest impostor cosine similarities and the lowest impostor Hamming
// distances (of the default sign codes) among the 3,000 different-person pairs of LFW's
// pairs.txt, with the default pipeline. Any false-accept rate from 1 / 3000 to 40 / 3000
// reads off a threshold from these tails through calibrate(). docs/ACCURACY.md records the
// run and the held-out check.

import { calibrate } from './calibrate';
import { FacebitsError, formatNumber, invalidParameter } from './errors';

/** The false-accept rate compare() decides at when the caller passes neither `far` nor `threshold`. */
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
  // Cosine and packSigns Hamming over LFW pairs.txt, default pipeline with the mirror sum, 2026-12-04.
  'fr_feature@faceplugin-face-recognition-js@0.0.1': {
    impostors: 3000,
    cosineTail: [
      0.38655, 0.3612, 0.36006, 0.35351, 0.35322, 0.32285, 0.30662, 0.30298, 0.29654, 0.29588, 0.29407, 0.28835,
      0.28137, 0.27778, 0.27592, 0.27189, 0.26953, 0.2668, 0.26186, 0.26158, 0.26031, 0.25969, 0.25749, 0.2573,
      0.2571, 0.25398, 0.25322, 0.25218, 0.24828, 0.24698, 0.24692, 0.24563, 0.24539, 0.2421, 0.24085, 0.23889,
      0.23699, 0.23513, 0.23336, 0.23247,
    ],
    bits: 512,
    hammingTail: [
      192, 192, 195, 196, 196, 197, 197, 199, 199, 199, 200, 200, 200, 201, 201, 202, 202, 202, 204, 204, 207, 207,
      207, 207, 208, 208, 208, 208, 208, 208, 209, 209, 209, 210, 212, 212, 212, 212, 212, 212,
    ],
  },
};

function fromTail(tail: number[], impostors: number, far: number, direction: 'higher' | 'lower', what: string): number {
  if (typeof far !== 'number' || !(far > 0 && far < 1)) throw invalidParameter('far', 'a number between 0 and 1', far);
  const allowed = Math.floor(far * impostors);
  if (far < 1 / impostors) {
    throw new FacebitsError(
      'INVALID_ARGUMENT',
      `The ${what} calibration rests on ${impostors} impostor pairs, so it covers false-accept rates from ${formatNumber(1 / impostors)} (1 in ${impostors}); ` +
        `use calibrate() on more pairs of your own for far ${String(far)}`,
    );
  }
  if (allowed >= tail.length) {
    throw new FacebitsError(
      'INVALID_ARGUMENT',
      `The ${what} calibration covers false-accept rates up to ${formatNumber((tail.length - 1) / impostors)}; use calibrate() on your own pairs for far ${String(far)}`,
    );
  }
  // The scores below the stored tail only matter beyond it, so a stand-in keeps them rejected.
  const filler = direction === 'higher' ? -Infinity : Infinity;
  const scores = [...tail, ...new Array(Math.max(0, impostors - tail.length)).fill(filler)].filter(Number.isFinite);
  // calibrate() counts the impostors it is given, so scale far to the stored tail.
  return calibrate(scores, { far: Math.min(0.999999, (allowed + 0.5) / scores.length), direction }).threshold;
}

/** Returns the model's calibrated cosine threshold at `far`. Throws for a model without a calibration. */
export function cosineThresholdAt(modelId: string, far: number): number {
  const c = CALIBRATIONS[modelId];
  if (!c) throw new FacebitsError('INVALID_ARGUMENT', `No calibration ships for model ${modelId}; pass { threshold } or compute one with calibrate()`);
  return fromTail(c.cosineTail, c.impostors, far, 'higher', 'cosine');
}

/** Returns the model's calibrated Hamming threshold (accept at or below) for its sign codes at `far`. */
export function hammingThresholdAt(modelId: string, far: number, bits: number): number | undefined {
  const c = CALIBRATIONS[modelId];
  if (!c || c.bits !== bits) return undefined;
  return fromTail(c.hammingTail, c.impostors, far, 'lower', 'Hamming');
}

// Cosine thresholds at DEFAULT_FAR, by built-in embedder name (load() reads these).
export const DEFAULT_THRESHOLDS = {
  'fr-feature': cosineThresholdAt('fr_feature@faceplugin-face-recognition-js@0.0.1', DEFAULT_FAR),
};
