// Model import by file type: ONNX (.onnx) and TF.js graph models (model.json).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

import { FacebitsError, invalidModel } from '../errors';
import type { Plan } from '../plan';
import { importOnnx } from './onnx';
import { importTfjsGraph } from './tfjs';

export interface ImportedModel {
  plan: Plan;
  inputName: string;
  /** NHWC shape of the plan input. */
  inputShape: number[];
  outputNames: string[];
  outputShapes: number[][];
  /** SHA-256 of the model file. */
  sha256: string;
}

/** Default cap on model file size. */
export const MAX_MODEL_BYTES = 512 * 1024 * 1024;

export interface ImportOptions {
  /** Input shape in the model's own layout (NCHW for ONNX, NHWC for TF.js) for dynamic dimensions. */
  inputShape?: number[];
}

export function importModelFile(file: string, options: ImportOptions = {}): ImportedModel {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_MODEL_BYTES) throw invalidModel(file, `file has ${size} bytes, more than the limit of ${MAX_MODEL_BYTES}`);
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw new FacebitsError('INVALID_MODEL', `Model file ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');

  if (file.toLowerCase().endsWith('.onnx')) {
    return { ...importOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), file, options), sha256 };
  }
  if (file.toLowerCase().endsWith('.json')) {
    return { ...importTfjsGraph(file, options), sha256 };
  }
  throw invalidModel(file, 'unknown model format; pass an .onnx file, a TF.js model.json or a facebits .fbm file');
}
