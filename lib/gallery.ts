// A gallery of enrolled templates with two-stage 1:N search: a Hamming top-k scan over
// the binary codes in the native core, then a cosine re-rank of that shortlist.

import * as fs from 'node:fs';

import { FacebitsError, invalidParameter } from './errors';
import { GalleryData, galleryPathError, readGalleryBytes, readGalleryFile, writeGalleryFile } from './gallery-file';
import { native } from './native';
import { open as openSealed, SEAL_MAGIC } from './protect';

/**
 * The entry a gallery stores per id: an embedding and its binary code. The result of
 * `embed()` has both fields. The embedding is L2-normalised on insertion, and the code is stored as
 * given, so it may come from sign bits or from any projection of fixed length.
 */
export interface GalleryTemplate {
  embedding: Float32Array;
  code: Uint8Array;
}

export interface GalleryOptions {
  /** The embedding model's identity (`Facebits.modelId`); files record it and `open` checks it. */
  modelId: string;
  /** Embedding length. Taken from the first template when omitted. */
  dimension?: number;
  /** Code length in bytes, a multiple of 8. Taken from the first template when omitted. */
  codeBytes?: number;
}

export interface SearchOptions {
  /** Number of matches to return (default 1). */
  k?: number;
  /** Minimum cosine similarity of a returned match (default: no minimum). */
  threshold?: number;
  /** Candidates kept by the Hamming scan for the cosine re-rank (default 100, at least k). */
  shortlist?: number;
  /** Scores every entry by cosine and skips the Hamming scan, to measure its recall. */
  exact?: boolean;
  /** Threads for the Hamming scan; 0 (the default) uses all cores for 64 Ki entries or more. */
  threads?: number;
}

export interface GalleryMatch {
  id: string;
  /** Cosine similarity between the probe and the stored embedding. */
  score: number;
  /** Hamming distance between the probe and the stored code. */
  hamming: number;
}

export interface OpenOptions {
  /** Raises MODEL_MISMATCH when the file was made with another model. */
  modelId?: string;
  /** AES-256 key (32 bytes) of a gallery saved with one; see protect.ts. */
  key?: Uint8Array;
}

export interface SaveOptions {
  /** Seals the file with AES-256-GCM under this 32-byte key. Keep the key apart from the file. */
  key?: Uint8Array;
}

const INITIAL_CAPACITY = 16;

export class Gallery {
  readonly modelId: string;
  private dimensionValue: number;
  private codeBytesValue: number;
  private ids: string[] = [];
  private readonly index = new Map<string, number>();
  // Entry i sits at codes[i * codeBytes] and embeddings[i * dimension]; the arrays hold
  // `capacity` entries and grow by half when full.
  private codes: Uint8Array;
  private embeddings: Float32Array;

  constructor(options: GalleryOptions) {
    if (!options || typeof options.modelId !== 'string' || options.modelId.length === 0) {
      throw invalidParameter('options.modelId', 'a non-empty model id string', options?.modelId);
    }
    this.modelId = options.modelId;
    this.dimensionValue = options.dimension ?? 0;
    this.codeBytesValue = options.codeBytes ?? 0;
    if (!Number.isInteger(this.dimensionValue) || this.dimensionValue < 0) {
      throw invalidParameter('options.dimension', 'a positive integer', options.dimension);
    }
    if (!Number.isInteger(this.codeBytesValue) || this.codeBytesValue < 0 || this.codeBytesValue % 8 !== 0) {
      throw invalidParameter('options.codeBytes', 'a positive multiple of 8', options.codeBytes);
    }
    this.codes = new Uint8Array(INITIAL_CAPACITY * this.codeBytesValue);
    this.embeddings = new Float32Array(INITIAL_CAPACITY * this.dimensionValue);
  }

  /**
   * Reads a gallery file. Checksums and sizes are verified before anything is kept, and
   * the codes and embeddings are read into one contiguous buffer each. Raises
   * GALLERY_TRUNCATED, GALLERY_CORRUPTED, GALLERY_VERSION or MODEL_MISMATCH.
   */
  static async open(file: string, options: OpenOptions = {}): Promise<Gallery> {
    const data = options.key ? await readSealedGallery(file, options.key) : await readGalleryFile(file).catch((error) => {
      throw sealedWithoutKey(file, error);
    });
    if (options.modelId !== undefined && options.modelId !== data.modelId) {
      throw new FacebitsError(
        'MODEL_MISMATCH',
        `Gallery ${file} was made with model "${data.modelId}" but the loaded model is "${options.modelId}"; ` +
          'enrol the faces again with this model or load the model the gallery was made with',
      );
    }
    const gallery = new Gallery({ modelId: data.modelId, dimension: data.dimension, codeBytes: data.codeBytes });
    gallery.ids = data.ids;
    data.ids.forEach((id, i) => gallery.index.set(id, i));
    if (gallery.index.size !== data.ids.length) {
      throw new FacebitsError('GALLERY_CORRUPTED', `Cannot open gallery ${file}: it contains a duplicate id`);
    }
    gallery.codes = data.codes;
    gallery.embeddings = data.embeddings;
    return gallery;
  }

  /** Writes the gallery atomically (see writeGalleryFile): a crash leaves the old or the new file. */
  save(file: string, options: SaveOptions = {}): Promise<void> {
    return writeGalleryFile(file, this.snapshot(), options.key);
  }

  /** Returns the contents in file order, as views of this gallery's buffers (not copies). */
  snapshot(): GalleryData {
    return {
      modelId: this.modelId,
      dimension: this.dimensionValue,
      codeBytes: this.codeBytesValue,
      ids: this.ids.slice(),
      codes: this.codes.subarray(0, this.size * this.codeBytesValue),
      embeddings: this.embeddings.subarray(0, this.size * this.dimensionValue),
    };
  }

  get size(): number {
    return this.ids.length;
  }

  /** Embedding length, 0 until the first template sets it. */
  get dimension(): number {
    return this.dimensionValue;
  }

  /** Code length in bytes, 0 until the first template sets it. */
  get codeBytes(): number {
    return this.codeBytesValue;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** Returns the enrolled ids in storage order. */
  list(): string[] {
    return this.ids.slice();
  }

  /** Enrols a template under `id`. Raises INVALID_ARGUMENT when the id is already enrolled. */
  add(id: string, template: GalleryTemplate): void {
    if (typeof id !== 'string' || id.length === 0) throw invalidParameter('id', 'a non-empty string', id);
    if (this.index.has(id)) {
      throw new FacebitsError('INVALID_ARGUMENT', `Gallery already contains id "${id}"; remove it first to replace it`);
    }
    this.checkTemplate(template, 'template', true);
    this.reserve(this.size + 1);

    const at = this.size;
    this.codes.set(template.code, at * this.codeBytesValue);
    this.embeddings.set(normalised(template.embedding), at * this.dimensionValue);
    this.ids.push(id);
    this.index.set(id, at);
  }

  /**
   * Removes `id` and returns whether it was enrolled. The last entry moves into the freed
   * slot, so storage order changes and the buffers stay contiguous.
   */
  remove(id: string): boolean {
    const at = this.index.get(id);
    if (at === undefined) return false;
    const last = this.size - 1;
    if (at !== last) {
      const c = this.codeBytesValue;
      const d = this.dimensionValue;
      this.codes.copyWithin(at * c, last * c, (last + 1) * c);
      this.embeddings.copyWithin(at * d, last * d, (last + 1) * d);
      this.ids[at] = this.ids[last];
      this.index.set(this.ids[at], at);
    }
    this.ids.pop();
    this.index.delete(id);
    return true;
  }

  /** Returns a copy of the stored template (embedding normalised), or undefined. */
  get(id: string): GalleryTemplate | undefined {
    const at = this.index.get(id);
    if (at === undefined) return undefined;
    return {
      embedding: this.embeddings.slice(at * this.dimensionValue, (at + 1) * this.dimensionValue),
      code: this.codes.slice(at * this.codeBytesValue, (at + 1) * this.codeBytesValue),
    };
  }

  /** Returns up to k matches, best first by cosine similarity (ties by storage order). */
  search(probe: GalleryTemplate, options: SearchOptions = {}): GalleryMatch[] {
    const k = options.k ?? 1;
    const shortlist = options.shortlist ?? 100;
    const threads = options.threads ?? 0;
    if (!Number.isInteger(k) || k < 1) throw invalidParameter('options.k', 'a positive integer', options.k);
    if (!Number.isInteger(shortlist) || shortlist < 1) throw invalidParameter('options.shortlist', 'a positive integer', options.shortlist);
    if (!Number.isInteger(threads) || threads < 0) throw invalidParameter('options.threads', 'a non-negative integer', options.threads);
    if (options.threshold !== undefined && !Number.isFinite(options.threshold)) {
      throw invalidParameter('options.threshold', 'a finite number', options.threshold);
    }
    if (this.size === 0) return [];
    this.checkTemplate(probe, 'probe', false);

    const query = normalised(probe.embedding);
    const candidates = options.exact ? this.exactCandidates(query, k) : this.shortlistCandidates(probe.code, Math.max(k, shortlist), threads);
    const scored = candidates.map((i) => ({ i, score: this.cosine(query, i) }));
    scored.sort((a, b) => b.score - a.score || a.i - b.i);

    const threshold = options.threshold ?? -Infinity;
    const codes = this.codes;
    const bytes = this.codeBytesValue;
    return scored
      .filter((m) => m.score >= threshold)
      .slice(0, k)
      .map((m) => ({
        id: this.ids[m.i],
        score: m.score,
        hamming: native().hamming(probe.code, codes.subarray(m.i * bytes, (m.i + 1) * bytes)),
      }));
  }

  private shortlistCandidates(code: Uint8Array, shortlist: number, threads: number): number[] {
    const codes = this.codes.subarray(0, this.size * this.codeBytesValue);
    const { indices } = native().hammingTopK(code, codes, this.size, shortlist, threads);
    return Array.from(indices);
  }

  // Every entry's cosine, keeping the best k in a small sorted array.
  private exactCandidates(query: Float32Array, k: number): number[] {
    const best: { i: number; score: number }[] = [];
    for (let i = 0; i < this.size; i++) {
      const score = this.cosine(query, i);
      if (best.length === k && score <= best[k - 1].score) continue;
      let at = best.length;
      while (at > 0 && best[at - 1].score < score) at--;
      best.splice(at, 0, { i, score });
      if (best.length > k) best.pop();
    }
    return best.map((b) => b.i);
  }

  private cosine(query: Float32Array, i: number): number {
    const d = this.dimensionValue;
    const e = this.embeddings;
    const base = i * d;
    let dot = 0;
    for (let j = 0; j < d; j++) dot += query[j] * e[base + j];
    return dot;
  }

  private checkTemplate(template: GalleryTemplate, name: string, setsShape: boolean): void {
    if (!template || !(template.embedding instanceof Float32Array) || !(template.code instanceof Uint8Array)) {
      throw invalidParameter(name, 'a template { embedding: Float32Array, code: Uint8Array } such as the result of embed()', template);
    }
    const { embedding, code } = template;
    if (setsShape && this.size === 0) this.setShape(embedding.length, code.length);
    if (embedding.length !== this.dimensionValue) {
      throw new FacebitsError('INVALID_ARGUMENT', `${name} embedding has ${embedding.length} values but the gallery stores ${this.dimensionValue}`);
    }
    if (code.length !== this.codeBytesValue) {
      throw new FacebitsError('INVALID_ARGUMENT', `${name} code has ${code.length} bytes but the gallery stores ${this.codeBytesValue}-byte codes`);
    }
    if (!embedding.every(Number.isFinite) || !embedding.some((v) => v !== 0)) {
      throw new FacebitsError('INVALID_ARGUMENT', `${name} embedding must be finite and not all zero`);
    }
  }

  private setShape(dimension: number, codeBytes: number): void {
    if (dimension === 0) throw new FacebitsError('INVALID_ARGUMENT', 'A template embedding must not be empty');
    if (codeBytes === 0 || codeBytes % 8 !== 0) {
      throw new FacebitsError('INVALID_ARGUMENT', `A template code must be a non-empty multiple of 8 bytes, received ${codeBytes}`);
    }
    // A dimension or code length given to the constructor stays fixed; checkTemplate
    // compares the template against it next.
    if (this.dimensionValue === 0) this.dimensionValue = dimension;
    if (this.codeBytesValue === 0) this.codeBytesValue = codeBytes;
    if (this.codes.length > 0 && this.embeddings.length > 0) return;
    this.codes = new Uint8Array(INITIAL_CAPACITY * this.codeBytesValue);
    this.embeddings = new Float32Array(INITIAL_CAPACITY * this.dimensionValue);
  }

  private reserve(count: number): void {
    const capacity = this.codes.length / this.codeBytesValue;
    if (count <= capacity) return;
    const grown = Math.max(count, Math.ceil(capacity * 1.5), INITIAL_CAPACITY);
    const codes = new Uint8Array(grown * this.codeBytesValue);
    codes.set(this.codes.subarray(0, this.size * this.codeBytesValue));
    const embeddings = new Float32Array(grown * this.dimensionValue);
    embeddings.set(this.embeddings.subarray(0, this.size * this.dimensionValue));
    this.codes = codes;
    this.embeddings = embeddings;
  }
}

function normalised(embedding: Float32Array): Float32Array {
  let sum = 0;
  for (let j = 0; j < embedding.length; j++) sum += embedding[j] * embedding[j];
  const norm = Math.sqrt(sum);
  return embedding.map((v) => v / norm);
}

/** Reads a sealed gallery: DECRYPTION_FAILED for a wrong key or changed bytes, then the usual checks. */
async function readSealedGallery(file: string, key: Uint8Array): Promise<GalleryData> {
  let blob: Buffer;
  try {
    blob = await fs.promises.readFile(file);
  } catch (error) {
    throw galleryPathError(file, error as NodeJS.ErrnoException);
  }
  return readGalleryBytes(openSealed(blob, key, { kind: 'gallery' }), file);
}

/** Names the fix when a sealed gallery is opened without its key. */
function sealedWithoutKey(file: string, error: unknown): unknown {
  const sealed = error instanceof FacebitsError && error.code === 'GALLERY_CORRUPTED' && isSealedFile(file);
  if (!sealed) return error;
  return new FacebitsError('INVALID_ARGUMENT', `Gallery ${file} is encrypted; pass its key as Gallery.open(file, { key })`, { cause: error });
}

function isSealedFile(file: string): boolean {
  const head = Buffer.alloc(SEAL_MAGIC.length);
  const fd = fs.openSync(file, 'r');
  try {
    return fs.readSync(fd, head, 0, head.length, 0) === head.length && head.toString('latin1') === SEAL_MAGIC;
  } finally {
    fs.closeSync(fd);
  }
}
