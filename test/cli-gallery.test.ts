// The gallery and eval identify commands, run through bin/facebits.js.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { lfwImage, sharedPath } from './helpers';

const BIN = path.join(__dirname, '..', 'bin', 'facebits.js');

function facebits(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('gallery add, search, info and remove', () => {
  if (!sharedPath('faces/lfw', 'gallery commands')) return;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-cli-gallery-')), 'people.fbg');

  const added = facebits('gallery', 'add', file, 'colin', lfwImage('Colin_Powell', 40), '--json');
  assert.is(added.status, 0, added.stderr);
  const addedReport = JSON.parse(added.stdout);
  assert.is(addedReport.added, 'colin');
  assert.is(addedReport.photos, 1);
  assert.ok(Math.abs(addedReport.spread) < 1e-6, `spread ${addedReport.spread}`);
  assert.is(addedReport.size, 1);
  const second = facebits('gallery', 'add', file, 'george', lfwImage('George_W_Bush', 7), lfwImage('George_W_Bush', 16));
  assert.is(second.status, 0, second.stderr);
  assert.match(second.stdout, /added george .* from 2 photos \(2 entries\)/);

  const found = facebits('gallery', 'search', file, lfwImage('Colin_Powell', 71), '--json');
  assert.is(found.status, 0, found.stderr);
  const result = JSON.parse(found.stdout);
  assert.is(result.matches[0].id, 'colin');
  assert.ok(result.matches.every((m: { score: number }) => m.score >= result.threshold), 'matches are above the threshold');

  const info = facebits('gallery', 'info', file, '--json');
  assert.is(info.status, 0, info.stderr);
  const summary = JSON.parse(info.stdout);
  assert.is(summary.size, 2);
  assert.is(summary.codeBits, 512);
  assert.equal(summary.ids, ['colin', 'george']);

  const removed = facebits('gallery', 'remove', file, 'colin');
  assert.is(removed.status, 0, removed.stderr);
  const missed = facebits('gallery', 'search', file, lfwImage('Colin_Powell', 71));
  assert.is(missed.status, 1, missed.stderr);
  assert.match(missed.stdout, /no match at or above cosine/);
});

test('eval identify on linked person folders', () => {
  const lfw = sharedPath('faces/lfw', 'eval identify');
  if (!lfw) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-identify-'));
  for (const person of ['Colin_Powell', 'George_W_Bush', 'Tony_Blair']) {
    fs.mkdirSync(path.join(dir, person));
    for (const file of fs.readdirSync(path.join(lfw, person)).sort().slice(0, 3)) {
      fs.symlinkSync(path.join(lfw, person, file), path.join(dir, person, file));
    }
  }
  fs.symlinkSync(path.join(lfw, 'Tony_Blair'), path.join(dir, 'Tony_Blair_linked'));

  const run = facebits('eval', 'identify', dir, '--json');
  assert.is(run.status, 0, run.stderr);
  const report = JSON.parse(run.stdout.trim().split('\n').pop()!);
  assert.is(report.people, 4, 'a linked person folder is followed');
  assert.ok(report.queries >= 8, `${report.queries} queries`);
  for (const key of ['rank1', 'rank5']) {
    assert.type(report.twoStage[key], 'number', key);
    assert.is(report.twoStage[key], report.exact[key], key);
  }
  assert.match(run.stdout, /two-stage {4}rank-1 [\d.]+ %/);
});

test('gallery commands exit 2 on errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-cli-gallery-'));
  const missing = facebits('gallery', 'info', path.join(dir, 'missing.fbg'));
  assert.is(missing.status, 2);
  assert.match(missing.stderr, /INVALID_ARGUMENT: Cannot open gallery .*missing\.fbg: the file does not exist/);

  const junk = path.join(dir, 'junk.fbg');
  fs.writeFileSync(junk, 'not a gallery at all, just some text to fill the header');
  const corrupted = facebits('gallery', 'info', junk);
  assert.is(corrupted.status, 2);
  assert.match(corrupted.stderr, /GALLERY_CORRUPTED: .*not a facebits gallery/);

  const extra = facebits('gallery', 'info', junk, '--precision', 'nope', '--k', '3');
  assert.is(extra.status, 2);
  assert.match(extra.stderr, /gallery info takes only --json; remove --precision, --k/);

  const unknown = facebits('gallery', 'list', junk);
  assert.is(unknown.status, 2);
  assert.match(unknown.stderr, /Unknown gallery command "list"/);
});

test.run();
