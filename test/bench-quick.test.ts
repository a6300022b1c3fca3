// Runs the quick benchmark in a child process, or on the WebAssembly backend a short run of
// bench/wasm-peers.ts. The test fails when an engine returns a wrong result or the benchmark
// crashes, but never because something is slow. A run that passes the time limit is stopped
// and only prints a note.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { ON_WASM, skipOnWasm } from './helpers';

const ROOT = path.join(__dirname, '..');
const TIME_LIMIT_MS = 170_000;
const TSX = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');

test('quick benchmark results correct', () => {
  if (skipOnWasm('quick benchmark', 'it times the native addon; the WebAssembly peer benchmark below covers this backend')) return;
  const run = spawnSync(process.execPath, [TSX, path.join(ROOT, 'bench', 'index.ts'), '--quick'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: TIME_LIMIT_MS,
  });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    console.log(`bench-quick: the quick benchmark timed out after ${TIME_LIMIT_MS / 1000} s, so no result was checked`);
    return;
  }
  const tail = `${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`;
  assert.not.match(run.stderr, /Wrong result/, `an engine returned a wrong result:\n${tail}`);
  assert.is(run.status, 0, `the quick benchmark exited with status ${run.status}:\n${tail}`);
  assert.match(run.stdout, /## Targets/, `the quick benchmark printed no results:\n${tail}`);
});

test('wasm peer benchmark outputs agree', () => {
  if (!ON_WASM) return;
  // One short round: the check is that every pair's outputs agree, not the times.
  const run = spawnSync(process.execPath, [TSX, path.join(ROOT, 'bench', 'wasm-peers.ts'), '--rounds', '1', '--runs', '2'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: TIME_LIMIT_MS,
  });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ETIMEDOUT') {
    console.log(`bench-quick: the WebAssembly peer benchmark timed out after ${TIME_LIMIT_MS / 1000} s, so no result was checked`);
    return;
  }
  const tail = `${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`;
  assert.not.match(run.stderr, /Wrong result/, `an engine returned a wrong result:\n${tail}`);
  assert.is(run.status, 0, `the WebAssembly peer benchmark exited with status ${run.status}:\n${tail}`);
  assert.match(run.stdout, /outputs agree/, `the WebAssembly peer benchmark compared nothing:\n${tail}`);
});

test.run();
