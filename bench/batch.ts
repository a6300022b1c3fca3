// Throughput with all cores. facebits splits the faces into one runBatch call per core on the
// libuv thread pool, and also runs them one face per run() call with one call in flight per
// core. onnxruntime-node runs a batch with one intra-op thread per core.

import * as fs from 'node:fs';

import { loadFromPath } from '../lib/models';
import { native } from '../lib/native';
import { Row } from './report';
import type { Timing } from './stats';
import { forSlowCalls, measureGroup, MeasureOptions, TaskHooks } from './stats';
import { cores, hwcToChw, MODEL_FILES, normalise, photo, SHARED_HINT } from './setup';
import { flushedOnnxCopy } from './flush-onnx';
import { ortSession, ortTensor } from './single';

/** Runs `count` calls of `run`, at most `parallel` at a time. */
async function runAll(count: number, parallel: number, run: () => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await run();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

/** Splits `count` items into `parts` near-equal counts. */
function split(count: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor((count * (i + 1)) / parts) - Math.floor((count * i) / parts));
}

export async function batchRows(options: MeasureOptions, faces: number): Promise<Row[]> {
  const threads = cores();
  const bf16Gemm = native().bf16Gemm();
  const hwc = normalise(await photo(112, 112), 127.5, 128);
  const chw = hwcToChw(hwc, 112, 112, 3);
  const batched = new Float32Array(chw.length * faces);
  for (let i = 0; i < faces; i++) batched.set(chw, i * chw.length);

  // fr_feature has a fixed batch of 1, so onnxruntime runs it face by face. onnxruntime gets
  // the copy with subnormal weights set to zero, the edit facebits makes at load.
  const models: Array<[string, string, string, boolean]> = [
    ['mobilefacenet-foamliu', MODEL_FILES.mobilefacenet, MODEL_FILES.mobilefacenetBatch, true],
    ['fr_feature (default embedder)', MODEL_FILES.frFeature, MODEL_FILES.frFeature, false],
  ];
  const rows: Row[] = [];
  for (const [label, file, peerFile, peerBatches] of models) {
    if (!fs.existsSync(file) || !fs.existsSync(peerFile)) {
      console.log(`skip batch ${label}: ${file} or ${peerFile} not found ${SHARED_HINT}`);
      continue;
    }
    const model = loadFromPath(file, 'embedder');
    const peerPath = flushedOnnxCopy(peerFile).path;
    // onnxruntime's intra-op threads keep spinning after a run. Kept alive between rounds,
    // they slowed the facebits tasks measured after them by up to half, so the session
    // exists only around the peer's own samples.
    let session: any;
    // An async function, so that tinybench awaits it although the task has hooks.
    const runPeer = async (): Promise<void> => {
      const input = session.inputNames[0];
      if (peerBatches) {
        await session.run({ [input]: ortTensor(batched, [faces, 3, 112, 112]) });
      } else {
        await runAll(faces, 1, () => session.run({ [input]: ortTensor(chw, [1, 3, 112, 112]) }));
      }
    };
    const peerHooks: TaskHooks = {
      beforeAll: async () => {
        session = await ortSession(peerPath, threads);
        await runPeer();
      },
      afterAll: async () => {
        await session.release();
        session = undefined;
      },
    };
    const bf16 = bf16Gemm ? loadFromPath(file, 'embedder', {}, undefined, 'bf16') : undefined;
    const chunks = split(faces, threads).map((count) => Array.from({ length: count }, () => [hwc]));
    const tasks: Array<[string, () => unknown, TaskHooks?]> = [
      [`facebits batch ${label}`, () => Promise.all(chunks.map((sets) => model.native.runBatch(sets)))],
      [`onnxruntime batch ${label}`, runPeer, peerHooks],
      [`facebits per face ${label}`, () => runAll(faces, threads, () => model.native.run([hwc]))],
    ];
    if (bf16) tasks.push([`facebits bf16 batch ${label}`, () => Promise.all(chunks.map((sets) => bf16.native.runBatch(sets)))]);
    const [facebits, peer, perFace, bf16Timing] = await measureGroup(tasks, forSlowCalls(options));
    const perSecond = (ms: number): number => (faces * 1000) / ms;
    const peerName = peerBatches ? `onnxruntime-node, batch ${faces}` : 'onnxruntime-node, batch 1, flushed weights';
    const row = (name: string, timing: Timing, note?: string): Row => ({
      section: `Batch throughput, ${faces} faces, ${threads} threads`,
      name,
      facebits: timing,
      peer: { name: peerName, timing: peer },
      ratio: timing.median / peer.median,
      ratioOfMinima: timing.min / peer.min,
      rate: { facebits: perSecond(timing.median), peer: perSecond(peer.median), unit: 'faces/s' },
      note,
    });
    rows.push(row(`${label}, runBatch per core`, facebits));
    rows.push(row(`${label}, run() per face`, perFace));
    if (bf16Timing) rows.push(row(`${label}, runBatch per core, bf16`, bf16Timing, `facebits bf16 precision (${bf16Gemm}); onnxruntime float32`));
    bf16?.native.dispose();
    model.native.dispose();
  }
  return rows;
}
