// Benchmark entry point. `npm run bench` runs everything and `npm run bench -- --quick` a short
// version. The exit status is 1 when an engine returns a wrong result, and slow results only print.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { native } from '../lib/native';
import { batchRows } from './batch';
import { coldStartRows } from './cold-start';
import { hammingRows } from './hamming';
import { printRows, Row } from './report';
import { FULL, QUICK } from './stats';
import { cores, ROOT, WrongResultError } from './setup';
import { singleThreadRows } from './single';

const SECTIONS = ['single', 'batch', 'cold', 'hamming'] as const;
type Section = (typeof SECTIONS)[number];

const USAGE = `Usage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--json FILE]
  --quick   shorter sampling, fewer cold starts and batch faces
  --only    comma-separated sections to run (default: all)
  --json    also write the rows and the environment to FILE`;

interface Args {
  quick: boolean;
  sections: Section[];
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { quick: false, sections: [...SECTIONS] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--quick') {
      args.quick = true;
    } else if (arg === '--only' && i + 1 < argv.length) {
      const names = argv[++i].split(',');
      const unknown = names.filter((name) => !(SECTIONS as readonly string[]).includes(name));
      if (unknown.length) throw new Error(`Invalid section ${unknown.join(', ')}. Expected one of ${SECTIONS.join(', ')}.\n${USAGE}`);
      args.sections = names as Section[];
    } else if (arg === '--json' && i + 1 < argv.length) {
      args.json = argv[++i];
    } else {
      throw new Error(`Invalid argument ${arg}.\n${USAGE}`);
    }
  }
  return args;
}

function packageVersion(name: string): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return 'not installed';
  }
}

function environment(quick: boolean): Record<string, string> {
  return {
    date: new Date().toISOString(),
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: String(cores()),
    isa: native().isa(),
    'bf16-gemm': native().bf16Gemm() ?? 'none (bf16 rows skipped)',
    node: process.version,
    'onnxruntime-node': packageVersion('onnxruntime-node'),
    '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
    mode: quick ? 'quick' : 'full',
    loadavg: os.loadavg().map((v) => v.toFixed(2)).join(' '),
  };
}

/** Prints the ratios that the project's speed targets refer to. They never change the exit status. */
function printTargets(rows: Row[]): void {
  const lines: string[] = [];
  const status = (met: boolean): string => (met ? 'met' : 'not met');
  const peak = rows.find((row) => row.name.startsWith('float32 FMA peak'))?.rate?.facebits;
  for (const row of rows) {
    if (row.section.startsWith('Embedding') && row.peer && row.ratio !== undefined) {
      const bf16 = row.name.endsWith(', bf16');
      const precision = bf16 ? ', facebits in bf16 against float32' : '';
      lines.push(`embedding ${row.name}: ${row.ratio.toFixed(2)}x ${row.peer.name}, ${row.ratioOfMinima?.toFixed(2)}x of minima (target <= 0.80x${precision}: ${status(row.ratio <= 0.8)})`);
      // The arithmetic rate that 0.8x of the peer's time takes, against the float32 FMA peak.
      const needed = row.rate?.peer !== undefined ? row.rate.peer / 0.8 : undefined;
      if (!bf16 && row.ratio > 0.8 && needed !== undefined && peak !== undefined) {
        lines.push(`  0.80x takes ${needed.toFixed(0)} GFLOP/s of float32 arithmetic, ${((100 * needed) / peak).toFixed(0)} % of this core's FMA peak (${peak.toFixed(0)} GFLOP/s)`);
      }
    }
    if (row.name.startsWith('YuNet') && row.ratio !== undefined) {
      lines.push(`detection ${row.name}: ${row.ratio.toFixed(2)}x onnxruntime-node, ${row.ratioOfMinima?.toFixed(2)}x of minima (target <= 1.00x: ${status(row.ratio <= 1)})`);
    }
    if (row.section.startsWith('Hamming') && row.name.startsWith('512') && row.peer) {
      const share = (100 * row.peer.timing.median) / row.facebits.median;
      const kind = row.name.slice(row.name.lastIndexOf(', ') + 2);
      lines.push(`Hamming 512-bit scan, ${kind}: ${share.toFixed(0)} % of read bandwidth (target >= 70 %: ${status(share >= 70)})`);
    }
    if (row.name === 'import to first verdict') {
      lines.push(`cold start: ${row.facebits.median.toFixed(0)} ms (target <= 150 ms: ${status(row.facebits.median <= 150)})`);
    }
  }
  if (lines.length) console.log(`\n## Targets (medians; the exit status never depends on them)\n${lines.map((line) => `  ${line}`).join('\n')}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const options = args.quick ? QUICK : FULL;
  const env = environment(args.quick);
  console.log(Object.entries(env).map(([key, value]) => `${key}: ${value}`).join('\n'));

  const rows: Row[] = [];
  for (const section of args.sections) {
    const started = Date.now();
    if (section === 'single') rows.push(...(await singleThreadRows(options)));
    if (section === 'batch') rows.push(...(await batchRows(options, args.quick ? 8 : 16)));
    if (section === 'cold') rows.push(...coldStartRows(args.quick ? 3 : 10));
    if (section === 'hamming') rows.push(...(await hammingRows(options, 1_000_000)));
    console.error(`${section}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  printRows(rows);
  printTargets(rows);
  if (args.json) fs.writeFileSync(args.json, JSON.stringify({ environment: env, rows }, null, 2));
}

main().catch((error) => {
  console.error(error instanceof WrongResultError ? `Wrong result: ${error.message}` : error);
  process.exit(1);
});
