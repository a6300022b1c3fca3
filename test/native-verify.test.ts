// The verification core (head fit, projections, eigen-solver, ITQ) gives the same results
// on the WebAssembly build as in the Node-API addon, and the fits built on it run on both.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { fitHead, fitQuantizer, headLogit } from '../lib';
import { binding, native, NativeBinding, useBinding } from '../lib/native';
import type { VerifyBinding } from '../lib/verify-native';
import { random, randomArray } from './native-reference';

type Core = NativeBinding & VerifyBinding;

function load(backend: 'native' | 'wasm'): Core | undefined {
  try {
    return binding(backend) as Core;
  } catch {
    console.log(`  skip the ${backend} side: that core does not load here`);
    return undefined;
  }
}

const wasm = load('wasm');
const addon = load('native');

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.is(a.length, b.length, 'lengths');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

/** Runs `fit` with `core` as the default core, then restores the previous one. */
function withCore<T>(core: Core, fit: () => T): T {
  const previous = native();
  useBinding(core);
  try {
    return fit();
  } finally {
    useBinding(previous);
  }
}

test('WebAssembly core exports every verification function', () => {
  if (!wasm) return;
  for (const name of ['fitHead', 'projectSigns', 'projectValues', 'randomOrthogonal', 'symmetricEigen', 'iterativeQuantization'] as const) {
    assert.type(wasm[name], 'function', name);
  }
});

test('randomOrthogonal, projections and eigen-solver match the addon', () => {
  if (!wasm || !addon) return;
  for (const [rows, cols, seed] of [[8, 8, 1], [100, 48, 7], [3, 5, 0]]) {
    assert.ok(maxDifference(wasm.randomOrthogonal(rows, cols, seed), addon.randomOrthogonal(rows, cols, seed)) < 1e-6, `randomOrthogonal ${rows} x ${cols}`);
  }
  const next = random(31);
  const dim = 40, bits = 130, rows = 25;
  const x = randomArray(rows * dim, next);
  const mean = randomArray(dim, next, -0.1, 0.1);
  const matrix = randomArray(bits * dim, next);
  const offsets = randomArray(bits, next, -0.2, 0.2);
  assert.ok(maxDifference(wasm.projectValues(x, dim, mean, matrix, bits), addon.projectValues(x, dim, mean, matrix, bits)) < 1e-5, 'projectValues');
  assert.equal(Array.from(wasm.projectSigns(x, dim, mean, matrix, bits, offsets)), Array.from(addon.projectSigns(x, dim, mean, matrix, bits, offsets)), 'projectSigns');

  const n = 30;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = next() - 0.5;
  const fromWasm = wasm.symmetricEigen(a, n), fromAddon = addon.symmetricEigen(a, n);
  assert.ok(maxDifference(fromWasm.values, fromAddon.values) < 1e-12, 'eigenvalues');
  // Each eigenvector is defined up to its sign.
  for (let k = 0; k < n; k++) {
    let dot = 0;
    for (let i = 0; i < n; i++) dot += fromWasm.vectors[k * n + i] * fromAddon.vectors[k * n + i];
    assert.ok(Math.abs(Math.abs(dot) - 1) < 1e-9, `eigenvector ${k}`);
  }
});

test('iterativeQuantization and fitHead match the addon', () => {
  if (!wasm || !addon) return;
  const next = random(32);
  const c = 12;
  const v = randomArray(300 * c, next);
  const start = addon.randomOrthogonal(c, c, 3);
  const itqWasm = wasm.iterativeQuantization(v, c, start, 20), itqAddon = addon.iterativeQuantization(v, c, start, 20);
  assert.ok(Math.abs(itqWasm.loss - itqAddon.loss) < 1e-4 * itqAddon.loss, `ITQ loss ${itqWasm.loss} vs ${itqAddon.loss}`);
  assert.ok(maxDifference(itqWasm.rotation, itqAddon.rotation) < 1e-3, 'ITQ rotation');

  const dim = 8, pairs = 60;
  const a = randomArray(pairs * dim, next), b = randomArray(pairs * dim, next);
  const labels = Uint8Array.from({ length: pairs }, (_, i) => i % 2);
  const prior = new Float64Array(2 * dim + 1).fill(0.1);
  const headWasm = wasm.fitHead(a, b, labels, dim, prior, 0.01, 100), headAddon = addon.fitHead(a, b, labels, dim, prior, 0.01, 100);
  assert.ok(maxDifference(headWasm.weights, headAddon.weights) < 1e-4, 'head weights');
  assert.ok(Math.abs(headWasm.loss - headAddon.loss) < 1e-6, 'head loss');
});

test('fitHead and fitQuantizer on WebAssembly match the addon', () => {
  if (!wasm || !addon) return;
  const next = random(33);
  const dim = 32;
  const people = Array.from({ length: 30 }, () => randomArray(dim, next));
  const noisy = (p: Float32Array): Float32Array => unit(p.map((x) => x + 0.3 * (next() * 2 - 1)));
  const embeddings: Float32Array[] = [], identities: number[] = [];
  people.forEach((p, i) => {
    for (let k = 0; k < 4; k++) {
      embeddings.push(noisy(p));
      identities.push(i);
    }
  });
  const pairs = people.flatMap((_, i) => [
    { a: embeddings[i * 4], b: embeddings[i * 4 + 1], same: true },
    { a: embeddings[i * 4], b: embeddings[((i + 1) % 30) * 4], same: false },
  ]);

  const headWasm = withCore(wasm, () => fitHead(pairs, { lambda: 1e-2 }));
  const headAddon = withCore(addon, () => fitHead(pairs, { lambda: 1e-2 }));
  assert.ok(Math.abs(headLogit(headWasm, pairs[0].a, pairs[0].b) - headLogit(headAddon, pairs[0].a, pairs[0].b)) < 1e-3, 'head logit');

  for (const options of [{ bits: 64, labels: identities, bitsPerAxis: 2 }, { bits: 32, rotation: 'itq' as const }, { bits: 48 }]) {
    const qWasm = withCore(wasm, () => fitQuantizer(embeddings, options));
    const qAddon = withCore(addon, () => fitQuantizer(embeddings, options));
    assert.ok(maxDifference(qWasm.matrix, qAddon.matrix) < 1e-3, `matrix with ${JSON.stringify(Object.keys(options))}`);
    assert.ok(maxDifference(qWasm.offsets, qAddon.offsets) < 1e-3, `offsets with ${JSON.stringify(Object.keys(options))}`);
  }
});

test.run();
