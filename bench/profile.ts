// Per-op time of one model on one thread: where an embedding or detection spends its time.
// Usage: npx tsx bench/profile.ts MODEL [--precision bf16] [--runs N] [--input N,C,H,W]
//   MODEL is an .onnx, TF.js model.json or .fbm file. The input is random 0..255 pixels.

import { parseArgs } from 'node:util';

import { loadFromPath } from '../lib/models';
import { native, OpProfile, Precision } from '../lib/native';

interface Group {
  description: string;
  count: number;
  flops: number;
  seconds: number;
}

const USAGE = 'Usage: npx tsx bench/profile.ts MODEL [--precision fp32|bf16] [--runs N] [--input N,C,H,W]';

function usageError(message: string): Error {
  return new Error(`${message}\n${USAGE}`);
}

function main(): void {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2),
    options: { precision: { type: 'string' }, runs: { type: 'string' }, input: { type: 'string' } },
    allowPositionals: true,
  });
  const [file] = positionals;
  if (!file) throw usageError('Missing the model file.');
  const precision = (values.precision ?? 'fp32') as Precision;
  const runs = Number(values.runs ?? 200);
  if (!Number.isInteger(runs) || runs < 1 || runs > 1e6) {
    throw usageError(`--runs expects an integer from 1 to 1000000, received "${values.runs}".`);
  }
  const inputShape = values.input ? values.input.split(',').map(Number) : undefined;

  const model = loadFromPath(file, 'embedder', { inputShape }, native(), precision);
  const size = model.inputShape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(size).map(() => Math.random() * 255);
  model.native.profileSync([input], Math.max(1, Math.floor(runs / 10)));
  const ops = model.native.profileSync([input], runs);
  const ran = model.native.bf16Layers() ? 'bf16' : 'fp32';
  const fallback = precision === 'bf16' && ran === 'fp32' ? ' (bf16 requested, but this core has no bfloat16 GEMM)' : '';
  const gemm = ran === 'bf16' ? ` (${native().bf16Gemm()})` : '';
  console.log(`${file}: ${native().isa()}, ${ran}${gemm}${fallback}, ${runs} runs`);
  print(ops, runs);
  console.log('Ops other than convolutions and fully connected layers have no FLOP count, so no GFLOP/s.');
}

// Prints the ops grouped by description, slowest group first, with a fused op's work
// counted in the op that ran it.
function print(ops: OpProfile[], runs: number): void {
  const flops = ops.map((op) => op.flops);
  ops.forEach((op, i) => {
    if (op.fusedInto >= 0) {
      flops[op.fusedInto] += op.flops;
      flops[i] = 0;
    }
  });
  const groups = new Map<string, Group>();
  ops.forEach((op, i) => {
    const key = op.fusedInto >= 0 ? `${op.description} (fused)` : op.description;
    const group = groups.get(key) ?? { description: key, count: 0, flops: 0, seconds: 0 };
    group.count += 1;
    group.flops += flops[i];
    group.seconds += op.seconds;
    groups.set(key, group);
  });
  const total = ops.reduce((sum, op) => sum + op.seconds, 0) / runs;
  const sorted = [...groups.values()].sort((a, b) => b.seconds - a.seconds);
  console.log(`${'ms/run'.padStart(8)} ${'share'.padStart(6)} ${'GFLOP/s'.padStart(8)}  count  op`);
  for (const g of sorted) {
    const ms = (g.seconds / runs) * 1e3;
    const rate = g.flops > 0 ? ((g.flops * runs) / g.seconds / 1e9).toFixed(1) : '';
    console.log(`${ms.toFixed(3).padStart(8)} ${((100 * g.seconds) / runs / total).toFixed(1).padStart(5)}% ${rate.padStart(8)}  ${String(g.count).padStart(5)}  ${g.description}`);
  }
  const allFlops = ops.reduce((sum, op) => sum + op.flops, 0);
  console.log(`${(total * 1e3).toFixed(3).padStart(8)} total, ${(allFlops / total / 1e9).toFixed(1)} GFLOP/s`);
}

try {
  main();
} catch (error) {
  const code = (error as { code?: string }).code;
  console.error(`profile: ${code ? `${code}: ` : ''}${(error as Error).message}`);
  process.exitCode = 2;
}
