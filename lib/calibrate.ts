// Thresholds for a target false-accept rate, from a caller's own impostor scores.

import { invalidParameter } from './errors';

export interface ScoredLabel {
  score: number;
  same: boolean;
}

export interface CalibrateOptions {
  /** Target false-accept rate, in (0, 1). */
  far: number;
  /**
   * 'higher' (default) when a higher score means the same person (cosine, probability);
   * 'lower' for distances (Hamming).
   */
  direction?: 'higher' | 'lower';
}

export interface Calibration {
  /** Accept at score >= threshold ('higher') or score <= threshold ('lower'). */
  threshold: number;
  far: number;
  /** The false-accept rate at `threshold` on the impostor scores given. */
  measuredFar: number;
  /** The true-accept rate on the genuine scores, when labelled pairs were given. */
  tar?: number;
  impostors: number;
}

/**
 * The threshold that accepts at most floor(far x impostors) of the impostor scores: halfway
 * between the last impostor score it accepts and the first it rejects. Pass impostor scores
 * alone, or labelled pairs (the genuine ones then give `tar`).
 */
export function calibrate(scores: number[] | ScoredLabel[], options: CalibrateOptions): Calibration {
  if (!options || typeof options.far !== 'number' || !(options.far > 0 && options.far < 1)) throw invalidParameter('far', 'a number between 0 and 1', options?.far);
  const direction = options.direction ?? 'higher';
  if (direction !== 'higher' && direction !== 'lower') throw invalidParameter('direction', '"higher" or "lower"', direction);
  if (!Array.isArray(scores) || scores.length === 0) throw invalidParameter('scores', 'a non-empty array of scores or { score, same } pairs', scores);

  const labelled = typeof scores[0] === 'object';
  const impostors: number[] = [];
  const genuine: number[] = [];
  for (const [i, item] of (scores as Array<number | ScoredLabel>).entries()) {
    const score = labelled ? (item as ScoredLabel)?.score : item;
    if (typeof score !== 'number' || !Number.isFinite(score)) throw invalidParameter(`scores[${i}]`, labelled ? '{ score, same } with a finite score' : 'a finite number', item);
    if (labelled && typeof (item as ScoredLabel).same !== 'boolean') throw invalidParameter(`scores[${i}].same`, 'a boolean', (item as ScoredLabel).same);
    // Work in "higher is same" space throughout.
    const s = direction === 'higher' ? score : -score;
    if (labelled && (item as ScoredLabel).same) genuine.push(s);
    else impostors.push(s);
  }
  if (impostors.length === 0) throw invalidParameter('scores', 'at least one impostor (different-person) score', scores);

  impostors.sort((a, b) => b - a);
  const allowed = Math.floor(options.far * impostors.length);
  let t: number;
  if (allowed >= impostors.length) t = impostors[impostors.length - 1];
  else if (allowed === 0) t = impostors[0] + Math.max(1e-6, Math.abs(impostors[0]) * 1e-6);
  else t = impostors[allowed] === impostors[allowed - 1] ? nextUp(impostors[allowed]) : (impostors[allowed] + impostors[allowed - 1]) / 2;
  // Ties at the rejection point: move above them so they stay rejected.
  if (allowed < impostors.length && t <= impostors[allowed]) t = nextUp(impostors[allowed]);

  const accepted = impostors.filter((s) => s >= t).length;
  const result: Calibration = {
    threshold: direction === 'higher' ? t : -t,
    far: options.far,
    measuredFar: accepted / impostors.length,
    impostors: impostors.length,
  };
  if (labelled && genuine.length) result.tar = genuine.filter((s) => s >= t).length / genuine.length;
  return result;
}

function nextUp(x: number): number {
  return x + Math.max(Math.abs(x) * 1e-9, 1e-12);
}
