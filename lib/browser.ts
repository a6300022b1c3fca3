// Browser entry point: the default pipeline on the WebAssembly core, with the .wasm and the
// .fbm models fetched from one base URL. demo/build.js bundles this file with esbuild.
//
// Images go in as raw pixels (see imagePixels); the browser decodes them, so nothing here
// needs sharp or the file system.

import type { ModelHeader } from './model-file';
import type { LoadedModel } from './models';
import { Facebits } from './facebits';
import type { RawImage } from './image';
import { DEFAULT_MAX_PIXELS } from './image';
import { NativeBinding, useBinding } from './native';
import { Embedder, FaceDetector, LandmarkRefiner } from './pipeline';
import { DEFAULT_THRESHOLDS } from './thresholds';
import { instantiateCore } from './wasm';

export { Facebits };
export type { FaceEmbedding } from './facebits';
export type { Comparison } from './compare';

// The browser globals used here. tsconfig has no DOM library, because the rest of lib/
// runs in Node.
declare const document: { baseURI: string };
interface Bitmap { width: number; height: number; close(): void }
declare function createImageBitmap(image: Blob): Promise<Bitmap>;
declare class OffscreenCanvas {
  constructor(width: number, height: number);
  getContext(kind: '2d'): {
    drawImage(image: Bitmap, x: number, y: number): void;
    getImageData(x: number, y: number, width: number, height: number): { data: Uint8ClampedArray; width: number; height: number };
  } | null;
}

/** .fbm layout, as lib/model-file.ts writes it. */
const MODEL_MAGIC = 0x314d4246; // 'FBM1' little-endian
const MODEL_VERSION = 1;
const DIGEST_BYTES = 32;

export interface BrowserLoadOptions {
  /** URL of the folder holding facebits.wasm and the three .fbm files. Default: the page's folder. */
  baseUrl?: string;
}

async function fetchBytes(url: string): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`Fetching ${url} failed with HTTP ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

/** Parses a .fbm file and checks its SHA-256 digest with Web Crypto. */
async function decodeModel(bytes: Uint8Array, url: string): Promise<{ header: ModelHeader; words: Int32Array; weights: Float32Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 20 + DIGEST_BYTES || view.getUint32(0, true) !== MODEL_MAGIC || view.getUint32(4, true) !== MODEL_VERSION) {
    throw new Error(`${url} is not a version ${MODEL_VERSION} facebits model file`);
  }
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', body));
  if (digest.some((byte, i) => byte !== bytes[body.length + i])) throw new Error(`${url}: checksum mismatch; the file is truncated or corrupted`);

  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as ModelHeader;
  let offset = 12 + headerLength;
  const wordCount = view.getUint32(offset, true);
  offset += 4;
  const words = new Int32Array(bytes.slice(offset, offset + wordCount * 4).buffer);
  offset += wordCount * 4;
  const weightCount = view.getUint32(offset, true);
  offset += 4;
  if (offset + weightCount * 4 !== body.length) throw new Error(`${url}: weights of ${weightCount} floats do not match the file size`);
  const weights = new Float32Array(bytes.slice(offset, offset + weightCount * 4).buffer);
  return { header, words, weights };
}

async function loadModel(core: NativeBinding, url: string): Promise<LoadedModel> {
  const { header, words, weights } = await decodeModel(await fetchBytes(url), url);
  // Subnormal weights are zeroed, as lib/models.ts does for the Node build: they change
  // no output and are slow to multiply.
  for (let i = 0; i < weights.length; i++) if (weights[i] !== 0 && Math.abs(weights[i]) < 1.1754944e-38) weights[i] = 0;
  const model = new core.Model(words, weights);
  return {
    header,
    inputShape: header.inputShape,
    channels: header.channels,
    outputNames: header.outputNames,
    binding: core,
    native: model,
    run: (input) => model.run([input]),
  };
}

/** Loads the WebAssembly core and the default models: BlazeFace, face-api's 68 points and fr_feature. */
export async function load(options: BrowserLoadOptions = {}): Promise<Facebits> {
  const base = new URL(options.baseUrl ?? '.', document.baseURI).href.replace(/\/?$/, '/');
  const core = await instantiateCore(await fetchBytes(`${base}facebits.wasm`));
  useBinding(core);
  const [detector, landmarks, embedder] = await Promise.all([
    loadModel(core, `${base}blazeface-back.fbm`),
    loadModel(core, `${base}face-landmark-68.fbm`),
    loadModel(core, `${base}fr-feature.fbm`),
  ]);
  // The same settings as load() in lib/load.ts with its defaults.
  return new Facebits({
    detector: new FaceDetector(detector, { decoder: 'blazeface', minScore: 0.5, iouThreshold: 0.3 }),
    refiner: new LandmarkRefiner(landmarks),
    embedder: new Embedder(embedder, true),
    threshold: DEFAULT_THRESHOLDS['fr-feature'],
    maxPixels: DEFAULT_MAX_PIXELS,
    modelId: embedder.header.id,
    multipleFaces: 'most-likely',
  });
}

/** Decodes an image file or blob into RGBA pixels for embed(). */
export async function imagePixels(blob: Blob): Promise<RawImage> {
  const bitmap = await createImageBitmap(blob);
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('The browser has no 2D canvas context');
  context.drawImage(bitmap, 0, 0);
  const { data, width, height } = context.getImageData(0, 0, bitmap.width, bitmap.height);
  bitmap.close();
  return { data, width, height, channels: 4 };
}
