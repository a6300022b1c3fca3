// Mutation fuzzer for gallery files (lib/gallery-file.ts), which are parsed in TypeScript,
// so libFuzzer does not apply. Each round mutates a valid gallery (bit flips, byte runs,
// extreme header fields, truncation, extension), recomputes the checksums in half of the
// rounds so that the mutation reaches the parser behind them, and opens it with
// Gallery.open(). Every round must either open or raise a FacebitsError with a GALLERY_* or
// MODEL_MISMATCH code; anything else is a finding, saved under fuzz/out/.
//   npx tsx fuzz/gallery-fuzz.ts --seconds 60 [--seed N]
// GALLERY_FUZZ_DEBUG=1 also counts the error messages.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { FacebitsError } from '../lib/errors';
import { Gallery } from '../lib/gallery';
import { crc32, encodeGallery } from '../lib/gallery-file';
import { finish, fuzzArguments, saveFinding } from './driver';

const EXPECTED = new Set(['GALLERY_TRUNCATED', 'GALLERY_CORRUPTED', 'GALLERY_VERSION', 'MODEL_MISMATCH']);

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sampleGallery(ids: string[], dimension: number, codeBytes: number): Uint8Array {
  const codes = Uint8Array.from({ length: ids.length * codeBytes }, (_, i) => (i * 29) & 255);
  const embeddings = Float32Array.from({ length: ids.length * dimension }, (_, i) => Math.sin(i));
  return new Uint8Array(Buffer.concat(encodeGallery({ modelId: 'fuzz@1', dimension, codeBytes, ids, codes, embeddings })));
}

const padded = (n: number): number => Math.ceil(n / 64) * 64;

/** Recomputes the four checksums from whatever the (mutated) header declares, where it can. */
function fixChecksums(bytes: Uint8Array): void {
  if (bytes.length < 64) return;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerSize = view.getUint32(12, true);
  const codeBytes = view.getUint32(20, true);
  const dimension = view.getUint32(16, true);
  const count = Number(view.getBigUint64(24, true));
  const idsSize = Number(view.getBigUint64(32, true));
  const modelIdSize = view.getUint32(40, true);
  const idsAt = headerSize;
  const codesAt = idsAt + padded(idsSize);
  const embeddingsAt = codesAt + padded(count * codeBytes);
  if (idsAt + idsSize <= bytes.length) view.setUint32(44, crc32(bytes.subarray(idsAt, idsAt + idsSize)), true);
  if (codesAt + count * codeBytes <= bytes.length) view.setUint32(48, crc32(bytes.subarray(codesAt, codesAt + count * codeBytes)), true);
  if (embeddingsAt + count * dimension * 4 <= bytes.length) {
    view.setUint32(52, crc32(bytes.subarray(embeddingsAt, embeddingsAt + count * dimension * 4)), true);
  }
  if (64 + modelIdSize <= bytes.length) view.setUint32(60, crc32(bytes.subarray(64, 64 + modelIdSize), crc32(bytes.subarray(0, 60))), true);
}

function mutate(base: Uint8Array, next: () => number): Uint8Array {
  let bytes = new Uint8Array(base);
  const pick = (n: number): number => Math.floor(next() * n);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const view = new DataView(bytes.buffer);
    switch (pick(6)) {
      case 0: if (bytes.length) bytes[pick(bytes.length)] ^= 1 << pick(8); break;
      case 1: if (bytes.length) bytes.fill(pick(256), pick(bytes.length), pick(bytes.length + 1)); break;
      case 2: {
        // A header field set to an edge value.
        const fields = [8, 12, 16, 20, 40];
        const values = [0, 1, 7, 8, 63, 64, 65, 0x7fffffff, 0x80000000, 0xffffffff, pick(4096)];
        if (bytes.length >= 64) view.setUint32(fields[pick(fields.length)], values[pick(values.length)], true);
        break;
      }
      case 3: {
        const fields = [24, 32];
        const values = [0n, 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(pick(1 << 16))];
        if (bytes.length >= 64) view.setBigUint64(fields[pick(fields.length)], values[pick(values.length)], true);
        break;
      }
      case 4: bytes = bytes.subarray(0, pick(bytes.length + 1)).slice(); break;
      default: {
        const extra = new Uint8Array(bytes.length + 1 + pick(200));
        extra.set(bytes);
        bytes = extra;
      }
    }
  }
  if (next() < 0.5) fixChecksums(bytes);
  return bytes;
}

export interface FuzzReport {
  rounds: number;
  opened: number;
  codes: Record<string, number>;
  findings: string[];
}

/** Runs rounds until `seconds` pass or `maxRounds` are done. */
export async function fuzzGalleries(seconds: number, seed = 1, maxRounds = Infinity): Promise<FuzzReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-gallery-fuzz-'));
  const file = path.join(dir, 'g.fbg');
  const bases = [
    sampleGallery(['alice', 'bob', 'carol'], 8, 8),
    sampleGallery([], 4, 8),
    sampleGallery(['x'.repeat(300), 'ü', ''], 3, 16),
  ];
  const next = random(seed);
  const report: FuzzReport = { rounds: 0, opened: 0, codes: {}, findings: [] };
  const end = Date.now() + seconds * 1000;
  try {
    while (Date.now() < end && report.rounds < maxRounds) {
      const bytes = mutate(bases[report.rounds % bases.length], next);
      fs.writeFileSync(file, bytes);
      report.rounds++;
      try {
        const gallery = await Gallery.open(file, { modelId: next() < 0.1 ? 'other@1' : undefined });
        gallery.snapshot();
        report.opened++;
      } catch (error) {
        const code = error instanceof FacebitsError ? error.code : undefined;
        if (code && EXPECTED.has(code)) {
          report.codes[code] = (report.codes[code] ?? 0) + 1;
          if (process.env.GALLERY_FUZZ_DEBUG) {
            // Tally by message, numbers removed, to see which checks the mutations reach.
            const key = (error as Error).message.replace(/^.*\.fbg: /, '').replace(/[0-9]+/g, 'N');
            report.codes[key] = (report.codes[key] ?? 0) + 1;
          }
        } else {
          saveFinding(report.findings, 'gallery', '.fbg', seed, report.rounds, bytes, error);
        }
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return report;
}

if (require.main === module) {
  const { seconds, seed } = fuzzArguments();
  fuzzGalleries(seconds, seed).then((report) => {
    finish(`gallery-fuzz: seed ${seed}, ${report.rounds} rounds in ${seconds} s, ${report.opened} opened, ${JSON.stringify(report.codes)}`, report.findings);
  });
}
