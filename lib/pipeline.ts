// The verification pipeline: detect, refine landmarks, align, embed.

import { Affine, applyAffine, estimateSimilarity, invertAffine, Point, templateFor } from './align';
import { decodeBlazeFace } from './detect/blazeface';
import { Face, rankFaces } from './detect/face';
import { letterbox } from './detect/letterbox';
import { decodeYuNet } from './detect/yunet';
import type { RgbImage } from './image';
import { cropPointsToImage, fivePointsFrom68, squareCrop } from './landmarks';
import type { LoadedModel } from './models';
import type { NativeTensor } from './native';

export type DetectorDecoder = 'blazeface' | 'yunet';

export interface DetectorSettings {
  decoder: DetectorDecoder;
  /** Minimum face score, 0..1. */
  minScore: number;
  /** Overlap above which the weaker of two boxes is dropped. */
  iouThreshold: number;
}

function warp(model: LoadedModel, image: RgbImage, toSource: Affine, width: number, height: number): Float32Array {
  return model.binding.warpAffine(
    image.data, image.width, image.height, 3,
    Float64Array.from(toSource), width, height, 0, model.channels === 'BGR',
  );
}

/**
 * Serialises runs of one model. Concurrent runs would each allocate a scratch arena; one at a
 * time keeps a single arena per model, while different models still overlap across images.
 */
export class ModelQueue {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly model: LoadedModel) {}

  run(input: Float32Array): Promise<NativeTensor[]> {
    const next = this.tail.then(() => this.model.run(input));
    this.tail = next.catch(() => undefined);
    return next;
  }

  /** Runs the model on each input in one task on the thread pool (NativeModel.runBatch). */
  runBatch(inputs: Float32Array[]): Promise<NativeTensor[][]> {
    const next = this.tail.then(() => this.model.native.runBatch(inputs.map((input) => [input])));
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export class FaceDetector {
  private readonly queue: ModelQueue;

  constructor(readonly model: LoadedModel, readonly settings: DetectorSettings) {
    this.queue = new ModelQueue(model);
  }

  /** Returns faces in image pixel coordinates, most likely subject first. */
  async detect(image: RgbImage): Promise<Face[]> {
    const [, inputHeight, inputWidth] = this.model.inputShape;
    const size = Math.min(inputWidth, inputHeight);
    const fit = letterbox(image.width, image.height, size);
    const outputs = await this.queue.run(warp(this.model, image, fit.toSource, inputWidth, inputHeight));

    let faces: Face[];
    if (this.settings.decoder === 'blazeface') {
      faces = decodeBlazeFace(outputs, { inputSize: size, ...this.settings });
    } else {
      const named = new Map(this.model.outputNames.map((name, i) => [name, outputs[i]]));
      faces = decodeYuNet(named, { inputWidth, inputHeight, ...this.settings });
    }

    const m = fit.toSource;
    const mapped = faces.map((f) => ({
      score: f.score,
      box: { x: m[0] * f.box.x + m[2], y: m[4] * f.box.y + m[5], width: m[0] * f.box.width, height: m[4] * f.box.height },
      landmarks: f.landmarks.map((p) => applyAffine(m, p)),
    }));
    return rankFaces(mapped, image.width, image.height);
  }
}

/** face-api's 68-point net on a square crop around the detector's box. */
export class LandmarkRefiner {
  private readonly queue: ModelQueue;

  /** `expand` scales the crop side relative to the longer box side. */
  constructor(readonly model: LoadedModel, readonly expand = 1.0) {
    this.queue = new ModelQueue(model);
  }

  async refine(image: RgbImage, face: Face): Promise<{ five: Point[]; all: Point[] }> {
    const size = this.model.inputShape[1];
    const toSource = squareCrop(face.box, size, this.expand);
    const [output] = await this.queue.run(warp(this.model, image, toSource, size, size));
    const all = cropPointsToImage(output.data, size, toSource);
    return { five: fivePointsFrom68(all), all };
  }
}

/** Mirrors a destination-to-source map left to right within a `size`-pixel-wide output. */
export function mirrorAffine(m: Affine, size: number): Affine {
  return [-m[0], m[1], m[0] * (size - 1) + m[2], -m[3], m[4], m[3] * (size - 1) + m[5]];
}

export class Embedder {
  private readonly queue: ModelQueue;

  /**
   * With `flip`, the embedding is the sum of the aligned face's and its mirror image's
   * (test-time augmentation): twice the compute, and on LFW 99.15 % instead of 99.02 %
   * for the default models.
   */
  constructor(readonly model: LoadedModel, readonly flip = false) {
    this.queue = new ModelQueue(model);
  }

  get dimension(): number {
    const shape = this.model.header.outputShapes[0];
    return shape[shape.length - 1];
  }

  /** Aligns the face by its landmarks onto the ArcFace template and returns the L2-normalised embedding. */
  async embed(image: RgbImage, landmarks: Point[]): Promise<Float32Array> {
    const size = this.model.inputShape[1];
    const toSource = invertAffine(estimateSimilarity(landmarks, templateFor(landmarks.length, size)));
    const face = warp(this.model, image, toSource, size, size);
    if (!this.flip) return l2Normalize((await this.queue.run(face))[0].data);

    // The face and its mirror image go to the pool as one batch: one hand-off instead of two.
    const mirror = warp(this.model, image, mirrorAffine(toSource, size), size, size);
    const [[output], [mirrored]] = await this.queue.runBatch([face, mirror]);
    const sum = new Float32Array(output.data.length);
    for (let i = 0; i < sum.length; i++) sum[i] = output.data[i] + mirrored.data[i];
    return l2Normalize(sum);
  }
}

export function l2Normalize(values: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  const scale = 1 / Math.max(Math.sqrt(sum), 1e-12);
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i] * scale;
  return out;
}
