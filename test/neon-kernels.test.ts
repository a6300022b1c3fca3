// Checks every NEON kernel against the scalar reference on AArch64. The C++ driver in
// test/neon/check_kernels.cpp is cross-compiled with aarch64-linux-gnu-g++ and run under
// qemu-aarch64-static (on an arm64 host it is built with g++ and run directly). The
// driver states the tolerance of each group; here each group becomes one test.

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';

const ROOT = path.join(__dirname, '..');
const GROUPS = ['dispatch', 'gemm', 'conv', 'direct_conv', 'depthwise', 'pool', 'binary', 'activation', 'channel_affine', 'hamming'];

// Scalar reference sources the driver compares against, plus every NEON source.
function sources(): string[] {
  const scalar = ['gemm', 'conv2d', 'pool2d', 'binary', 'unary', 'channel_affine', 'kernels_scalar'].map(
    (name) => `native/ops/${name}.cpp`,
  );
  const neon = fs
    .readdirSync(path.join(ROOT, 'native', 'ops'))
    .filter((name) => name.endsWith('_neon.cpp'))
    .sort()
    .map((name) => `native/ops/${name}`);
  return ['test/neon/check_kernels.cpp', 'native/cpu.cpp', ...scalar, ...neon];
}

function findCommand(...names: string[]): string | undefined {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0) return found.stdout.trim();
  }
  return undefined;
}

interface Toolchain {
  compiler: string;
  /** Command prefix that runs an AArch64 binary: qemu, or nothing on an arm64 host. */
  runner: string[];
}

/** Returns the toolchain, or the reason the checks cannot run here. */
function toolchain(): Toolchain | string {
  if (os.arch() === 'arm64') {
    const compiler = findCommand('g++');
    return compiler ? { compiler, runner: [] } : 'g++ is not installed';
  }
  const compiler = findCommand('aarch64-linux-gnu-g++');
  if (!compiler) return 'aarch64-linux-gnu-g++ is not installed (Debian package g++-aarch64-linux-gnu)';
  const qemu = findCommand('qemu-aarch64-static', 'qemu-aarch64');
  if (!qemu) return 'qemu-aarch64-static is not installed (Debian package qemu-user-static)';
  return { compiler, runner: [qemu] };
}

const tools = toolchain();
if (typeof tools === 'string') {
  console.log(`  skip NEON kernel checks: ${tools}`);
} else {
  let lines: string[][] = [];
  let runError = '';

  test.before(() => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-neon-'));
    const binary = path.join(dir, 'check_kernels');
    try {
      // -O3 as in binding.gyp; -static so qemu needs no AArch64 library path.
      execFileSync(tools.compiler, ['-O3', '-std=c++17', '-static', '-o', binary, ...sources()], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const [command, ...args] = [...tools.runner, binary];
      const run = spawnSync(command, args, { encoding: 'utf8', timeout: 120_000 });
      lines = run.stdout.split('\n').filter(Boolean).map((line) => line.split('\t'));
      if (run.status !== 0 && !lines.some((fields) => fields[1] === 'FAIL')) {
        runError = `check_kernels exited with ${run.status ?? run.signal}: ${run.stderr.trim()}`;
      }
    } catch (error) {
      const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
      runError = `building check_kernels failed: ${stderr || (error as Error).message}`;
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const group of GROUPS) {
    test(`neon ${group} matches scalar`, () => {
      assert.is(runError, '', runError);
      const results = lines.filter((fields) => fields[0] === group);
      assert.ok(results.length > 0, `no ${group} checks ran`);
      const failed = results.filter((fields) => fields[1] !== 'PASS').map((fields) => fields[2]);
      assert.equal(failed, [], `${failed.length} of ${results.length} ${group} checks failed:\n${failed.slice(0, 5).join('\n')}`);
    });
  }
}

test.run();
