// Full 10-fold LFW runs: the accuracy acceptance of the default and reference pipelines.

import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { cosineSimilarity, LoadOptions } from '../lib';
import { scoreLfw } from '../lib/eval/lfw';
import { MODELS, sharedPath } from './helpers';
import { lfwEmbeddings } from './lfw-cache';

const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

/** The reference pipeline: YuNet at 320x320, then foamliu's MobileFaceNet. */
export const YUNET_MOBILEFACENET: LoadOptions = {
  detector: { path: path.join(MODELS, 'yunet', 'yunet_s_320_320.onnx'), decoder: 'yunet', channels: 'BGR' },
  embedder: {
    path: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx'),
    channels: 'RGB',
    mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
    std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
  },
};

test('default models reach 99.1 % on LFW', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW default models')) return;
  const { pairs, embedded } = await lfwEmbeddings();
  const report = scoreLfw(pairs, embedded, cosineSimilarity);
  console.log(`  default: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, TAR@1e-3 ${pct(report.tar['1e-3'])}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test('yunet with mobilefacenet reaches 99.1 % on LFW', async () => {
  if (!sharedPath('models/yunet/yunet_s_320_320.onnx', 'LFW yunet + mobilefacenet')) return;
  const { pairs, embedded } = await lfwEmbeddings(YUNET_MOBILEFACENET);
  const report = scoreLfw(pairs, embedded, cosineSimilarity);
  console.log(`  yunet + mobilefacenet: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test.run();
