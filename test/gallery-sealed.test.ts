import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Gallery } from '../lib/gallery';
import { native } from '../lib/native';
import { generateKey } from '../lib/protect';
import { rejectsWith } from './helpers';

const DIMENSION = 16;

function sample(): Gallery {
  const gallery = new Gallery({ modelId: 'model@1', dimension: DIMENSION, codeBytes: 8 });
  for (let p = 0; p < 5; p++) {
    const embedding = Float32Array.from({ length: DIMENSION }, (_, i) => Math.sin(p * 7 + i));
    gallery.add(`person-${p}`, { embedding, code: native().packSigns(embedding) });
  }
  return gallery;
}

function tempFile(): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-sealed-')), 'people.gallery');
}

test('sealed gallery round-trips with its key', async () => {
  const file = tempFile();
  const key = generateKey();
  const gallery = sample();
  await gallery.save(file, { key });

  const bytes = fs.readFileSync(file);
  assert.is(bytes.subarray(0, 6).toString('latin1'), 'FBSEAL');
  assert.is(bytes.indexOf('person-3'), -1, 'ids must not appear in plaintext');

  const reopened = await Gallery.open(file, { key, modelId: 'model@1' });
  assert.equal(reopened.list(), gallery.list());
  assert.equal(Array.from(reopened.get('person-2')!.embedding), Array.from(gallery.get('person-2')!.embedding));
  const probe = gallery.get('person-4')!;
  assert.is(reopened.search(probe, { k: 1 })[0].id, 'person-4');
});

test('sealed gallery rejects a missing or wrong key', async () => {
  const file = tempFile();
  await sample().save(file, { key: generateKey() });
  await rejectsWith(Gallery.open(file), 'INVALID_ARGUMENT', /is encrypted; pass its key/);
  await rejectsWith(Gallery.open(file, { key: generateKey() }), 'DECRYPTION_FAILED');
});

test('sealed gallery rejects changed and truncated files', async () => {
  const file = tempFile();
  const key = generateKey();
  await sample().save(file, { key });
  const bytes = fs.readFileSync(file);

  for (const at of [8, 40, bytes.length - 20, bytes.length - 1]) {
    const changed = Buffer.from(bytes);
    changed[at] ^= 0x01;
    fs.writeFileSync(file, changed);
    await rejectsWith(Gallery.open(file, { key }), 'DECRYPTION_FAILED');
  }
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 7));
  await rejectsWith(Gallery.open(file, { key }), 'DECRYPTION_FAILED');
  fs.writeFileSync(file, bytes.subarray(0, 10));
  const error = await rejectsWith(Gallery.open(file, { key }), 'SEALED_INVALID');
  assert.ok(error.message.length > 0);
});

test('plain gallery opens without a key as before', async () => {
  const file = tempFile();
  await sample().save(file);
  assert.is((await Gallery.open(file)).size, 5);
});

test.run();
