import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';

import { FacebitsError } from '../lib/errors';
import { readImage } from '../lib/image';

async function jpeg(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } } }).jpeg().toBuffer();
}

async function rejects(promise: Promise<unknown>, code: string, pattern: RegExp): Promise<void> {
  try {
    await promise;
  } catch (error) {
    assert.instance(error, FacebitsError);
    assert.is((error as FacebitsError).code, code);
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${code} error`);
}

test('readImage decodes JPEG bytes to RGB', async () => {
  const image = await readImage(await jpeg(32, 16));
  assert.is(image.width, 32);
  assert.is(image.height, 16);
  assert.is(image.data.length, 32 * 16 * 3);
  assert.ok(Math.abs(image.data[0] - 200) < 4);
});

test('readImage drops alpha and expands grey', async () => {
  const rgba = { data: new Uint8Array([1, 2, 3, 255, 4, 5, 6, 0]), width: 2, height: 1, channels: 4 };
  assert.equal(Array.from((await readImage(rgba)).data), [1, 2, 3, 4, 5, 6]);
  const grey = { data: new Uint8Array([9, 7]), width: 1, height: 2, channels: 1 };
  assert.equal(Array.from((await readImage(grey)).data), [9, 9, 9, 7, 7, 7]);
});

test('readImage rejects a truncated JPEG', async () => {
  const bytes = await jpeg(64, 64);
  await rejects(readImage(bytes.subarray(0, bytes.length / 2)), 'INVALID_IMAGE', /cannot be decoded/);
});

test('readImage rejects non-image bytes', async () => {
  await rejects(readImage(Buffer.from('this is not an image at all')), 'INVALID_IMAGE', /cannot be decoded/);
  await rejects(readImage(new Uint8Array(0)), 'INVALID_IMAGE', /empty/);
});

test('readImage rejects a 0x0 raw image', async () => {
  await rejects(readImage({ data: new Uint8Array(0), width: 0, height: 0, channels: 3 }), 'INVALID_IMAGE', /width must be a positive integer/);
});

test('readImage names the type of raw dimensions', async () => {
  await rejects(readImage({ data: new Uint8Array(300), width: '10' as never, height: 10, channels: 3 }), 'INVALID_IMAGE', /width must be a positive integer, received "10" of type string/);
  await rejects(readImage({ data: new Uint8Array(300), width: 10, height: 2.5, channels: 3 }), 'INVALID_IMAGE', /height must be a positive integer, received 2\.5 of type number/);
});

test('readImage rejects a raw buffer of the wrong length', async () => {
  await rejects(readImage({ data: new Uint8Array(10), width: 2, height: 2, channels: 3 }), 'INVALID_IMAGE', /has 10 bytes but 2x2x3 needs 12/);
});

test('readImage rejects images above the pixel limit', async () => {
  await rejects(readImage(await jpeg(64, 64), 1000), 'INVALID_IMAGE', /more than 1000 pixels/);
  await rejects(readImage({ data: new Uint8Array(300), width: 10, height: 10, channels: 3 }, 50), 'INVALID_IMAGE', /limit of 50/);
});

test('readImage rejects a side over 16384 pixels', async () => {
  const wide = await sharp({ create: { width: 20000, height: 1, channels: 3, background: '#808080' } }).png().toBuffer();
  await rejects(readImage(wide), 'INVALID_IMAGE', /20000x1 pixels, and no side may exceed 16384 pixels; downscale it/);
  await rejects(readImage({ data: new Uint8Array(3 * 16385), width: 1, height: 16385, channels: 3 }), 'INVALID_IMAGE', /16384/);
});

test('readImage rejects a missing file and other types', async () => {
  await rejects(readImage('/nonexistent/face.jpg'), 'INVALID_IMAGE', /cannot be read/);
  await rejects(readImage(42 as never), 'INVALID_ARGUMENT', /Expected a file path.*received 42 of type number/);
});

test.run();
