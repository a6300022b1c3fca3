// Embedding and detection of one input at a time on one thread, against onnxruntime-node and
// the TF.js WebAssembly backend on the same model files and the same input. facebits runs with
// runSync on the calling thread, because on a loaded machine the hand-off to the libuv thread
// pool and back can add whole scheduler time slices to a call.

import * as fs from 'node:fs';

import { loadFromPath, LoadedModel } from '../lib/models';
import { native } from '../lib/native';
import { Row, timeRow } from './report';
import { measureGroup, MeasureOptions } from './stats';
import { flushedOnnxCopy } from './flush-onnx';
import { checkSame, hwcToChw, MODEL_FILES, normalise, photo, SHARED_HINT } from './setup';
import { runTfjsGraph, tfjsGraphModel, tfjsWasm } from './tfjs-wasm';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const ort = require('onnxruntime-node');

/** Creates an onnxruntime-node session with `threads` intra-op threads and full graph optimisation. */
export async function ortSession(file: string, threads: number): Promise<any> {
  const options: Record<string, unknown> = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  return ort.InferenceSession.create(file, options);
}

export function ortTensor(data: Float32Array, dims: number[]): unknown {
  return new ort.Tensor('float32', data, dims);
}

async function runOrt(session: any, input: Float32Array, dims: number[]): Promise<Record<string, Float32Array>> {
  const result = await session.run({ [session.inputNames[0]]: ortTensor(input, dims) });
  const out: Record<string, Float32Array> = {};
  for (const name of session.outputNames) out[name] = result[name].data as Float32Array;
  return out;
}

/** Returns a 112x112 face input in HWC layout for facebits and CHW layout for onnxruntime. */
async function faceInput(): Promise<{ hwc: Float32Array; chw: Float32Array }> {
  const hwc = normalise(await photo(112, 112), 127.5, 128);
  return { hwc, chw: hwcToChw(hwc, 112, 112, 3) };
}

// fmaLoop iterations per sample: about 1 ms on one core that runs 16-float FMAs at 120 GFLOP/s.
const FMA_ITERATIONS = 400_000;

/**
 * Times the core's float32 arithmetic peak like the models: independent FMAs on the widest
 * vectors of the kernel set in use. No embedder's float32 GEMM can run faster.
 */
async function fmaPeakRow(options: MeasureOptions): Promise<Row> {
  const binding = native();
  const flops = binding.fmaLoop(FMA_ITERATIONS);
  const [timing] = await measureGroup([['float32 FMA peak', () => binding.fmaLoop(FMA_ITERATIONS)]], options);
  const row = timeRow(EMBEDDING, 'float32 FMA peak, one core', timing, undefined, undefined, `12 FMA chains, ${binding.isa()}`);
  row.rate = { facebits: gflops(flops, timing.median), unit: 'GFLOP/s' };
  return row;
}

const EMBEDDING = 'Embedding, one face, one thread';

const gflops = (flops: number, ms: number): number => flops / ms / 1e6;

/** Multiply-adds x 2 of one run of the model. */
function modelFlops(model: LoadedModel, input: Float32Array): number {
  return model.native.profileSync([input], 1).reduce((sum, op) => sum + op.flops, 0);
}

/** Arithmetic rate of both engines on a model of `flops` per run. */
function withRate(row: Row, flops: number): Row {
  row.rate = { facebits: gflops(flops, row.facebits.median), peer: row.peer && gflops(flops, row.peer.timing.median), unit: 'GFLOP/s' };
  return row;
}

async function embeddingRows(options: MeasureOptions): Promise<Row[]> {
  const rows: Row[] = [await fmaPeakRow(options)];
  const bf16Gemm = native().bf16Gemm();
  const { hwc, chw } = await faceInput();
  const models: Array<[string, string]> = [
    ['mobilefacenet-foamliu, 112x112', MODEL_FILES.mobilefacenet],
    ['fr_feature (default embedder), 112x112', MODEL_FILES.frFeature],
  ];
  for (const [label, file] of models) {
    if (!fs.existsSync(file)) {
      console.log(`skip embedding ${label}: ${file} not found ${SHARED_HINT}`);
      continue;
    }
    const model = loadFromPath(file, 'embedder');
    const session = await ortSession(file, 1);
    const ours = (await model.native.run([hwc]))[0].data;
    const theirs = Object.values(await runOrt(session, chw, [1, 3, 112, 112]))[0];
    checkSame(`embedding ${label}`, ours, theirs);
    const flops = modelFlops(model, hwc);
    // bf16 precision, where a bfloat16 GEMM runs it: the same model with its matrix products in bfloat16.
    // bfloat16 operands keep about 3 significant digits, so a bf16 embedding lies near the
    // float32 one rather than on it. On random inputs both embedders stayed above cosine 0.9996
    // with their float32 output (MobileFaceNet 0.99983, fr_feature 0.99967), so the same 0.999
    // bound applies.
    const bf16 = bf16Gemm ? loadFromPath(file, 'embedder', {}, undefined, 'bf16') : undefined;
    if (bf16) checkSame(`embedding ${label}, bf16`, (await bf16.native.run([hwc]))[0].data, theirs);

    // facebits sets subnormal weights to zero at load. When a model has any, onnxruntime also
    // runs a copy with the same edit, so one row compares equal weights.
    const copy = flushedOnnxCopy(file);
    const flushedSession = copy.flushed > 0 ? await ortSession(copy.path, 1) : undefined;
    const tasks: Array<[string, () => unknown]> = [
      [`facebits ${label}`, () => model.native.runSync([hwc])],
      [`onnxruntime ${label}`, () => runOrt(session, chw, [1, 3, 112, 112])],
    ];
    if (flushedSession) {
      checkSame(`embedding ${label}, flushed weights`, ours, Object.values(await runOrt(flushedSession, chw, [1, 3, 112, 112]))[0]);
      tasks.push([`onnxruntime flushed ${label}`, () => runOrt(flushedSession, chw, [1, 3, 112, 112])]);
    }
    if (bf16) tasks.push([`facebits bf16 ${label}`, () => bf16.native.runSync([hwc])]);
    const timings = await measureGroup(tasks, options);
    const [facebits, peer] = timings;
    const flushedName = `onnxruntime-node, ${copy.flushed} subnormal weights set to 0`;
    rows.push(withRate(timeRow(EMBEDDING, label, facebits, 'onnxruntime-node', peer), flops));
    if (flushedSession) {
      rows.push(withRate(timeRow(EMBEDDING, label, facebits, flushedName, timings[2]), flops));
      await flushedSession.release();
    }
    if (bf16) {
      const note = `facebits bf16 precision (${bf16Gemm}); onnxruntime float32`;
      const bf16Timing = timings[timings.length - 1];
      rows.push(withRate(timeRow(EMBEDDING, `${label}, bf16`, bf16Timing, 'onnxruntime-node', peer, note), flops));
      if (flushedSession) {
        rows.push(withRate(timeRow(EMBEDDING, `${label}, bf16`, bf16Timing, flushedName, timings[2], note), flops));
      }
      bf16.native.dispose();
    } else {
      console.log(`skip bf16 embedding ${label}: this CPU or OS has neither AMX-BF16 tiles nor AVX512_BF16, so bf16 precision would run float32`);
    }
    model.native.dispose();
    await session.release();
  }
  return rows;
}

async function blazefaceRows(options: MeasureOptions): Promise<Row[]> {
  const file = MODEL_FILES.blazeface;
  if (!fs.existsSync(file)) {
    console.log(`skip BlazeFace: ${file} not found ${SHARED_HINT}`);
    return [];
  }
  const tf = await tfjsWasm();
  const simd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
  const input = normalise(await photo(256, 256), 127.5, 127.5);
  const model = loadFromPath(file, 'detector');
  const graph = await tfjsGraphModel(tf, file);
  const runTfjs = (): Promise<Float32Array> => runTfjsGraph(tf, graph, input, [1, 256, 256, 3]);
  checkSame('BlazeFace back', (await model.native.run([input]))[0].data, await runTfjs());

  const [facebits, peer] = await measureGroup(
    [
      ['facebits blazeface', () => model.native.runSync([input])],
      ['tfjs-wasm blazeface', runTfjs],
    ],
    options,
  );
  model.native.dispose();
  graph.dispose();
  const note = simd ? 'wasm SIMD, 1 thread' : 'wasm without SIMD, 1 thread';
  return [timeRow('Detection, one thread', 'BlazeFace back (TF.js), 256x256', facebits, 'tfjs-backend-wasm', peer, note)];
}

async function yunetRows(options: MeasureOptions): Promise<Row[]> {
  const file = MODEL_FILES.yunet;
  if (!fs.existsSync(file)) {
    console.log(`skip YuNet: ${file} not found ${SHARED_HINT}`);
    return [];
  }
  const [height, width] = [480, 640];
  const hwc = await photo(width, height);
  const chw = hwcToChw(hwc, height, width, 3);
  const model: LoadedModel = loadFromPath(file, 'detector', { inputShape: [1, 3, height, width] });
  const session = await ortSession(file, 1);
  const ours = await model.native.run([hwc]);
  const theirs = await runOrt(session, chw, [1, 3, height, width]);
  model.outputNames.forEach((name, i) => {
    const expected = theirs[name];
    if (!expected) throw new Error(`YuNet: onnxruntime has no output named ${name}`);
    checkSame(`YuNet output ${name}`, ours[i].data, expected, 0.999);
  });

  const [facebits, peer] = await measureGroup(
    [
      ['facebits yunet', () => model.native.runSync([hwc])],
      ['onnxruntime yunet', () => runOrt(session, chw, [1, 3, height, width])],
    ],
    options,
  );
  model.native.dispose();
  await session.release();
  return [timeRow('Detection, one thread', 'YuNet s (dynamic), 640x480 photo', facebits, 'onnxruntime-node', peer)];
}

export async function singleThreadRows(options: MeasureOptions): Promise<Row[]> {
  return [...(await embeddingRows(options)), ...(await yunetRows(options)), ...(await blazefaceRows(options))];
}
