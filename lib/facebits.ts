// The public API object returned by load().

import type { Point } from './align';
import { compareEmbeddings, Comparison, CompareOptions } from './compare';
import { FacebitsError, invalidParameter } from './errors';
import type { Box, Face } from './detect/face';
import { ImageInput, readImage, RgbImage } from './image';
import type { Backend } from './native';
import { Embedder, FaceDetector, LandmarkRefiner } from './pipeline';

export interface FaceEmbedding {
  /** L2-normalised embedding. */
  embedding: Float32Array;
  /** Sign bits of the embedding packed into 64-bit little-endian words. */
  code: Uint8Array;
  box: Box;
  /** The alignment points in image pixels: eyes, nose tip, mouth corners (or mouth centre). */
  landmarks: Point[];
  /** The 68 iBUG points when the landmark step ran. */
  landmarks68?: Point[];
  score: number;
}

export interface FacebitsParts {
  detector: FaceDetector;
  refiner?: LandmarkRefiner;
  embedder: Embedder;
  threshold: number;
  maxPixels: number;
  modelId: string;
}

export class Facebits {
  /** The core the models run on: 'native' (the Node-API addon) or 'wasm' (WebAssembly). */
  readonly backend: Backend;
  /** The embedding model's identity, recorded in templates and reports. */
  readonly modelId: string;
  /** Cosine similarity at or above which two faces are the same person. */
  readonly threshold: number;
  private readonly parts: FacebitsParts;
  private disposed = false;

  constructor(parts: FacebitsParts) {
    this.parts = parts;
    this.threshold = parts.threshold;
    this.modelId = parts.modelId;
    this.backend = parts.embedder.model.binding.backend;
  }

  /** The SIMD kernel set the core runs: 'avx512', 'avx2', 'neon', 'simd128' or 'scalar'. */
  get isa(): string {
    return this.parts.embedder.model.binding.isa();
  }

  get dimension(): number {
    return this.parts.embedder.dimension;
  }

  private check(): void {
    if (this.disposed) throw new FacebitsError('INVALID_ARGUMENT', 'This facebits instance was disposed; call load() again');
  }

  /** Detects faces, most likely subject first, in image pixel coordinates. */
  async detect(image: ImageInput): Promise<Face[]> {
    this.check();
    const rgb = await readImage(image, this.parts.maxPixels);
    return this.parts.detector.detect(rgb);
  }

  /** Embeds the most likely subject: the largest, most central, highest-scoring face. */
  async embed(image: ImageInput): Promise<FaceEmbedding> {
    this.check();
    const rgb = await readImage(image, this.parts.maxPixels);
    const faces = await this.parts.detector.detect(rgb);
    if (faces.length === 0) throw noFace(image);
    return this.embedFace(rgb, faces[0]);
  }

  /** Embeds every detected face, most likely subject first. */
  async embedAll(image: ImageInput): Promise<FaceEmbedding[]> {
    this.check();
    const rgb = await readImage(image, this.parts.maxPixels);
    const faces = await this.parts.detector.detect(rgb);
    return Promise.all(faces.map((face) => this.embedFace(rgb, face)));
  }

  private async embedFace(rgb: RgbImage, face: Face): Promise<FaceEmbedding> {
    let landmarks = face.landmarks;
    let landmarks68: Point[] | undefined;
    if (this.parts.refiner) {
      const refined = await this.parts.refiner.refine(rgb, face);
      landmarks = refined.five;
      landmarks68 = refined.all;
    }
    const embedding = await this.parts.embedder.embed(rgb, landmarks);
    const code = this.parts.embedder.model.binding.packSigns(embedding);
    return { embedding, code, box: face.box, landmarks, landmarks68, score: face.score };
  }

  /** Compares two embeddings (or results of embed()). */
  compare(a: FaceEmbedding | Float32Array, b: FaceEmbedding | Float32Array, options: CompareOptions = {}): Comparison {
    this.check();
    const threshold = options.threshold ?? this.threshold;
    return compareEmbeddings(toEmbedding(a, 'a'), toEmbedding(b, 'b'), { threshold });
  }

  /** Frees the native models. Later calls raise an error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.parts.detector.model.native.dispose();
    this.parts.refiner?.model.native.dispose();
    this.parts.embedder.model.native.dispose();
  }
}

function toEmbedding(value: FaceEmbedding | Float32Array, name: string): Float32Array {
  if (value instanceof Float32Array) return value;
  if (value && typeof value === 'object' && value.embedding instanceof Float32Array) return value.embedding;
  throw invalidParameter(name, 'a Float32Array embedding or the result of embed()', value);
}

function noFace(image: ImageInput): FacebitsError {
  const what = typeof image === 'string' ? `file ${image}` : 'the image';
  return new FacebitsError('NO_FACE', `No face found in ${what}; pass a photo with a visible, roughly frontal face`);
}
