// Detected faces and the selection of the one to embed.

import type { Point } from '../align';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Face {
  box: Box;
  /** Five points in image pixels: image-left eye, image-right eye, nose tip, left and right mouth corner. */
  landmarks: Point[];
  score: number;
}

export function iou(a: Box, b: Box): number {
  const x0 = Math.max(a.x, b.x);
  const y0 = Math.max(a.y, b.y);
  const x1 = Math.min(a.x + a.width, b.x + b.width);
  const y1 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression, highest score first. */
export function nonMaxSuppression(faces: Face[], iouThreshold: number, maxFaces = 100): Face[] {
  const sorted = faces.slice().sort((a, b) => b.score - a.score);
  const kept: Face[] = [];
  for (const face of sorted) {
    if (kept.length >= maxFaces) break;
    if (kept.every((k) => iou(k.box, face.box) <= iouThreshold)) kept.push(face);
  }
  return kept;
}

/**
 * Orders faces by how likely each is the subject: score times the face area relative to
 * the largest, times a penalty for distance from the image centre.
 */
export function rankFaces(faces: Face[], width: number, height: number): Face[] {
  const maxArea = Math.max(...faces.map((f) => f.box.width * f.box.height), 1);
  const diagonal = Math.hypot(width, height) / 2;
  const weight = (f: Face): number => {
    const cx = f.box.x + f.box.width / 2;
    const cy = f.box.y + f.box.height / 2;
    const offCentre = Math.hypot(cx - width / 2, cy - height / 2) / diagonal;
    return f.score * ((f.box.width * f.box.height) / maxArea) * (1 - 0.5 * offCentre);
  };
  return faces.slice().sort((a, b) => weight(b) - weight(a));
}
