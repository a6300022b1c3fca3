// Times gallery search on a synthetic gallery of random 512-d embeddings with 512-bit codes.
// It measures the native top-k Hamming scan alone, the two-stage search on one thread and
// on all threads (scan, then cosine re-rank of a 100-entry shortlist), and the exact scan.
//
//   npx tsx bench/gallery-search.ts [--count N] [--queries N] [--json]
//
// Pin to one core for the one-core figure: taskset -c 0 npx tsx bench/gallery-search.ts
// On a shared machine the wall-clock median includes time the process waited for the core,
// so the CPU-time median is printed beside it.

import * as os from 'node:os';
import { parseArgs } from 'node:util';

import { Gallery } from '../lib/gallery';
import { native } from '../lib/native';

const { values } = parseArgs({
  options: { count: { type: 'string' }, queries: { type: 'string' }, json: { type: 'boolean' } },
});
const COUNT = Number(values.count ?? 1_000_000);
const QUERIES = Number(values.queries ?? 50);
const DIMENSION = 512;
const CODE_BYTES = 64;

// xorshift32, so every run scans the same gallery.
let state = 0x12345678;
function nextWord(): number {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state;
}

function randomTemplate(): { embedding: Float32Array; code: Uint8Array } {
  const embedding = new Float32Array(DIMENSION);
  for (let j = 0; j < DIMENSION; j++) embedding[j] = nextWord() / 4294967296 - 0.5;
  return { embedding, code: native().packSigns(embedding) };
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

interface Timing {
  /** Median wall-clock time per query. */
  medianMs: number;
  maxMs: number;
  /** Median CPU time of this process per query (all threads), which excludes time spent preempted. */
  cpuMedianMs: number;
}

function time(runs: number, fn: (run: number) => void): Timing {
  fn(0);
  const times: number[] = [];
  const cpuTimes: number[] = [];
  for (let run = 0; run < runs; run++) {
    const cpuStarted = process.cpuUsage();
    const started = process.hrtime.bigint();
    fn(run);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
    const cpu = process.cpuUsage(cpuStarted);
    cpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  return { medianMs: median(times), maxMs: Math.max(...times), cpuMedianMs: median(cpuTimes) };
}

function main(): void {
  const buildStarted = Date.now();
  const gallery = new Gallery({ modelId: 'synthetic', dimension: DIMENSION, codeBytes: CODE_BYTES });
  for (let i = 0; i < COUNT; i++) gallery.add(String(i), randomTemplate());
  const buildSeconds = (Date.now() - buildStarted) / 1000;

  const probes = Array.from({ length: QUERIES }, randomTemplate);
  const codes = gallery.snapshot().codes;
  const rows: Record<string, Timing> = {
    'hamming top-10, 1 thread': time(QUERIES, (q) => native().hammingTopK(probes[q % QUERIES].code, codes, COUNT, 10, 1)),
    'hamming top-100, 1 thread': time(QUERIES, (q) => native().hammingTopK(probes[q % QUERIES].code, codes, COUNT, 100, 1)),
    'two-stage top-10 (shortlist 100), 1 thread': time(QUERIES, (q) => gallery.search(probes[q % QUERIES], { k: 10, threads: 1 })),
    'two-stage top-10 (shortlist 100), all threads': time(QUERIES, (q) => gallery.search(probes[q % QUERIES], { k: 10 })),
    'exact cosine top-10': time(3, (q) => gallery.search(probes[q], { k: 10, exact: true })),
  };

  const report = { count: COUNT, queries: QUERIES, isa: native().isa(), cpus: os.cpus().length, cpu: os.cpus()[0]?.model, buildSeconds, rows };
  if (values.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`${COUNT} entries, ${DIMENSION}-d embeddings, ${CODE_BYTES * 8}-bit codes, ${report.isa}, ${report.cpu}`);
  for (const [name, t] of Object.entries(rows)) {
    const wall = `median ${t.medianMs.toFixed(2).padStart(8)} ms   max ${t.maxMs.toFixed(2).padStart(8)} ms`;
    console.log(`${name.padEnd(48)} ${wall}   CPU median ${t.cpuMedianMs.toFixed(2).padStart(8)} ms`);
  }
}

main();
