// The TF.js WebAssembly backend as a benchmark peer: set-up with one thread and graph
// models read from disk without a network fetch.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { ROOT } from './setup';

/** Initialises @tensorflow/tfjs-backend-wasm with one thread and returns the tf namespace. */
export async function tfjsWasm(): Promise<any> {
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

/** Loads a TF.js graph model (model.json and its weight shards) from disk. */
export async function tfjsGraphModel(tf: any, modelJson: string): Promise<any> {
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const shards = json.weightsManifest.flatMap((group: { paths: string[] }) =>
    group.paths.map((p) => fs.readFileSync(path.join(path.dirname(modelJson), p))),
  );
  const bytes = Buffer.concat(shards);
  return tf.loadGraphModel({
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group: { weights: unknown[] }) => group.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      format: json.format,
      signature: json.signature,
    }),
  });
}

/** Runs a graph model on one NHWC input and returns its first output. */
export async function runTfjsGraph(tf: any, graph: any, input: Float32Array, shape: number[]): Promise<Float32Array> {
  const x = tf.tensor(input, shape);
  const y = graph.execute(x);
  const first = Array.isArray(y) ? y[0] : y;
  const data = (await first.data()) as Float32Array;
  tf.dispose([x, y]);
  return data;
}
