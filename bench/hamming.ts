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

/** Throws WrongResultError unless the top 10 are the 10 smallest distances, ties by lower index. */
function checkTopK(top: { indices: Uint32Array; distances: Uint32Array }, distances: Uint32Array): void {
  const order = Array.from(distances.keys()).sort((a, b) => distances[a] - distances[b] || a - b).slice(0, 10);
  if (order.some((index, rank) => top.indices[rank] !== index || top.distances[rank] !== distances[index])) {
    throw new WrongResultError(`Hamming top 10: got ${Array.from(top.indices)}, expected ${order}`);
  }
}

/**
 * Times two scans per code length against a read of the same buffer, in one group. The first
 * writes every distance into one reused buffer (hammingMany with `out`). The second keeps the
 * 10 nearest codes on one thread (hammingTopK), the first stage of a 1:N search.
 */
export async function hammingRows(options: MeasureOptions, count: number): Promise<Row[]> {
  const binding = native();
  const rows: Row[] = [];
  for (const bits of [256, 512]) {
    const bytes = bits / 8;
    const codes = randomBytes(count * bytes, bits);
    const query = randomBytes(bytes, 7);
    const distances = new Uint32Array(count);
    checkDistances(query, codes, binding.hammingMany(query, codes, count, distances));
    checkTopK(binding.hammingTopK(query, codes, count, 10, 1), distances);

    const [scan, topK, read] = await measureGroup(
      [
        [`hamming ${bits}`, () => binding.hammingMany(query, codes, count, distances)],
        [`top-10 ${bits}`, () => binding.hammingTopK(query, codes, count, 10, 1)],
        [`read ${bits}`, () => binding.readSum(codes)],
      ],
      options,
    );
    const gigabytes = (ms: number): number => codes.length / (ms * 1e6);
    const section = `Hamming scan, one query against ${count.toLocaleString('en-US')} codes, one thread`;
    const size = `${bits}-bit codes (${(codes.length / 2 ** 20).toFixed(0)} MiB)`;
    for (const [name, timing] of [[`${size}, all distances`, scan], [`${size}, top 10`, topK]] as const) {
      rows.push({
        section,
        name,
        facebits: timing,
        peer: { name: 'read-sum of the same buffer', timing: read },
        rate: { facebits: count / (timing.median / 1000) / 1e6, unit: 'M comparisons/s' },
        note: `scan ${gigabytes(timing.median).toFixed(1)} GB/s = ${((100 * read.median) / timing.median).toFixed(0)} % of read ${gigabytes(read.median).toFixed(1)} GB/s`,
      });
    }
  }
  return rows;
}
