// The gallery file format, version 1. All integers are little-endian.
//
//   offset  size  field
//        0     8  magic "FBGALLRY"
//        8     4  format version (1)
//       12     4  header size in bytes: 64 plus the model id, padded to a multiple of 64
//       16     4  embedding dimension
//       20     4  code length in bytes (a multiple of 8)
//       24     8  entry count
//       32     8  id section size in bytes, before padding
//       40     4  model id size in bytes (UTF-8)
//       44     4  CRC-32 of the id section
//       48     4  CRC-32 of the code section
//       52     4  CRC-32 of the embedding section
//       56     4  reserved, 0
//       60     4  CRC-32 of header bytes 0..59 followed by the model id bytes
//       64     n  model id, UTF-8, zero-padded to the header size
//
// Then three sections, each starting on a multiple of 64 bytes:
//   ids         (count + 1) uint32 end offsets into the UTF-8 text that follows them
//               (entry i is text[offset[i], offset[i + 1]), offset[0] is 0)
//   codes       count x code length bytes, back to back
//   embeddings  count x dimension float32 values, L2-normalised, back to back
// The file ends right after the embeddings, so any other size is an error.
//
// Every format version must keep the magic, the version at offset 8, the model id size at
// offset 40, the model id at offset 64 and the header CRC-32 at offset 60. A reader then
// tells a gallery from a newer facebits apart from a damaged one by that checksum.

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { seal } from './protect';

import { FacebitsError } from './errors';

export const GALLERY_MAGIC = 'FBGALLRY';
export const GALLERY_VERSION = 1;
const FIXED_HEADER = 64;
/** Largest embedding dimension and code length a gallery file may declare. */
export const MAX_DIMENSION = 65536;
export const MAX_CODE_BYTES = 8192;
const ALIGN = 64;

/** The decoded contents of a gallery file, checksums verified. */
export interface GalleryData {
  modelId: string;
  dimension: number;
  codeBytes: number;
  ids: string[];
  /** count x codeBytes bytes in one contiguous buffer. */
  codes: Uint8Array;
  /** count x dimension values in one contiguous buffer. */
  embeddings: Float32Array;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3, as in zlib), continuing from `previous`. */
export function crc32(data: Uint8Array, previous = 0): number {
  const native = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (native) return native(data, previous);
  // Node before 20.15 and 22.2 has no zlib.crc32.
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

function padded(size: number): number {
  return Math.ceil(size / ALIGN) * ALIGN;
}

function bytesOf(array: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function encodeIds(ids: string[]): Uint8Array {
  const texts = ids.map((id) => Buffer.from(id, 'utf8'));
  const offsets = new Uint32Array(ids.length + 1);
  for (let i = 0; i < texts.length; i++) offsets[i + 1] = offsets[i] + texts[i].length;
  const out = new Uint8Array(offsets.byteLength + offsets[ids.length]);
  out.set(bytesOf(offsets), 0);
  let at = offsets.byteLength;
  for (const text of texts) {
    out.set(text, at);
    at += text.length;
  }
  return out;
}

/** Encodes the gallery as the list of byte ranges that make up the file, in order. */
export function encodeGallery(data: GalleryData): Uint8Array[] {
  const count = data.ids.length;
  const modelId = Buffer.from(data.modelId, 'utf8');
  const headerSize = padded(FIXED_HEADER + modelId.length);
  const ids = encodeIds(data.ids);
  const codes = data.codes.subarray(0, count * data.codeBytes);
  const embeddings = bytesOf(data.embeddings.subarray(0, count * data.dimension));

  const header = new Uint8Array(headerSize);
  const view = new DataView(header.buffer);
  header.set(Buffer.from(GALLERY_MAGIC, 'latin1'), 0);
  view.setUint32(8, GALLERY_VERSION, true);
  view.setUint32(12, headerSize, true);
  view.setUint32(16, data.dimension, true);
  view.setUint32(20, data.codeBytes, true);
  view.setBigUint64(24, BigInt(count), true);
  view.setBigUint64(32, BigInt(ids.length), true);
  view.setUint32(40, modelId.length, true);
  view.setUint32(44, crc32(ids), true);
  view.setUint32(48, crc32(codes), true);
  view.setUint32(52, crc32(embeddings), true);
  header.set(modelId, FIXED_HEADER);
  view.setUint32(60, headerCrc(header, modelId.length), true);

  const pad = (size: number): Uint8Array => new Uint8Array(padded(size) - size);
  return [header, ids, pad(ids.length), codes, pad(codes.length), embeddings];
}

function headerCrc(header: Uint8Array, modelIdSize: number): number {
  const fixed = crc32(header.subarray(0, 60));
  return crc32(header.subarray(FIXED_HEADER, FIXED_HEADER + modelIdSize), fixed);
}

function galleryError(code: 'GALLERY_TRUNCATED' | 'GALLERY_CORRUPTED' | 'GALLERY_VERSION', file: string, detail: string): FacebitsError {
  return new FacebitsError(code, `Cannot open gallery ${file}: ${detail}`);
}

/**
 * Describes a gallery path that cannot be read (missing, a folder, no permission) as
 * INVALID_ARGUMENT naming the path as given and as resolved, with the fix.
 */
export function galleryPathError(file: string, cause: NodeJS.ErrnoException): FacebitsError {
  const resolved = path.resolve(file);
  const reason =
    cause.code === 'ENOENT' ? `the file does not exist (no file at ${resolved}); pass the path of a gallery written by Gallery.save()`
    : cause.code === 'EISDIR' ? `${resolved} is a folder; pass the path of a gallery file in it`
    : cause.code === 'EACCES' || cause.code === 'EPERM' ? `no permission to read ${resolved}`
    : cause.message;
  return new FacebitsError('INVALID_ARGUMENT', `Cannot open gallery ${file}: ${reason}`, { cause });
}

/**
 * Describes a failure to create the temporary file in terms of `file`, which the caller
 * named, rather than the temporary name. The system error code (ENOENT, EACCES, ...) is kept.
 */
function saveError(file: string, dir: string, cause: NodeJS.ErrnoException): NodeJS.ErrnoException {
  const reason =
    cause.code === 'ENOENT' ? `the folder ${dir} does not exist; create it first`
    : cause.code === 'EACCES' || cause.code === 'EPERM' ? `no permission to create files in ${dir}`
    : cause.message;
  const error: NodeJS.ErrnoException = new Error(`Cannot save gallery ${file}: ${reason}`, { cause });
  error.code = cause.code;
  return error;
}

/**
 * Writes the gallery atomically: a temporary file in the same folder is written and
 * fsynced, renamed over `file`, and the folder is fsynced so the rename is durable. A crash
 * at any point leaves either the old file or the new one under `file`. A crash can leave
 * the temporary file (named `file.<pid>.<random>.tmp`) behind.
 */
export async function writeGalleryFile(file: string, data: GalleryData, key?: Uint8Array): Promise<void> {
  // With a key the whole encoded gallery is sealed with AES-256-GCM in memory, so no
  // plaintext copy reaches the disk.
  const chunks = key ? [seal(Buffer.concat(encodeGallery(data)), key, { kind: 'gallery' })] : encodeGallery(data);
  const dir = path.dirname(path.resolve(file));
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2, 10)}.tmp`;
  const handle = await fs.promises.open(temp, 'wx', 0o644).catch((error: NodeJS.ErrnoException) => {
    throw saveError(file, dir, error);
  });
  try {
    try {
      for (const chunk of chunks) {
        let written = 0;
        while (written < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, written, chunk.length - written);
          written += bytesWritten;
        }
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Windows cannot open or fsync a folder, so there the rename itself is the commit point.
    if (process.platform !== 'win32') throw error;
  } finally {
    await handle?.close();
  }
}

// Reads target.length bytes at `position` into `target`, in calls of at most 1 GiB, and
// returns the count read, which is smaller only at the end of the file.
async function readExactly(handle: fs.promises.FileHandle, target: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < target.length) {
    const size = Math.min(target.length - done, 1 << 30);
    const { bytesRead } = await handle.read(target, done, size, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Random-access bytes that a gallery is parsed from: an open file or a decrypted buffer. */
interface ByteSource {
  size: number;
  /** Fills `target` from `position` and returns the count read, smaller only at the end. */
  read(target: Uint8Array, position: number): Promise<number>;
}

/**
 * Reads and verifies a gallery file. Every size, the file length and all four checksums
 * are checked before anything is returned, so a damaged file never loads in part.
 */
export async function readGalleryFile(file: string): Promise<GalleryData> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    throw galleryPathError(file, error as NodeJS.ErrnoException);
  }
  try {
    const stats = await handle.stat();
    // On Linux, opening a folder for reading succeeds and only the first read fails, with EISDIR.
    if (stats.isDirectory()) throw galleryPathError(file, Object.assign(new Error(`EISDIR: ${file} is a directory`), { code: 'EISDIR' }));
    const { size } = stats;
    return await parseGallery({ size, read: (target, position) => readExactly(handle, target, position) }, file);
  } finally {
    await handle.close();
  }
}

/** Parses and verifies a gallery held in memory, such as one decrypted from a sealed file. */
export function readGalleryBytes(bytes: Uint8Array, file: string): Promise<GalleryData> {
  const read = async (target: Uint8Array, position: number): Promise<number> => {
    const count = Math.max(0, Math.min(target.length, bytes.length - position));
    target.set(bytes.subarray(position, position + count));
    return count;
  };
  return parseGallery({ size: bytes.length, read }, file);
}

// A version field other than 1 is a damaged file unless the header checksum, which every
// version keeps, matches. Only then is the file taken to be from a newer facebits.
async function unknownVersion(source: ByteSource, fixed: Uint8Array, version: number, file: string): Promise<FacebitsError> {
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const modelIdSize = view.getUint32(40, true);
  const fits = FIXED_HEADER + modelIdSize <= source.size;
  const intact = fits && (await modelIdCrc(source, modelIdSize, crc32(fixed.subarray(0, 60)))) === view.getUint32(60, true);
  if (!intact) {
    return galleryError('GALLERY_CORRUPTED', file, `the header checksum does not match and the format version field reads ${version}, so the file is corrupted; restore it from a backup`);
  }
  if (version < GALLERY_VERSION) {
    return galleryError('GALLERY_CORRUPTED', file, `format version ${version} was never written by facebits, so the file is corrupted; restore it from a backup`);
  }
  return galleryError(
    'GALLERY_VERSION', file, `it has format version ${version}, written by a newer facebits; this facebits reads version ${GALLERY_VERSION}, so upgrade facebits to open it`,
  );
}

// Continues the header CRC-32 over the model id, read in chunks of at most 1 MiB because a
// damaged size field can name up to 4 GiB.
async function modelIdCrc(source: ByteSource, modelIdSize: number, crc: number): Promise<number | undefined> {
  const chunk = new Uint8Array(Math.min(modelIdSize, 1 << 20));
  for (let done = 0; done < modelIdSize; ) {
    const part = chunk.subarray(0, Math.min(chunk.length, modelIdSize - done));
    if ((await source.read(part, FIXED_HEADER + done)) < part.length) return undefined;
    crc = crc32(part, crc);
    done += part.length;
  }
  return crc;
}

async function parseGallery(source: ByteSource, file: string): Promise<GalleryData> {
  const { size } = source;
  const fixed = new Uint8Array(FIXED_HEADER);
  const got = await source.read(fixed, 0);
  if (got >= 8 && Buffer.from(fixed.subarray(0, 8)).toString('latin1') !== GALLERY_MAGIC) {
    throw galleryError('GALLERY_CORRUPTED', file, 'it is not a facebits gallery (wrong magic number)');
  }
  if (got < FIXED_HEADER) throw galleryError('GALLERY_TRUNCATED', file, `the file has ${size} bytes, fewer than the ${FIXED_HEADER}-byte header`);

  const view = new DataView(fixed.buffer);
  const version = view.getUint32(8, true);
  if (version !== GALLERY_VERSION) throw await unknownVersion(source, fixed, version, file);
  const headerSize = view.getUint32(12, true);
  const dimension = view.getUint32(16, true);
  const codeBytes = view.getUint32(20, true);
  const count = Number(view.getBigUint64(24, true));
  const idsSize = Number(view.getBigUint64(32, true));
  const modelIdSize = view.getUint32(40, true);
  // The caps on dimension and code length bound what Gallery allocates up front, even for
  // a gallery of no entries (a fuzzing finding: a 128-byte file asked for 32 GiB).
  if (
    headerSize !== padded(FIXED_HEADER + modelIdSize) || codeBytes % 8 !== 0 || !Number.isSafeInteger(count) || !Number.isSafeInteger(idsSize) ||
    dimension > MAX_DIMENSION || codeBytes > MAX_CODE_BYTES
  ) {
    throw galleryError('GALLERY_CORRUPTED', file, 'the header fields are inconsistent');
  }
  if (size < headerSize) throw galleryError('GALLERY_TRUNCATED', file, `the file has ${size} bytes, fewer than its ${headerSize}-byte header`);

  const header = new Uint8Array(headerSize);
  await source.read(header, 0);
  if (headerCrc(header, modelIdSize) !== view.getUint32(60, true)) {
    throw galleryError('GALLERY_CORRUPTED', file, 'the header checksum does not match');
  }
  const modelId = Buffer.from(header.subarray(FIXED_HEADER, FIXED_HEADER + modelIdSize)).toString('utf8');
  // Gallery requires a model id, so an empty one means a damaged file (a fuzzing finding).
  if (modelId.length === 0) throw galleryError('GALLERY_CORRUPTED', file, 'the model id is empty');

  const idsAt = headerSize;
  const codesAt = idsAt + padded(idsSize);
  const codesSize = count * codeBytes;
  const embeddingsAt = codesAt + padded(codesSize);
  const embeddingsSize = count * dimension * 4;
  const expected = embeddingsAt + embeddingsSize;
  if (size < expected) throw galleryError('GALLERY_TRUNCATED', file, `the file has ${size} bytes but its header describes ${expected}`);
  if (size > expected) throw galleryError('GALLERY_CORRUPTED', file, `the file has ${size} bytes but its header describes ${expected}`);

  const idBytes = new Uint8Array(idsSize);
  const codes = new Uint8Array(codesSize);
  const embeddings = new Float32Array(count * dimension);
  const embeddingBytes = bytesOf(embeddings);
  const reads = await Promise.all([
    source.read(idBytes, idsAt),
    source.read(codes, codesAt),
    source.read(embeddingBytes, embeddingsAt),
  ]);
  if (reads[0] < idsSize || reads[1] < codesSize || reads[2] < embeddingsSize) {
    throw galleryError('GALLERY_TRUNCATED', file, 'the file shrank while it was read');
  }
  if (crc32(idBytes) !== view.getUint32(44, true)) throw galleryError('GALLERY_CORRUPTED', file, 'the id section checksum does not match');
  if (crc32(codes) !== view.getUint32(48, true)) throw galleryError('GALLERY_CORRUPTED', file, 'the code section checksum does not match');
  if (crc32(embeddingBytes) !== view.getUint32(52, true)) {
    throw galleryError('GALLERY_CORRUPTED', file, 'the embedding section checksum does not match');
  }

  return { modelId, dimension, codeBytes, ids: decodeIds(idBytes, count, file), codes, embeddings };
}

function decodeIds(bytes: Uint8Array, count: number, file: string): string[] {
  const offsetsSize = (count + 1) * 4;
  if (bytes.length < offsetsSize) throw galleryError('GALLERY_CORRUPTED', file, 'the id section is shorter than its offset table');
  const offsets = new DataView(bytes.buffer, bytes.byteOffset, offsetsSize);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + offsetsSize, bytes.length - offsetsSize);
  const ids = new Array<string>(count);
  let previous = 0;
  for (let i = 0; i < count; i++) {
    const end = offsets.getUint32((i + 1) * 4, true);
    if (end < previous || end > text.length) throw galleryError('GALLERY_CORRUPTED', file, `the offset of id ${i} is out of range`);
    ids[i] = text.toString('utf8', previous, end);
    previous = end;
  }
  if (offsets.getUint32(0, true) !== 0 || previous !== text.length) {
    throw galleryError('GALLERY_CORRUPTED', file, 'the id offsets do not cover the id text');
  }
  return ids;
}
