import { createHash } from 'node:crypto';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { decodeModelFile, encodeModelFile, ModelHeader } from '../lib/model-file';
import { errorCode } from './helpers';

const header: ModelHeader = {
  id: 'test@1',
  kind: 'embedder',
  source: { files: [] },
  inputShape: [1, 4, 4, 3],
  channels: 'RGB',
  outputNames: ['out'],
  outputShapes: [[1, 8]],
};
const plan = { words: Int32Array.from([1, 2, 3, -4]), weights: Float32Array.from([0.5, -1.25, 3]) };

test('model file round-trips', () => {
  const decoded = decodeModelFile(encodeModelFile({ header, plan }), 'x.fbm');
  assert.equal(decoded.header, header);
  assert.equal(Array.from(decoded.plan.words), Array.from(plan.words));
  assert.equal(Array.from(decoded.plan.weights), Array.from(plan.weights));
});

test('model file rejects a flipped byte', () => {
  const bytes = Buffer.from(encodeModelFile({ header, plan }));
  for (const at of [5, 20, bytes.length - 40, bytes.length - 1]) {
    const copy = Buffer.from(bytes);
    copy[at] ^= 0x10;
    assert.is(errorCode(() => decodeModelFile(copy, 'x.fbm')), 'INVALID_MODEL', `byte ${at}`);
  }
});

test('model file rejects truncation and foreign bytes', () => {
  const bytes = encodeModelFile({ header, plan });
  for (const length of [0, 3, 40, bytes.length - 1]) {
    assert.is(errorCode(() => decodeModelFile(bytes.subarray(0, length), 'x.fbm')), 'INVALID_MODEL', `length ${length}`);
  }
  assert.is(errorCode(() => decodeModelFile(Buffer.from('{"format":"graph-model"}'), 'x.fbm')), 'INVALID_MODEL');
});

/** Sets the version field of an encoded file, with or without fixing its digest. */
function withVersion(version: number, fixDigest: boolean): Buffer {
  const bytes = Buffer.from(encodeModelFile({ header, plan }));
  bytes.writeUInt32LE(version, 4);
  if (fixDigest) createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().copy(bytes, bytes.length - 32);
  return bytes;
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

test('model file tells a newer version from a damaged one', () => {
  assert.match(message(() => decodeModelFile(withVersion(2, true), 'x.fbm')), /version 2 was written by a newer facebits.*upgrade/);
  assert.match(message(() => decodeModelFile(withVersion(2, false), 'x.fbm')), /checksum mismatch; the file is truncated or corrupted/);
  assert.match(message(() => decodeModelFile(withVersion(0, true), 'x.fbm')), /version 0 was never written by facebits/);
});

test.run();
