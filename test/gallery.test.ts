// Gallery API, the native top-k Hamming scan and the gallery file format.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { Gallery, GalleryTemplate } from '../lib/gallery';
import { crc32, encodeGallery } from '../lib/gallery-file';
import { native } from '../lib/native';
import { rejectsWith } from './helpers';

// Deterministic xorshift32 generator, so a failing case can be reproduced.
function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
}

function randomTemplate(next: () => number, dimension = 64): GalleryTemplate {
  const embedding = new Float32Array(dimension).map(() => next() * 2 - 1);
  return { embedding, code: native().packSigns(embedding) };
}

function filledGallery(count: number, seed = 1, modelId = 'model-a'): Gallery {
  const next = random(seed);
  const gallery = new Gallery({ modelId });
  for (let i = 0; i < count; i++) gallery.add(`person-${i}`, randomTemplate(next));
  return gallery;
}

function tempFile(name: string): string {
  return path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-gallery-')), name);
}

function bytesOf(chunks: Uint8Array[]): Buffer {
  return Buffer.concat(chunks);
}

test('hammingTopK matches a full sort on every ISA', () => {
  const next = random(7);
  // 32 and 64 bytes take the 8-code blocks; 5003 codes leave a tail; 40 bytes take the general kernel.
  const count = 5003;
  const before = native().isa();
  try {
    for (const bytes of [32, 40, 64]) {
      const codes = new Uint8Array(count * bytes).map(() => Math.floor(next() * 256));
      const query = codes.slice(123 * bytes, 124 * bytes);
      for (const isa of native().supportedIsas()) {
        native().setIsa(isa);
        const distances = native().hammingMany(query, codes, count);
        const order = Array.from(distances.keys()).sort((a, b) => distances[a] - distances[b] || a - b);
        for (const threads of [1, 3, 0]) {
          const top = native().hammingTopK(query, codes, count, 50, threads);
          const where = `${bytes} bytes, ${isa}, ${threads} threads`;
          assert.equal(Array.from(top.indices), order.slice(0, 50), where);
          assert.equal(Array.from(top.distances), order.slice(0, 50).map((i) => distances[i]), where);
        }
      }
    }
  } finally {
    native().setIsa(before);
  }
});

test('hammingTopK with k above count returns all', () => {
  const codes = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]);
  const top = native().hammingTopK(new Uint8Array(8), codes, 3, 10, 1);
  assert.equal(Array.from(top.indices), [0, 2, 1]);
  assert.equal(Array.from(top.distances), [0, 1, 8]);
  assert.is(native().hammingTopK(new Uint8Array(8), codes, 3, 0, 1).indices.length, 0);
});

test('hammingTopK rejects a wrong code count', () => {
  const cases: [() => unknown, RegExp][] = [
    [() => native().hammingTopK(new Uint8Array(8), new Uint8Array(20), 2, 1, 1), /20 bytes/],
    [() => native().hammingTopK(new Uint8Array(5), new Uint8Array(10), 2, 1, 1), /multiple of 8/],
  ];
  for (const [call, pattern] of cases) {
    try {
      call();
      assert.unreachable('the call succeeded');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, pattern);
    }
  }
});

test('gallery add, get, remove and size', async () => {
  const next = random(3);
  const gallery = new Gallery({ modelId: 'model-a' });
  const a = randomTemplate(next);
  const b = randomTemplate(next);
  const c = randomTemplate(next);
  gallery.add('a', a);
  gallery.add('b', b);
  gallery.add('c', c);
  assert.is(gallery.size, 3);
  assert.is(gallery.dimension, 64);
  assert.is(gallery.codeBytes, 8);
  assert.equal(gallery.get('b')?.code, b.code);
  const norm = Math.hypot(...b.embedding);
  assert.ok(gallery.get('b')!.embedding.every((v, j) => Math.abs(v - b.embedding[j] / norm) < 1e-6));

  assert.ok(gallery.remove('a'));
  assert.not.ok(gallery.remove('a'));
  assert.is(gallery.size, 2);
  assert.is(gallery.get('a'), undefined);
  assert.equal(gallery.get('c')?.code, c.code);
  assert.equal(gallery.list().sort(), ['b', 'c']);

  await rejectsWith(() => gallery.add('b', b), 'INVALID_ARGUMENT', /already contains id "b"/);
  await rejectsWith(() => gallery.add('d', randomTemplate(next, 32)), 'INVALID_ARGUMENT', /32 values/);
  await rejectsWith(() => gallery.add('d', { embedding: new Float32Array(64), code: new Uint8Array(8) }), 'INVALID_ARGUMENT', /not all zero/);
});

test('gallery grows past its initial capacity', () => {
  const gallery = filledGallery(200);
  assert.is(gallery.size, 200);
  const next = random(1);
  for (let i = 0; i < 200; i++) {
    const expected = randomTemplate(next);
    assert.equal(gallery.get(`person-${i}`)?.code, expected.code, `person-${i}`);
  }
});

test('search finds the enrolled template first', () => {
  const gallery = filledGallery(300, 5);
  const probe = gallery.get('person-42')!;
  const [best] = gallery.search(probe);
  assert.is(best.id, 'person-42');
  assert.ok(Math.abs(best.score - 1) < 1e-5, `score ${best.score}`);
  assert.is(best.hamming, 0);
});

test('search k, threshold and exact scan', () => {
  const gallery = filledGallery(300, 9);
  const probe = randomTemplate(random(99));
  const exact = gallery.search(probe, { k: 10, exact: true });
  assert.is(exact.length, 10);
  for (let i = 1; i < exact.length; i++) assert.ok(exact[i - 1].score >= exact[i].score, 'exact results are sorted');
  const full = gallery.search(probe, { k: 10, shortlist: 300 });
  assert.equal(full.map((m) => m.id), exact.map((m) => m.id));

  const threshold = exact[4].score;
  const above = gallery.search(probe, { k: 10, threshold, exact: true });
  assert.equal(above.map((m) => m.id), exact.slice(0, 5).map((m) => m.id));
  assert.equal(gallery.search(probe, { threshold: 1.01 }), []);
  assert.equal(new Gallery({ modelId: 'model-a' }).search(probe), []);
});

test('search rejects bad options and probes', async () => {
  const gallery = filledGallery(10);
  const probe = gallery.get('person-1')!;
  await rejectsWith(() => gallery.search(probe, { k: 0 }), 'INVALID_ARGUMENT', /options\.k/);
  await rejectsWith(() => gallery.search(probe, { shortlist: 1.5 }), 'INVALID_ARGUMENT', /options\.shortlist/);
  await rejectsWith(() => gallery.search(probe, { threshold: NaN }), 'INVALID_ARGUMENT', /options\.threshold/);
  await rejectsWith(() => gallery.search({ embedding: probe.embedding, code: new Uint8Array(16) }), 'INVALID_ARGUMENT', /16 bytes/);
});

test('save and open round trip', async () => {
  const gallery = filledGallery(100, 11);
  gallery.remove('person-3');
  gallery.add('名前 with spaces', randomTemplate(random(5)));
  const file = tempFile('round-trip.fbg');
  await gallery.save(file);
  const opened = await Gallery.open(file, { modelId: 'model-a' });
  assert.is(opened.size, 100);
  assert.is(opened.modelId, 'model-a');
  assert.equal(opened.list(), gallery.list());
  assert.equal(opened.get('名前 with spaces'), gallery.get('名前 with spaces'));
  assert.equal(fs.readFileSync(file), bytesOf(encodeGallery(opened.snapshot())));
  assert.equal(fs.readdirSync(path.dirname(file)), ['round-trip.fbg'], 'no temporary file remains');

  opened.add('new', randomTemplate(random(6)));
  assert.is(opened.size, 101);
  assert.equal(opened.search(opened.get('new')!)[0].id, 'new');
});

test('empty gallery round trip', async () => {
  const file = tempFile('empty.fbg');
  await new Gallery({ modelId: 'model-a' }).save(file);
  const opened = await Gallery.open(file);
  assert.is(opened.size, 0);
  opened.add('x', randomTemplate(random(2)));
  assert.is(opened.size, 1);
});

test('save into a missing folder names the file and the folder', async () => {
  const file = path.join(tempFile('missing-folder'), 'gallery.fbg');
  try {
    await filledGallery(2).save(file);
    assert.unreachable('save succeeded');
  } catch (error) {
    assert.is((error as NodeJS.ErrnoException).code, 'ENOENT');
    assert.match((error as Error).message, `Cannot save gallery ${file}: the folder ${path.dirname(file)} does not exist`);
    assert.not.match((error as Error).message, /\.tmp/);
  }
});

test('open rejects a wrong model', async () => {
  const file = tempFile('model.fbg');
  await filledGallery(5).save(file);
  await rejectsWith(Gallery.open(file, { modelId: 'model-b' }), 'MODEL_MISMATCH', /"model-a".*"model-b"/);
});

test('open rejects truncated files', async () => {
  const file = tempFile('truncated.fbg');
  await filledGallery(20).save(file);
  const whole = fs.readFileSync(file);
  for (const size of [0, 7, 40, 63, 64, 100, 200, whole.length - 1000, whole.length - 1]) {
    fs.writeFileSync(file, whole.subarray(0, size));
    await rejectsWith(Gallery.open(file), 'GALLERY_TRUNCATED', undefined);
  }
});

test('open rejects corrupted files', async () => {
  const file = tempFile('corrupted.fbg');
  const gallery = filledGallery(20);
  await gallery.save(file);
  const whole = fs.readFileSync(file);
  const [header, ids, , codes] = encodeGallery(gallery.snapshot());
  const codesAt = header.length + Math.ceil(ids.length / 64) * 64;
  const embeddingsAt = codesAt + Math.ceil(codes.length / 64) * 64;
  const cases: [string, number, RegExp][] = [
    ['magic', 0, /not a facebits gallery/],
    ['dimension', 16, /header checksum|inconsistent/],
    ['model id', 65, /header checksum/],
    ['id section', header.length + 100, /id section checksum/],
    ['code section', codesAt + 5, /code section checksum/],
    ['embedding section', embeddingsAt + 77, /embedding section checksum/],
    ['last byte', whole.length - 1, /embedding section checksum/],
  ];
  for (const [name, offset, pattern] of cases) {
    const damaged = Buffer.from(whole);
    damaged[offset] ^= 0x10;
    fs.writeFileSync(file, damaged);
    const error = await rejectsWith(Gallery.open(file), 'GALLERY_CORRUPTED', pattern);
    assert.ok(error.message.includes(file), `${name}: the message names the file`);
  }

  fs.writeFileSync(file, Buffer.concat([whole, Buffer.from([0])]));
  await rejectsWith(Gallery.open(file), 'GALLERY_CORRUPTED', /header describes/);

  // A newer format version keeps the header checksum valid, while a damaged version field
  // breaks it.
  const withVersion = (version: number, resign: boolean): Buffer => {
    const copy = Buffer.from(whole);
    copy.writeUInt32LE(version, 8);
    const modelIdSize = copy.readUInt32LE(40);
    if (resign) copy.writeUInt32LE(crc32(copy.subarray(64, 64 + modelIdSize), crc32(copy.subarray(0, 60))), 60);
    return copy;
  };
  fs.writeFileSync(file, withVersion(2, true));
  await rejectsWith(Gallery.open(file), 'GALLERY_VERSION', /format version 2, written by a newer facebits.*upgrade facebits/);
  fs.writeFileSync(file, withVersion(0, true));
  await rejectsWith(Gallery.open(file), 'GALLERY_CORRUPTED', /version 0 was never written by facebits/);
  for (const version of [2, 0x4001, 0x01000001]) {
    fs.writeFileSync(file, withVersion(version, false));
    const error = await rejectsWith(Gallery.open(file), 'GALLERY_CORRUPTED', /header checksum does not match.*corrupted/);
    assert.not.match(error.message, /upgrade/);
  }
});

test('open rejects an empty model id', async () => {
  const file = tempFile('empty-model.fbg');
  fs.writeFileSync(file, bytesOf(encodeGallery({ ...filledGallery(3).snapshot(), modelId: '' })));
  await rejectsWith(Gallery.open(file), 'GALLERY_CORRUPTED', /the model id is empty/);
});

test('open names a missing path and a folder', async () => {
  const missing = tempFile('missing.fbg');
  const absent = await rejectsWith(Gallery.open(missing), 'INVALID_ARGUMENT', /the file does not exist/);
  assert.ok(absent.message.includes(missing), absent.message);
  assert.match(absent.message, /Gallery\.save\(\)/);

  const folder = path.dirname(missing);
  for (const options of [{}, { key: new Uint8Array(32) }]) {
    const error = await rejectsWith(Gallery.open(folder, options), 'INVALID_ARGUMENT', /is a folder; pass the path of a gallery file/);
    assert.ok(error.message.includes(path.resolve(folder)), error.message);
    const relative = await rejectsWith(Gallery.open('.', options), 'INVALID_ARGUMENT', /is a folder/);
    assert.ok(relative.message.includes(process.cwd()), relative.message);
  }
});

test.run();
