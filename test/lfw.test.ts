// Full 10-fold LFW runs: the accuracy acceptance of the default and reference pipelines.

import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { load } from '../lib';
import { evaluateLfw } from '../lib/eval/lfw';
import { LFW, MODELS, sharedPath } from './helpers';

const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;

test('default models reach 99.1 % on LFW', async () => {
  if (!sharedPath('faces/lfw/pairs.txt', 'LFW default models')) return;
  const fb = await load();
  const report = await evaluateLfw(fb, LFW, { progress: false });
  fb.dispose();
  console.log(`  default: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, TAR@1e-3 ${pct(report.tar['1e-3'])}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test('yunet with mobilefacenet reaches 99.1 % on LFW', async () => {
  if (!sharedPath('models/yunet/yunet_s_320_320.onnx', 'LFW yunet + mobilefacenet')) return;
  const fb = await load({
    detector: { path: path.join(MODELS, 'yunet', 'yunet_s_320_320.onnx'), decoder: 'yunet', channels: 'BGR' },
    embedder: {
      path: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx'),
      channels: 'RGB',
      mean: [0.485 * 255, 0.456 * 255, 0.406 * 255],
      std: [0.229 * 255, 0.224 * 255, 0.225 * 255],
    },
  });
  const report = await evaluateLfw(fb, LFW, { progress: false });
  fb.dispose();
  console.log(`  yunet + mobilefacenet: accuracy ${pct(report.accuracy.mean)} ± ${pct(report.accuracy.std)}, no face ${report.noFace}, ${report.imagesPerSecond.toFixed(1)} images/s`);
  assert.ok(report.accuracy.mean >= 0.991, `accuracy ${pct(report.accuracy.mean)}`);
});

test.run();
