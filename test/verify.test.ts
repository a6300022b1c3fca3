// Calibration, the learned head, any-length codes and enrolment templates.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { calibrate, encode, FacebitsError, fitHead, headProbability, load, parseHead, parseTemplate, randomQuantizer, serializeHead, serializeTemplate } from '../lib';
import type { Facebits, Template } from '../lib';
import { native } from '../lib/native';
import { evaluateScorers } from '../lib/eval/scorers';
import { crc32 } from '../lib/template';
import { errorCode, FULL_LFW_ON_WASM, rejectsWith, sharedPath, skipOnWasm } from './helpers';
import { lfwEmbeddings } from './lfw-cache';

const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.instance(error, FacebitsError);
    return (error as FacebitsError).message;
  }
  throw new Error('expected an error, but the call succeeded');
}

test('calibrate accepts at most far x impostors', () => {
  const impostors = Array.from({ length: 1000 }, (_, i) => i / 1000);
  const c = calibrate(impostors, { far: 1e-2 });
  assert.is(impostors.filter((s) => s >= c.threshold).length, 10);
  assert.is(c.measuredFar, 0.01);
  const d = calibrate(impostors.map((s) => ({ score: s * 100, same: false })).concat([{ score: 0, same: true }]), { far: 1e-2, direction: 'lower' });
  assert.is(impostors.filter((s) => s * 100 <= d.threshold).length, 10);
  assert.is(d.tar, 1);
  assert.is(errorCode(() => calibrate([1, 2], { far: 2 })), 'INVALID_ARGUMENT');
});

test('Hamming of codes of any length is the same on every ISA', () => {
  const binding = native();
  const before = binding.isa();
  let seed = 7;
  const next = (): number => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  try {
    for (const bits of [64, 128, 200, 256, 512, 1000, 1024, 2048]) {
      const q = randomQuantizer(96, { bits, seed: 3 });
      const a = Float32Array.from({ length: 96 }, next);
      const b = Float32Array.from({ length: 96 }, next);
      const ca = encode(q, a);
      const cb = encode(q, b);
      let expected = 0;
      for (let i = 0; i < ca.length; i++) for (let x = ca[i] ^ cb[i]; x; x &= x - 1) expected++;
      for (const isa of binding.supportedIsas()) {
        binding.setIsa(isa);
        assert.is(binding.hamming(ca, cb), expected, `${isa} at ${bits} bits`);
      }
    }
  } finally {
    binding.setIsa(before);
  }
});

test('a head round-trips through its versioned file and rejects others', () => {
  let seed = 1;
  const rnd = (): number => ((seed = (seed * 69069 + 1) >>> 0) / 2 ** 32) - 0.5;
  const unit = (v: Float32Array): Float32Array => { const n = Math.hypot(...v); return v.map((x) => x / n); };
  const people = Array.from({ length: 40 }, () => unit(Float32Array.from({ length: 16 }, rnd)));
  const noisy = (p: Float32Array): Float32Array => unit(p.map((x) => x + 0.15 * rnd()));
  const pairs = people.flatMap((p, i) => [{ a: noisy(p), b: noisy(p), same: true }, { a: noisy(p), b: noisy(people[(i + 1) % 40]), same: false }]);
  const head = fitHead(pairs, { modelId: 'test' });
  const again = parseHead(serializeHead(head));
  assert.equal(Array.from(again.weights), Array.from(head.weights));
  const p = headProbability(again, pairs[0].a, pairs[0].b);
  assert.ok(p > 0.5, `same-person probability ${p}`);
  assert.is(errorCode(() => parseHead('{"format":"facebits-head","version":9}')), 'INVALID_MODEL');
  assert.is(errorCode(() => parseHead('not json')), 'INVALID_MODEL');
});

let fb: Facebits | undefined;
test.before(async () => {
  fb = await load();
});
test.after(() => fb?.dispose());

function sampleTemplate(): Template {
  const e = Float32Array.from({ length: fb!.dimension }, (_, i) => Math.sin(i));
  return { modelId: fb!.modelId, embedding: e, code: native().packSigns(e), bits: fb!.dimension, count: 3, spread: 0.1 };
}

test('corrupted, truncated and foreign template files raise INVALID_TEMPLATE', async () => {
  const bytes = serializeTemplate(sampleTemplate());
  const back = parseTemplate(bytes);
  assert.is(back.modelId, fb!.modelId);
  assert.is(back.count, 3);
  const corrupted = bytes.slice();
  corrupted[40] ^= 0x10;
  assert.is(errorCode(() => parseTemplate(corrupted)), 'INVALID_TEMPLATE', 'corrupted');
  for (const length of [0, 3, 9, 30, bytes.length - 1]) assert.is(errorCode(() => parseTemplate(bytes.subarray(0, length))), 'INVALID_TEMPLATE', `truncated to ${length}`);
  assert.is(errorCode(() => parseTemplate(Uint8Array.from(Buffer.from('\x89PNG\r\n\x1a\n0000000000000000')))), 'INVALID_TEMPLATE', 'foreign');
  const future = bytes.slice();
  future[4] = 2;
  new DataView(future.buffer).setUint32(future.length - 4, crc32(future.subarray(0, future.length - 4)), true);
  assert.is(errorCode(() => parseTemplate(future)), 'INVALID_TEMPLATE', 'future version');
  const flipped = bytes.slice();
  flipped[5] ^= 0x40;
  assert.match(message(() => parseTemplate(flipped)), /checksum does not match.*version field reads 16385.*corrupted/);
  assert.not.match(message(() => parseTemplate(flipped)), /upgrade/);
  assert.match(message(() => parseTemplate(future)), /version 2 was written by a newer facebits.*upgrade facebits/);
  const zero = bytes.slice();
  zero[4] = 0;
  new DataView(zero.buffer).setUint32(zero.length - 4, crc32(zero.subarray(0, zero.length - 4)), true);
  assert.match(message(() => parseTemplate(zero)), /version 0 was never written by facebits/);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-template-')), 't.fbt');
  fs.writeFileSync(file, bytes);
  assert.equal(Array.from(parseTemplate(fs.readFileSync(file)).embedding), Array.from(back.embedding));
});

test('a template from another model raises MODEL_MISMATCH', async () => {
  const foreign = parseTemplate(serializeTemplate({ ...sampleTemplate(), modelId: 'another-model@1' }));
  try {
    await fb!.verify(foreign, sampleTemplate().embedding);
    assert.unreachable('verify accepted a foreign template');
  } catch (error) {
    assert.is((error as FacebitsError).code, 'MODEL_MISMATCH');
  }
});

test('verify names a template of another embedding size', async () => {
  const short = { ...sampleTemplate(), embedding: new Float32Array(128) };
  const error = await rejectsWith(fb!.verify(short, sampleTemplate().embedding), 'MODEL_MISMATCH');
  assert.match(error.message, new RegExp(`Expected an embedding of length ${fb!.dimension}, .* for template\\.embedding but received Float32Array\\(128\\)`));
  assert.match(error.message, /another model or embedding size/);
  assert.not.match(error.message, /for b\b|same as a/);

  const probe = await rejectsWith(fb!.verify(sampleTemplate(), new Float32Array(128)), 'INVALID_ARGUMENT');
  assert.match(probe.message, /for probe but received Float32Array\(128\)/);
});

test('compare explains bad threshold and far options', () => {
  const a = Float32Array.from({ length: fb!.dimension }, (_, i) => Math.sin(i));
  const both = message(() => fb!.compare(a, a, { threshold: 0.3, far: 1e-2 }));
  assert.match(both, /received both \(threshold 0\.3, far 0\.01\); they are exclusive, so pass only one/);
  assert.not.match(both, /object Object/);

  const low = message(() => fb!.compare(a, a, { far: 1e-5 }));
  assert.match(low, /from 0\.000333 \(1 in 3000\)/);
  assert.not.match(low, /0\.00033333/);
  const high = message(() => fb!.compare(a, a, { far: 0.5 }));
  assert.match(high, /up to 0\.013;/);
  assert.match(message(() => fb!.compare(a, a, { far: '0.01' as never })), /for far but received "0\.01" of type string/);
  assert.match(message(() => fb!.compare(a, new Float32Array(3))), /length of a, for b but received Float32Array\(3\)/);
});

test('compare decides at a calibrated FAR or a given threshold', () => {
  const a = Float32Array.from({ length: fb!.dimension }, (_, i) => Math.sin(i));
  const b = Float32Array.from({ length: fb!.dimension }, (_, i) => Math.sin(i + 0.7));
  const byDefault = fb!.compare(a, b);
  assert.is(byDefault.far, 1e-2);
  const strict = fb!.compare(a, b, { far: 1e-3 });
  assert.ok(strict.threshold > byDefault.threshold);
  assert.is(fb!.compare(a, b, { threshold: 0.5 }).threshold, 0.5);
});

test('LFW: calibration, templates and all scorers against cosine', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW scorers')) return;
  if (skipOnWasm('LFW scorers', FULL_LFW_ON_WASM)) return;
  const { pairs, embedded } = await lfwEmbeddings();
  const started = Date.now();
  const reports = evaluateScorers(pairs, embedded, { bits: [256, 512, 1024], head: true });
  const [cosine] = reports;
  for (const r of reports) {
    console.log(`  ${r.name}: ${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}, TAR@1e-2 ${pct(r.tar['1e-2'])} at held-out FAR ${pct(r.heldOutFar['1e-2'])}, TAR@1e-3 ${pct(r.tar['1e-3'])}`);
  }
  console.log(`  scorers took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  const loss = (name: string): number => cosine.accuracy.mean - reports.find((r) => r.name === name)!.accuracy.mean;
  assert.ok(cosine.heldOutFar['1e-2'] <= 2e-2, `held-out FAR ${cosine.heldOutFar['1e-2']} above 2x the target`);
  assert.ok(cosine.heldOutFar['1e-2'] >= 0.5e-2, `held-out FAR ${cosine.heldOutFar['1e-2']} below half the target`);
  // The codes come from the labelled quantiser fitted on each fold's training images.
  assert.ok(loss('hamming-1024') <= 0.0015 + 1e-9, `1024-bit loss ${pct(loss('hamming-1024'))}`);
  // NOTE: the 512-bit loss measured 0.25 and 0.27 points with the default rotation seed, 1 or 2
  // pairs inside this bound, and 0.38 points with seed 2 (docs/ACCURACY.md).
  assert.ok(loss('hamming-512') <= 0.003 + 1e-9, `512-bit loss ${pct(loss('hamming-512'))}`);
  assert.ok(loss('hamming-256') <= 0.008 + 1e-9, `256-bit loss ${pct(loss('hamming-256'))}`);
  assert.ok(loss('head') <= 0.001 + 1e-9, `head loss ${pct(loss('head'))}`);
});

test('LFW: a 3-photo template beats single-photo verification', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW templates')) return;
  if (skipOnWasm('LFW templates', FULL_LFW_ON_WASM)) return;
  const { embedded } = await lfwEmbeddings();
  // People with at least 4 embedded images among the pairs' images.
  const byPerson = new Map<string, Float32Array[]>();
  for (const [file, e] of [...embedded.embeddings].sort(([x], [y]) => x.localeCompare(y))) {
    if (!e) continue;
    const person = path.basename(path.dirname(file));
    byPerson.set(person, [...(byPerson.get(person) ?? []), e]);
  }
  const people = [...byPerson.entries()].filter(([, list]) => list.length >= 4);
  const impostorsFor = (i: number): Float32Array => people[(i + 1) % people.length][1][3];
  let singleRight = 0, templateRight = 0, trials = 0;
  for (const [i, [, list]] of people.entries()) {
    const template = await fb!.enroll(list.slice(0, 3));
    const probe = list[3];
    // The same probe and impostor against photo 1 alone and against the 3-photo template.
    singleRight += Number(fb!.compare(list[0], probe).same) + Number(!fb!.compare(list[0], impostorsFor(i)).same);
    templateRight += Number((await fb!.verify(template, probe)).same) + Number(!(await fb!.verify(template, impostorsFor(i))).same);
    trials += 2;
  }
  console.log(`  ${people.length} people with 4+ images: single photo ${pct(singleRight / trials)}, 3-photo template ${pct(templateRight / trials)} right`);
  assert.ok(people.length >= 50, `${people.length} people`);
  assert.ok(templateRight > singleRight, `template ${templateRight} vs single ${singleRight} of ${trials}`);
});

test.run();
