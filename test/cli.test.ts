import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import sharp from 'sharp';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import { LFW, lfwImage, sharedPath } from './helpers';

const BIN = path.join(__dirname, '..', 'bin', 'facebits.js');

function facebits(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('verify exits 0 for one person and prints JSON', () => {
  if (!sharedPath('faces/lfw', 'verify same')) return;
  const run = facebits('verify', lfwImage('Colin_Powell', 40), lfwImage('Colin_Powell', 71), '--json');
  assert.is(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.is(result.same, true);
  for (const key of ['cosine', 'hamming', 'threshold', 'bits']) assert.type(result[key], 'number', key);
  assert.is(result.precision, 'fp32');
});

test('verify --precision bf16 reports the precision that ran', () => {
  if (!sharedPath('faces/lfw', 'verify bf16')) return;
  const run = facebits('verify', lfwImage('Colin_Powell', 40), lfwImage('Colin_Powell', 71), '--precision', 'bf16', '--json');
  assert.is(run.status, 0, run.stderr);
  const result = JSON.parse(run.stdout);
  assert.is(result.same, true);
  assert.is(result.precision, native().bf16Gemm() ? 'bf16' : 'fp32');
});

test('verify exits 1 for two people', () => {
  if (!sharedPath('faces/lfw', 'verify different')) return;
  const run = facebits('verify', lfwImage('Colin_Powell', 40), lfwImage('George_W_Bush', 7));
  assert.is(run.status, 1, run.stderr);
  assert.match(run.stdout, /different people/);
  assert.match(run.stdout, /cosine -?\d\.\d{4}/);
});

test('verify exits 2 with the message on stderr', () => {
  const missing = facebits('verify', '/nonexistent/a.jpg', '/nonexistent/b.jpg');
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /INVALID_IMAGE: Invalid image: file \/nonexistent\/a\.jpg cannot be read/);
  assert.is(missing.stdout, '');

  const usage = facebits('verify', 'only-one.jpg');
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /verify needs two images/);

  const protocol = facebits('eval', 'foo', 'x');
  assert.is(protocol.status, 2);
  assert.match(protocol.stderr, /Unknown eval protocol "foo"/);

  const flag = facebits('verify', 'a.jpg', 'b.jpg', '--no-such-flag');
  assert.is(flag.status, 2);
  assert.match(flag.stderr, /INVALID_ARGUMENT: Unknown option '--no-such-flag'/);

  const range = facebits('verify', 'a.jpg', 'b.jpg', '--min-score', '3');
  assert.is(range.status, 2);
  assert.match(range.stderr, /INVALID_ARGUMENT: Expected a number between 0 and 1 for --min-score but received 3/);

  const precision = facebits('verify', 'a.jpg', 'b.jpg', '--precision', 'fp16');
  assert.is(precision.status, 2);
  assert.match(precision.stderr, /INVALID_ARGUMENT: Expected "fp32" or "bf16" for --precision but received "fp16"/);
});

test('verify notes a photo with several faces, and --single-face rejects it', async () => {
  if (!sharedPath('faces/lfw', 'verify two faces')) return;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-cli-')), 'two.png');
  await sharp({ create: { width: 500, height: 250, channels: 3, background: '#000000' } })
    .composite([
      { input: lfwImage('Colin_Powell', 40), left: 0, top: 0 },
      { input: lfwImage('George_W_Bush', 7), left: 250, top: 0 },
    ])
    .png()
    .toFile(file);

  const noted = facebits('verify', lfwImage('Colin_Powell', 71), file, '--json');
  assert.ok(noted.status === 0 || noted.status === 1, noted.stderr);
  assert.match(noted.stderr, /two\.png has 2 faces; compared the most likely subject/);
  assert.equal(JSON.parse(noted.stdout).faces, [1, 2]);

  const strict = facebits('verify', lfwImage('Colin_Powell', 71), file, '--single-face');
  fs.rmSync(path.dirname(file), { recursive: true });
  assert.is(strict.status, 2);
  assert.match(strict.stderr, /MULTIPLE_FACES: Found 2 faces in file .*two\.png/);
});

test('verify --far decides at the calibrated threshold for that FAR', () => {
  if (!sharedPath('faces/lfw', 'verify --far')) return;
  const strict = facebits('verify', lfwImage('Colin_Powell', 40), lfwImage('Colin_Powell', 71), '--far', '1e-3', '--json');
  assert.is(strict.status, 0, strict.stderr);
  const strictResult = JSON.parse(strict.stdout);
  assert.is(strictResult.far, 0.001);
  const loose = JSON.parse(facebits('verify', lfwImage('Colin_Powell', 40), lfwImage('Colin_Powell', 71), '--json').stdout);
  assert.is(loose.far, 0.01);
  assert.ok(strictResult.threshold > loose.threshold, `${strictResult.threshold} > ${loose.threshold}`);

  const both = facebits('verify', 'a.jpg', 'b.jpg', '--far', '1e-3', '--threshold', '0.3');
  assert.is(both.status, 2);
  assert.match(both.stderr, /INVALID_ARGUMENT: --far and --threshold both set the decision threshold/);
});

test('--version prints the package version', () => {
  const run = facebits('--version');
  assert.is(run.status, 0, run.stderr);
  assert.is(run.stdout.trim(), JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version);
});

test('eval lfw prints a JSON report as the last line', () => {
  if (!sharedPath('faces/lfw', 'eval lfw --json')) return;
  // A two-fold protocol over four people keeps this fast; the full run has its own test.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-lfw-'));
  const people = ['Colin_Powell', 'George_W_Bush', 'Tony_Blair', 'Donald_Rumsfeld'];
  for (const name of people) fs.symlinkSync(path.join(LFW, name), path.join(dir, name));
  const images = people.map((name) => fs.readdirSync(path.join(LFW, name)).sort().slice(0, 2).map((f) => Number(f.slice(-8, -4))));
  const lines = ['2\t2'];
  for (let fold = 0; fold < 2; fold++) {
    const [p, q] = [people[fold * 2], people[fold * 2 + 1]];
    const [pi, qi] = [images[fold * 2], images[fold * 2 + 1]];
    lines.push(`${p}\t${pi[0]}\t${pi[1]}`, `${q}\t${qi[0]}\t${qi[1]}`, `${p}\t${pi[0]}\t${q}\t${qi[0]}`, `${p}\t${pi[1]}\t${q}\t${qi[1]}`);
  }
  fs.writeFileSync(path.join(dir, 'pairs.txt'), lines.join('\n') + '\n');

  const run = facebits('eval', 'lfw', dir, '--json');
  fs.rmSync(dir, { recursive: true });
  assert.is(run.status, 0, run.stderr);
  const last = run.stdout.trim().split('\n').pop()!;
  const report = JSON.parse(last);
  assert.type(report.accuracy.mean, 'number');
  assert.type(report.accuracy.std, 'number');
  assert.type(report.tar['1e-2'], 'number');
  assert.type(report.tar['1e-3'], 'number');
  assert.is(report.noFace, 0);
  assert.ok(report.imagesPerSecond > 0);
  assert.match(run.stdout, /accuracy\s+\d+\.\d\d ± \d+\.\d\d %/);
  // 4 impostor pairs cannot measure FAR 1e-2 or 1e-3, and the output notes it.
  assert.match(run.stdout, /TAR@FAR1e-3 .*only 4 impostor pairs/);
  assert.match(run.stderr, /100%/);
});

test.run();
