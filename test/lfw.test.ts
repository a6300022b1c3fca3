// Full 10-fold LFW runs: the accuracy acceptance of the default and reference pipelines, and of
// the reference pipeline in bf16 precision where AMX runs it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cosineSimilarity } from '../lib';
import { scoreLfw } from '../lib/eval/lfw';
import { native } from '../lib/native';
import { FULL_LFW_ON_WASM, sharedPath, skipOnWasm } from './helpers';
import { lfwEmbeddings, YUNET_MOBILEFACENET } from './lfw-cache';

const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

test('default models reach 99.1 % on LFW', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW default models')) return;
  if (skipOnWasm('LFW default models', FULL_LFW_ON_WASM)) return;
  const { pairs, embedded } = await lfwEmbeddings();
  const report = scoreLfw(pairs, embedded, cosineSimilarity);
  console.log(`  default: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, TAR@1e-3 ${pct(report.tar['1e-3'])}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test('yunet with mobilefacenet reaches 99.1 % on LFW', async () => {
  if (!sharedPath('models/yunet/yunet_s_320_320.onnx', 'LFW yunet + mobilefacenet')) return;
  if (skipOnWasm('LFW yunet + mobilefacenet', FULL_LFW_ON_WASM)) return;
  const { pairs, embedded } = await lfwEmbeddings(YUNET_MOBILEFACENET);
  const report = scoreLfw(pairs, embedded, cosineSimilarity);
  console.log(`  yunet + mobilefacenet: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test('yunet with mobilefacenet in bf16 precision reaches 99.1 % on LFW', async () => {
  if (!sharedPath('models/yunet/yunet_s_320_320.onnx', 'LFW yunet + mobilefacenet in bf16')) return;
  if (skipOnWasm('LFW yunet + mobilefacenet in bf16', 'the WebAssembly core has no bfloat16 GEMM, so bf16 precision runs float32')) return;
  const gemm = native().bf16Gemm();
  if (!gemm) {
    console.log('  skip LFW yunet + mobilefacenet in bf16: this CPU or OS has neither AMX-BF16 tiles nor AVX512_BF16');
    return;
  }
  const { pairs, embedded, fb } = await lfwEmbeddings({ ...YUNET_MOBILEFACENET, precision: 'bf16' });
  assert.is(fb.precision, 'bf16');
  const report = scoreLfw(pairs, embedded, cosineSimilarity);
  console.log(`  yunet + mobilefacenet, bf16 (${gemm}): accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test.run();
