// load(): resolves the detector, landmark and embedding models and builds the pipeline.

import { invalidParameter } from './errors';
import { Facebits } from './facebits';
import { DEFAULT_MAX_PIXELS } from './image';
import { BuiltInName, loadBuiltIn, loadFromPath, LoadedModel, Preprocessing } from './models';
import { Backend, backendFromEnvironment, binding, NativeBinding, Precision } from './native';
import { DetectorDecoder, Embedder, FaceDetector, LandmarkRefiner } from './pipeline';
import { DEFAULT_THRESHOLDS } from './thresholds';

export interface DetectorOptions extends Preprocessing {
  /** Path of an ONNX, TF.js or .fbm detector. */
  path: string;
  /** How to read the detector's outputs. */
  decoder: DetectorDecoder;
}

export interface EmbedderOptions extends Preprocessing {
  /** Path of an ONNX, TF.js or .fbm embedding model fed an aligned face. */
  path: string;
  /** Cosine threshold for this model; measure one with `facebits eval lfw`. */
  threshold?: number;
}

export interface LoadOptions {
  /** 'blazeface' (default) or a detector file. */
  detector?: 'blazeface' | DetectorOptions;
  /**
   * 'face-api-68' refines the detector's points with face-api's 68-point net; 'none'
   * aligns with the detector's own points. Default: 'face-api-68' for BlazeFace, whose
   * four points lack the mouth corners, else 'none'.
   */
  landmarks?: 'face-api-68' | 'none';
  /** Side of the landmark crop relative to the longer side of the detector's box. Default 1.0. */
  landmarkExpand?: number;
  /** 'fr-feature' (default) or an embedding model file. */
  embedder?: 'fr-feature' | EmbedderOptions;
  /**
   * Embeds each face and its mirror image and sums the two (test-time augmentation). It
   * doubles the embedding time and lifts LFW accuracy (docs/ACCURACY.md). Default true.
   */
  flip?: boolean;
  /** Cosine similarity at or above which compare() returns same. Default: the model's calibrated value. */
  threshold?: number;
  /** Minimum detector score, 0..1. Default 0.5. */
  minScore?: number;
  /** Largest image accepted, in pixels. */
  maxPixels?: number;
  /** Folder of the converted built-in models; default the package's models/default. */
  modelDir?: string;
  /**
   * 'native' (the Node-API addon) or 'wasm' (the WebAssembly build). Default: the
   * FACEBITS_BACKEND environment variable, else the addon when it loads, else 'wasm'.
   */
  backend?: Backend;
  /**
   * The embed() policy when the detector finds several faces: 'most-likely' (default) embeds
   * the largest, most central, highest-scoring face and reports the count in `faceCount`;
   * 'error' throws MULTIPLE_FACES, as an unlock check that must not match a bystander wants.
   */
  multipleFaces?: 'most-likely' | 'error';
  /**
   * 'fp32' (default) or 'bf16'. With 'bf16' the native backend runs the layers that lower
   * to a matrix product (1x1 and im2col convolutions, fully connected) in bfloat16 with
   * float32 sums. It needs a CPU with AMX-BF16 (Intel Xeon from Sapphire Rapids on) or
   * AVX512_BF16 (AMD Zen 4 and later, Intel Cooper Lake), and elsewhere runs float32. The
   * `precision` property reports which ran.
   * docs/ACCURACY.md gives its LFW accuracy.
   */
  precision?: Precision;
}

const LOAD_OPTION_KEYS = [
  'detector', 'landmarks', 'landmarkExpand', 'embedder', 'flip', 'threshold', 'minScore', 'maxPixels', 'modelDir', 'backend',
  'multipleFaces', 'precision',
];

/** Generic cosine threshold for user models without one; ArcFace-style models sit near it. */
const UNCALIBRATED_THRESHOLD = 0.3;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Rejects anything but a number from min to max, so a string such as '0.5' is not coerced.
function checkNumberIn(name: string, value: unknown, min: number, max: number, expected: string): void {
  if (typeof value !== 'number' || !(value >= min && value <= max)) throw invalidParameter(name, expected, value);
}

function loadDetector(
  option: LoadOptions['detector'], dir: string | undefined, core: NativeBinding, precision: Precision,
): { model: LoadedModel; decoder: DetectorDecoder } {
  if (option === undefined || option === 'blazeface') {
    return { model: loadBuiltIn('blazeface', dir, core, precision), decoder: 'blazeface' };
  }
  if (!isObject(option) || typeof option.path !== 'string') {
    throw invalidParameter('detector', '"blazeface" or { path, decoder }', option);
  }
  if (option.decoder !== 'blazeface' && option.decoder !== 'yunet') {
    throw invalidParameter('detector.decoder', '"blazeface" or "yunet"', option.decoder);
  }
  return { model: loadFromPath(option.path, 'detector', option, core, precision), decoder: option.decoder };
}

function loadEmbedder(
  option: LoadOptions['embedder'], dir: string | undefined, core: NativeBinding, precision: Precision,
): { model: LoadedModel; threshold: number } {
  if (option === undefined || option === 'fr-feature') {
    return { model: loadBuiltIn('fr-feature', dir, core, precision), threshold: DEFAULT_THRESHOLDS['fr-feature'] };
  }
  if (!isObject(option) || typeof option.path !== 'string') {
    throw invalidParameter('embedder', '"fr-feature" or { path, channels, mean, std }', option);
  }
  if (option.threshold !== undefined) checkNumberIn('embedder.threshold', option.threshold, -1, 1, 'a cosine similarity between -1 and 1');
  return {
    model: loadFromPath(option.path, 'embedder', option, core, precision),
    threshold: option.threshold ?? UNCALIBRATED_THRESHOLD,
  };
}

/** Loads the models and returns a ready pipeline. */
export async function load(options: LoadOptions = {}): Promise<Facebits> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidParameter('options', 'an object', options);
  }
  const unknown = Object.keys(options).filter((key) => !LOAD_OPTION_KEYS.includes(key));
  if (unknown.length > 0) {
    throw invalidParameter(`options.${unknown[0]}`, `one of the load() options ${LOAD_OPTION_KEYS.join(', ')}`, unknown[0]);
  }
  const minScore = options.minScore ?? 0.5;
  checkNumberIn('minScore', minScore, 0, 1, 'a number between 0 and 1');
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isInteger(maxPixels) || maxPixels < 1) throw invalidParameter('maxPixels', 'a positive integer', options.maxPixels);
  if (options.threshold !== undefined) checkNumberIn('threshold', options.threshold, -1, 1, 'a cosine similarity between -1 and 1');
  const landmarkExpand = options.landmarkExpand ?? 1.0;
  checkNumberIn('landmarkExpand', landmarkExpand, 0.5, 3, 'a number between 0.5 and 3');
  const flip = options.flip ?? true;
  if (typeof flip !== 'boolean') throw invalidParameter('flip', 'a boolean', options.flip);
  const multipleFaces = options.multipleFaces ?? 'most-likely';
  if (multipleFaces !== 'most-likely' && multipleFaces !== 'error') {
    throw invalidParameter('multipleFaces', '"most-likely" or "error"', options.multipleFaces);
  }

  // Model compilation (lib/models.ts) checks the value.
  const precision = options.precision ?? 'fp32';

  if (options.backend !== undefined && options.backend !== 'native' && options.backend !== 'wasm') {
    throw invalidParameter('backend', '"native" or "wasm"', options.backend);
  }
  const core = binding(options.backend ?? backendFromEnvironment());

  const detector = loadDetector(options.detector, options.modelDir, core, precision);
  const landmarks = options.landmarks ?? (detector.decoder === 'blazeface' ? 'face-api-68' : 'none');
  if (landmarks !== 'face-api-68' && landmarks !== 'none') {
    throw invalidParameter('landmarks', '"face-api-68" or "none"', options.landmarks);
  }
  const refiner = landmarks === 'face-api-68'
    ? new LandmarkRefiner(loadBuiltIn('face-api-68' as BuiltInName, options.modelDir, core, precision), landmarkExpand)
    : undefined;
  const embedder = loadEmbedder(options.embedder, options.modelDir, core, precision);

  return new Facebits({
    detector: new FaceDetector(detector.model, { decoder: detector.decoder, minScore, iouThreshold: 0.3 }),
    refiner,
    embedder: new Embedder(embedder.model, flip),
    threshold: options.threshold ?? embedder.threshold,
    maxPixels,
    modelId: embedder.model.header.id,
    multipleFaces,
  });
}
