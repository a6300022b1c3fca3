// Fitting an image into a detector's square input without distorting it.

import type { Affine } from '../align';

export interface Letterbox {
  /** Destination-to-source map for the warp. */
  toSource: Affine;
  /** Input pixels per image pixel. */
  scale: number;
}

/**
 * Places a width x height image at the top-left of a size x size input, scaled to fit.
 * Pixel centres sit at half-integers in both frames, as in a half-pixel resize.
 */
export function letterbox(width: number, height: number, size: number): Letterbox {
  const scale = size / Math.max(width, height);
  const inv = 1 / scale;
  const offset = 0.5 * inv - 0.5;
  return { toSource: [inv, 0, offset, 0, inv, offset], scale };
}
