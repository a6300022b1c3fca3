// Counts the AArch64 instructions that one kernel call executes, NEON against scalar, on a few
// representative layers. The driver bench/arm64/kernel-calls.cpp is cross-compiled with
// aarch64-linux-gnu-g++ and run under qemu-aarch64-static with its translation and execution
// logs on (-d in_asm,exec,nochain). Each executed translation block adds its instruction count.
// The count for one call is the total for two calls minus the total for one, so setup and
// process start cancel out.
//
// Instruction counts are not time: a NEON instruction does 4 float lanes, and cache misses and
// pipelines are not modelled. qemu's run time is no measure of arm64 speed either.
//
// Usage: npx tsx bench/arm64/instructions.ts

import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

const ROOT = path.join(__dirname, '..', '..');

interface Case {
  name: string;
  /** Multiply-adds (convolutions) or codes compared (Hamming) per call. */
  work: number;
  unit: string;
  layer: string;
}

const CASES: Case[] = [
  { name: 'first-conv', work: 32 * 32 * 16 * 27, unit: 'MAC', layer: 'conv 3x3 stride 2, 64x64x3 to 32x32x16, RELU' },
  { name: 'pointwise', work: 14 * 14 * 128 * 64, unit: 'MAC', layer: 'conv 1x1, 14x14x64 to 14x14x128, RELU' },
  { name: 'head', work: 40 * 40 * 64, unit: 'MAC', layer: 'conv 1x1, 40x40x64 to 40x40x1 (a score head)' },
  { name: 'conv3x3', work: 14 * 14 * 32 * 288, unit: 'MAC', layer: 'conv 3x3 pad 1, 14x14x32 to 14x14x32, RELU' },
  { name: 'depthwise', work: 28 * 28 * 64 * 9, unit: 'MAC', layer: 'depthwise 3x3 pad 1, 28x28x64, RELU' },
  { name: 'hamming', work: 10_000, unit: 'code', layer: 'Hamming, one query against 10,000 512-bit codes' },
];

function findCommand(...names: string[]): string | undefined {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0) return found.stdout.trim();
  }
  return undefined;
}

/** Returns the instructions executed in a qemu log written with -d in_asm,exec,nochain. */
async function countInstructions(log: string): Promise<number> {
  // in_asm prints each translation block once, as lines "0x<pc>:  <encoding>  <mnemonic>" after
  // an "IN:" line. exec prints "Trace <cpu>: <host> [<flags>/<pc>/...]" per block executed;
  // nochain makes qemu print that for every execution.
  const blockSizes = new Map<number, number>();
  const executions = new Map<number, number>();
  let block: number | undefined;
  const lines = readline.createInterface({ input: fs.createReadStream(log), crlfDelay: Infinity });
  for await (const line of lines) {
    const instruction = /^0x([0-9a-f]+):\s/.exec(line);
    if (instruction) {
      if (block === undefined) {
        block = Number.parseInt(instruction[1], 16);
        blockSizes.set(block, 0);
      }
      blockSizes.set(block, (blockSizes.get(block) ?? 0) + 1);
      continue;
    }
    block = undefined;
    const trace = /^Trace \d+: \S+ \[[0-9a-f]+\/([0-9a-f]+)\//.exec(line);
    if (trace) {
      const pc = Number.parseInt(trace[1], 16);
      executions.set(pc, (executions.get(pc) ?? 0) + 1);
    }
  }
  let total = 0;
  for (const [pc, count] of executions) total += count * (blockSizes.get(pc) ?? 0);
  return total;
}

async function main() {
  const compiler = findCommand('aarch64-linux-gnu-g++');
  const qemu = findCommand('qemu-aarch64-static', 'qemu-aarch64');
  if (!compiler || !qemu) {
    console.error('arm64 instructions: aarch64-linux-gnu-g++ or qemu-aarch64-static not found; install the Debian packages g++-aarch64-linux-gnu and qemu-user-static');
    process.exitCode = 1;
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-arm64-count-'));
  try {
    const binary = path.join(dir, 'kernel-calls');
    const ops = ['gemm', 'conv2d', 'pool2d', 'binary', 'unary', 'channel_affine', 'kernels_scalar'].map((name) => `native/ops/${name}.cpp`);
    const neon = fs.readdirSync(path.join(ROOT, 'native', 'ops')).filter((name) => name.endsWith('_neon.cpp')).map((name) => `native/ops/${name}`);
    execFileSync(compiler, ['-O3', '-std=c++17', '-static', '-o', binary, 'bench/arm64/kernel-calls.cpp', 'native/cpu.cpp', ...ops, ...neon], {
      cwd: ROOT,
      stdio: 'inherit',
    });

    const perCall = async (name: string, set: string): Promise<number> => {
      const totals: number[] = [];
      for (const calls of [1, 2]) {
        const log = path.join(dir, `${name}-${set}-${calls}.log`);
        execFileSync(qemu, ['-d', 'in_asm,exec,nochain', '-D', log, binary, name, set, String(calls)], { stdio: 'ignore' });
        totals.push(await countInstructions(log));
        fs.rmSync(log);
      }
      return totals[1] - totals[0];
    };

    console.log(`AArch64 instructions per kernel call (${compiler}, -O3), counted under ${qemu}\n`);
    console.log('| layer | scalar | NEON | scalar / NEON | NEON per unit of work |');
    console.log('|---|---|---|---|---|');
    for (const c of CASES) {
      const scalar = await perCall(c.name, 'scalar');
      const vector = await perCall(c.name, 'neon');
      const ratio = (scalar / vector).toFixed(1);
      const perUnit = `${(vector / c.work).toFixed(2)} per ${c.unit}`;
      console.log(`| ${c.layer} | ${scalar.toLocaleString('en-US')} | ${vector.toLocaleString('en-US')} | ${ratio} | ${perUnit} |`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(`arm64 instructions: ${error.message}`);
  process.exitCode = 1;
});
