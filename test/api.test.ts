import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { Facebits, load } from '../lib';
import { DEFAULT_MODEL_DIR } from '../lib/models';
import { native } from '../lib/native';
import { lfwImage, rejectsWith, sharedPath } from './helpers';

const api = suite<{ fb?: Facebits }>('api');

api.before(async (context) => {
  context.fb = await load();
});

api.after((context) => {
  context.fb?.dispose();
});

api('embed returns a normalised embedding, code, box and landmarks', async ({ fb }) => {
  if (!sharedPath('faces/lfw', 'embed')) return;
  const result = await fb!.embed(lfwImage('Colin_Powell', 40));
  assert.is(result.embedding.length, fb!.dimension);
  const norm = Math.hypot(...result.embedding);
  assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  assert.is(result.code.length, Math.ceil(result.embedding.length / 64) * 8);
  assert.is(result.landmarks.length, 5);
  assert.ok(result.box.width > 60, `box width ${result.box.width}`);
  assert.ok(result.box.width < 200, `box width ${result.box.width}`);
  assert.ok(result.score > 0.5, `score ${result.score}`);
  assert.ok(result.score <= 1, `score ${result.score}`);
  // The eyes of a deep-funneled LFW face sit near the middle of the 250x250 photo.
  const [leftEye, rightEye] = result.landmarks;
  assert.ok(leftEye[0] < rightEye[0], 'image-left eye comes first');
  assert.ok(leftEye[1] > 90, `eye height ${leftEye[1]}`);
  assert.ok(leftEye[1] < 140, `eye height ${leftEye[1]}`);
});

api('compare says same for one person and different for two', async ({ fb }) => {
  if (!sharedPath('faces/lfw', 'compare')) return;
  const [a1, a2, b] = await Promise.all([
    fb!.embed(lfwImage('Colin_Powell', 40)),
    fb!.embed(lfwImage('Colin_Powell', 71)),
    fb!.embed(lfwImage('George_W_Bush', 7)),
  ]);
  const same = fb!.compare(a1, a2);
  const different = fb!.compare(a1, b);
  assert.ok(same.same, `same-person cosine ${same.cosine}`);
  assert.not.ok(different.same, `different-person cosine ${different.cosine}`);
  assert.ok(same.cosine > different.cosine);
  assert.ok(same.hamming < different.hamming, `hamming ${same.hamming} vs ${different.hamming}`);
  assert.is(same.bits, fb!.dimension);
  assert.is(same.threshold, fb!.threshold);
  assert.is(fb!.compare(a1, a2, { threshold: 1.1 }).same, false);
});

api('embed accepts a path, encoded bytes and raw pixels alike', async ({ fb }) => {
  const file = sharedPath('faces/lfw', 'input kinds') && lfwImage('Colin_Powell', 40);
  if (!file) return;
  const bytes = fs.readFileSync(file);
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  const results = await Promise.all([
    fb!.embed(file),
    fb!.embed(new Uint8Array(bytes)),
    fb!.embed({ data, width: info.width, height: info.height, channels: info.channels }),
  ]);
  for (const r of results.slice(1)) assert.ok(fb!.compare(results[0], r).cosine > 0.9999);
});

api('embed raises NO_FACE for an image without a face', async ({ fb }) => {
  const width = 320, height = 240;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data.fill((x * 3 + y) & 0xff, (y * width + x) * 3, (y * width + x) * 3 + 3);
  await rejectsWith(fb!.embed({ data, width, height, channels: 3 }), 'NO_FACE', /No face found/);
});

api('embed counts faces and can reject several', async ({ fb }) => {
  if (!sharedPath('faces/lfw', 'two faces side by side')) return;
  const left = await sharp(lfwImage('Colin_Powell', 40)).raw().toBuffer();
  const right = await sharp(lfwImage('George_W_Bush', 7)).raw().toBuffer();
  const pair = await sharp({ create: { width: 500, height: 250, channels: 3, background: '#000000' } })
    .composite([
      { input: left, raw: { width: 250, height: 250, channels: 3 }, left: 0, top: 0 },
      { input: right, raw: { width: 250, height: 250, channels: 3 }, left: 250, top: 0 },
    ])
    .png()
    .toBuffer();

  const subject = await fb!.embed(pair);
  assert.is(subject.faceCount, 2);
  assert.is((await fb!.embed(lfwImage('Colin_Powell', 40))).faceCount, 1);

  const strict = await load({ multipleFaces: 'error' });
  try {
    await rejectsWith(strict.embed(pair), 'MULTIPLE_FACES', /Found 2 faces in the image/);
    assert.is((await strict.embed(lfwImage('Colin_Powell', 40))).faceCount, 1);
  } finally {
    strict.dispose();
  }
  await rejectsWith(load({ multipleFaces: 'first' as never }), 'INVALID_ARGUMENT', /multipleFaces/);
});

api('precision bf16 embeds near float32 and reports what ran', async ({ fb }) => {
  if (!sharedPath('faces/lfw', 'precision bf16')) return;
  assert.is(fb!.precision, 'fp32');
  const bf16 = await load({ precision: 'bf16' });
  try {
    // bf16 runs only where the core has a bfloat16 GEMM; elsewhere the same option runs float32.
    assert.is(bf16.precision, bf16.backend === 'native' && native().bf16Gemm() ? 'bf16' : 'fp32');
    for (const [name, index] of [['Colin_Powell', 40], ['Serena_Williams', 1]] as const) {
      const a = await fb!.embed(lfwImage(name, index));
      const b = await bf16.embed(lfwImage(name, index));
      const cosine = fb!.compare(a, b).cosine;
      if (bf16.precision === 'fp32') assert.is(cosine, fb!.compare(a, a).cosine);
      else assert.ok(cosine > 0.999 && cosine < 1 - 1e-7, `${name}: cosine ${cosine} between bf16 and float32`);
    }
  } finally {
    bf16.dispose();
  }
  await rejectsWith(load({ precision: 'fp16' as never }), 'INVALID_ARGUMENT', /Expected "fp32" or "bf16" for precision/);
});

api('embed raises typed errors for broken input', async ({ fb }) => {
  const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).jpeg().toBuffer();
  await rejectsWith(fb!.embed(jpeg.subarray(0, 100)), 'INVALID_IMAGE');
  await rejectsWith(fb!.embed(Buffer.from('GIF89a but not really')), 'INVALID_IMAGE');
  await rejectsWith(fb!.embed({ data: new Uint8Array(0), width: 0, height: 0, channels: 3 }), 'INVALID_IMAGE');
  await rejectsWith(fb!.embed({ data: new Uint8Array(5), width: 4, height: 4, channels: 3 }), 'INVALID_IMAGE', /needs 48/);
});

api('compare rejects mismatched embeddings', ({ fb }) => {
  return rejectsWith(() => fb!.compare(new Float32Array(4), new Float32Array(8)), 'INVALID_ARGUMENT', /length 4/);
});

api('load rejects a model file with corrupted bytes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-'));
  for (const name of fs.readdirSync(DEFAULT_MODEL_DIR)) fs.copyFileSync(path.join(DEFAULT_MODEL_DIR, name), path.join(dir, name));
  const target = path.join(dir, 'fr-feature.fbm');
  const bytes = fs.readFileSync(target);
  bytes[Math.floor(bytes.length / 2)] ^= 0xff;
  fs.writeFileSync(target, bytes);
  await rejectsWith(load({ modelDir: dir }), 'INVALID_MODEL', /checksum mismatch/);

  const onnx = path.join(dir, 'broken.onnx');
  fs.writeFileSync(onnx, bytes.subarray(100, 5000));
  await rejectsWith(load({ embedder: { path: onnx } }), 'INVALID_MODEL', /broken\.onnx/);
  fs.rmSync(dir, { recursive: true });
});

api('load rejects invalid options', async () => {
  await rejectsWith(load({ minScore: 3 }), 'INVALID_ARGUMENT', /minScore/);
  await rejectsWith(load({ threshold: 2 }), 'INVALID_ARGUMENT', /cosine similarity between -1 and 1/);
  await rejectsWith(load({ minscore: 0.3 } as never), 'INVALID_ARGUMENT', /options\.minscore/);
  await rejectsWith(load({ detector: { path: 'x.onnx', decoder: 'ssd' as never } }), 'INVALID_ARGUMENT', /decoder/);
  await rejectsWith(load({ embedder: { path: '/nonexistent/model.onnx' } }), 'INVALID_MODEL', /cannot be read/);
});

api('load rejects numbers passed as strings', async () => {
  const cases: Array<[string, Record<string, unknown>]> = [
    ['minScore', { minScore: '0.5' }],
    ['maxPixels', { maxPixels: '1000' }],
    ['threshold', { threshold: '0.3' }],
    ['landmarkExpand', { landmarkExpand: '1' }],
    ['embedder.threshold', { embedder: { path: 'model.onnx', threshold: '0.3' } }],
  ];
  for (const [name, options] of cases) {
    const error = await rejectsWith(load(options as never), 'INVALID_ARGUMENT');
    assert.ok(error.message.includes(`for ${name} but received "`), error.message);
    assert.match(error.message, /of type string$/);
  }
  await rejectsWith(load({ flip: 'false' } as never), 'INVALID_ARGUMENT', /for flip but received "false" of type string/);
});

api.run();
