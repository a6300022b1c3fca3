// The WebAssembly core against the native addon: backend selection, and the same
// embeddings and codes from both on LFW photos.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { cosineSimilarity, Facebits, load } from '../lib';
import { LfwPair, readPairs } from '../lib/eval/lfw';
import { binding } from '../lib/native';
import { LFW, rejectsWith, sharedPath } from './helpers';
import { lfwEmbeddings } from './lfw-cache';

/** Pairs scored on both backends: 150 same-person and 150 different-person pairs of fold 1. */
const SAME_PAIRS = 150;
const DIFFERENT_PAIRS = 150;

const wasm = suite<{ fb?: Facebits }>('wasm');

wasm.before(async (context) => {
  context.fb = await load({ backend: 'wasm' });
});

wasm.after((context) => {
  context.fb?.dispose();
});

wasm('backend option selects the WebAssembly core', ({ fb }) => {
  assert.is(fb!.backend, 'wasm');
  assert.is(fb!.isa, 'simd128');
  assert.equal(binding('wasm').supportedIsas(), ['simd128', 'scalar']);
});

wasm('backend option selects the native addon', async () => {
  const fb = await load({ backend: 'native' });
  try {
    assert.is(fb.backend, 'native');
    assert.ok(['avx512', 'avx2', 'neon', 'scalar'].includes(fb.isa), fb.isa);
  } finally {
    fb.dispose();
  }
});

wasm('unknown backend is rejected', async () => {
  await rejectsWith(load({ backend: 'gpu' as 'wasm' }), 'INVALID_ARGUMENT', /backend/);
});

wasm('FACEBITS_BACKEND picks the default core', async () => {
  const saved = process.env.FACEBITS_BACKEND;
  try {
    process.env.FACEBITS_BACKEND = 'wasm';
    const fb = await load();
    assert.is(fb.backend, 'wasm');
    fb.dispose();
    process.env.FACEBITS_BACKEND = 'cuda';
    await rejectsWith(load(), 'INVALID_ARGUMENT', /FACEBITS_BACKEND "cuda"/);
  } finally {
    if (saved === undefined) delete process.env.FACEBITS_BACKEND;
    else process.env.FACEBITS_BACKEND = saved;
  }
});

function scoredPairs(): LfwPair[] {
  const pairs = readPairs(LFW);
  const same = pairs.filter((p) => p.same).slice(0, SAME_PAIRS);
  const different = pairs.filter((p) => !p.same).slice(0, DIFFERENT_PAIRS);
  return [...same, ...different];
}

wasm('embeddings and codes match the native addon on LFW', async ({ fb }) => {
  if (!sharedPath('faces/lfw/pairs.txt', 'wasm against native on LFW')) return;
  const native = await lfwEmbeddings();
  const pairs = scoredPairs();
  const images = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
  const nativeCore = binding('native');

  const embeddings = new Map<string, Float32Array | null>();
  let worstCosine = 1;
  let compared = 0;
  for (const image of images) {
    const expected = native.embedded.embeddings.get(image);
    let result: Awaited<ReturnType<Facebits['embed']>> | null = null;
    try {
      result = await fb!.embed(image);
    } catch (error) {
      if ((error as { code?: string }).code !== 'NO_FACE') throw error;
    }
    assert.is(result === null, expected === null, `${image}: a face is found by one backend only`);
    embeddings.set(image, result ? result.embedding : null);
    if (!result || !expected) continue;

    const cosine = cosineSimilarity(result.embedding, expected);
    worstCosine = Math.min(worstCosine, cosine);
    assert.ok(cosine >= 0.9999, `${image}: cosine ${cosine} between the wasm and native embeddings`);
    assert.equal(result.code, nativeCore.packSigns(expected), `${image}: the Hamming codes differ`);
    compared++;
  }
  console.log(`  wasm vs native: ${compared} images, lowest cosine ${worstCosine.toFixed(7)}`);

  // Every pair gets the same verdict at the model's threshold from both backends.
  for (const pair of pairs) {
    const [wa, wb] = [embeddings.get(pair.a), embeddings.get(pair.b)];
    const [na, nb] = [native.embedded.embeddings.get(pair.a), native.embedded.embeddings.get(pair.b)];
    if (!wa || !wb || !na || !nb) continue;
    const wasmSame = cosineSimilarity(wa, wb) >= fb!.threshold;
    const nativeSame = cosineSimilarity(na, nb) >= fb!.threshold;
    assert.is(wasmSame, nativeSame, `${pair.a} / ${pair.b}: the verdicts differ`);
  }
});

wasm.run();
