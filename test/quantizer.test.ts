// Fitted quantisers (PCA, within-class whitening, ITQ, thermometer bits), the eigen-solver
// and ITQ they rest on, and the versioned quantiser file.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { encode, fitQuantizer, loadQuantizer, parseQuantizer, randomQuantizer, saveQuantizer, serializeQuantizer } from '../lib';
import { crc32 } from '../lib/template';
import { verifyNative } from '../lib/verify-native';
import { errorCode } from './helpers';
import { random, randomArray } from './native-reference';

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** `people` identities of `perPerson` noisy unit embeddings each, and their labels. */
function clusters(dim: number, people: number, perPerson: number, noise: number, seed: number): { embeddings: Float32Array[]; labels: number[] } {
  const next = random(seed);
  const embeddings: Float32Array[] = [];
  const labels: number[] = [];
  for (let p = 0; p < people; p++) {
    const centre = randomArray(dim, next);
    for (let k = 0; k < perPerson; k++) {
      embeddings.push(unit(centre.map((x) => x + noise * (next() * 2 - 1))));
      labels.push(p);
    }
  }
  return { embeddings, labels };
}

function popcount(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) for (let x = a[i] ^ b[i]; x; x &= x - 1) total++;
  return total;
}

test('symmetricEigen solves A v = lambda v', () => {
  const next = random(11);
  for (const n of [1, 2, 7, 64]) {
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = next() - 0.5;
    const { values, vectors } = verifyNative().symmetricEigen(a, n);
    for (let k = 0; k < n; k++) {
      if (k > 0) assert.ok(values[k] <= values[k - 1], `values descend at ${k} for n ${n}`);
      let norm = 0;
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j] * vectors[k * n + j];
        assert.ok(Math.abs(av - values[k] * vectors[k * n + i]) < 1e-10, `residual at ${k}, ${i} for n ${n}`);
        norm += vectors[k * n + i] ** 2;
      }
      assert.ok(Math.abs(norm - 1) < 1e-10, `unit vector ${k} for n ${n}`);
    }
  }
});

test('iterativeQuantization lowers the quantisation loss', () => {
  const next = random(12);
  const c = 16, n = 400;
  const v = randomArray(n * c, next);
  for (let r = 0; r < n; r++) v[r * c] *= 4;
  const start = verifyNative().randomOrthogonal(c, c, 5);
  const before = verifyNative().iterativeQuantization(v, c, start, 0);
  const after = verifyNative().iterativeQuantization(v, c, start, 30);
  assert.ok(after.loss < before.loss, `loss ${after.loss} after 30 rounds, ${before.loss} before`);
  // The result is orthogonal: R R^T = I.
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) {
      let dot = 0;
      for (let k = 0; k < c; k++) dot += after.rotation[i * c + k] * after.rotation[j * c + k];
      assert.ok(Math.abs(dot - (i === j ? 1 : 0)) < 1e-4, `R R^T at ${i}, ${j}`);
    }
  }
});

test('thermometer bits split each axis at its quantiles', () => {
  const { embeddings, labels } = clusters(24, 30, 4, 0.3, 3);
  const q = fitQuantizer(embeddings, { bits: 40, labels, bitsPerAxis: 2 });
  assert.is(q.kind, 'fitted');
  assert.is(q.matrix.length, 40 * 24);
  // 20 axes, each read twice: bit b and bit b + 20 share a row, at the 1/3 and 2/3 quantiles.
  for (let b = 0; b < 20; b++) {
    assert.equal(Array.from(q.matrix.subarray(b * 24, b * 24 + 24)), Array.from(q.matrix.subarray((b + 20) * 24, (b + 21) * 24)), `rows ${b}, ${b + 20}`);
    assert.ok(q.offsets[b] < q.offsets[b + 20], `offsets of axis ${b}`);
  }
  const ones = new Float64Array(40);
  for (const e of embeddings) {
    const c = encode(q, e);
    for (let b = 0; b < 40; b++) ones[b] += (c[b >> 3] >> (b & 7)) & 1;
  }
  for (let b = 0; b < 40; b++) {
    const expected = b < 20 ? 2 / 3 : 1 / 3;
    assert.ok(Math.abs(ones[b] / embeddings.length - expected) < 0.02, `bit ${b} set for ${ones[b]} of ${embeddings.length}`);
  }
});

test('labelled codes separate identities better than random ones', () => {
  // Noise dominates 20 of 24 directions; identities differ only in the first 4.
  const next = random(21);
  const embeddings: Float32Array[] = [];
  const labels: number[] = [];
  for (let p = 0; p < 60; p++) {
    const centre = Float32Array.from({ length: 24 }, (_, i) => (i < 4 ? next() * 2 - 1 : 0));
    for (let k = 0; k < 4; k++) {
      embeddings.push(unit(centre.map((x, i) => x + (i < 4 ? 0.05 : 0.6) * (next() * 2 - 1))));
      labels.push(p);
    }
  }
  const margin = (q: ReturnType<typeof fitQuantizer>): number => {
    let same = 0, different = 0;
    for (let p = 0; p < 60; p++) {
      const a = encode(q, embeddings[p * 4]);
      same += popcount(a, encode(q, embeddings[p * 4 + 1]));
      different += popcount(a, encode(q, embeddings[((p + 1) % 60) * 4]));
    }
    return (different - same) / 60;
  };
  const labelled = margin(fitQuantizer(embeddings, { bits: 32, labels, bitsPerAxis: 2 }));
  const plain = margin(randomQuantizer(24, { bits: 32 }));
  assert.ok(labelled > plain, `mean Hamming margin ${labelled} labelled, ${plain} random`);
});

test('fitQuantizer rejects invalid options', () => {
  const { embeddings, labels } = clusters(8, 5, 3, 0.2, 4);
  assert.is(errorCode(() => fitQuantizer(embeddings, { labels: labels.slice(1) })), 'INVALID_ARGUMENT', 'labels length');
  assert.is(errorCode(() => fitQuantizer(embeddings, { labels: embeddings.map((_, i) => i) })), 'INVALID_ARGUMENT', 'no repeated identity');
  assert.is(errorCode(() => fitQuantizer(embeddings, { bits: 8, rotation: 'itq', components: 9 })), 'INVALID_ARGUMENT', 'itq components');
  assert.is(errorCode(() => fitQuantizer(embeddings, { bitsPerAxis: 0 })), 'INVALID_ARGUMENT', 'bitsPerAxis');
  assert.is(errorCode(() => fitQuantizer(embeddings, { withinPower: 2, labels })), 'INVALID_ARGUMENT', 'withinPower');
  assert.is(errorCode(() => fitQuantizer([embeddings[0], new Float32Array(8).fill(NaN)])), 'INVALID_ARGUMENT', 'NaN embedding');
});

test('a quantiser round-trips through its versioned file', () => {
  const { embeddings, labels } = clusters(16, 10, 3, 0.2, 5);
  const q = fitQuantizer(embeddings, { bits: 100, labels, bitsPerAxis: 2 });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-quantizer-')), 'q.fbq');
  saveQuantizer(q, file);
  const back = loadQuantizer(file);
  assert.is(back.kind, 'fitted');
  assert.is(back.bits, 100);
  assert.is(back.seed, q.seed);
  assert.equal(Array.from(back.matrix), Array.from(q.matrix));
  assert.equal(Array.from(back.offsets), Array.from(q.offsets));
  assert.equal(Array.from(encode(back, embeddings[0])), Array.from(encode(q, embeddings[0])));
  assert.is(parseQuantizer(serializeQuantizer(randomQuantizer(16, { bits: 8 }))).kind, 'random');
});

test('corrupted, truncated and foreign quantiser files raise INVALID_MODEL', () => {
  const bytes = serializeQuantizer(randomQuantizer(8, { bits: 16 }));
  const corrupted = bytes.slice();
  corrupted[40] ^= 0x10;
  assert.is(errorCode(() => parseQuantizer(corrupted)), 'INVALID_MODEL', 'corrupted');
  for (const length of [0, 3, 20, 27, bytes.length - 1]) {
    assert.is(errorCode(() => parseQuantizer(bytes.subarray(0, length))), 'INVALID_MODEL', `truncated to ${length}`);
  }
  const longer = new Uint8Array(bytes.length + 4);
  longer.set(bytes);
  assert.is(errorCode(() => parseQuantizer(longer)), 'INVALID_MODEL', 'trailing bytes');
  assert.is(errorCode(() => parseQuantizer(Uint8Array.from(Buffer.from('\x89PNG\r\n\x1a\n0000000000000000000000000000')))), 'INVALID_MODEL', 'foreign');
  const future = bytes.slice();
  future[4] = 2;
  new DataView(future.buffer).setUint32(future.length - 4, crc32(future.subarray(0, future.length - 4)), true);
  assert.is(errorCode(() => parseQuantizer(future)), 'INVALID_MODEL', 'future version');
  assert.is(errorCode(() => loadQuantizer(path.join(os.tmpdir(), 'facebits-no-such-quantizer.fbq'))), 'INVALID_ARGUMENT', 'missing file');
});

test.run();
