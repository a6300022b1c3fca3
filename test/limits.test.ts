// Input limits: image pixel caps, model file size caps, and models whose weights do not
// match their declared shapes (ONNX, TF.js and .fbm), each rejected with a typed error
// before any weight is read out of bounds.

import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { onnx } from 'onnx-proto';
import sharp from 'sharp';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

import { load } from '../lib';
import { encodeModelFile, ModelHeader, MAX_MODEL_FILE_BYTES } from '../lib/model-file';
import { native } from '../lib/native';
import { Activation, encodePlan, f32, OpType, PlanBuilder } from '../lib/plan';
import { rejectsWith } from './helpers';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'facebits-limits-'));
const limits = suite('limits');
limits.after(() => fs.rmSync(dir, { recursive: true, force: true }));

// ---- images -------------------------------------------------------------------------------

limits('maxPixels rejects larger raw and encoded images and accepts the limit itself', async () => {
  const fb = await load({ maxPixels: 10_000 });
  try {
    const over = { data: new Uint8Array(101 * 100 * 3), width: 101, height: 100, channels: 3 };
    await rejectsWith(fb.embed(over), 'INVALID_IMAGE', /10100 pixels, more than the limit of 10000/);
    const png = await sharp({ create: { width: 200, height: 60, channels: 3, background: '#808080' } }).png().toBuffer();
    await rejectsWith(fb.detect(png), 'INVALID_IMAGE', /more than 10000 pixels|limit of 10000/);
    const atLimit = { data: new Uint8Array(100 * 100 * 3), width: 100, height: 100, channels: 3 };
    await rejectsWith(fb.embed(atLimit), 'NO_FACE');
  } finally {
    fb.dispose();
  }
});

limits('maxPixels must be a positive integer', async () => {
  for (const maxPixels of [0, -1, 1.5, Number.NaN, Infinity]) {
    await rejectsWith(load({ maxPixels }), 'INVALID_ARGUMENT', /maxPixels/);
  }
});

limits('raw image dimensions that do not match the buffer are rejected', async () => {
  const fb = await load();
  try {
    await rejectsWith(fb.embed({ data: new Uint8Array(12), width: 2 ** 31, height: 2 ** 31, channels: 3 }), 'INVALID_IMAGE');
    await rejectsWith(fb.embed({ data: new Uint8Array(12), width: 2, height: 3, channels: 3 }), 'INVALID_IMAGE', /needs 18/);
    await rejectsWith(fb.embed({ data: new Uint8Array(12), width: -2, height: 2, channels: 3 }), 'INVALID_IMAGE');
  } finally {
    fb.dispose();
  }
});

limits('the CLI passes --max-pixels to load()', async () => {
  const file = path.join(dir, 'wide.png');
  await sharp({ create: { width: 300, height: 40, channels: 3, background: '#808080' } }).png().toFile(file);
  const cli = path.join(__dirname, '..', 'lib', 'cli.ts');
  const script = `require(${JSON.stringify(cli)}).main(process.argv.slice(1)).then((code) => process.exit(code))`;
  const run = spawnSync(process.execPath, ['-r', 'tsx/cjs', '-e', script, 'verify', file, file, '--max-pixels', '1000'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(run.status, 2, run.stderr);
  assert.match(run.stderr, /INVALID_IMAGE: .*(more than 1000 pixels|limit of 1000)/);
});

// ---- the native core --------------------------------------------------------------------

limits('the core rejects image sides and outputs over its limits', () => {
  const core = native();
  const pixel = new Uint8Array(3);
  assert.throws(() => core.resizeBilinear(pixel, 1, 1, 3, 16385, 1, false), (e: { code?: string }) => e.code === 'INVALID_ARGUMENT');
  assert.throws(() => core.resizeBilinear(pixel, 1, 1, 3, 16384, 16384, false), (e: { code?: string }) => e.code === 'INVALID_ARGUMENT');
  const huge = Float64Array.from([1, 0, 1e308, 0, 1, -1e308]);
  const out = core.warpAffine(pixel, 1, 1, 3, huge, 4, 4, 7, false);
  assert.ok(out.every((v) => v === 7), 'a transform far outside the source reads only the border');
});

limits('the core rejects a plan whose const ranges leave the weight array', () => {
  const b = new PlanBuilder();
  const x = b.input([1, 4, 4, 2]);
  const y = b.add(OpType.CONV2D, [x], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 3, Activation.NONE, f32(0), f32(0)], [new Float32Array(6), new Float32Array(3)]);
  const { words, weights } = encodePlan(b.build([y]));
  const lengthAt = words.length - 3; // consts: offset0, length0, offset1, length1
  const bad = Int32Array.from(words);
  bad[lengthAt] = 2 ** 30;
  assert.throws(() => new (native().Model)(bad, weights), (e: { code?: string; message: string }) => e.code === 'INVALID_MODEL' && /outside the weight array/.test(e.message));
  assert.throws(() => new (native().Model)(words, weights.subarray(0, 8)), (e: { code?: string; message: string }) => e.code === 'INVALID_MODEL' && /weights/.test(e.message));
});

// ---- model files ------------------------------------------------------------------------

function sparseFile(name: string, bytes: number): string {
  const file = path.join(dir, name);
  const fd = fs.openSync(file, 'w');
  fs.ftruncateSync(fd, bytes);
  fs.closeSync(fd);
  return file;
}

limits('model files over the size limit are rejected before they are read', async () => {
  for (const name of ['big.onnx', 'big.fbm']) {
    const file = sparseFile(name, MAX_MODEL_FILE_BYTES + 1);
    await rejectsWith(load({ embedder: { path: file } }), 'INVALID_MODEL', /more than the limit/);
    fs.rmSync(file);
  }
});

function valueInfo(name: string, dims: number[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function onnxConv(weightDims: number[], weightFloats: number): string {
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'g',
      node: [{ opType: 'Conv', name: 'conv', input: ['x', 'w'], output: ['y'], attribute: [{ name: 'kernel_shape', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1] }] }],
      input: [valueInfo('x', [1, 3, 16, 16])],
      output: [valueInfo('y', [1, 8, 16, 16])],
      initializer: [{ name: 'w', dims: weightDims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(new Float32Array(weightFloats).buffer) }],
    },
  });
  const file = path.join(dir, `conv-${weightDims.join('x')}-${weightFloats}.onnx`);
  fs.writeFileSync(file, onnx.ModelProto.encode(model).finish());
  return file;
}

limits('ONNX: weights that do not match their declared shape are rejected', async () => {
  (await load({ embedder: { path: onnxConv([8, 3, 1, 1], 24) } })).dispose();
  await rejectsWith(load({ embedder: { path: onnxConv([8, 3, 1, 1], 10) } }), 'INVALID_MODEL', /bytes of data/);
  await rejectsWith(load({ embedder: { path: onnxConv([2 ** 40, 3, 1, 1], 24) } }), 'INVALID_MODEL');
  await rejectsWith(load({ embedder: { path: onnxConv([8, -3, 1, 1], 24) } }), 'INVALID_MODEL', /invalid dims/);
  // Data that matches its own dims but not the conv: 5 input channels against 3.
  await rejectsWith(load({ embedder: { path: onnxConv([8, 5, 1, 1], 40) } }), 'INVALID_MODEL');
});

function tfjsModel(name: string, filterShape: number[], shardBytes: number): string {
  const folder = path.join(dir, name);
  fs.mkdirSync(folder, { recursive: true });
  const dim = (sizes: number[]): { dim: Array<{ size: string }> } => ({ dim: sizes.map((s) => ({ size: String(s) })) });
  const model = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: dim([1, 16, 16, 3]) } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: dim(filterShape) } } } },
        {
          name: 'y', op: 'Conv2D', input: ['x', 'w'],
          attr: { T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: Buffer.from('SAME').toString('base64') }, data_format: { s: Buffer.from('NHWC').toString('base64') } },
        },
      ],
    },
    weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'w', shape: filterShape, dtype: 'float32' }] }],
  };
  fs.writeFileSync(path.join(folder, 'model.json'), JSON.stringify(model));
  fs.writeFileSync(path.join(folder, 'w.bin'), new Uint8Array(shardBytes));
  return path.join(folder, 'model.json');
}

limits('TF.js: weights that do not match their declared shape are rejected', async () => {
  await rejectsWith(load({ embedder: { path: tfjsModel('short', [1, 1, 3, 8], 16) } }), 'INVALID_MODEL');
  await rejectsWith(load({ embedder: { path: tfjsModel('long', [1, 1, 3, 8], 4096) } }), 'INVALID_MODEL');
  await rejectsWith(load({ embedder: { path: tfjsModel('huge', [2 ** 20, 2 ** 20, 3, 8], 96) } }), 'INVALID_MODEL');
  await rejectsWith(load({ embedder: { path: tfjsModel('channels', [1, 1, 5, 8], 160) } }), 'INVALID_MODEL');
});

const fbmHeader: ModelHeader = {
  id: 'limits@1', kind: 'embedder', source: { files: [] }, inputShape: [1, 16, 16, 3], channels: 'RGB', outputNames: ['y'], outputShapes: [[1, 16, 16, 8]],
};

function fbmConv(name: string, weightFloats: number, header: ModelHeader = fbmHeader): string {
  const b = new PlanBuilder();
  const x = b.input([1, 16, 16, 3]);
  const y = b.add(OpType.CONV2D, [x], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 8, Activation.NONE, f32(0), f32(0)], [new Float32Array(weightFloats), new Float32Array(0)]);
  const file = path.join(dir, name);
  fs.writeFileSync(file, encodeModelFile({ header, plan: encodePlan(b.build([y])) }));
  return file;
}

limits('.fbm: weights that do not match their declared shape are rejected', async () => {
  const fb = await load({ embedder: { path: fbmConv('ok.fbm', 24) } });
  fb.dispose();
  await rejectsWith(load({ embedder: { path: fbmConv('short.fbm', 10) } }), 'INVALID_MODEL', /has 10 floats; expected 24/);
  await rejectsWith(load({ embedder: { path: fbmConv('long.fbm', 4000) } }), 'INVALID_MODEL', /expected 24/);
});

limits('.fbm: a header that does not match the plan is rejected', async () => {
  const cases: Array<[Partial<ModelHeader>, RegExp]> = [
    [{ inputShape: [1, 32, 32, 3] }, /does not match the plan input/],
    [{ inputShape: [1, 1e9, 16, 3] }, /inputShape/],
    [{ inputShape: [1, 16, 16] }, /inputShape/],
    [{ channels: 'RGBA' as 'RGB' }, /channels/],
    [{ kind: 'anything' as 'embedder' }, /kind/],
  ];
  for (const [change, pattern] of cases) {
    const file = fbmConv('header.fbm', 24, { ...fbmHeader, ...change });
    await rejectsWith(load({ embedder: { path: file } }), 'INVALID_MODEL', pattern);
  }
});

limits('a detector without the decoder outputs raises INVALID_MODEL', async () => {
  const image = { data: new Uint8Array(64 * 64 * 3), width: 64, height: 64, channels: 3 };
  for (const decoder of ['yunet', 'blazeface'] as const) {
    const fb = await load({ detector: { path: fbmConv(`detector-${decoder}.fbm`, 24), decoder }, landmarks: 'none' });
    try {
      await rejectsWith(fb.detect(image), 'INVALID_MODEL', decoder === 'yunet' ? /YuNet output/ : /BlazeFace outputs/);
    } finally {
      fb.dispose();
    }
  }
});

limits.run();
