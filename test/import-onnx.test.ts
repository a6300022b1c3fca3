import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import sharp from 'sharp';
import { onnx } from 'onnx-proto';

import { FacebitsError } from '../lib/errors';
import { ImportedModel, importOnnx } from '../lib/import/onnx';
import { NativeBinding, native } from '../lib/native';
import { encodePlan } from '../lib/plan';
import { MODELS, SHARED } from './helpers';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const ort = require('onnxruntime-node');

const FACEPLUGIN = path.join(__dirname, '..', 'node_modules', 'faceplugin-face-recognition-js', 'model');
const FACE = path.join(SHARED, 'faces', 'lfw', 'Aaron_Eckhart', 'Aaron_Eckhart_0001.jpg');

let binding: NativeBinding | undefined;
let nativeError = '';
try {
  binding = native();
} catch (error) {
  nativeError = (error as Error).message;
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** Returns a deterministic pseudo-random generator (mulberry32) of floats in [0, 1). */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomTensor(size: number, seed: number, scale = 1): Float32Array {
  const next = seeded(seed);
  return Float32Array.from({ length: size }, () => (next() * 2 - 1) * scale);
}

/** Decodes the LFW face to NCHW float32, resized to width x height, as (pixel - mean) / std. */
async function faceTensor(channels: number, height: number, width: number, mean: number, std: number): Promise<Float32Array> {
  let image = sharp(FACE).resize(width, height, { fit: 'fill' });
  if (channels === 1) image = image.grayscale();
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  const out = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) {
    for (let i = 0; i < height * width; i++) out[c * height * width + i] = (data[i * info.channels + c] - mean) / std;
  }
  return out;
}

/** Transposes NCHW data to NHWC, the layout the plan input takes. */
function toNhwc(data: Float32Array, shape: number[]): Float32Array {
  const [n, c, h, w] = shape;
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) {
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h * w; i++) out[(b * h * w + i) * c + ch] = data[(b * c + ch) * h * w + i];
    }
  }
  return out;
}

interface Comparison {
  name: string;
  shape: number[];
  referenceShape: number[];
  maxDiff: number;
  scale: number;
  cosine: number;
}

/** Runs the ONNX model in onnxruntime and its imported plan in the native core on the same input. */
async function compare(model: Uint8Array | string, imported: ImportedModel, input: Float32Array, nchwShape: number[]): Promise<Comparison[]> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const feeds = { [imported.inputName]: new ort.Tensor('float32', input, nchwShape) };
  const reference = await session.run(feeds);

  const planInput = nchwShape.length === 4 ? toNhwc(input, nchwShape) : input;
  const { words, weights } = encodePlan(imported.plan);
  const compiled = new binding!.Model(words, weights);
  const outputs = compiled.runSync([planInput]);
  compiled.dispose();

  return imported.outputNames.map((name, i) => {
    const expected = reference[name].data as Float32Array;
    const actual = outputs[i].data;
    let maxDiff = 0;
    let scale = 0;
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let k = 0; k < expected.length; k++) {
      maxDiff = Math.max(maxDiff, Math.abs(expected[k] - actual[k]));
      scale = Math.max(scale, Math.abs(expected[k]));
      dot += expected[k] * actual[k];
      na += actual[k] * actual[k];
      nb += expected[k] * expected[k];
    }
    if (actual.length !== expected.length) maxDiff = Infinity;
    return {
      name,
      shape: outputs[i].shape,
      referenceShape: (reference[name].dims as number[]).map(Number),
      maxDiff,
      scale,
      cosine: dot / Math.sqrt(na * nb),
    };
  });
}

function missing(file: string): boolean {
  if (existsSync(file)) return false;
  console.log(`  skipped: ${file} is not present`);
  return true;
}

let nativeReported = false;

/** Returns true when the native addon is unavailable for numeric checks, printing the reason once. */
function nativeMissing(): boolean {
  if (binding) return false;
  if (!nativeReported) console.log(`  numeric checks skipped: ${nativeError}`);
  nativeReported = true;
  return true;
}

function expectCode(run: () => unknown, code: string, pattern?: RegExp): void {
  try {
    run();
  } catch (error) {
    assert.instance(error, FacebitsError, `expected a FacebitsError, got ${(error as Error).message}`);
    assert.is((error as FacebitsError).code, code, (error as Error).message);
    if (pattern) assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a ${code} error`);
}

// ---------------------------------------------------------------------------------------------
// Real models against onnxruntime

interface ModelCase {
  name: string;
  file: string;
  nchw: number[];
  inputShape?: number[];
  /** embedding: cosine >= minCosine; detector: max abs difference <= 1e-3 * max(1, max |reference|). */
  kind: 'embedding' | 'detector';
  /** 0.9999 unless set. */
  minCosine?: number;
  input: () => Promise<Float32Array>;
}

const arcFace = () => faceTensor(3, 112, 112, 127.5, 127.5);
const CASES: ModelCase[] = [
  { name: 'MobileFaceNet', file: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx'), nchw: [1, 3, 112, 112], kind: 'embedding', input: arcFace },
  {
    name: 'MobileFaceNet dynamic batch',
    file: path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet_dynbatch.onnx'),
    nchw: [1, 3, 112, 112],
    inputShape: [1, 3, 112, 112],
    kind: 'embedding',
    input: arcFace,
  },
  { name: 'YuNet 2023mar', file: path.join(MODELS, 'yunet', 'face_detection_yunet_2023mar.onnx'), nchw: [1, 3, 640, 640], kind: 'detector', input: () => faceTensor(3, 640, 640, 0, 1) },
  { name: 'YuNet s 320', file: path.join(MODELS, 'yunet', 'yunet_s_320_320.onnx'), nchw: [1, 3, 320, 320], kind: 'detector', input: () => faceTensor(3, 320, 320, 0, 1) },
  {
    name: 'YuNet s dynamic',
    file: path.join(MODELS, 'yunet', 'yunet_s_dynamic.onnx'),
    nchw: [1, 3, 320, 320],
    inputShape: [1, 3, 320, 320],
    kind: 'detector',
    input: () => faceTensor(3, 320, 320, 0, 1),
  },
  { name: 'RetinaFace mnet025', file: path.join(MODELS, 'retinaface-mnet025', 'FaceDetector.onnx'), nchw: [1, 3, 640, 640], kind: 'detector', input: () => faceTensor(3, 640, 640, 104, 1) },
  {
    name: 'SCRFD 500m',
    file: path.join(MODELS, 'scrfd-500m', 'det_500m.onnx'),
    nchw: [1, 3, 640, 640],
    inputShape: [1, 3, 640, 640],
    kind: 'detector',
    input: () => faceTensor(3, 640, 640, 127.5, 128),
  },
  { name: 'faceplugin feature', file: path.join(FACEPLUGIN, 'fr_feature.onnx'), nchw: [1, 3, 112, 112], kind: 'embedding', input: arcFace },
  { name: 'faceplugin detect', file: path.join(FACEPLUGIN, 'fr_detect.onnx'), nchw: [1, 3, 240, 320], kind: 'detector', input: () => faceTensor(3, 240, 320, 127, 128) },
  {
    // The importer keeps activations in float32 where onnxruntime quantises them to uint8, so the
    // embeddings agree less closely (cosine 0.9923 measured on the LFW face below).
    name: 'w600k MobileFaceNet INT8',
    file: path.join(MODELS, 'w600k-mbf-int8', 'w600k_mbf_int8.onnx'),
    nchw: [1, 3, 112, 112],
    inputShape: [1, 3, 112, 112],
    kind: 'embedding',
    minCosine: 0.99,
    input: arcFace,
  },
  { name: 'faceplugin landmark', file: path.join(FACEPLUGIN, 'fr_landmark.onnx'), nchw: [1, 1, 64, 64], kind: 'embedding', input: () => faceTensor(1, 64, 64, 0, 255) },
];

for (const model of CASES) {
  test(`importOnnx matches onnxruntime: ${model.name}`, async () => {
    if (missing(model.file)) return;
    if (missing(FACE)) return;
    const bytes = readFileSync(model.file);
    const imported = importOnnx(bytes, model.file, { inputShape: model.inputShape });
    const [n, c, h, w] = model.nchw;
    assert.equal(imported.inputShape, [n, h, w, c]);
    if (nativeMissing()) return;

    const results = await compare(model.file, imported, await model.input(), model.nchw);
    for (const [i, result] of results.entries()) {
      assert.equal(result.shape, result.referenceShape, `${result.name} shape`);
      assert.equal(imported.outputShapes[i], result.referenceShape, `${result.name} declared shape`);
      if (model.kind === 'embedding') {
        const minCosine = model.minCosine ?? 0.9999;
        assert.ok(result.cosine >= minCosine, `${result.name} cosine ${result.cosine} < ${minCosine}`);
      } else {
        const tolerance = 1e-3 * Math.max(1, result.scale);
        assert.ok(result.maxDiff <= tolerance, `${result.name} max diff ${result.maxDiff} > ${tolerance}`);
      }
    }
    const worst = results.reduce((a, b) => (b.maxDiff > a.maxDiff ? b : a));
    console.log(`  ${model.name}: max abs diff ${worst.maxDiff.toExponential(2)} (${worst.name}, output scale ${worst.scale.toFixed(3)}), min cosine ${Math.min(...results.map((r) => r.cosine)).toFixed(6)}`);
  });
}

test('importOnnx requires inputShape for dynamic dims', () => {
  const file = path.join(MODELS, 'yunet', 'yunet_s_dynamic.onnx');
  if (missing(file)) return;
  expectCode(() => importOnnx(readFileSync(file), file), 'INVALID_ARGUMENT', /inputShape/);
  expectCode(() => importOnnx(readFileSync(file), file, { inputShape: [1, 4, 320, 320] }), 'INVALID_ARGUMENT', /inputShape/);
});

// ---------------------------------------------------------------------------------------------
// Small graphs built with onnx-proto, for ops that the real models do not use

type AttributeValue = number | number[] | string | { floats: number[] } | { float: number };

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  const Type = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return { name, type: Type.STRING, s: Buffer.from(value) };
  if (Array.isArray(value)) return { name, type: Type.INTS, ints: value };
  if (typeof value === 'number') return { name, type: Type.INT, i: value };
  if ('floats' in value) return { name, type: Type.FLOATS, floats: value.floats };
  return { name, type: Type.FLOAT, f: value.float };
}

function node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}): onnx.INodeProto {
  return {
    opType,
    name: `${opType}_${outputs[0]}`,
    input: inputs,
    output: outputs,
    attribute: Object.entries(attributes).map(([k, v]) => attribute(k, v)),
  };
}

function floatInit(name: string, dims: number[], data: Float32Array | number[]): onnx.ITensorProto {
  const values = Float32Array.from(data);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer) };
}

function intInit(name: string, dims: number[], data: number[]): onnx.ITensorProto {
  const values = BigInt64Array.from(data.map((v) => BigInt(v)));
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(values.buffer) };
}

function valueInfo(name: string, dims?: number[]): onnx.IValueInfoProto {
  const shape = dims ? { dim: dims.map((d) => ({ dimValue: d })) } : undefined;
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape } } };
}

function buildModel(
  nodes: onnx.INodeProto[],
  inputDims: number[],
  outputs: string[],
  initializers: onnx.ITensorProto[] = [],
  opset = 13,
): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: opset }],
    producerName: 'facebits-test',
    graph: {
      name: 'test',
      node: nodes,
      input: [valueInfo('x', inputDims)],
      output: outputs.map((name) => valueInfo(name)),
      initializer: initializers,
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

interface GraphCase {
  name: string;
  dims: number[];
  outputs: string[];
  nodes: onnx.INodeProto[];
  initializers?: onnx.ITensorProto[];
  opset?: number;
}

const C = 4;
const GRAPHS: GraphCase[] = [
  {
    name: 'conv, batch norm and clip fused',
    dims: [1, C, 9, 7],
    outputs: ['y'],
    nodes: [
      node('Conv', ['x', 'w', 'b'], ['c'], { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 0, 1, 2], group: 2 }),
      node('BatchNormalization', ['c', 'g', 'beta', 'mean', 'var'], ['n'], { epsilon: { float: 1e-3 } }),
      node('Clip', ['n', 'lo', 'hi'], ['y']),
    ],
    initializers: [
      floatInit('w', [6, 2, 3, 3], randomTensor(108, 1)),
      floatInit('b', [6], randomTensor(6, 2)),
      floatInit('g', [6], randomTensor(6, 3)),
      floatInit('beta', [6], randomTensor(6, 4)),
      floatInit('mean', [6], randomTensor(6, 5)),
      floatInit('var', [6], randomTensor(6, 6).map(Math.abs)),
      floatInit('lo', [], [-0.5]),
      floatInit('hi', [], [0.7]),
    ],
  },
  {
    name: 'conv with SAME_UPPER, dilation, bias Add and PRelu',
    dims: [1, C, 8, 9],
    outputs: ['y', 'd'],
    nodes: [
      node('Conv', ['x', 'w'], ['c'], { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' }),
      node('Add', ['c', 'bias'], ['cb']),
      node('PRelu', ['cb', 'slope'], ['y']),
      node('Conv', ['x', 'w'], ['d'], { kernel_shape: [3, 3], dilations: [2, 3], pads: [2, 3, 1, 0] }),
    ],
    initializers: [
      floatInit('w', [5, C, 3, 3], randomTensor(5 * C * 9, 7)),
      floatInit('bias', [1, 5, 1, 1], randomTensor(5, 17)),
      floatInit('slope', [5, 1, 1], randomTensor(5, 8)),
    ],
  },
  {
    name: 'pools with ceil_mode and padding',
    dims: [1, C, 7, 9],
    outputs: ['m', 'a', 'g'],
    nodes: [
      node('MaxPool', ['x'], ['m'], { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }),
      node('AveragePool', ['x'], ['a'], { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], count_include_pad: 0, ceil_mode: 1 }),
      node('GlobalAveragePool', ['x'], ['g']),
    ],
  },
  {
    name: 'pad modes on spatial and channel dims',
    dims: [1, C, 5, 6],
    outputs: ['p1', 'p2', 'p3'],
    opset: 13,
    nodes: [
      node('Pad', ['x', 'pads1', 'v'], ['p1'], { mode: 'constant' }),
      node('Pad', ['x', 'pads2'], ['p2'], { mode: 'reflect' }),
      node('Pad', ['x', 'pads2'], ['p3'], { mode: 'edge' }),
    ],
    initializers: [intInit('pads1', [8], [0, 1, 2, 0, 0, 2, 1, 3]), intInit('pads2', [8], [0, 0, 2, 1, 0, 0, 1, 3]), floatInit('v', [], [0.25])],
  },
  {
    name: 'resize linear and nearest',
    dims: [1, C, 5, 6],
    outputs: ['r1', 'r2', 'r3', 'r4'],
    nodes: [
      node('Resize', ['x', '', 'scales'], ['r1'], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }),
      node('Resize', ['x', '', '', 'sizes'], ['r2'], { mode: 'linear', coordinate_transformation_mode: 'align_corners' }),
      node('Resize', ['x', '', 'scales'], ['r3'], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }),
      node('Resize', ['x', '', 'scales'], ['r4'], { mode: 'nearest' }),
    ],
    initializers: [floatInit('scales', [4], [1, 1, 2, 2]), intInit('sizes', [4], [1, C, 7, 11])],
  },
  {
    name: 'layout-sensitive ops on NCHW values',
    dims: [1, C, 3, 5],
    outputs: ['s', 'cat', 'sl', 'f', 'ch', 'bn', 't'],
    nodes: [
      node('Conv', ['x', 'w'], ['c'], { kernel_shape: [1, 1] }),
      node('Softmax', ['c'], ['s'], { axis: 1 }),
      node('Concat', ['c', 'x'], ['cat'], { axis: 1 }),
      node('Slice', ['c', 'starts', 'ends', 'axes'], ['sl']),
      node('Flatten', ['c'], ['flat'], { axis: 1 }),
      node('Gemm', ['flat', 'fc', 'fcb'], ['f'], { alpha: { float: 0.5 }, beta: { float: 2 } }),
      node('Mul', ['c', 'scale'], ['ch']),
      node('BatchNormalization', ['x', 'g', 'beta', 'mean', 'var'], ['bnx']),
      node('Sub', ['one', 'bnx'], ['bn']),
      node('Transpose', ['c'], ['t'], { perm: [0, 3, 1, 2] }),
    ],
    initializers: [
      floatInit('w', [6, C, 1, 1], randomTensor(6 * C, 9)),
      intInit('starts', [2], [1, 1]),
      intInit('ends', [2], [5, -1]),
      intInit('axes', [2], [1, 3]),
      floatInit('fc', [90, 3], randomTensor(270, 10)),
      floatInit('fcb', [3], randomTensor(3, 11)),
      floatInit('scale', [6, 1, 1], randomTensor(6, 12)),
      floatInit('g', [C], randomTensor(C, 13)),
      floatInit('beta', [C], randomTensor(C, 14)),
      floatInit('mean', [C], randomTensor(C, 15)),
      floatInit('var', [C], randomTensor(C, 16).map(Math.abs)),
      floatInit('one', [1], [1]),
    ],
  },
  {
    name: 'folded shape subgraph feeding Reshape',
    dims: [1, C, 2, 3],
    outputs: ['y'],
    nodes: [
      node('Shape', ['x'], ['shape']),
      node('Gather', ['shape', 'zero'], ['batch'], { axis: 0 }),
      node('Unsqueeze', ['batch', 'axes0'], ['batch1']),
      node('Slice', ['shape', 'one', 'big'], ['rest']),
      node('Concat', ['batch1', 'minus1'], ['target'], { axis: 0 }),
      node('Reshape', ['x', 'target'], ['flat']),
      node('Tanh', ['flat'], ['y']),
    ],
    initializers: [intInit('zero', [], [0]), intInit('axes0', [1], [0]), intInit('one', [1], [1]), intInit('big', [1], [1000]), intInit('minus1', [1], [-1])],
  },
];

for (const graph of GRAPHS) {
  test(`importOnnx small graph: ${graph.name}`, async () => {
    const bytes = buildModel(graph.nodes, graph.dims, graph.outputs, graph.initializers, graph.opset);
    const imported = importOnnx(bytes, `${graph.name}.onnx`);
    if (nativeMissing()) return;
    const size = graph.dims.reduce((a, b) => a * b, 1);
    const results = await compare(bytes, imported, randomTensor(size, 100), graph.dims);
    for (const [i, result] of results.entries()) {
      assert.equal(result.shape, result.referenceShape, `${result.name} shape`);
      assert.equal(imported.outputShapes[i], result.referenceShape, `${result.name} declared shape`);
      assert.ok(result.maxDiff <= 1e-5 * Math.max(1, result.scale), `${result.name} max diff ${result.maxDiff}`);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Invalid and unsupported models

const TINY = buildModel(
  [node('Conv', ['x', 'w'], ['c'], { kernel_shape: [1, 1] }), node('Relu', ['c'], ['y'])],
  [1, 2, 4, 4],
  ['y'],
  [floatInit('w', [3, 2, 1, 1], [1, 2, 3, 4, 5, 6])],
);

test('importOnnx rejects random bytes', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const next = seeded(seed);
    const bytes = Uint8Array.from({ length: 64 + seed * 37 }, () => Math.floor(next() * 256));
    expectCode(() => importOnnx(bytes, 'random.onnx'), 'INVALID_MODEL', /random\.onnx/);
  }
});

test('importOnnx rejects truncated models', () => {
  for (let length = 1; length < TINY.length; length += 7) {
    expectCode(() => importOnnx(TINY.subarray(0, length), 'tiny.onnx'), 'INVALID_MODEL');
  }
  const file = path.join(MODELS, 'mobilefacenet-foamliu', 'MobileFaceNet.onnx');
  if (missing(file)) return;
  const bytes = readFileSync(file);
  expectCode(() => importOnnx(bytes.subarray(0, Math.floor(bytes.length / 2)), file), 'INVALID_MODEL');
});

test('importOnnx imports the tiny model', () => {
  const imported = importOnnx(TINY, 'tiny.onnx');
  assert.equal(imported.inputShape, [1, 4, 4, 2]);
  assert.equal(imported.outputShapes, [[1, 3, 4, 4]]);
  assert.is(imported.plan.ops[0].params[12], 1, 'Relu fused into the conv');
});

test('importOnnx rejects an unsupported op', () => {
  const bytes = buildModel([node('Erf', ['x'], ['y'])], [1, 2, 4, 4], ['y']);
  expectCode(() => importOnnx(bytes, 'erf.onnx'), 'UNSUPPORTED_OP', /Erf at node "Erf_y" in erf\.onnx/);
});

test('importOnnx rejects unsupported attribute values', () => {
  const cubic = buildModel([node('Resize', ['x', '', 's'], ['y'], { mode: 'cubic' })], [1, 2, 4, 4], ['y'], [floatInit('s', [4], [1, 1, 2, 2])]);
  expectCode(() => importOnnx(cubic, 'cubic.onnx'), 'UNSUPPORTED_OP', /cubic/);
  const stepped = buildModel([node('Slice', ['x', 'a', 'b', 'axes', 'steps'], ['y'])], [1, 2, 4, 4], ['y'], [
    intInit('a', [1], [0]), intInit('b', [1], [4]), intInit('axes', [1], [2]), intInit('steps', [1], [2]),
  ]);
  expectCode(() => importOnnx(stepped, 'stepped.onnx'), 'UNSUPPORTED_OP', /steps/);
});

test('importOnnx rejects a missing initializer', () => {
  const bytes = buildModel([node('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] })], [1, 2, 4, 4], ['y']);
  expectCode(() => importOnnx(bytes, 'noweights.onnx'), 'INVALID_MODEL', /"w"/);
});

test('importOnnx rejects a tensor with the wrong data size', () => {
  const bytes = buildModel([node('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] })], [1, 2, 4, 4], ['y'], [floatInit('w', [3, 2, 1, 1], [1, 2, 3])]);
  expectCode(() => importOnnx(bytes, 'short.onnx'), 'INVALID_MODEL', /bytes of data/);
});

test('importOnnx rejects inconsistent shapes', () => {
  const bytes = buildModel([node('Conv', ['x', 'w'], ['y'], { kernel_shape: [1, 1] })], [1, 2, 4, 4], ['y'], [floatInit('w', [3, 5, 1, 1], new Float32Array(15))]);
  expectCode(() => importOnnx(bytes, 'channels.onnx'), 'INVALID_MODEL', /input channels/);
});

test.run();
