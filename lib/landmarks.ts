// The 68-point landmark step: a square crop around the detector's box, and the
// reduction of the 68 iBUG points to the five alignment points.

import type { Affine, Point } from './align';
import type { Box } from './detect/face';

/**
 * Maps a size x size crop onto a square of side `expand` x the longer box side, centred
 * on the box. Returns the destination-to-source map for the warp.
 */
export function squareCrop(box: Box, size: number, expand: number): Affine {
  const side = Math.max(box.width, box.height) * expand;
  const scale = side / size;
  const x0 = box.x + box.width / 2 - side / 2;
  const y0 = box.y + box.height / 2 - side / 2;
  return [scale, 0, x0 + 0.5 * scale - 0.5, 0, scale, y0 + 0.5 * scale - 0.5];
}

/** Converts interleaved (x, y) outputs in 0..1 of the crop to image pixel coordinates. */
export function cropPointsToImage(values: Float32Array, size: number, toSource: Affine): Point[] {
  const points: Point[] = [];
  for (let i = 0; i + 1 < values.length; i += 2) {
    const u = values[i] * size - 0.5;
    const v = values[i + 1] * size - 0.5;
    points.push([toSource[0] * u + toSource[1] * v + toSource[2], toSource[3] * u + toSource[4] * v + toSource[5]]);
  }
  return points;
}

function mean(points: Point[]): Point {
  const n = points.length;
  return [points.reduce((s, p) => s + p[0], 0) / n, points.reduce((s, p) => s + p[1], 0) / n];
}

/**
 * Reduces iBUG 68 points to the template's five: eye centres as the means of points
 * 36-41 and 42-47, the nose tip 30, and the mouth corners 48 and 54.
 */
export function fivePointsFrom68(points: Point[]): Point[] {
  if (points.length !== 68) throw new RangeError(`Expected 68 landmarks, received ${points.length}`);
  return [mean(points.slice(36, 42)), mean(points.slice(42, 48)), points[30], points[48], points[54]];
}
