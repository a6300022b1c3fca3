#!/usr/bin/env node
// Builds and runs the libFuzzer targets one after another.
//   npm run fuzz -- --seconds 60                 every target for 60 s each
//   npm run fuzz -- --seconds 600 plan_fuzzer    one target
//   npm run fuzz -- --seconds 600 gallery        the gallery file mutation fuzzer (TypeScript)
//   npm run fuzz -- --seconds 600 template       the template mutation fuzzer (TypeScript)
//   npm run fuzz -- --seconds 600 onnx           the ONNX protobuf decoder and importer fuzzer (TypeScript)
// New corpus entries go to fuzz/out/corpus/<target> (not committed); the committed seeds
// in fuzz/corpus/<target> are read as well. A crash leaves fuzz/out/<target>-crash-* and
// makes the command exit non-zero; turn each into a regression test (docs/FUZZING.md).
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const args = process.argv.slice(2);
let seconds = 10;
const targets = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seconds') seconds = Number(args[++i]);
  else if (args[i].startsWith('--seconds=')) seconds = Number(args[i].slice(10));
  else targets.push(args[i]);
}
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error('fuzz: --seconds needs a positive whole number');
  process.exit(2);
}
if (targets.length === 0) {
  for (const f of fs.readdirSync(__dirname).sort()) if (f.endsWith('_fuzzer.cpp')) targets.push(f.slice(0, -4));
  targets.push('gallery', 'template', 'onnx');
}
const SCRIPTS = { gallery: 'gallery-fuzz.ts', template: 'template-fuzz.ts', onnx: 'onnx-fuzz.ts' };
const native = targets.filter((t) => !(t in SCRIPTS));

if (native.length) {
  const build = spawnSync(path.join(__dirname, 'build.sh'), native, { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

let failed = 0;
for (const t of targets.filter((name) => name in SCRIPTS)) {
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const run = spawnSync(process.execPath, [tsx, path.join(__dirname, SCRIPTS[t]), '--seconds', String(seconds)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  console.log(`fuzz: ${t} exit ${run.status}`);
  if (run.status !== 0) failed++;
}
for (const t of native) {
  const work = path.join(__dirname, 'out', 'corpus', t);
  fs.mkdirSync(work, { recursive: true });
  const started = Date.now();
  const run = spawnSync(
    path.join(__dirname, 'out', t),
    [
      `-max_total_time=${seconds}`,
      '-timeout=20',
      '-rss_limit_mb=3072',
      '-print_final_stats=1',
      `-artifact_prefix=${path.join(__dirname, 'out', `${t}-`)}`,
      work,
      path.join(__dirname, 'corpus', t),
    ],
    { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const took = ((Date.now() - started) / 1000).toFixed(0);
  console.log(`fuzz: ${t} ran ${took} s, exit ${run.status}`);
  if (run.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
