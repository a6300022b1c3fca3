// Paths, inputs and output checks shared by the benchmark sections.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.join(__dirname, '..');
export const SHARED = process.env.FACEBITS_SHARED ?? path.join(ROOT, '..', 'shared');
export const LFW = path.join(SHARED, 'faces', 'lfw');
export const MODELS = path.join(SHARED, 'models');
/** Added to skip lines for missing reference files. */
export const SHARED_HINT = '(set FACEBITS_SHARED to the folder that contains models/ and faces/)';

export const MODEL_FILES = {
  mobilefacenet: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx'),
  mobilefacenetBatch: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet_dynbatch.onnx'),
  frFeature: path.join(ROOT, 'node_modules', 'faceplugin-face-recognition-js', 'model', 'fr_feature.onnx'),
  blazeface: path.join(ROOT, 'node_modules', '@vladmandic', 'human-models', 'models', 'blazeface-back.json'),
  yunet: path.join(MODELS, 'yunet', 'yunet_s_dynamic.onnx'),
};

/** Two photos of one person, used for the cold-start verdict and as benchmark inputs. */
export const PHOTOS = [
  path.join(LFW, 'Aaron_Peirsol', 'Aaron_Peirsol_0001.jpg'),
  path.join(LFW, 'Aaron_Peirsol', 'Aaron_Peirsol_0003.jpg'),
];

/** Raised when an engine's output disagrees with its peer's; the run then exits with status 1. */
export class WrongResultError extends Error {}

export function cores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/** Returns the files that are missing, so a section can print why it is skipped. */
export function missing(...files: string[]): string[] {
  return files.filter((file) => !fs.existsSync(file));
}

/**
 * Returns a photo resized to width x height as HWC float32 in 0..255. It is the first LFW photo
 * when present, else a deterministic gradient, so timing never depends on LFW being there.
 */
export async function photo(width: number, height: number, index = 0): Promise<Float32Array> {
  const file = PHOTOS[index];
  if (fs.existsSync(file)) {
    const sharp = (await import('sharp')).default;
    const raw = await sharp(file).removeAlpha().resize(width, height, { fit: 'fill' }).raw().toBuffer();
    return Float32Array.from(raw);
  }
  const out = new Float32Array(width * height * 3);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7919) % 256;
  return out;
}

/** Maps 0..255 pixels to (x - mean) / std in place and returns the array. */
export function normalise(values: Float32Array, mean: number, std: number): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - mean) / std;
  return values;
}

/** Converts an HWC image to CHW, the layout onnxruntime's models take. */
export function hwcToChw(values: Float32Array, height: number, width: number, channels: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) out[(c * height + y) * width + x] = values[(y * width + x) * channels + c];
    }
  }
  return out;
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  return dot / Math.max(Math.sqrt(normA * normB), 1e-30);
}

/** Throws WrongResultError unless the two outputs have one length and a cosine of at least minCosine. */
export function checkSame(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, minCosine = 0.999): number {
  if (actual.length !== expected.length) {
    throw new WrongResultError(`${label}: facebits returned ${actual.length} values but the peer returned ${expected.length}`);
  }
  const similarity = cosine(actual, expected);
  if (!(similarity >= minCosine)) {
    throw new WrongResultError(`${label}: cosine similarity to the peer is ${similarity.toFixed(6)}, below ${minCosine}`);
  }
  return similarity;
}
