// AES-256-GCM protection of stored templates and galleries with a key the caller holds.
//
// A sealed blob, version 1:
//   offset  size  field
//        0     6  magic "FBSEAL"
//        6     1  version (1)
//        7     1  content kind: 0 bytes, 1 template, 2 gallery
//        8    12  IV, random for every seal
//       20     n  ciphertext (same length as the plaintext)
//     20+n    16  GCM authentication tag
// The 20 header bytes are authenticated with the ciphertext, followed by the caller's
// optional associated data (for example a user or gallery id). A blob moved to another
// record, a changed kind and any flipped bit therefore all fail to open.
//
// seal()/open() use node:crypto. sealAsync()/openAsync() use WebCrypto (globalThis.crypto.subtle),
// which browsers and Node 18+ both provide, and read and write the same format.

import * as crypto from 'node:crypto';

import { FacebitsError, invalidParameter } from './errors';
import { parseTemplate, serializeTemplate, Template } from './template';

export const SEAL_MAGIC = 'FBSEAL';
export const SEAL_VERSION = 1;
export const SEAL_KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 8 + IV_BYTES;

/** Content kind of a sealed blob. The kind is authenticated, so open() can require one. */
export type SealedKind = 'bytes' | 'template' | 'gallery';
const KINDS: SealedKind[] = ['bytes', 'template', 'gallery'];

export interface SealOptions {
  /** Default 'bytes'. */
  kind?: SealedKind;
  /** Extra data bound to the blob but not stored in it. open() must pass the same bytes. */
  associatedData?: Uint8Array;
}

export interface OpenOptions {
  /** When set, a blob of another kind raises SEALED_INVALID. */
  kind?: SealedKind;
  associatedData?: Uint8Array;
}

/** Generates a random 256-bit key. Store it apart from the data it protects (a KMS, keystore or HSM). */
export function generateKey(): Uint8Array {
  return new Uint8Array(crypto.randomBytes(SEAL_KEY_BYTES));
}

function checkKey(key: unknown): Uint8Array {
  if (!(key instanceof Uint8Array) || key.length !== SEAL_KEY_BYTES) {
    throw invalidParameter('key', `a Uint8Array of ${SEAL_KEY_BYTES} bytes (AES-256)`, key);
  }
  return key;
}

function checkBytes(value: unknown, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidParameter(name, 'a Uint8Array', value);
  return value;
}

function kindCode(kind: SealedKind | undefined): number {
  const code = KINDS.indexOf(kind ?? 'bytes');
  if (code < 0) throw invalidParameter('kind', '"bytes", "template" or "gallery"', kind);
  return code;
}

function header(kind: number, iv: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER_BYTES);
  for (let i = 0; i < SEAL_MAGIC.length; i++) out[i] = SEAL_MAGIC.charCodeAt(i);
  out[6] = SEAL_VERSION;
  out[7] = kind;
  out.set(iv, 8);
  return out;
}

function aad(head: Uint8Array, extra: Uint8Array | undefined): Uint8Array {
  if (extra === undefined) return head;
  const out = new Uint8Array(head.length + extra.length);
  out.set(head);
  out.set(checkBytes(extra, 'associatedData'), head.length);
  return out;
}

/** Checks the header of a blob and returns its kind code. */
function parseHeader(blob: Uint8Array, expected: SealedKind | undefined): number {
  if (blob.length < HEADER_BYTES + TAG_BYTES) {
    throw new FacebitsError('SEALED_INVALID', `Sealed data has ${blob.length} bytes, fewer than the ${HEADER_BYTES + TAG_BYTES} of an empty blob`);
  }
  for (let i = 0; i < SEAL_MAGIC.length; i++) {
    if (blob[i] !== SEAL_MAGIC.charCodeAt(i)) throw new FacebitsError('SEALED_INVALID', 'The data is not sealed by facebits (wrong magic)');
  }
  if (blob[6] !== SEAL_VERSION) {
    throw new FacebitsError('SEALED_INVALID', `Sealed format version ${blob[6]} is unknown to this facebits, which reads version ${SEAL_VERSION}; the file is damaged or was sealed by a newer facebits, so restore it from a copy or upgrade facebits`);
  }
  const kind = blob[7];
  if (kind >= KINDS.length) throw new FacebitsError('SEALED_INVALID', `Sealed content kind ${kind} is unknown`);
  if (expected !== undefined && KINDS[kind] !== expected) {
    throw new FacebitsError('SEALED_INVALID', `The sealed data holds a ${KINDS[kind]}, not a ${expected}`);
  }
  return kind;
}

function decryptionFailed(cause?: unknown): FacebitsError {
  return new FacebitsError(
    'DECRYPTION_FAILED',
    'The sealed data cannot be opened: the key is wrong, the data was changed, or the associated data differs',
    { cause },
  );
}

/** Encrypts and authenticates `plaintext` with AES-256-GCM under `key` (32 bytes). */
export function seal(plaintext: Uint8Array, key: Uint8Array, options: SealOptions = {}): Uint8Array {
  checkBytes(plaintext, 'plaintext');
  checkKey(key);
  const head = header(kindCode(options.kind), crypto.randomBytes(IV_BYTES));
  const cipher = crypto.createCipheriv('aes-256-gcm', key, head.subarray(8), { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(head, options.associatedData));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const out = new Uint8Array(HEADER_BYTES + body.length + TAG_BYTES);
  out.set(head);
  out.set(body, HEADER_BYTES);
  out.set(cipher.getAuthTag(), HEADER_BYTES + body.length);
  return out;
}

/**
 * Verifies and decrypts a blob from seal() or sealAsync(). Raises SEALED_INVALID for data
 * that is not a sealed blob of the expected kind and DECRYPTION_FAILED for a wrong key or
 * changed bytes; no plaintext is returned unless the tag verifies.
 */
export function open(blob: Uint8Array, key: Uint8Array, options: OpenOptions = {}): Uint8Array {
  checkBytes(blob, 'blob');
  checkKey(key);
  parseHeader(blob, options.kind);
  const head = blob.subarray(0, HEADER_BYTES);
  const tagAt = blob.length - TAG_BYTES;
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, head.subarray(8), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(head, options.associatedData));
    decipher.setAuthTag(blob.subarray(tagAt));
    const body = Buffer.concat([decipher.update(blob.subarray(HEADER_BYTES, tagAt)), decipher.final()]);
    return new Uint8Array(body.buffer, body.byteOffset, body.length);
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw decryptionFailed(error);
  }
}

type WebCrypto = crypto.webcrypto.Crypto;

function webCrypto(): WebCrypto {
  const web = (globalThis as { crypto?: WebCrypto }).crypto;
  if (!web?.subtle) throw new FacebitsError('NATIVE_UNAVAILABLE', 'WebCrypto (globalThis.crypto.subtle) is not available in this runtime');
  return web;
}

function subtle(): crypto.webcrypto.SubtleCrypto {
  return webCrypto().subtle;
}

async function importKey(key: Uint8Array, usage: crypto.webcrypto.KeyUsage): Promise<crypto.webcrypto.CryptoKey> {
  return subtle().importKey('raw', checkKey(key), { name: 'AES-GCM' }, false, [usage]);
}

/** seal() through WebCrypto, for browsers; the output opens with open() or openAsync(). */
export async function sealAsync(plaintext: Uint8Array, key: Uint8Array, options: SealOptions = {}): Promise<Uint8Array> {
  checkBytes(plaintext, 'plaintext');
  const cryptoKey = await importKey(key, 'encrypt');
  const iv = new Uint8Array(IV_BYTES);
  webCrypto().getRandomValues(iv);
  const head = header(kindCode(options.kind), iv);
  const sealed = new Uint8Array(
    await subtle().encrypt({ name: 'AES-GCM', iv, additionalData: aad(head, options.associatedData), tagLength: TAG_BYTES * 8 }, cryptoKey, plaintext),
  );
  const out = new Uint8Array(HEADER_BYTES + sealed.length);
  out.set(head);
  out.set(sealed, HEADER_BYTES);
  return out;
}

/** open() through WebCrypto, for browsers. */
export async function openAsync(blob: Uint8Array, key: Uint8Array, options: OpenOptions = {}): Promise<Uint8Array> {
  checkBytes(blob, 'blob');
  const cryptoKey = await importKey(key, 'decrypt');
  parseHeader(blob, options.kind);
  const head = blob.slice(0, HEADER_BYTES);
  try {
    return new Uint8Array(
      await subtle().decrypt(
        { name: 'AES-GCM', iv: head.subarray(8), additionalData: aad(head, options.associatedData), tagLength: TAG_BYTES * 8 },
        cryptoKey,
        blob.subarray(HEADER_BYTES),
      ),
    );
  } catch (error) {
    throw decryptionFailed(error);
  }
}

/**
 * Serialises and seals an enrolment template. Pass the user or record id as
 * `associatedData` so that the blob only opens for that record.
 */
export function sealTemplate(template: Template, key: Uint8Array, associatedData?: Uint8Array): Uint8Array {
  return seal(serializeTemplate(template), key, { kind: 'template', associatedData });
}

/**
 * Opens a blob from sealTemplate() and parses the template. Raises DECRYPTION_FAILED or
 * SEALED_INVALID as open() does, and INVALID_TEMPLATE if the plaintext is not a template.
 */
export function openTemplate(blob: Uint8Array, key: Uint8Array, associatedData?: Uint8Array): Template {
  return parseTemplate(open(blob, key, { kind: 'template', associatedData }));
}
