// BlazeFace (MediaPipe) output decoding for the 256x256 back-camera model.
//
// The model predicts, for each anchor, a score logit and 16 regression values in input
// pixels: box centre offset (2), box size (2) and six keypoints (right eye, left eye,
// nose tip, mouth centre, right ear, left ear as seen by the subject). Anchors sit at
// cell centres of a 16x16 grid (2 per cell) and an 8x8 grid (6 per cell).

import type { Point } from '../align';
import { FacebitsError } from '../errors';
import type { NativeTensor } from '../native';
import { Face, nonMaxSuppression } from './face';

interface Grid {
  cells: number;
  perCell: number;
}

const BACK_GRIDS: Grid[] = [
  { cells: 16, perCell: 2 },
  { cells: 8, perCell: 6 },
];

export interface BlazeFaceOptions {
  inputSize: number;
  minScore: number;
  iouThreshold: number;
}

function anchorsFor(grid: Grid, inputSize: number): Point[] {
  const stride = inputSize / grid.cells;
  const anchors: Point[] = [];
  for (let y = 0; y < grid.cells; y++) {
    for (let x = 0; x < grid.cells; x++) {
      for (let k = 0; k < grid.perCell; k++) anchors.push([(x + 0.5) * stride, (y + 0.5) * stride]);
    }
  }
  return anchors;
}

/** Pairs each score output with its regressor output by anchor count. */
function pairOutputs(outputs: NativeTensor[]): Array<{ scores: Float32Array; boxes: Float32Array; count: number }> {
  const scores = outputs.filter((t) => t.shape[t.shape.length - 1] === 1);
  const boxes = outputs.filter((t) => t.shape[t.shape.length - 1] === 16);
  return BACK_GRIDS.map((grid) => {
    const count = grid.cells * grid.cells * grid.perCell;
    const s = scores.find((t) => t.data.length === count);
    const b = boxes.find((t) => t.data.length === count * 16);
    if (!s || !b) throw new FacebitsError('INVALID_MODEL', `BlazeFace outputs have no pair with ${count} anchors`);
    return { scores: s.data, boxes: b.data, count };
  });
}

/**
 * Decodes faces in input-pixel index coordinates, with four landmarks: image-left eye,
 * image-right eye, nose tip and mouth centre.
 */
export function decodeBlazeFace(outputs: NativeTensor[], options: BlazeFaceOptions): Face[] {
  const faces: Face[] = [];
  const pairs = pairOutputs(outputs);

  pairs.forEach((pair, g) => {
    const anchors = anchorsFor(BACK_GRIDS[g], options.inputSize);
    for (let i = 0; i < pair.count; i++) {
      const logit = Math.max(-100, Math.min(100, pair.scores[i]));
      const score = 1 / (1 + Math.exp(-logit));
      if (score < options.minScore) continue;

      const r = pair.boxes.subarray(i * 16, i * 16 + 16);
      const [ax, ay] = anchors[i];
      const cx = ax + r[0] - 0.5;
      const cy = ay + r[1] - 0.5;
      const keypoints: Point[] = [];
      for (let k = 0; k < 6; k++) keypoints.push([ax + r[4 + 2 * k] - 0.5, ay + r[5 + 2 * k] - 0.5]);

      faces.push({
        box: { x: cx - r[2] / 2, y: cy - r[3] / 2, width: r[2], height: r[3] },
        landmarks: keypoints.slice(0, 4),
        score,
      });
    }
  });

  return nonMaxSuppression(faces, options.iouThreshold);
}
