// The quantiser file: a versioned little-endian binary format.
//
//   0   magic "FBQZ"
//   4   u16 format version (1)
//   6   u16 kind: 0 random, 1 fitted
//   8   u32 dim
//   12  u32 bits
//   16  f64 seed
//   24  f32 mean[dim], f32 matrix[bits x dim], f32 offsets[bits]
//   end u32 CRC-32 of every byte before it

import * as fs from 'node:fs';

import { FacebitsError, invalidParameter } from './errors';
import { Quantizer } from './quantizer';
import { crc32 } from './template';

export const QUANTIZER_MAGIC = Uint8Array.from([0x46, 0x42, 0x51, 0x5a]);
export const QUANTIZER_VERSION = 1;
const HEADER_BYTES = 24;
/** The largest matrix a file may hold, in floats (1 GiB). */
const MAX_MATRIX_FLOATS = 2 ** 28;

function checkQuantizer(q: Quantizer): void {
  const valid = q !== null && typeof q === 'object'
    && Number.isInteger(q.dim) && q.dim >= 1 && Number.isInteger(q.bits) && q.bits >= 1
    && q.mean instanceof Float32Array && q.mean.length === q.dim
    && q.matrix instanceof Float32Array && q.matrix.length === q.bits * q.dim
    && q.offsets instanceof Float32Array && q.offsets.length === q.bits
    && (q.kind === 'random' || q.kind === 'fitted') && Number.isSafeInteger(q.seed) && q.seed >= 0;
  if (!valid) throw invalidParameter('quantizer', 'a quantiser from randomQuantizer(), fitQuantizer() or parseQuantizer()', q);
}

/** Writes the quantiser in the versioned binary format described at the top of this file. */
export function serializeQuantizer(q: Quantizer): Uint8Array {
  checkQuantizer(q);
  const floats = q.dim + q.bits * q.dim + q.bits;
  const out = new Uint8Array(HEADER_BYTES + 4 * floats + 4);
  const view = new DataView(out.buffer);
  out.set(QUANTIZER_MAGIC, 0);
  view.setUint16(4, QUANTIZER_VERSION, true);
  view.setUint16(6, q.kind === 'random' ? 0 : 1, true);
  view.setUint32(8, q.dim, true);
  view.setUint32(12, q.bits, true);
  view.setFloat64(16, q.seed, true);
  let at = HEADER_BYTES;
  for (const part of [q.mean, q.matrix, q.offsets]) {
    for (let i = 0; i < part.length; i++, at += 4) view.setFloat32(at, part[i], true);
  }
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

function invalid(source: string, detail: string): FacebitsError {
  return new FacebitsError('INVALID_MODEL', `${source} is not a valid facebits quantiser: ${detail}`);
}

/** Reads a quantiser written by serializeQuantizer(); INVALID_MODEL for foreign, truncated or corrupted bytes. */
export function parseQuantizer(bytes: Uint8Array, source = 'The quantiser'): Quantizer {
  if (!(bytes instanceof Uint8Array)) throw invalidParameter('bytes', 'a Uint8Array or Buffer', bytes);
  if (bytes.length < 4 || QUANTIZER_MAGIC.some((b, i) => bytes[i] !== b)) throw invalid(source, 'the magic number "FBQZ" is missing (a foreign file?)');
  if (bytes.length < HEADER_BYTES + 4) throw invalid(source, `truncated at ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== QUANTIZER_VERSION) {
    throw new FacebitsError('INVALID_MODEL', `${source} has quantiser format version ${version}; this facebits reads version ${QUANTIZER_VERSION}`);
  }
  const kindCode = view.getUint16(6, true);
  const dim = view.getUint32(8, true);
  const bits = view.getUint32(12, true);
  const seed = view.getFloat64(16, true);
  if (dim < 1 || dim > 65536 || bits < 1 || bits > 65536 || dim * bits > MAX_MATRIX_FLOATS) {
    throw invalid(source, `dimension ${dim} or code length ${bits} is out of range`);
  }
  const floats = dim + bits * dim + bits;
  const expected = HEADER_BYTES + 4 * floats + 4;
  if (bytes.length < expected) throw invalid(source, `truncated: ${bytes.length} of ${expected} bytes`);
  if (bytes.length > expected) throw invalid(source, `${bytes.length - expected} bytes follow the checksum`);
  if (crc32(bytes.subarray(0, expected - 4)) !== view.getUint32(expected - 4, true)) {
    throw invalid(source, 'the checksum does not match (the file is corrupted)');
  }
  if (kindCode > 1) throw invalid(source, `kind ${kindCode} is unknown`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalid(source, `seed ${seed} is not a non-negative integer`);

  const read = (offset: number, length: number): Float32Array => {
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = view.getFloat32(offset + 4 * i, true);
    if (!out.every(Number.isFinite)) throw invalid(source, 'it contains values that are not finite');
    return out;
  };
  const mean = read(HEADER_BYTES, dim);
  const matrix = read(HEADER_BYTES + 4 * dim, bits * dim);
  const offsets = read(HEADER_BYTES + 4 * (dim + bits * dim), bits);
  return { kind: kindCode === 0 ? 'random' : 'fitted', dim, bits, seed, mean, matrix, offsets };
}

export function saveQuantizer(q: Quantizer, file: string): void {
  fs.writeFileSync(file, serializeQuantizer(q));
}

export function loadQuantizer(file: string): Quantizer {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new FacebitsError('INVALID_ARGUMENT', `Cannot read quantiser file ${file}: ${(error as Error).message}`);
  }
  return parseQuantizer(bytes, file);
}
