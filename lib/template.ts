// Enrolment templates and their versioned binary format.
//
// Layout, little-endian:
//   0   4  magic: the bytes of "FBTM"
//   4   2  format version (1)
//   6   2  flags (0)
//   8   2  model id length L, then L bytes of UTF-8
//   .   4  dimension d
//   .   4  sample count
//   .   4  spread (float32)
//   .   4  code bits B
//   .   4d mean embedding (float32)
//   .   *  code, ceil(B / 64) * 8 bytes
//   end 4  CRC-32 (IEEE) of every byte before it
//
// Every format version must keep the magic, the version field at offset 4 and the trailing
// CRC-32 of every byte before it, so that a reader can tell a newer file from a damaged one.

import { FacebitsError, invalidParameter } from './errors';
import { codeBytes } from './quantizer';

export interface Template {
  modelId: string;
  /** The L2-normalised mean of the samples' normalised embeddings. */
  embedding: Float32Array;
  /** The mean embedding's code, from the instance's quantiser. */
  code: Uint8Array;
  bits: number;
  count: number;
  /** Mean of 1 - cosine(sample, mean) over the samples: 0 when they all agree. */
  spread: number;
}

export const TEMPLATE_MAGIC = Uint8Array.from([0x46, 0x42, 0x54, 0x4d]);
export const TEMPLATE_VERSION = 1;

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  const out = new Float32Array(v.length);
  const s = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < v.length; i++) out[i] = v[i] * s;
  return out;
}

/** Averages normalised embeddings into a template; `encode` gives the code of the mean. */
export function buildTemplate(
  embeddings: Float32Array[], modelId: string, encode: (e: Float32Array) => Uint8Array, bits: number,
): Template {
  if (!Array.isArray(embeddings) || embeddings.length === 0) throw invalidParameter('samples', 'a non-empty array', embeddings);
  const dim = embeddings[0].length;
  const sum = new Float32Array(dim);
  const unit = embeddings.map((e, i) => {
    if (!(e instanceof Float32Array) || e.length !== dim || dim === 0) throw invalidParameter(`samples[${i}]`, `an embedding of length ${dim}`, e);
    const u = normalise(e);
    for (let k = 0; k < dim; k++) sum[k] += u[k];
    return u;
  });
  const mean = normalise(sum);
  let spread = 0;
  for (const u of unit) {
    let dot = 0;
    for (let k = 0; k < dim; k++) dot += u[k] * mean[k];
    spread += (1 - dot) / unit.length;
  }
  return { modelId, embedding: mean, code: encode(mean), bits, count: embeddings.length, spread };
}

let crcTable: Uint32Array | undefined;

/** CRC-32 with the IEEE polynomial (as in zlib and PNG). */
export function crc32(bytes: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export function serializeTemplate(t: Template): Uint8Array {
  const id = Buffer.from(t.modelId, 'utf8');
  if (id.length > 0xffff) throw invalidParameter('template.modelId', 'at most 65535 bytes', t.modelId);
  const dim = t.embedding.length;
  const size = 10 + id.length + 16 + 4 * dim + t.code.length + 4;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out.set(TEMPLATE_MAGIC, 0);
  view.setUint16(4, TEMPLATE_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint16(8, id.length, true);
  out.set(id, 10);
  let at = 10 + id.length;
  view.setUint32(at, dim, true);
  view.setUint32(at + 4, t.count, true);
  view.setFloat32(at + 8, t.spread, true);
  view.setUint32(at + 12, t.bits, true);
  at += 16;
  for (let i = 0; i < dim; i++, at += 4) view.setFloat32(at, t.embedding[i], true);
  out.set(t.code, at);
  at += t.code.length;
  view.setUint32(at, crc32(out.subarray(0, at)), true);
  return out;
}

function invalid(detail: string): FacebitsError {
  return new FacebitsError('INVALID_TEMPLATE', `Not a valid facebits template: ${detail}`);
}

// A version field other than 1 is a damaged file unless the trailing checksum, which every
// version keeps, matches. Only then is the file taken to be from a newer facebits.
function unknownVersion(bytes: Uint8Array, version: number): FacebitsError {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = bytes.subarray(0, bytes.length - 4);
  const intact = bytes.length >= 14 && crc32(body) === view.getUint32(bytes.length - 4, true);
  if (!intact) {
    return invalid(`the checksum does not match and the format version field reads ${version}, so the file is corrupted or truncated; restore it from a backup or enrol again`);
  }
  if (version < TEMPLATE_VERSION) return invalid(`format version ${version} was never written by facebits, so the file is corrupted; restore it from a backup or enrol again`);
  return new FacebitsError(
    'INVALID_TEMPLATE',
    `Template format version ${version} was written by a newer facebits; this facebits reads version ${TEMPLATE_VERSION}, so upgrade facebits to read it`,
  );
}

/** Reads a template; INVALID_TEMPLATE for foreign, truncated or corrupted bytes. */
export function parseTemplate(bytes: Uint8Array): Template {
  if (!(bytes instanceof Uint8Array)) throw invalidParameter('bytes', 'a Uint8Array or Buffer', bytes);
  if (bytes.length < 4 || TEMPLATE_MAGIC.some((b, i) => bytes[i] !== b)) throw invalid('the magic number "FBTM" is missing (a foreign file?)');
  if (bytes.length < 10) throw invalid(`truncated at ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(4, true);
  if (version !== TEMPLATE_VERSION) throw unknownVersion(bytes, version);
  // The checksum covers the whole file, so check it once the fixed header says how long it is.
  const idLength = view.getUint16(8, true);
  const fixed = 10 + idLength + 16;
  if (bytes.length < fixed + 4) throw invalid(`truncated at ${bytes.length} bytes`);
  const dim = view.getUint32(10 + idLength, true);
  const bits = view.getUint32(10 + idLength + 12, true);
  if (dim < 1 || dim > 65536 || bits < 1 || bits > 65536) throw invalid(`dimension ${dim} or code length ${bits} is out of range`);
  const expected = fixed + 4 * dim + codeBytes(bits) + 4;
  if (bytes.length < expected) throw invalid(`truncated: ${bytes.length} of ${expected} bytes`);
  if (bytes.length > expected) throw invalid(`${bytes.length - expected} bytes follow the checksum`);
  const stored = view.getUint32(expected - 4, true);
  if (crc32(bytes.subarray(0, expected - 4)) !== stored) throw invalid('the checksum does not match (the file is corrupted)');

  const modelId = Buffer.from(bytes.subarray(10, 10 + idLength)).toString('utf8');
  let at = 10 + idLength;
  const count = view.getUint32(at + 4, true);
  const spread = view.getFloat32(at + 8, true);
  at += 16;
  const embedding = new Float32Array(dim);
  for (let i = 0; i < dim; i++, at += 4) embedding[i] = view.getFloat32(at, true);
  if (embedding.some((v) => !Number.isFinite(v)) || !Number.isFinite(spread) || count < 1) throw invalid('it holds non-finite values or no samples');
  const code = bytes.slice(at, at + codeBytes(bits));
  return { modelId, embedding, code, bits, count, spread };
}
