import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import { assertClose, random, resizeImage, warpImage } from './native-reference';

const binding = native();

function randomImage(width: number, height: number, channels: number, seed: number): Uint8Array {
  const next = random(seed);
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(next() * 256);
  return out;
}

for (const channels of [1, 3, 4]) {
  for (const [w, h, dw, dh] of [[17, 13, 40, 31], [64, 48, 23, 19], [5, 5, 5, 5], [1, 1, 3, 2]]) {
    for (const swapRB of [false, true]) {
      test(`resizeBilinear ${channels}ch ${w}x${h} to ${dw}x${dh} swapRB ${swapRB}`, () => {
        const src = randomImage(w, h, channels, w * 7 + channels);
        const out = binding.resizeBilinear(src, w, h, channels, dw, dh, swapRB);
        assert.instance(out, Float32Array);
        assertClose(out, resizeImage(src, w, h, channels, dw, dh, swapRB), 1e-4, 'resize');
      });
    }
  }
}

test('resizeBilinear keeps pixels at the same size', () => {
  const src = randomImage(9, 7, 3, 3);
  assert.equal(Array.from(binding.resizeBilinear(src, 9, 7, 3, 9, 7, false)), Array.from(src));
});

const rotation = (angle: number, scale: number, tx: number, ty: number) =>
  Float64Array.from([scale * Math.cos(angle), -scale * Math.sin(angle), tx, scale * Math.sin(angle), scale * Math.cos(angle), ty]);

for (const channels of [1, 3, 4]) {
  for (const [name, matrix] of [
    ['identity', Float64Array.from([1, 0, 0, 0, 1, 0])],
    ['rotate and scale', rotation(0.3, 1.7, 5.5, -3.25)],
    ['shift outside', Float64Array.from([1, 0, -10.5, 0, 1, 20.25])],
    ['shrink', rotation(-0.8, 0.4, 12, 8)],
  ] as Array<[string, Float64Array]>) {
    test(`warpAffine ${channels}ch ${name}`, () => {
      const src = randomImage(31, 23, channels, channels * 13);
      for (const swapRB of [false, true]) {
        const out = binding.warpAffine(src, 31, 23, channels, matrix, 24, 28, 127.5, swapRB);
        assertClose(out, warpImage(src, 31, 23, channels, matrix, 24, 28, 127.5, swapRB), 1e-4, `warp swapRB ${swapRB}`);
      }
    });
  }
}

test('image ops reject invalid sizes', () => {
  const expectCode = (fn: () => unknown, pattern: RegExp) => {
    try {
      fn();
      assert.unreachable('expected an error');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT', (error as Error).message);
      assert.match((error as Error).message, pattern);
    }
  };
  const src = new Uint8Array(4 * 3 * 3);
  const identity = Float64Array.from([1, 0, 0, 0, 1, 0]);
  expectCode(() => binding.resizeBilinear(src, 4, 4, 3, 2, 2, false), /has 36 bytes; expected 48/);
  expectCode(() => binding.resizeBilinear(new Uint8Array(24), 4, 3, 2, 2, 2, false), /1, 3 or 4 channels/);
  expectCode(() => binding.resizeBilinear(src, 4, 3, 3, 20000, 2, false), /dstWidth/);
  expectCode(() => binding.resizeBilinear(src, 4, 3, 3, 0, 2, false), /dstWidth/);
  expectCode(() => binding.resizeBilinear(src, 4.5, 3, 3, 2, 2, false), /width/);
  expectCode(() => binding.warpAffine(src, 4, 3, 3, new Float64Array(5), 2, 2, 0, false), /6 values/);
  expectCode(() => binding.warpAffine(src, 4, 3, 3, Float64Array.from([1, 0, NaN, 0, 1, 0]), 2, 2, 0, false), /not finite/);
  expectCode(() => binding.warpAffine(src, 4, 3, 3, identity, 2, 2, Number.NaN, false), /border/);
  expectCode(() => binding.warpAffine(src, 4, 3, 3, identity, 2, 2, 0, 1 as unknown as boolean), /boolean for swapRB/);
});

test.run();
