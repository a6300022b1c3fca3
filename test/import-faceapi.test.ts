// face-api networks rebuilt as plans, checked against @vladmandic/face-api 1.7.15 itself
// (its node-wasm bundle, run on the TF.js CPU backend) on the same raw RGB input. Each plan
// runs in the JavaScript plan executor and, when the addon is built, in the native core.
//
// Tolerances: landmarks within 1e-4 of the reference (fractions of the 112-pixel frame),
// and descriptors within 1e-4 absolute with cosine similarity >= 0.9999. On an x86-64 Xeon
// with the avx512 kernels both measured below 6e-7.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { FACEAPI_MEAN_RGB, importFaceApi } from '../lib/import/faceapi';
import { runPlanInJs } from '../lib/import/tfjs-plan-check';
import { native, NativeBinding } from '../lib/native';
import { encodePlan, OpType } from '../lib/plan';
import { rejectsWith } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');

const MODEL_DIR = path.join(__dirname, '..', 'node_modules', '@vladmandic', 'face-api', 'model');
const LANDMARK_MANIFEST = path.join(MODEL_DIR, 'face_landmark_68_model-weights_manifest.json');
const RECOGNITION_MANIFEST = path.join(MODEL_DIR, 'face_recognition_model-weights_manifest.json');

let binding: NativeBinding | undefined;
let nativeError = '';
try {
  binding = native();
} catch (error) {
  nativeError = (error as Error).message;
}

/** Deterministic integer pixels 0..255 from an LCG, so failures reproduce. */
function pixels(seed: number, count: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return Math.floor((state / 2 ** 32) * 256);
  });
}

/** Loads a face-api net from its manifest and runs face-api's own forward pass on `input`. */
async function runFaceApi(net: any, manifestPath: string, input: Float32Array, size: number): Promise<Float32Array> {
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
  const bytes = fs.readFileSync(path.join(MODEL_DIR, manifest[0].paths[0]));
  const weightMap = tf.io.decodeWeights(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length), manifest[0].weights);
  net.loadFromWeightMap(weightMap);
  const netInput = await faceapi.toNetInput(tf.tensor4d(input, [1, size, size, 3]));
  return (net.forwardInput(netInput) as tf.Tensor).dataSync() as Float32Array;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] ** 2;
    nb += b[i] ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Runs the plan in the JS executor and, when built, the native core; returns labelled outputs. */
function runPlan(model: ReturnType<typeof importFaceApi>, input: Float32Array): Array<[string, Float32Array]> {
  const outputs: Array<[string, Float32Array]> = [['js', runPlanInJs(model.plan, [input])[0].data]];
  if (binding) {
    const encoded = encodePlan(model.plan);
    outputs.push(['native', new binding.Model(encoded.words, encoded.weights).runSync([input])[0].data]);
  }
  return outputs;
}

const FaceApi = suite('face-api import');

FaceApi.before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

FaceApi('landmark68 plan shape and metadata', () => {
  const model = importFaceApi('landmark68', LANDMARK_MANIFEST);
  assert.equal(model.inputShape, [1, 112, 112, 3]);
  assert.equal(model.outputShapes, [[1, 136]]);
  assert.equal(model.input, { size: 112, channels: 'RGB', range: '0..255' });
  assert.match(model.output, /out\[2i\] \* 112/);
});

FaceApi('plans start with input normalisation', () => {
  for (const [kind, manifest] of [['landmark68', LANDMARK_MANIFEST], ['recognition', RECOGNITION_MANIFEST]] as const) {
    const first = importFaceApi(kind, manifest).plan.ops[0];
    assert.is(first.type, OpType.CHANNEL_AFFINE, `${kind}: first op`);
    assert.ok(Math.abs(first.consts[0][0] - 1 / 255) < 1e-9, `${kind}: scale`);
    FACEAPI_MEAN_RGB.forEach((mean, c) => assert.ok(Math.abs(first.consts[1][c] + mean / 255) < 1e-6, `${kind}: shift of channel ${c}`));
  }
});

FaceApi('landmark68 matches face-api', async () => {
  const model = importFaceApi('landmark68', LANDMARK_MANIFEST);
  const input = pixels(3, 112 * 112 * 3);
  const reference = await runFaceApi(faceapi.nets.faceLandmark68Net, LANDMARK_MANIFEST, input, 112);
  assert.is(reference.length, 136);
  const report: string[] = [];
  for (const [label, output] of runPlan(model, input)) {
    const diff = maxAbsDiff(reference, output);
    assert.ok(diff <= 1e-4, `${label}: max abs difference ${diff} exceeds 1e-4`);
    report.push(`${label} ${diff.toExponential(1)}`);
  }
  console.log(`  landmark68 max abs difference: ${report.join(', ')}`);
});

FaceApi('landmark points map to 112 frame', async () => {
  // face-api scales each output by the input size and divides by the (square) input width,
  // so for a 112 x 112 input its points in pixels are exactly output * 112.
  const input = pixels(5, 112 * 112 * 3);
  const reference = await runFaceApi(faceapi.nets.faceLandmark68Net, LANDMARK_MANIFEST, input, 112);
  const landmarks = await faceapi.nets.faceLandmark68Net.detectLandmarks(tf.tensor3d(input, [112, 112, 3]));
  const points = landmarks.positions as Array<{ x: number; y: number }>;
  assert.is(points.length, 68);
  for (const i of [0, 30, 67]) {
    assert.ok(Math.abs(points[i].x - reference[2 * i] * 112) < 1e-3, `point ${i} x`);
    assert.ok(Math.abs(points[i].y - reference[2 * i + 1] * 112) < 1e-3, `point ${i} y`);
  }
});

FaceApi('recognition matches face-api', async () => {
  const model = importFaceApi('recognition', RECOGNITION_MANIFEST);
  assert.equal(model.outputShapes, [[1, 128]]);
  assert.equal(model.input, { size: 150, channels: 'RGB', range: '0..255' });
  const input = pixels(9, 150 * 150 * 3);
  const reference = await runFaceApi(faceapi.nets.faceRecognitionNet, RECOGNITION_MANIFEST, input, 150);
  assert.is(reference.length, 128);
  const report: string[] = [];
  for (const [label, output] of runPlan(model, input)) {
    const diff = maxAbsDiff(reference, output);
    const similarity = cosine(reference, output);
    assert.ok(diff <= 1e-4, `${label}: max abs difference ${diff} exceeds 1e-4`);
    assert.ok(similarity >= 0.9999, `${label}: cosine ${similarity} is below 0.9999`);
    report.push(`${label} ${diff.toExponential(1)} (cosine ${similarity.toFixed(7)})`);
  }
  console.log(`  recognition max abs difference: ${report.join(', ')}`);
});

FaceApi('missing weight is rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-faceapi-'));
  const manifest = JSON.parse(fs.readFileSync(LANDMARK_MANIFEST, 'utf8'));
  manifest[0].weights[0].name = 'renamed/filters';
  const file = path.join(dir, 'face_landmark_68_model-weights_manifest.json');
  fs.writeFileSync(file, JSON.stringify(manifest));
  fs.copyFileSync(path.join(MODEL_DIR, 'face_landmark_68_model.bin'), path.join(dir, 'face_landmark_68_model.bin'));
  await rejectsWith(() => importFaceApi('landmark68', file), 'INVALID_MODEL', /"dense0\/conv0\/filters" is missing/);
});

FaceApi('truncated face-api shard is rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-faceapi-'));
  const file = path.join(dir, 'face_recognition_model-weights_manifest.json');
  fs.copyFileSync(RECOGNITION_MANIFEST, file);
  const bytes = fs.readFileSync(path.join(MODEL_DIR, 'face_recognition_model.bin'));
  fs.writeFileSync(path.join(dir, 'face_recognition_model.bin'), bytes.subarray(0, bytes.length - 1));
  await rejectsWith(() => importFaceApi('recognition', file), 'INVALID_MODEL', /"fc".*face_recognition_model\.bin/);
});

FaceApi('malformed manifest is rejected', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-faceapi-'));
  const file = path.join(dir, 'broken-weights_manifest.json');
  fs.writeFileSync(file, '[{"paths": ');
  await rejectsWith(() => importFaceApi('landmark68', file), 'INVALID_MODEL', /not valid JSON/);
});

FaceApi('native comparison availability', () => {
  if (!binding) console.log(`  native comparisons skipped: ${nativeError}`);
  assert.ok(true);
});

FaceApi.run();
