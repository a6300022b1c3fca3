import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import { random, randomArray } from './native-reference';

const binding = native();
const initialIsa = binding.isa();

function popcount8(x: number): number {
  let count = 0;
  for (let v = x; v; v >>= 1) count += v & 1;
  return count;
}

function hammingJs(a: Uint8Array, b: Uint8Array): number {
  let total = 0;
  for (let i = 0; i < a.length; i++) total += popcount8(a[i] ^ b[i]);
  return total;
}

function randomBytes(length: number, next: () => number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

test('packSigns sets bit i for x[i] > 0', () => {
  const next = random(5);
  for (const count of [0, 1, 63, 64, 65, 128, 200, 512]) {
    const values = randomArray(count, next);
    if (count > 3) {
      values[0] = 0;
      values[1] = -0;
      values[2] = Number.NaN;
    }
    const packed = binding.packSigns(values);
    assert.is(packed.length, Math.ceil(count / 64) * 8, `length for ${count}`);
    for (let i = 0; i < packed.length * 8; i++) {
      const bit = (packed[i >> 3] >> (i & 7)) & 1;
      const expected = i < count && values[i] > 0 ? 1 : 0;
      assert.is(bit, expected, `bit ${i} of ${count}`);
    }
  }
});

for (const isa of binding.supportedIsas()) {
  test(`${isa} hamming equals JS popcount`, () => {
    binding.setIsa(isa);
    try {
      const next = random(11);
      for (let bytes = 8; bytes <= 520; bytes += 8) {
        const a = randomBytes(bytes, next);
        const b = randomBytes(bytes, next);
        assert.is(binding.hamming(a, b), hammingJs(a, b), `${bytes} bytes`);
      }
      const ones = new Uint8Array(256).fill(0xff);
      assert.is(binding.hamming(ones, new Uint8Array(256)), 2048);
      assert.is(binding.hamming(ones, ones), 0);
    } finally {
      binding.setIsa(initialIsa);
    }
  });

  test(`${isa} hammingMany equals hamming`, () => {
    binding.setIsa(isa);
    try {
      const next = random(12);
      const query = randomBytes(64, next);
      const codes = randomBytes(64 * 37, next);
      const distances = binding.hammingMany(query, codes, 37);
      assert.instance(distances, Uint32Array);
      assert.is(distances.length, 37);
      for (let i = 0; i < 37; i++) assert.is(distances[i], hammingJs(query, codes.subarray(i * 64, i * 64 + 64)));
      assert.is(binding.hammingMany(query, new Uint8Array(0), 0).length, 0);

      const out = new Uint32Array(40).fill(7);
      assert.is(binding.hammingMany(query, codes, 37, out), out);
      assert.equal(Array.from(out.subarray(0, 37)), Array.from(distances));
      assert.equal(Array.from(out.subarray(37)), [7, 7, 7]);
    } finally {
      binding.setIsa(initialIsa);
    }
  });

  test(`${isa} hammingTopK equals sorted distances`, () => {
    binding.setIsa(isa);
    try {
      const next = random(14);
      // 32 and 64 bytes have their own scan loops; the others take the general kernel.
      for (const bytes of [8, 32, 40, 64, 128]) {
        const count = 300;
        const query = randomBytes(bytes, next);
        const codes = randomBytes(bytes * count, next);
        // Copies of earlier codes give equal distances, which must come out by lower index.
        for (let i = 200; i < count; i += 7) codes.copyWithin(i * bytes, (i - 150) * bytes, (i - 149) * bytes);
        const expected = Array.from({ length: count }, (_, index) => ({
          index,
          distance: hammingJs(query, codes.subarray(index * bytes, (index + 1) * bytes)),
        })).sort((a, b) => a.distance - b.distance || a.index - b.index);
        for (const k of [1, 10, count, count + 5]) {
          for (const threads of [1, 3]) {
            const { indices, distances } = binding.hammingTopK(query, codes, count, k, threads);
            const want = expected.slice(0, k);
            const label = `${bytes} bytes, k ${k}, ${threads} threads`;
            assert.equal(Array.from(indices), want.map((hit) => hit.index), `indices for ${label}`);
            assert.equal(Array.from(distances), want.map((hit) => hit.distance), `distances for ${label}`);
          }
        }
      }
    } finally {
      binding.setIsa(initialIsa);
    }
  });

  test(`${isa} hammingMany code lengths`, () => {
    binding.setIsa(isa);
    try {
      const next = random(13);
      // 32 and 64 bytes have their own scan loops; the others take the general kernel.
      for (const bytes of [8, 32, 40, 64, 96, 128]) {
        const query = randomBytes(bytes, next);
        const codes = randomBytes(bytes * 19, next);
        const distances = binding.hammingMany(query, codes, 19);
        for (let i = 0; i < 19; i++) {
          assert.is(distances[i], hammingJs(query, codes.subarray(i * bytes, (i + 1) * bytes)), `${bytes} bytes, code ${i}`);
        }
      }
    } finally {
      binding.setIsa(initialIsa);
    }
  });
}

test('readSum adds 64-bit words modulo 2^53 on every ISA', () => {
  // 1,000 words leave a tail after the 32- and 16-word blocks of the SIMD loops.
  const bytes = new Uint8Array(8 * 1000).map((_, i) => (i * 131 + 7) & 0xff);
  const view = new DataView(bytes.buffer);
  let expected = 0n;
  for (let i = 0; i < 1000; i++) expected += view.getBigUint64(i * 8, true);
  expected &= (1n << 53n) - 1n;
  for (const isa of binding.supportedIsas()) {
    binding.setIsa(isa);
    try {
      assert.is(binding.readSum(bytes), Number(expected), isa);
    } finally {
      binding.setIsa(initialIsa);
    }
  }
});

test('fmaLoop counts its operations on every ISA', () => {
  // 2 operations per lane of 12 chains: the lanes are 16, 8, 4 or 1 (serial).
  const lanes: Record<string, number> = { avx512: 16, avx2: 8, neon: 4, scalar: 1, simd128: 1 };
  for (const isa of binding.supportedIsas()) {
    binding.setIsa(isa);
    try {
      assert.is(binding.fmaLoop(1000), 2 * 12 * lanes[isa] * 1000, isa);
    } finally {
      binding.setIsa(initialIsa);
    }
  }
});

test('fmaLoop rejects bad iteration counts', () => {
  for (const [bad, shown] of [[0, '0'], [1.0000000001, '1.0000000001'], [2e9, '2000000000'], [NaN, 'NaN'], ['9', '"9"']]) {
    try {
      binding.fmaLoop(bad as number);
      assert.unreachable(`fmaLoop(${String(bad)}) was accepted`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.ok((error as Error).message.endsWith(`but received ${shown}`), (error as Error).message);
    }
  }
});

test('hamming rejects mismatched codes', () => {
  const expectCode = (fn: () => unknown, pattern: RegExp) => {
    try {
      fn();
      assert.unreachable('expected an error');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, pattern);
    }
  };
  expectCode(() => binding.hamming(new Uint8Array(8), new Uint8Array(16)), /differ in length/);
  expectCode(() => binding.hamming(new Uint8Array(12), new Uint8Array(12)), /multiple of 8/);
  expectCode(() => binding.hamming(new Uint8Array(0), new Uint8Array(0)), /multiple of 8/);
  expectCode(() => binding.hammingMany(new Uint8Array(8), new Uint8Array(24), 2), /expected count 2/);
  expectCode(() => binding.hammingMany(new Uint8Array(8), new Uint8Array(24), 4), /count/);
  expectCode(() => binding.hammingMany(new Uint8Array(8), new Uint8Array(24), 3, new Uint32Array(2)), /out to hold at least count 3/);
  expectCode(() => binding.hammingMany(new Uint8Array(8), new Uint8Array(24), 3, new Int32Array(3) as never), /Uint32Array/);
  expectCode(() => binding.packSigns([1, 2] as unknown as Float32Array), /Float32Array/);
});

test.run();
