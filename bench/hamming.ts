// Hamming scan: one query against 1 M codes, against a plain read of the same buffer.

import { native } from '../lib/native';
import { Row } from './report';
import { measureGroup, MeasureOptions } from './stats';
import { WrongResultError } from './setup';

function randomBytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let state = seed >>> 0;
  for (let i = 0; i < count; i += 4) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = state;
    out[i + 1] = state >>> 8;
    out[i + 2] = state >>> 16;
    out[i + 3] = state >>> 24;
  }
  return out;
}

function popcount8(value: number): number {
  let count = 0;
  for (let v = value; v; v &= v - 1) count++;
  return count;
}

/** Throws WrongResultError unless sampled distances match a byte-by-byte count. */
function checkDistances(query: Uint8Array, codes: Uint8Array, distances: Uint32Array): void {
  const bytes = query.length;
  for (let i = 0; i < distances.length; i += 9973) {
    let expected = 0;
    for (let b = 0; b < bytes; b++) expected += popcount8(query[b] ^ codes[i * bytes + b]);
    if (distances[i] !== expected) {
      throw new WrongResultError(`Hamming ${bytes * 8}-bit: code ${i} has distance ${distances[i]}, expected ${expected}`);
    }
  }
}

export async function hammingRows(options: MeasureOptions, count: number): Promise<Row[]> {
  const binding = native();
  const rows: Row[] = [];
  for (const bits of [256, 512]) {
    const bytes = bits / 8;
    const codes = randomBytes(count * bytes, bits);
    const query = randomBytes(bytes, 7);
    checkDistances(query, codes, binding.hammingMany(query, codes, count));

    const [scan, read] = await measureGroup(
      [
        [`hamming ${bits}`, () => binding.hammingMany(query, codes, count)],
        [`read ${bits}`, () => binding.readSum(codes)],
      ],
      options,
    );
    const gigabytes = (ms: number): number => codes.length / (ms * 1e6);
    rows.push({
      section: `Hamming scan, one query against ${count.toLocaleString('en-US')} codes, one thread`,
      name: `${bits}-bit codes (${(codes.length / 2 ** 20).toFixed(0)} MiB)`,
      facebits: scan,
      peer: { name: 'read-sum of the same buffer', timing: read },
      rate: { facebits: count / (scan.median / 1000) / 1e6, unit: 'M comparisons/s' },
      note: `scan ${gigabytes(scan.median).toFixed(1)} GB/s = ${((100 * read.median) / scan.median).toFixed(0)} % of read ${gigabytes(read.median).toFixed(1)} GB/s`,
    });
  }
  return rows;
}
