// The .fbm model file: an encoded plan, its weights and a JSON header, with a checksum.
//
// Layout, all integers little-endian uint32:
//   'FBM1' magic, version, headerLength, header (UTF-8 JSON, padded with spaces to 4 bytes),
//   wordCount, plan words (int32), weightCount, weights (float32), SHA-256 of all bytes before it.

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

import { FacebitsError, invalidModel } from './errors';
import { EncodedPlan } from './plan';

const MAGIC = 0x314d4246; // 'FBM1'
const VERSION = 1;
const DIGEST_BYTES = 32;
const MAX_HEADER_BYTES = 1 << 20;
/** Largest .fbm file read, the same cap as ONNX and TF.js files (lib/import). */
export const MAX_MODEL_FILE_BYTES = 512 * 1024 * 1024;
/** Largest side of a model input; the native image ops accept no more. */
const MAX_INPUT_SIDE = 16384;
const PLAN_HEADER_WORDS = 7;

/** Metadata of a plan: its identity, source, input layout and outputs. */
export interface ModelHeader {
  /** Stable identity, e.g. "fr_feature@faceplugin-face-recognition-js@0.0.1". */
  id: string;
  kind: 'detector' | 'landmarks' | 'embedder';
  /** Source of the weights: package, file and SHA-256 of each source file. */
  source: { package?: string; version?: string; files: Array<{ path: string; sha256: string }>; license?: string };
  /** NHWC shape of the plan input. */
  inputShape: number[];
  /** Channel order the plan expects from the warp or resize step. */
  channels: 'RGB' | 'BGR';
  outputNames: string[];
  outputShapes: number[][];
  /** Free-form settings the pipeline needs, such as anchors or the alignment template. */
  [key: string]: unknown;
}

export interface ModelFile {
  header: ModelHeader;
  plan: EncodedPlan;
}

export function encodeModelFile(model: ModelFile): Buffer {
  const json = Buffer.from(JSON.stringify(model.header), 'utf8');
  const headerLength = Math.ceil(json.length / 4) * 4;
  const { words, weights } = model.plan;
  const size = 16 + headerLength + 4 + words.byteLength + 4 + weights.byteLength + DIGEST_BYTES;
  const out = Buffer.alloc(size, 0x20);

  let offset = 0;
  out.writeUInt32LE(MAGIC, offset);
  out.writeUInt32LE(VERSION, offset + 4);
  out.writeUInt32LE(headerLength, offset + 8);
  offset += 12;
  json.copy(out, offset);
  offset += headerLength;

  out.writeUInt32LE(words.length, offset);
  offset += 4;
  Buffer.from(words.buffer, words.byteOffset, words.byteLength).copy(out, offset);
  offset += words.byteLength;

  out.writeUInt32LE(weights.length, offset);
  offset += 4;
  Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).copy(out, offset);
  offset += weights.byteLength;

  createHash('sha256').update(out.subarray(0, offset)).digest().copy(out, offset);
  return out.subarray(0, offset + DIGEST_BYTES);
}

/** Parses and verifies a .fbm file. Every failure is an INVALID_MODEL error naming `file`. */
export function decodeModelFile(bytes: Uint8Array, file: string): ModelFile {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 12 + 8 + DIGEST_BYTES || buf.readUInt32LE(0) !== MAGIC) {
    throw invalidModel(file, 'not a facebits model file (bad magic or too short)');
  }
  // Every format version keeps the SHA-256 of the rest of the file as its last 32 bytes, so
  // an unknown version with a valid digest comes from a newer facebits, and one with a bad
  // digest is a damaged file.
  const body = buf.subarray(0, buf.length - DIGEST_BYTES);
  const digestMatches = createHash('sha256').update(body).digest().equals(buf.subarray(buf.length - DIGEST_BYTES));
  const version = buf.readUInt32LE(4);
  if (version !== VERSION && digestMatches && version > VERSION) {
    throw invalidModel(file, `format version ${version} was written by a newer facebits; this build reads version ${VERSION}, so upgrade facebits`);
  }
  if (!digestMatches) {
    throw invalidModel(file, 'checksum mismatch; the file is truncated or corrupted, so convert or copy it again');
  }
  if (version !== VERSION) {
    throw invalidModel(file, `format version ${version} was never written by facebits, so the file is corrupted; convert or copy it again`);
  }

  const headerLength = buf.readUInt32LE(8);
  if (headerLength > MAX_HEADER_BYTES || 12 + headerLength + 4 > body.length) {
    throw invalidModel(file, `header length ${headerLength} exceeds the file`);
  }
  let header: ModelHeader;
  try {
    header = JSON.parse(buf.toString('utf8', 12, 12 + headerLength)) as ModelHeader;
  } catch (error) {
    throw invalidModel(file, 'header is not valid JSON', error);
  }

  checkHeader(header, file);

  let offset = 12 + headerLength;
  const wordCount = body.readUInt32LE(offset);
  offset += 4;
  if (offset + wordCount * 4 + 4 > body.length) throw invalidModel(file, `plan of ${wordCount} words exceeds the file`);
  const words = new Int32Array(wordCount);
  Buffer.from(words.buffer).set(body.subarray(offset, offset + wordCount * 4));
  offset += wordCount * 4;

  const weightCount = body.readUInt32LE(offset);
  offset += 4;
  if (offset + weightCount * 4 !== body.length) {
    throw invalidModel(file, `weights of ${weightCount} floats do not match the file size`);
  }
  const weights = new Float32Array(weightCount);
  Buffer.from(weights.buffer).set(body.subarray(offset, offset + weightCount * 4));

  return { header, plan: { words, weights } };
}

/** Checks the header fields the pipeline uses before anything is sized from them. */
function checkHeader(header: ModelHeader, file: string): void {
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw invalidModel(file, 'header is not a JSON object');
  if (typeof header.id !== 'string') throw invalidModel(file, 'header id is not a string');
  if (!['detector', 'landmarks', 'embedder'].includes(header.kind)) {
    throw invalidModel(file, `header kind ${JSON.stringify(header.kind)} is not detector, landmarks or embedder`);
  }
  if (header.channels !== 'RGB' && header.channels !== 'BGR') throw invalidModel(file, 'header channels is not "RGB" or "BGR"');
  const shape = header.inputShape;
  if (
    !Array.isArray(shape) || shape.length !== 4 || shape[0] !== 1 ||
    !shape.every((d) => Number.isInteger(d) && d >= 1 && d <= MAX_INPUT_SIDE) || ![1, 3].includes(shape[3])
  ) {
    throw invalidModel(file, `header inputShape ${JSON.stringify(shape)?.slice(0, 80)} is not [1, height, width, 1 or 3] with sides up to ${MAX_INPUT_SIDE}`);
  }
  if (!Array.isArray(header.outputNames) || !header.outputNames.every((n) => typeof n === 'string')) {
    throw invalidModel(file, 'header outputNames is not an array of strings');
  }
}

/** The header's input shape must be the shape of the plan's one input, which the core checks. */
function checkInputShape(header: ModelHeader, words: Int32Array, file: string): void {
  const record = words.subarray(PLAN_HEADER_WORDS, PLAN_HEADER_WORDS + 6);
  const planShape = record.length === 6 ? Array.from(record.subarray(2, 2 + Math.min(Math.max(record[1], 0), 4))) : [];
  if (words[4] !== 1 || planShape.join(',') !== header.inputShape.join(',')) {
    throw invalidModel(file, `header inputShape [${header.inputShape.join(', ')}] does not match the plan input [${planShape.join(', ')}]`);
  }
}

export function readModelFile(file: string): ModelFile {
  let bytes: Buffer;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_MODEL_FILE_BYTES) throw invalidModel(file, `file has ${size} bytes, more than the limit of ${MAX_MODEL_FILE_BYTES}`);
    bytes = fs.readFileSync(file);
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw new FacebitsError('INVALID_MODEL', `Model file ${file} cannot be read: ${(error as Error).message}`, { cause: error });
  }
  const model = decodeModelFile(bytes, file);
  checkInputShape(model.header, model.plan.words, file);
  return model;
}
