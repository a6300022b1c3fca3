// TF.js import: weight decoding, error codes, and numerics of five graph models against
// TF.js 4.22 on its CPU backend. Each plan runs in the JavaScript plan executor and, when
// the addon is built, in the native core.
//
// Tolerances: every output must match within 1e-4 * max(1, max |reference|). On an x86-64
// Xeon with the avx512 kernels the worst case measured was 5.3e-5 absolute (native) and
// 3.1e-5 (JS executor) on blazeface-front regressors of magnitude up to 144. Embeddings
// must also reach cosine similarity >= 0.9999.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import * as tf from '@tensorflow/tfjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { importTfjsGraph } from '../lib/import/tfjs';
import { runPlanInJs } from '../lib/import/tfjs-plan-check';
import { decodeWeight, float16ToFloat32, loadWeightsManifest } from '../lib/import/tfjs-weights';
import { native, NativeBinding } from '../lib/native';
import { encodePlan, OpType } from '../lib/plan';
import { rejectsWith } from './helpers';

const MODELS = path.join(__dirname, '..', 'node_modules', '@vladmandic', 'human-models', 'models');

let binding: NativeBinding | undefined;
let nativeError = '';
try {
  binding = native();
} catch (error) {
  nativeError = (error as Error).message;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-tfjs-'));
}

/** Returns a deterministic uniform sequence (LCG), so failures reproduce. */
function uniform(seed: number, count: number, low: number, high: number): Float32Array {
  let state = seed >>> 0;
  return Float32Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return low + (high - low) * (state / 2 ** 32);
  });
}

async function loadReference(modelJson: string): Promise<tf.GraphModel> {
  const json = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  const shards = json.weightsManifest.flatMap((group: { paths: string[] }) =>
    group.paths.map((p) => fs.readFileSync(path.join(path.dirname(modelJson), p))),
  );
  const bytes = Buffer.concat(shards);
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest.flatMap((group: { weights: tf.io.WeightsManifestEntry[] }) => group.weights),
      weightData: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      format: json.format,
      signature: json.signature,
    }),
  };
  return tf.loadGraphModel(handler);
}

function compare(label: string, reference: Float32Array, actual: Float32Array, embedding: boolean): { maxDiff: number; cosine: number } {
  assert.is(actual.length, reference.length, `${label}: output length`);
  let maxDiff = 0;
  let maxRef = 0;
  let dot = 0;
  let normRef = 0;
  let normActual = 0;
  for (let i = 0; i < reference.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(reference[i] - actual[i]));
    maxRef = Math.max(maxRef, Math.abs(reference[i]));
    dot += reference[i] * actual[i];
    normRef += reference[i] ** 2;
    normActual += actual[i] ** 2;
  }
  const cosine = dot / Math.sqrt(normRef * normActual);
  const tolerance = 1e-4 * Math.max(1, maxRef);
  assert.ok(maxDiff <= tolerance, `${label}: max abs difference ${maxDiff} exceeds ${tolerance}`);
  if (embedding) assert.ok(cosine >= 0.9999, `${label}: cosine ${cosine} is below 0.9999`);
  return { maxDiff, cosine };
}

// ---- weight decoding -------------------------------------------------------------------

const Weights = suite('tfjs weights');

Weights('float16 decodes hand-computed values', () => {
  const cases: Array<[number, number]> = [
    [0x0000, 0],
    [0x3c00, 1],
    [0xc000, -2],
    [0x3555, 0.333251953125],
    [0x7bff, 65504],
    [0x0001, 2 ** -24],
    [0x0400, 2 ** -14],
    [0x7c00, Infinity],
    [0xfc00, -Infinity],
  ];
  for (const [bits, expected] of cases) assert.is(float16ToFloat32(bits), expected, `bits 0x${bits.toString(16)}`);
  assert.ok(Number.isNaN(float16ToFloat32(0x7e00)), 'bits 0x7e00 is NaN');
});

Weights('float16 quantised weight decodes', () => {
  const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38]);
  const weight = decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } }, bytes);
  assert.equal(Array.from(weight.data), [1, -2, 0.5]);
});

Weights('uint8 scale-min dequantises', () => {
  const bytes = new Uint8Array([0, 1, 255]);
  const weight = decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } }, bytes);
  assert.equal(Array.from(weight.data), [-1, -0.5, 126.5]);
});

Weights('uint16 scale-min dequantises', () => {
  const bytes = new Uint8Array([0x00, 0x00, 0x00, 0x01, 0xff, 0xff]);
  const weight = decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 2 } }, bytes);
  assert.equal(Array.from(weight.data), [2, 2 + 256 * 0.25, 2 + 65535 * 0.25]);
});

Weights('uint8 scale-offset dequantises', () => {
  const bytes = new Uint8Array([128, 132, 0]);
  const weight = decodeWeight({ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.25, offset: 128 } }, bytes);
  assert.equal(Array.from(weight.data), [0, 1, -32]);
});

Weights('quantised int32 rounds', () => {
  const bytes = new Uint8Array([0, 3, 4]);
  const weight = decodeWeight({ name: 'w', shape: [3], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.5, min: 0.1 } }, bytes);
  assert.instance(weight.data, Int32Array);
  assert.equal(Array.from(weight.data), [0, 2, 2]);
});

Weights('float32 and int32 decode little-endian', () => {
  const buffer = new ArrayBuffer(16);
  const view = new DataView(buffer);
  view.setFloat32(0, 1.5, true);
  view.setFloat32(4, -0.25, true);
  view.setInt32(8, -7, true);
  view.setInt32(12, 123456, true);
  const manifest = [{ paths: ['w.bin'], weights: [
    { name: 'f', shape: [2], dtype: 'float32' },
    { name: 'i', shape: [2], dtype: 'int32' },
  ] }];
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(buffer));
  const weights = loadWeightsManifest('manifest.json', manifest, dir);
  assert.equal(Array.from(weights.get('f')!.data), [1.5, -0.25]);
  assert.equal(Array.from(weights.get('i')!.data), [-7, 123456]);
});

Weights('weights span shard boundaries', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'a.bin'), new Uint8Array([1, 2, 3]));
  fs.writeFileSync(path.join(dir, 'b.bin'), new Uint8Array([4, 5]));
  const manifest = [{ paths: ['a.bin', 'b.bin'], weights: [
    { name: 'x', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } },
    { name: 'y', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 1, min: 0 } },
  ] }];
  const weights = loadWeightsManifest('manifest.json', manifest, dir);
  assert.equal(Array.from(weights.get('x')!.data), [1, 2]);
  assert.equal(Array.from(weights.get('y')!.data), [3, 4, 5]);
});

Weights('truncated shard names the weight', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(10));
  const manifest = [{ paths: ['w.bin'], weights: [
    { name: 'first', shape: [2], dtype: 'float32' },
    { name: 'second', shape: [2], dtype: 'float32' },
  ] }];
  await rejectsWith(() => loadWeightsManifest('manifest.json', manifest, dir), 'INVALID_MODEL', /manifest\.json.*"second".*w\.bin/);
});

Weights('oversized shard is rejected', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(12));
  const manifest = [{ paths: ['w.bin'], weights: [{ name: 'only', shape: [2], dtype: 'float32' }] }];
  await rejectsWith(() => loadWeightsManifest('manifest.json', manifest, dir), 'INVALID_MODEL', /w\.bin holds 12 bytes.*"only"/);
});

Weights('missing shard is rejected', async () => {
  const manifest = [{ paths: ['absent.bin'], weights: [{ name: 'w', shape: [1], dtype: 'float32' }] }];
  await rejectsWith(() => loadWeightsManifest('manifest.json', manifest, tempDir()), 'INVALID_MODEL', /absent\.bin/);
});

Weights('unsupported dtype is rejected', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'w.bin'), new Uint8Array(4));
  const manifest = [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [1], dtype: 'complex64' }] }];
  await rejectsWith(() => loadWeightsManifest('manifest.json', manifest, dir), 'INVALID_MODEL', /"w" has dtype complex64/);
});

Weights.run();

// ---- graph errors ----------------------------------------------------------------------

const Errors = suite('tfjs graph errors');

/** Writes a one-conv graph model whose middle node has op `op`. */
function writeTinyModel(dir: string, op: string): string {
  const float = { type: 'DT_FLOAT' };
  const model = {
    format: 'graph-model',
    modelTopology: { node: [
      { name: 'input', op: 'Placeholder', attr: { dtype: float, shape: { shape: { dim: [{ size: '1' }, { size: '4' }, { size: '4' }, { size: '2' }] } } } },
      { name: 'w', op: 'Const', attr: { dtype: float, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '1' }, { size: '1' }, { size: '2' }, { size: '3' }] } } } } },
      { name: 'conv', op: 'Conv2D', input: ['input', 'w'], attr: { padding: { s: Buffer.from('SAME').toString('base64') }, strides: { list: { i: ['1', '1', '1', '1'] } } } },
      { name: 'act', op, input: ['conv'] },
    ] },
    weightsManifest: [{ paths: ['tiny.bin'], weights: [{ name: 'w', shape: [1, 1, 2, 3], dtype: 'float32' }] }],
  };
  fs.writeFileSync(path.join(dir, 'tiny.bin'), new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer));
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(model));
  return file;
}

Errors('tiny graph imports with fused ReLU', () => {
  const model = importTfjsGraph(writeTinyModel(tempDir(), 'Relu'));
  assert.equal(model.outputNames, ['act']);
  assert.equal(model.outputShapes, [[1, 4, 4, 3]]);
  assert.is(model.plan.ops.length, 1);
  const input = uniform(1, 32, -1, 1);
  const [output] = runPlanInJs(model.plan, [input]);
  const expected = Math.max(0, input[0] * 1 + input[1] * 4);
  assert.ok(Math.abs(output.data[0] - expected) < 1e-6, `channel 0 of pixel 0: ${output.data[0]} vs ${expected}`);
});

Errors('unsupported op names the node', async () => {
  await rejectsWith(() => importTfjsGraph(writeTinyModel(tempDir(), 'Erf')), 'UNSUPPORTED_OP', /Erf at node "act"/);
});

Errors('elu is unsupported', async () => {
  await rejectsWith(() => importTfjsGraph(writeTinyModel(tempDir(), 'Elu')), 'UNSUPPORTED_OP', /Elu/);
});

Errors('malformed model.json is rejected', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, '{"format": "graph-model", "modelTopology": ');
  await rejectsWith(() => importTfjsGraph(file), 'INVALID_MODEL', /not valid JSON/);
});

Errors('layers model is rejected', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: { class_name: 'Sequential' }, weightsManifest: [] }));
  await rejectsWith(() => importTfjsGraph(file), 'INVALID_MODEL', /modelTopology\.node/);
});

Errors('truncated blazeface shard is rejected', async () => {
  const dir = tempDir();
  fs.copyFileSync(path.join(MODELS, 'blazeface-back.json'), path.join(dir, 'blazeface-back.json'));
  const bytes = fs.readFileSync(path.join(MODELS, 'blazeface-back.bin'));
  fs.writeFileSync(path.join(dir, 'blazeface-back.bin'), bytes.subarray(0, bytes.length - 100));
  await rejectsWith(() => importTfjsGraph(path.join(dir, 'blazeface-back.json')), 'INVALID_MODEL', /blazeface-back\.bin/);
});

Errors('missing blazeface shard is rejected', async () => {
  const dir = tempDir();
  fs.copyFileSync(path.join(MODELS, 'blazeface-back.json'), path.join(dir, 'blazeface-back.json'));
  await rejectsWith(() => importTfjsGraph(path.join(dir, 'blazeface-back.json')), 'INVALID_MODEL', /blazeface-back\.bin could not be read/);
});

Errors('inputShape must fit the placeholder', async () => {
  await rejectsWith(() => importTfjsGraph(path.join(MODELS, 'blazeface-back.json'), { inputShape: [1, 128, 128, 3] }), 'INVALID_MODEL', /does not fit/);
});

Errors.run();

// ---- op coverage ---------------------------------------------------------------------

const Ops = suite('tfjs op coverage');

/** Builds graph-model JSON and its shard from nodes and named constants (float32 or int32). */
class GraphWriter {
  readonly nodes: object[] = [];
  private readonly specs: Array<{ name: string; shape: number[]; dtype: string }> = [];
  private readonly chunks: Buffer[] = [];
  private seed = 11;

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: shape.map((d) => ({ size: String(d) })) } } } });
    return name;
  }

  constant(name: string, shape: number[], values: number[] | Float32Array, dtype: 'float32' | 'int32' = 'float32'): string {
    const typeName = dtype === 'float32' ? 'DT_FLOAT' : 'DT_INT32';
    const dims = shape.map((d) => ({ size: String(d) }));
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: typeName }, value: { tensor: { dtype: typeName, tensorShape: { dim: dims } } } } });
    this.specs.push({ name, shape, dtype });
    const array = dtype === 'float32' ? Float32Array.from(values) : Int32Array.from(values);
    this.chunks.push(Buffer.from(array.buffer));
    return name;
  }

  random(name: string, shape: number[], low = -1, high = 1): string {
    this.seed++;
    return this.constant(name, shape, uniform(this.seed, shape.reduce((n, d) => n * d, 1), low, high));
  }

  ints(name: string, shape: number[], values: number[]): string {
    return this.constant(name, shape, values, 'int32');
  }

  op(name: string, op: string, input: string[], attr: Record<string, unknown> = {}): string {
    this.nodes.push({ name, op, input, attr });
    return name;
  }

  write(dir: string): string {
    fs.writeFileSync(path.join(dir, 'graph.bin'), Buffer.concat(this.chunks));
    const model = { format: 'graph-model', modelTopology: { node: this.nodes, library: {}, versions: {} }, weightsManifest: [{ paths: ['graph.bin'], weights: this.specs }] };
    const file = path.join(dir, 'model.json');
    fs.writeFileSync(file, JSON.stringify(model));
    return file;
  }
}

const text = (value: string) => ({ s: Buffer.from(value).toString('base64') });
const intList = (values: number[]) => ({ list: { i: values.map(String) } });

/** Writes a graph that uses the ops the five reference models leave out, and returns its path. */
function writeCoverageGraph(dir: string): string {
  const g = new GraphWriter();
  const input = g.placeholder('input', [1, 6, 8, 4]);
  const swapped = g.op('transpose_a', 'Transpose', [input, g.ints('perm_a', [4], [0, 2, 1, 3])]);
  const restored = g.op('transpose_b', 'Transpose', [swapped, g.ints('perm_b', [4], [0, 2, 1, 3])]);
  const mirrored = g.op('mirror', 'MirrorPad', [restored, g.ints('mirror_pads', [4, 2], [0, 0, 1, 2, 2, 1, 0, 0])], { mode: text('REFLECT') });
  const bnArgs = ['scale', 'offset', 'mean', 'variance'].map((n, i) => g.random(`bn0_${n}`, [4], i === 3 ? 0.5 : -1, i === 3 ? 2 : 1));
  const normalized = g.op('bn0', 'FusedBatchNormV3', [mirrored, ...bnArgs], { epsilon: { f: 0.001 }, is_training: { b: false } });

  const leaky = g.op('leaky', 'LeakyRelu', [normalized], { alpha: { f: 0.1 } });
  const pooled = g.op('avg', 'AvgPool', [leaky], { ksize: intList([1, 3, 3, 1]), strides: intList([1, 2, 2, 1]), padding: text('SAME') });
  const conv = g.op('conv', 'Conv2D', [pooled, g.random('conv_w', [3, 3, 4, 6])], { strides: intList([1, 1, 1, 1]), dilations: intList([1, 1, 1, 1]), padding: text('SAME'), data_format: text('NHWC') });
  const bn1Args = ['scale', 'offset', 'mean', 'variance'].map((n, i) => g.random(`bn1_${n}`, [6], i === 3 ? 0.5 : -1, i === 3 ? 2 : 1));
  const folded = g.op('bn1', 'FusedBatchNormV3', [conv, ...bn1Args], { epsilon: { f: 0.001 } });
  const clipped = g.op('relu6', 'Relu6', [folded]);
  const padded = g.op('padv2', 'PadV2', [clipped, g.ints('pads', [4, 2], [0, 0, 0, 1, 1, 0, 1, 1]), g.constant('pad_value', [], [0.5])]);
  const resized = g.op('resize', 'ResizeBilinear', [padded, g.ints('size', [2], [12, 14])], { half_pixel_centers: { b: true }, align_corners: { b: false } });
  const sliced = g.op('strided', 'StridedSlice', [resized, g.ints('begin', [4], [0, 1, 2, 0]), g.ints('end', [4], [1, 11, -1, 0]), g.ints('strides', [4], [1, 1, 1, 1])], { end_mask: { i: '8' } });

  const squashed = g.op('tanh', 'Tanh', [sliced]);
  const product = g.op('product', 'Mul', [sliced, squashed]);
  const joined = g.op('concat', 'ConcatV2', [sliced, product, g.ints('axis', [], [-1])]);
  const mean = g.op('mean', 'Mean', [joined, g.ints('axes', [2], [1, 2])], { keep_dims: { b: false } });
  const logits = g.op('matmul', 'MatMul', [mean, g.random('fc_w', [10, 16])], { transpose_b: { b: true } });
  const flipped = g.op('flip', 'Sub', [g.constant('one', [], [1]), logits]);
  const halved = g.op('half', 'RealDiv', [flipped, g.constant('two', [], [2])]);
  g.op('probabilities', 'Softmax', [halved]);

  const window = g.op('slice', 'Slice', [joined, g.ints('slice_begin', [4], [0, 2, 3, 4]), g.ints('slice_size', [4], [1, 2, 3, -1])]);
  const nearest = g.op('nearest', 'ResizeNearestNeighbor', [window, g.ints('nearest_size', [2], [3, 5])], { half_pixel_centers: { b: false }, align_corners: { b: false } });
  const prelu = g.op('prelu', 'Prelu', [nearest, g.random('alpha', [12], 0, 0.5)]);
  const rows = g.op('rows', 'Reshape', [prelu, g.ints('rows_shape', [2], [-1, 12])]);
  const expanded = g.op('expand', 'ExpandDims', [rows, g.ints('expand_axis', [], [0])]);
  const squeezed = g.op('squeeze', 'Squeeze', [expanded], { squeeze_dims: intList([0]) });
  const biggest = g.op('biggest', 'Maximum', [squeezed, g.op('negated', 'Neg', [squeezed])]);
  g.op('grown', 'Exp', [g.op('scaled', 'Mul', [biggest, g.constant('tenth', [], [0.1])])]);
  return g.write(dir);
}

Ops('coverage graph matches TF.js', async () => {
  await tf.setBackend('cpu');
  const file = writeCoverageGraph(tempDir());
  const imported = importTfjsGraph(file);
  assert.equal(imported.outputNames, ['grown', 'probabilities']);
  assert.equal(imported.outputShapes, [[15, 12], [1, 10]]);
  const types = imported.plan.ops.map((op) => OpType[op.type]);
  for (const type of ['TRANSPOSE', 'PAD', 'CHANNEL_AFFINE', 'POOL2D', 'CONV2D', 'RESIZE', 'SLICE', 'CONCAT', 'FULLY_CONNECTED', 'SOFTMAX']) {
    assert.ok(types.includes(type), `plan contains ${type}`);
  }
  assert.is(types.filter((t) => t === 'CHANNEL_AFFINE').length, 1, 'the batch norm after the conv is folded');

  const input = uniform(5, 6 * 8 * 4, -2, 2);
  const reference = await loadReference(file);
  const result = reference.execute(tf.tensor(input, imported.inputShape), imported.outputNames) as tf.Tensor[];
  const outputs = runPlanInJs(imported.plan, [input]);
  imported.outputNames.forEach((name, i) => {
    const { maxDiff } = compare(`coverage ${name} (JS executor)`, result[i].dataSync() as Float32Array, outputs[i].data, false);
    console.log(`  coverage ${name} max abs difference: js ${maxDiff.toExponential(1)}`);
  });
  if (binding) {
    const encoded = encodePlan(imported.plan);
    const nativeOutputs = new binding.Model(encoded.words, encoded.weights).runSync([input]);
    imported.outputNames.forEach((name, i) => {
      const { maxDiff } = compare(`coverage ${name} (native)`, result[i].dataSync() as Float32Array, nativeOutputs[i].data, false);
      console.log(`  coverage ${name} max abs difference: native ${maxDiff.toExponential(1)}`);
    });
  }
});

/**
 * Writes the PReLU form Add(x, Mul(Sub(x, Abs(x)), c)) twice: after a depthwise conv with a
 * fused Relu, where it changes nothing, and after a plain conv, where it is PReLU with slope
 * 1 + 2c. Returns the path.
 */
function writePreluAfterFusedReluGraph(dir: string): string {
  const g = new GraphWriter();
  const input = g.placeholder('input', [1, 6, 6, 4]);
  const conv = { strides: intList([1, 1, 1, 1]), dilations: intList([1, 1, 1, 1]), padding: text('SAME'), data_format: text('NHWC') };
  const relu = text('Relu');
  const biasAdd = text('BiasAdd');
  const depthwise = g.op('depthwise', 'FusedDepthwiseConv2dNative',
    [input, g.random('dw_w', [3, 3, 4, 1]), g.random('dw_b', [4])], { ...conv, num_args: { i: '1' }, fused_ops: { list: { s: [biasAdd.s, relu.s] } } });
  const preluForm = (name: string, x: string, channels: number): string => {
    const magnitude = g.op(`${name}_abs`, 'Abs', [x]);
    const difference = g.op(`${name}_sub`, 'Sub', [x, magnitude]);
    const scaled = g.op(`${name}_mul`, 'Mul', [difference, g.random(`${name}_alpha`, [channels], 0, 0.25)]);
    return g.op(`${name}_add`, 'Add', [x, scaled]);
  };
  const afterRelu = preluForm('after_relu', depthwise, 4);
  const pointwise = g.op('pointwise', '_FusedConv2D', [afterRelu, g.random('pw_w', [1, 1, 4, 6]), g.random('pw_b', [6])],
    { ...conv, num_args: { i: '1' }, fused_ops: { list: { s: [biasAdd.s] } } });
  preluForm('after_conv', pointwise, 6);
  return g.write(dir);
}

Ops('prelu form after fused relu is folded', async () => {
  await tf.setBackend('cpu');
  const file = writePreluAfterFusedReluGraph(tempDir());
  const imported = importTfjsGraph(file);
  const types = imported.plan.ops.map((op) => OpType[op.type]);
  assert.equal(types, ['CONV2D', 'CONV2D'], 'both PReLU forms fold into the convolutions');

  const input = uniform(9, 6 * 6 * 4, -2, 2);
  const reference = await loadReference(file);
  const expected = (reference.execute(tf.tensor(input, imported.inputShape), imported.outputNames) as tf.Tensor).dataSync() as Float32Array;
  compare('prelu forms (JS executor)', expected, runPlanInJs(imported.plan, [input])[0].data, false);
  if (binding) {
    const encoded = encodePlan(imported.plan);
    compare('prelu forms (native)', expected, new binding.Model(encoded.words, encoded.weights).runSync([input])[0].data, false);
  }
});

Ops.run();

// ---- model numerics --------------------------------------------------------------------

const Models = suite('tfjs models');

interface ModelCase {
  name: string;
  /** Input value range the model expects. */
  range: [number, number];
  outputShapes: number[][];
  /** Output names that are embeddings, checked by cosine too. */
  embeddings: string[];
}

const CASES: ModelCase[] = [
  { name: 'blazeface-back', range: [-1, 1], outputShapes: [[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]], embeddings: [] },
  { name: 'blazeface-front', range: [-1, 1], outputShapes: [[1, 512, 1], [1, 384, 1], [1, 512, 16], [1, 384, 16]], embeddings: [] },
  { name: 'mobileface', range: [0, 255], outputShapes: [[1, 256]], embeddings: ['batchnorm0/add_1'] },
  { name: 'faceres', range: [0, 1], outputShapes: [[1, 1], [1, 1024], [1, 100]], embeddings: ['global_pooling/Mean'] },
  { name: 'mobilefacenet', range: [0, 1], outputShapes: [[1, 192]], embeddings: ['embeddings'] },
];

Models.before(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

for (const modelCase of CASES) {
  Models(`${modelCase.name} matches TF.js`, async () => {
    const file = path.join(MODELS, `${modelCase.name}.json`);
    const imported = importTfjsGraph(file);
    assert.equal(imported.outputShapes, modelCase.outputShapes);

    const input = uniform(7, imported.inputShape.reduce((n, d) => n * d, 1), ...modelCase.range);
    const reference = await loadReference(file);
    const result = reference.execute(tf.tensor(input, imported.inputShape), imported.outputNames);
    const references = (Array.isArray(result) ? result : [result]).map((t) => t.dataSync() as Float32Array);

    const jsOutputs = runPlanInJs(imported.plan, [input]);
    const report: string[] = [];
    imported.outputNames.forEach((name, i) => {
      assert.equal(jsOutputs[i].shape, modelCase.outputShapes[i], `${name}: plan output shape`);
      const { maxDiff } = compare(`${modelCase.name} ${name} (JS executor)`, references[i], jsOutputs[i].data, modelCase.embeddings.includes(name));
      report.push(`${name} js ${maxDiff.toExponential(1)}`);
    });

    if (binding) {
      const encoded = encodePlan(imported.plan);
      const nativeOutputs = new binding.Model(encoded.words, encoded.weights).runSync([input]);
      imported.outputNames.forEach((name, i) => {
        assert.equal(nativeOutputs[i].shape, modelCase.outputShapes[i], `${name}: native output shape`);
        const { maxDiff } = compare(`${modelCase.name} ${name} (native)`, references[i], nativeOutputs[i].data, modelCase.embeddings.includes(name));
        report.push(`${name} native ${maxDiff.toExponential(1)}`);
      });
    }
    console.log(`  ${modelCase.name} max abs difference: ${report.join(', ')}`);
  });
}

Models('native comparison availability', () => {
  if (!binding) console.log(`  native comparisons skipped: ${nativeError}`);
  assert.ok(true);
});

Models.run();
