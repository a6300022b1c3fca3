// Runs the quick benchmark in a child process. The test fails when an engine returns a wrong
// result or the benchmark crashes, but never because something is slow. A run that passes the
// time limit is stopped and only prints a note.

import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.join(__dirname, '..');
const TIME_LIMIT_MS = 170_000;

test('quick benchmark results correct', () => {
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const run = spawnSync(process.execPath, [tsx, path.join(ROOT, 'bench', 'index.ts'), '--quick'], {
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

test.run();
