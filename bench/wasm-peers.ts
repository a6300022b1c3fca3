// The WebAssembly core against @tensorflow/tfjs-backend-wasm (SIMD, one thread) on the same
// TF.js model file and input: BlazeFace back, 256x256. Both run on the calling thread.
// Times are CPU time of this process per run (process.cpuUsage), so other jobs on a shared
// machine inflate them less than wall time.
//
//   npx tsx bench/wasm-peers.ts [runs]
//
// NOTE: no onnxruntime-web row yet; that package is not a dependency of this repository.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { loadFromPath } from '../lib/models';
import { binding } from '../lib/native';
import { MODEL_FILES, normalise, photo, ROOT } from './setup';

async function tfjsWasm(): Promise<any> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const tf = require('@tensorflow/tfjs');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const wasm = require('@tensorflow/tfjs-backend-wasm');
  const dist = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist');
  wasm.setWasmPaths({
    'tfjs-backend-wasm.wasm': path.join(dist, 'tfjs-backend-wasm.wasm'),
    'tfjs-backend-wasm-simd.wasm': path.join(dist, 'tfjs-backend-wasm-simd.wasm'),
    'tfjs-backend-wasm-threaded-simd.wasm': path.join(dist, 'tfjs-backend-wasm-threaded-simd.wasm'),
  });
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('The TF.js wasm backend failed to initialise');
  await tf.ready();
  return tf;
}

/** CPU milliseconds per call of `run`, the median of `runs` calls after 3 warm-up calls. */
async function cpuTime(run: () => unknown, runs: number): Promise<number> {
  for (let i = 0; i < 3; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    await run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 20);
  const file = MODEL_FILES.blazeface;
  if (!fs.existsSync(file)) throw new Error(`${file} not found; run npm install first`);
  const input = normalise(await photo(256, 256), 127.5, 127.5);

  const model = loadFromPath(file, 'detector', {}, binding('wasm'));
  const tf = await tfjsWasm();
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const weights = Buffer.concat(json.weightsManifest.flatMap((group: { paths: string[] }) =>
    group.paths.map((p) => fs.readFileSync(path.join(path.dirname(file), p)))));
  const graph = await tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights),
      weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.length),
      format: json.format,
      signature: json.signature,
    }),
  });
  const runTfjs = async (): Promise<void> => {
    const x = tf.tensor(input, [1, 256, 256, 3]);
    const y = graph.execute(x);
    await (Array.isArray(y) ? y[0] : y).data();
    tf.dispose([x, y]);
  };

  const facebits = await cpuTime(() => model.native.runSync([input]), runs);
  const peer = await cpuTime(runTfjs, runs);
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'SIMD' : 'no SIMD';
  console.log(`BlazeFace back 256x256, one thread, median CPU time of ${runs} runs:`);
  console.log(`  facebits wasm (${model.binding.isa()})   ${facebits.toFixed(1)} ms`);
  console.log(`  tfjs-backend-wasm (${simd})  ${peer.toFixed(1)} ms`);
  console.log(`  ratio                        ${(facebits / peer).toFixed(2)}x`);
  model.native.dispose();
  graph.dispose();
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
