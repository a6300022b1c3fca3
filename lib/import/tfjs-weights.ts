// Reader for TF.js weight manifests: the `weightsManifest` of a graph model.json and
// face-api's `*-weights_manifest.json` files. Both are arrays of groups; each group
// lists weight specs whose bytes lie back to back across the group's shard files.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { invalidModel } from '../errors';

export type WeightDtype = 'float32' | 'int32' | 'bool';

export interface WeightQuantization {
  dtype: 'uint8' | 'uint16' | 'float16';
  scale?: number;
  min?: number;
  /** Zero point for the `{scale, offset}` form: value = (q - offset) * scale. */
  offset?: number;
}

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: WeightQuantization;
}

export interface WeightGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** A decoded weight. Float weights are Float32Array, int32 and bool weights Int32Array. */
export interface DecodedWeight {
  name: string;
  shape: number[];
  dtype: WeightDtype;
  data: Float32Array | Int32Array;
}

const STORED_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

function elementCount(shape: number[]): number {
  let count = 1;
  for (const d of shape) count *= d;
  return count;
}

/** Converts IEEE 754 half-precision bits to a float, including subnormals, infinities and NaN. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Validates one spec and returns its byte length in the shard stream. */
function specByteLength(file: string, spec: WeightSpec): number {
  if (typeof spec?.name !== 'string' || !Array.isArray(spec.shape) || !spec.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw invalidModel(file, `weight spec ${JSON.stringify(spec)?.slice(0, 120)} needs a string name and a shape of non-negative integers`);
  }
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32' && spec.dtype !== 'bool') {
    throw invalidModel(file, `weight "${spec.name}" has dtype ${spec.dtype}; only float32, int32 and bool are supported`);
  }
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'uint8' || q.dtype === 'uint16') {
      const hasMin = typeof q.min === 'number';
      const hasOffset = typeof q.offset === 'number';
      if (typeof q.scale !== 'number' || hasMin === hasOffset) {
        throw invalidModel(file, `weight "${spec.name}" is quantised to ${q.dtype} but lacks a numeric scale and exactly one of min or offset`);
      }
    } else if (q.dtype === 'float16') {
      if (spec.dtype !== 'float32') {
        throw invalidModel(file, `weight "${spec.name}" is quantised to float16 but has dtype ${spec.dtype}; expected float32`);
      }
    } else {
      throw invalidModel(file, `weight "${spec.name}" has quantisation dtype ${String(q.dtype)}; expected uint8, uint16 or float16`);
    }
    return elementCount(spec.shape) * STORED_BYTES[q.dtype];
  }
  return elementCount(spec.shape) * STORED_BYTES[spec.dtype];
}

/** Decodes one weight from `bytes`, which contains exactly its stored bytes. */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array): DecodedWeight {
  const count = elementCount(spec.shape);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dtype = spec.dtype as WeightDtype;
  const isFloat = dtype === 'float32';
  const data = isFloat ? new Float32Array(count) : new Int32Array(count);
  const q = spec.quantization;

  if (!q) {
    for (let i = 0; i < count; i++) {
      if (dtype === 'float32') data[i] = view.getFloat32(i * 4, true);
      else if (dtype === 'int32') data[i] = view.getInt32(i * 4, true);
      else data[i] = view.getUint8(i) ? 1 : 0;
    }
  } else if (q.dtype === 'float16') {
    for (let i = 0; i < count; i++) data[i] = float16ToFloat32(view.getUint16(i * 2, true));
  } else {
    const scale = q.scale as number;
    // The {scale, offset} form stores a zero point, so min = -offset * scale.
    const min = typeof q.min === 'number' ? q.min : -(q.offset as number) * scale;
    const wide = q.dtype === 'uint16';
    for (let i = 0; i < count; i++) {
      const stored = wide ? view.getUint16(i * 2, true) : view.getUint8(i);
      const value = stored * scale + min;
      // TF.js rounds dequantised integer weights to the nearest integer.
      data[i] = isFloat ? value : Math.round(value);
    }
  }
  return { name: spec.name, shape: spec.shape.slice(), dtype, data };
}

function readShard(file: string, shardPath: string): Uint8Array {
  try {
    return fs.readFileSync(shardPath);
  } catch (error) {
    throw invalidModel(file, `weight shard ${shardPath} could not be read (${(error as Error).message})`, error);
  }
}

/**
 * Reads every group of `manifest` with shards resolved relative to `baseDir`, and returns
 * the weights by name. `file` names the manifest's file in error messages.
 */
export function loadWeightsManifest(file: string, manifest: unknown, baseDir: string): Map<string, DecodedWeight> {
  if (!Array.isArray(manifest)) {
    throw invalidModel(file, 'the weights manifest is not an array of {paths, weights} groups');
  }
  const weights = new Map<string, DecodedWeight>();

  for (const group of manifest as WeightGroup[]) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights)) {
      throw invalidModel(file, 'a weights manifest group lacks its paths or weights array');
    }
    const shardPaths = group.paths.map((p) => path.resolve(baseDir, p));
    const shards = shardPaths.map((p) => readShard(file, p));
    const total = shards.reduce((sum, s) => sum + s.byteLength, 0);
    const stream = new Uint8Array(total);
    let at = 0;
    for (const shard of shards) {
      stream.set(shard, at);
      at += shard.byteLength;
    }

    const shardNames = group.paths.join(', ');
    let offset = 0;
    for (const spec of group.weights) {
      const length = specByteLength(file, spec);
      if (offset + length > total) {
        throw invalidModel(
          file,
          `weight "${spec.name}" needs bytes ${offset}..${offset + length} but shard ${shardNames} holds ${total} bytes; the shard is truncated or does not match the manifest`,
        );
      }
      weights.set(spec.name, decodeWeight(spec, stream.subarray(offset, offset + length)));
      offset += length;
    }
    if (offset !== total) {
      const last = group.weights.length ? `"${group.weights[group.weights.length - 1].name}"` : 'none';
      throw invalidModel(
        file,
        `shard ${shardNames} holds ${total} bytes but the manifest's weights (last weight ${last}) account for ${offset}; the shard does not match the manifest`,
      );
    }
  }
  return weights;
}

/** Reads a face-api style `*-weights_manifest.json` file and its shards from the same folder. */
export function loadWeightsManifestFile(manifestPath: string): Map<string, DecodedWeight> {
  let text: string;
  try {
    text = fs.readFileSync(manifestPath, 'utf8');
  } catch (error) {
    throw invalidModel(manifestPath, `the manifest could not be read (${(error as Error).message})`, error);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw invalidModel(manifestPath, `the manifest is not valid JSON (${(error as Error).message})`, error);
  }
  return loadWeightsManifest(manifestPath, manifest, path.dirname(manifestPath));
}
