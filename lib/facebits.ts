// The public API object returned by load().

import type { Point } from './align';
import { compareEmbeddings, Comparison, CompareOptions } from './compare';
import { FacebitsError, invalidParameter } from './errors';
import type { Box, Face } from './detect/face';
import { ImageInput, readImage, RgbImage } from './image';
import type { Backend, Precision } from './native';
import { Embedder, FaceDetector, LandmarkRefiner } from './pipeline';
import { Head, headProbability } from './head';
import { encode, Quantizer } from './quantizer';
import { buildTemplate, Template } from './template';
import { CALIBRATIONS, cosineThresholdAt, DEFAULT_FAR, hammingThresholdAt } from './thresholds';

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
  /** How many faces the detector found in the image, this one included. */
  faceCount: number;
}

export interface FacebitsParts {
  detector: FaceDetector;
  refiner?: LandmarkRefiner;
  embedder: Embedder;
  threshold: number;
  maxPixels: number;
  modelId: string;
  /** The embed() policy for an image of several faces: embed the most likely subject, or throw. */
  multipleFaces: 'most-likely' | 'error';
}

export class Facebits {
  /** The core the models run on: 'native' (the Node-API addon) or 'wasm' (WebAssembly). */
  readonly backend: Backend;
  /** The embedding model's identity, recorded in templates and reports. */
  readonly modelId: string;
  /** Cosine similarity at or above which two faces are the same person. */
  readonly threshold: number;
  private readonly parts: FacebitsParts;
  /**
   * Makes embed() codes: set one from randomQuantizer() or fitQuantizer() for codes of any
   * length. Unset, codes are the embedding's own sign bits.
   */
  quantizer?: Quantizer;
  /** A learned head (fitHead() or loadHead()); compare() then also returns `probability`. */
  head?: Head;
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

  /**
   * 'bf16' when load({ precision: 'bf16' }) put the matrix products of the embedder (and of
   * the detector and landmark models) in bfloat16, else 'fp32' (the default, and the fallback
   * on CPUs and backends without a bfloat16 GEMM).
   */
  get precision(): Precision {
    return this.parts.embedder.model.native.bf16Layers() > 0 ? 'bf16' : 'fp32';
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
    if (faces.length > 1 && this.parts.multipleFaces === 'error') throw multipleFaces(image, faces.length);
    return this.embedFace(rgb, faces[0], faces.length);
  }

  /** Embeds every detected face, most likely subject first. */
  async embedAll(image: ImageInput): Promise<FaceEmbedding[]> {
    this.check();
    const rgb = await readImage(image, this.parts.maxPixels);
    const faces = await this.parts.detector.detect(rgb);
    return Promise.all(faces.map((face) => this.embedFace(rgb, face, faces.length)));
  }

  private async embedFace(rgb: RgbImage, face: Face, faceCount: number): Promise<FaceEmbedding> {
    let landmarks = face.landmarks;
    let landmarks68: Point[] | undefined;
    if (this.parts.refiner) {
      const refined = await this.parts.refiner.refine(rgb, face);
      landmarks = refined.five;
      landmarks68 = refined.all;
    }
    const embedding = await this.parts.embedder.embed(rgb, landmarks);
    const code = this.quantizer ? encode(this.quantizer, embedding) : this.parts.embedder.model.binding.packSigns(embedding);
    return { embedding, code, box: face.box, landmarks, landmarks68, score: face.score, faceCount };
  }

  /** Compares two embeddings (or results of embed()). */
  compare(a: FaceEmbedding | Float32Array, b: FaceEmbedding | Float32Array, options: CompareOptions = {}): Comparison {
    this.check();
    return compareEmbeddings(toEmbedding(a, 'a'), toEmbedding(b, 'b'), this.decision(options));
  }

  /** Threshold, calibrated false-accept rate, codes and head for one comparison. */
  private decision(options: CompareOptions): Parameters<typeof compareEmbeddings>[2] {
    if (options === null || typeof options !== 'object') throw invalidParameter('options', 'an object', options);
    if (options.threshold !== undefined && options.far !== undefined) {
      throw new FacebitsError(
        'INVALID_ARGUMENT',
        `Expected either threshold or far in options but received both (threshold ${String(options.threshold)}, far ${String(options.far)}); ` +
          'they are exclusive, so pass only one of them',
      );
    }
    let far: number | undefined;
    let threshold: number;
    if (options.threshold !== undefined) threshold = options.threshold;
    else if (options.far !== undefined) {
      far = options.far;
      threshold = cosineThresholdAt(this.modelId, far);
    } else {
      threshold = this.threshold;
      if (CALIBRATIONS[this.modelId] && threshold === cosineThresholdAt(this.modelId, DEFAULT_FAR)) far = DEFAULT_FAR;
    }
    const q = this.quantizer;
    const head = this.head;
    return {
      threshold,
      far,
      hammingThreshold: far !== undefined && !q ? hammingThresholdAt(this.modelId, far, this.dimension) : undefined,
      encode: q ? (e: Float32Array) => encode(q, e) : undefined,
      bits: q?.bits,
      probability: head ? (x: Float32Array, y: Float32Array) => headProbability(head, x, y) : undefined,
    };
  }

  /**
   * Enrols one person from photos (paths, bytes, raw images) or embeddings: the normalised
   * mean embedding, its code, the sample count and the spread. Save it with serializeTemplate().
   */
  async enroll(samples: Array<ImageInput | Float32Array | FaceEmbedding>): Promise<Template> {
    this.check();
    if (!Array.isArray(samples) || samples.length === 0) throw invalidParameter('samples', 'a non-empty array of images or embeddings', samples);
    const embeddings = await Promise.all(samples.map((s) => this.embeddingOf(s)));
    const q = this.quantizer;
    const binding = this.parts.embedder.model.binding;
    return buildTemplate(embeddings, this.modelId, (e) => (q ? encode(q, e) : binding.packSigns(e)), q ? q.bits : this.dimension);
  }

  /**
   * Compares a template with a photo or an embedding. A template made with another model
   * raises MODEL_MISMATCH.
   */
  async verify(template: Template, probe: ImageInput | Float32Array | FaceEmbedding, options: CompareOptions = {}): Promise<Comparison> {
    this.check();
    if (!template || !(template.embedding instanceof Float32Array)) throw invalidParameter('template', 'a template from enroll() or parseTemplate()', template);
    if (template.modelId !== this.modelId) {
      throw new FacebitsError('MODEL_MISMATCH', `The template was made with model ${template.modelId}, but this instance runs ${this.modelId}; enrol again with this model`);
    }
    // Same model id but another length: a template built by hand, or a model file that
    // reuses another model's id.
    if (template.embedding.length !== this.dimension) {
      throw invalidParameter('template.embedding', `an embedding of length ${this.dimension}, the length of this model's image embeddings,`, template.embedding, {
        code: 'MODEL_MISMATCH',
        fix: `the template was made with another model or embedding size, so enrol the person again with model ${this.modelId}`,
      });
    }
    const embedding = await this.embeddingOf(probe);
    if (embedding.length !== this.dimension) {
      throw invalidParameter('probe', `an embedding of length ${this.dimension}, the length of the template's embedding,`, embedding, {
        fix: `pass an image or an embedding from model ${this.modelId}`,
      });
    }
    return compareEmbeddings(template.embedding, embedding, this.decision(options));
  }

  private async embeddingOf(sample: ImageInput | Float32Array | FaceEmbedding): Promise<Float32Array> {
    if (sample instanceof Float32Array) return sample;
    if (sample && typeof sample === 'object' && (sample as FaceEmbedding).embedding instanceof Float32Array) return (sample as FaceEmbedding).embedding;
    return (await this.embed(sample as ImageInput)).embedding;
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

function multipleFaces(image: ImageInput, count: number): FacebitsError {
  const what = typeof image === 'string' ? `file ${image}` : 'the image';
  return new FacebitsError(
    'MULTIPLE_FACES',
    `Found ${count} faces in ${what}, and load() was given multipleFaces: 'error'; crop the photo to one face, or call embedAll() to embed each face`,
  );
}

function noFace(image: ImageInput): FacebitsError {
  const what = typeof image === 'string' ? `file ${image}` : 'the image';
  return new FacebitsError('NO_FACE', `No face found in ${what}; pass a photo with a visible, roughly frontal face`);
}
