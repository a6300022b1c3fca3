// Throughput with all cores. facebits runs one face per call, with one call in flight per core
// on the libuv thread pool. onnxruntime-node runs a batch with one intra-op thread per core.

import * as fs from 'node:fs';

import { loadFromPath } from '../lib/models';
import { Row } from './report';
import { forSlowCalls, measureGroup, MeasureOptions } from './stats';
import { cores, hwcToChw, MODEL_FILES, normalise, photo } from './setup';
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

export async function batchRows(options: MeasureOptions, faces: number): Promise<Row[]> {
  const threads = cores();
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
      console.log(`skip batch ${label}: model file not found`);
      continue;
    }
    const model = loadFromPath(file, 'embedder');
    const session = await ortSession(flushedOnnxCopy(peerFile).path, threads);
    const input = session.inputNames[0];
    const runPeer = peerBatches
      ? () => session.run({ [input]: ortTensor(batched, [faces, 3, 112, 112]) })
      : () => runAll(faces, 1, () => session.run({ [input]: ortTensor(chw, [1, 3, 112, 112]) }));
    const [facebits, peer] = await measureGroup(
      [
        [`facebits batch ${label}`, () => runAll(faces, threads, () => model.native.run([hwc]))],
        [`onnxruntime batch ${label}`, runPeer],
      ],
      forSlowCalls(options),
    );
    const perSecond = (ms: number): number => (faces * 1000) / ms;
    rows.push({
      section: `Batch throughput, ${faces} faces, ${threads} threads`,
      name: label,
      facebits,
      peer: { name: peerBatches ? `onnxruntime-node, batch ${faces}` : 'onnxruntime-node, batch 1, flushed weights', timing: peer },
      ratio: facebits.median / peer.median,
      ratioOfMinima: facebits.min / peer.min,
      rate: { facebits: perSecond(facebits.median), peer: perSecond(peer.median), unit: 'faces/s' },
    });
    model.native.dispose();
    await session.release();
  }
  return rows;
}
