// Full 10-fold LFW runs: the accuracy acceptance of the default and reference pipelines.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cosineSimilarity } from '../lib';
import { scoreLfw } from '../lib/eval/lfw';
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

test.run();
