import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import {
  Activation, BinaryKind, encodePlan, f32, OpType, PadMode, PlanBuilder, PoolKind, ResizeCoordinates, ResizeMode, UnaryKind,
} from '../lib/plan';
import * as ref from './native-reference';

const binding = native();
const isas = binding.supportedIsas();
const fastIsas = isas.filter((name) => name !== 'scalar');
const initialIsa = binding.isa();

interface Case {
  name: string;
  builder: PlanBuilder;
  outputs: number[];
  inputs: Float32Array[];
  /** TypeScript result for the first output, when the case has one. */
  expected?: { data: ArrayLike<number>; shape: number[] };
}

function runWith(isa: string, c: Case) {
  binding.setIsa(isa);
  try {
    const { words, weights } = encodePlan(c.builder.build(c.outputs));
    return new binding.Model(words, weights).runSync(c.inputs);
  } finally {
    binding.setIsa(initialIsa);
  }
}

/** Profiles c's plan twice with the ISA forced, as runWith runs it. */
function profileWith(isa: string, c: Case) {
  binding.setIsa(isa);
  try {
    const { words, weights } = encodePlan(c.builder.build(c.outputs));
    return new binding.Model(words, weights).profileSync(c.inputs, 2);
  } finally {
    binding.setIsa(initialIsa);
  }
}

const cases: Case[] = [];
let seed = 1;

function activationParams(act: ref.Act) {
  return [act.kind, f32(act.a ?? 0), f32(act.b ?? 0)];
}

function convCase(name: string, shape: number[], p: ref.ConvParams, act: ref.Act, withBias = true) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const weights = ref.randomArray(p.oc * p.kh * p.kw * (shape[3] / p.groups), next);
  const bias = withBias ? ref.randomArray(p.oc, next) : new Float32Array(0);
  const consts = [weights, bias];
  if (act.kind === Activation.PRELU) consts.push(act.slopes!);
  const y = b.add(OpType.CONV2D, [x],
    [p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.groups, p.oc, ...activationParams(act)], consts);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  cases.push({ name, builder: b, outputs: [y], inputs: [input], expected: ref.conv2d(input, shape, weights, bias, p, act) });
}

function conv(kh: number, stride: number, pad: number, groups: number, oc: number, dilation = 1) {
  return { kh, kw: kh, sh: stride, sw: stride, dh: dilation, dw: dilation, pt: pad, pl: pad, pb: pad, pr: pad, groups, oc };
}

const relu = { kind: Activation.RELU };
const slopes = (n: number) => ref.randomArray(n, ref.random(99), 0, 0.5);

convCase('conv 1x1 odd channels', [1, 5, 7, 13], conv(1, 1, 0, 1, 17), relu);
convCase('conv 1x1 wide', [1, 8, 8, 32], conv(1, 1, 0, 1, 48), { kind: Activation.NONE });
// 64 or more output columns take 6-row x 64-column GEMM tiles, then narrower tiles for the rest.
convCase('conv 1x1 64-column tiles prelu', [1, 5, 7, 24], conv(1, 1, 0, 1, 150), { kind: Activation.PRELU, slopes: slopes(150) });
convCase('conv 1x1 64-column tiles clip', [1, 3, 5, 256], conv(1, 1, 0, 1, 64), { kind: Activation.CLIP, a: 0, b: 0.5 });
convCase('conv 1x1 deep narrow tiles', [1, 2, 7, 300], conv(1, 1, 0, 1, 64), relu);
// Outputs with at most 4 columns and K <= 1024 run as dot products along K.
convCase('conv 1x1 one column', [1, 7, 9, 64], conv(1, 1, 0, 1, 1), relu);
convCase('conv 1x1 four columns prelu', [1, 5, 5, 37], conv(1, 1, 0, 1, 4), { kind: Activation.PRELU, slopes: slopes(4) });
convCase('conv 3x3 two columns clip', [1, 6, 5, 7], conv(3, 1, 1, 1, 2), { kind: Activation.CLIP, a: -0.2, b: 0.3 });
convCase('conv 1x1 stride 2', [1, 9, 9, 8], conv(1, 2, 0, 1, 8), relu);
convCase('conv 3x3 clip', [1, 9, 11, 3], conv(3, 1, 1, 1, 16), { kind: Activation.CLIP, a: 0, b: 0.5 });
convCase('conv 3x3 stride 2 prelu', [2, 12, 10, 5], { ...conv(3, 2, 0, 1, 7), pb: 1, pr: 1 },
  { kind: Activation.PRELU, slopes: slopes(7) });
convCase('conv 5x5 dilated leaky', [1, 13, 13, 4], conv(5, 1, 4, 1, 6, 2), { kind: Activation.LEAKY_RELU, a: 0.1 });
convCase('conv 3x3 sigmoid no bias', [1, 6, 6, 5], conv(3, 1, 1, 1, 3), { kind: Activation.SIGMOID }, false);
convCase('conv grouped', [1, 8, 8, 12], conv(3, 1, 1, 3, 9), relu);
convCase('conv depth multiplier 2', [1, 6, 6, 4], conv(3, 1, 1, 4, 8), { kind: Activation.NONE });
convCase('conv prelu single slope', [1, 4, 4, 6], conv(3, 1, 1, 1, 20), { kind: Activation.PRELU, slopes: slopes(1) });
convCase('depthwise 3x3 prelu', [1, 10, 9, 37], conv(3, 1, 1, 37, 37), { kind: Activation.PRELU, slopes: slopes(37) });
convCase('depthwise 3x3 stride 2', [1, 11, 12, 64], conv(3, 2, 1, 64, 64), relu);
convCase('depthwise 5x5 dilated', [1, 14, 14, 40], conv(5, 1, 2, 40, 40, 2), { kind: Activation.CLIP, a: -0.2, b: 0.3 });
convCase('depthwise 7x7 valid', [1, 7, 7, 64], conv(7, 1, 0, 64, 64), { kind: Activation.NONE });
convCase('depthwise sigmoid odd', [1, 5, 5, 11], conv(3, 1, 1, 11, 11), { kind: Activation.SIGMOID });
convCase('depthwise 57 channels', [1, 6, 7, 57], conv(3, 1, 1, 57, 57), relu);
convCase('depthwise 80 channels stride 2', [1, 9, 9, 80], { ...conv(3, 2, 0, 80, 80), pb: 1, pr: 1 }, { kind: Activation.LEAKY_RELU, a: 0.2 });
convCase('depthwise 5x5 blazeface', [1, 16, 16, 24], { ...conv(5, 1, 2, 24, 24) }, { kind: Activation.NONE });
// 16 or fewer channels take 8 pixels per pass and 32 or fewer take 4, with narrower passes at the borders.
convCase('depthwise 16 channels wide', [1, 7, 29, 16], conv(3, 1, 1, 16, 16), relu);
convCase('depthwise 8 channels stride 2', [1, 12, 41, 8], conv(3, 2, 1, 8, 8), { kind: Activation.PRELU, slopes: slopes(8) });
convCase('depthwise 24 channels wide', [1, 6, 19, 24], conv(3, 1, 1, 24, 24), { kind: Activation.CLIP, a: 0, b: 0.5 });
convCase('depthwise 32 channels 5x5', [1, 9, 23, 32], conv(5, 1, 2, 32, 32), { kind: Activation.NONE });
// 3x3 depthwise rows with stride 1 or 2 run in strips of 8 or 4 pixels away from the
// borders, two 16-channel blocks at a time, then single blocks and a masked tail.
convCase('depthwise 3x3 strips 40 channels', [1, 5, 27, 40], conv(3, 1, 1, 40, 40), { kind: Activation.CLIP, a: -0.1, b: 0.4 });
convCase('depthwise 3x3 strips 96 prelu', [1, 4, 21, 96], conv(3, 1, 1, 96, 96), { kind: Activation.PRELU, slopes: slopes(96) });
convCase('depthwise 3x3 strips row dilation', [1, 9, 18, 24], { ...conv(3, 1, 1, 24, 24), dh: 2, pt: 2, pb: 2 }, relu);
convCase('depthwise 3x3 strips sigmoid', [1, 3, 13, 5], conv(3, 1, 1, 5, 5), { kind: Activation.SIGMOID });
convCase('depthwise 3x3 stride 2 strips', [1, 7, 40, 48], conv(3, 2, 1, 48, 48), { kind: Activation.CLIP, a: 0, b: 0.6 });
convCase('depthwise 3x3 stride 2 strips tail', [1, 6, 37, 21], { ...conv(3, 2, 0, 21, 21), pb: 1, pr: 1 },
  { kind: Activation.PRELU, slopes: slopes(21) });
// An RGB first layer with more output pixels than one im2col block, so a block starts mid-row.
convCase('conv 3x3 RGB several blocks', [1, 37, 45, 3], conv(3, 1, 1, 1, 16), relu);
convCase('conv 3x3 RGB stride 2 odd size', [1, 33, 47, 3], { ...conv(3, 2, 0, 1, 16), pb: 1, pr: 1 }, relu);
// Inputs with at most 4 channels and outputs with at most 64 take the direct convolution
// where the kernel set has one: 1 to 4 blocks of 16 output channels, 6 or 8 pixels per pass.
convCase('direct conv RGB 64 channels clip', [1, 29, 31, 3], conv(3, 2, 1, 1, 64), { kind: Activation.CLIP, a: 0, b: 6 });
convCase('direct conv 1 channel 40 prelu', [2, 11, 19, 1], conv(3, 1, 1, 1, 40), { kind: Activation.PRELU, slopes: slopes(40) });
convCase('direct conv 4 channels 21 sigmoid', [1, 9, 23, 4], { ...conv(5, 1, 2, 1, 21), pb: 0 }, { kind: Activation.SIGMOID });
convCase('direct conv 2 channels dilated', [1, 17, 26, 2], conv(3, 2, 2, 1, 33, 2), { kind: Activation.LEAKY_RELU, a: 0.1 });
convCase('direct conv 3 channels 5 outputs', [1, 8, 8, 3], conv(1, 1, 0, 1, 5), { kind: Activation.NONE }, false);

function fcCase(name: string, shape: number[], outF: number, act: ref.Act) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const k = ref.sizeOf(shape) / shape[0];
  const weights = ref.randomArray(outF * k, next);
  const bias = ref.randomArray(outF, next);
  const consts = [weights, bias];
  if (act.kind === Activation.PRELU) consts.push(act.slopes!);
  const y = b.add(OpType.FULLY_CONNECTED, [x], [outF, ...activationParams(act)], consts);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  cases.push({
    name, builder: b, outputs: [y], inputs: [input],
    expected: { data: ref.fullyConnected(input, shape[0], weights, bias, outF, act), shape: [shape[0], outF] },
  });
}

fcCase('fc rows', [3, 20], 11, relu);
fcCase('fc flatten prelu', [1, 2, 2, 5], 33, { kind: Activation.PRELU, slopes: slopes(33) });
fcCase('fc sigmoid', [2, 300], 17, { kind: Activation.SIGMOID });
fcCase('fc three outputs leaky', [5, 70], 3, { kind: Activation.LEAKY_RELU, a: 0.1 });
fcCase('fc one output deep', [2, 1100], 1, { kind: Activation.NONE });

function poolCase(name: string, shape: number[], p: ref.PoolParams) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const y = b.add(OpType.POOL2D, [x],
    [p.max ? PoolKind.MAX : PoolKind.AVERAGE, p.kh, p.kw, p.sh, p.sw, p.pt, p.pl, p.pb, p.pr, p.countIncludePad ? 1 : 0]);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  cases.push({ name, builder: b, outputs: [y], inputs: [input], expected: ref.pool2d(input, shape, p) });
}

const window = (max: boolean, k: number, s: number, pad: number, countIncludePad = false) =>
  ({ max, kh: k, kw: k, sh: s, sw: s, pt: pad, pl: pad, pb: pad, pr: pad, countIncludePad });
poolCase('pool max 3x3 stride 2 padded', [1, 9, 9, 19], window(true, 3, 2, 1));
poolCase('pool avg 2x2 stride 2', [1, 8, 8, 7], window(false, 2, 2, 0));
poolCase('pool avg padded exclude pad', [1, 7, 7, 9], window(false, 3, 1, 1));
poolCase('pool avg padded include pad', [1, 7, 7, 9], window(false, 3, 1, 1, true));
poolCase('pool global avg', [2, 5, 6, 21], window(false, 0, 1, 0));
poolCase('pool global max', [2, 5, 6, 21], window(true, 0, 1, 0));
// Pooling reduces up to 4 blocks of 16 channels per pass, alternate window columns into two
// accumulators, then the remaining blocks and a masked tail.
poolCase('pool max 2x2 80 channels', [1, 6, 9, 80], window(true, 2, 2, 0));
poolCase('pool avg 3x3 stride 2 70 channels', [1, 9, 8, 70], window(false, 3, 2, 1));
poolCase('pool global avg 130 channels', [1, 3, 5, 130], window(false, 0, 1, 0));

function resizeCase(shape: number[], oh: number, ow: number, mode: ResizeMode, coords: ResizeCoordinates) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const y = b.add(OpType.RESIZE, [x], [oh, ow, mode, coords]);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  cases.push({
    name: `resize ${ResizeMode[mode]} ${ResizeCoordinates[coords]} ${shape[1]}x${shape[2]} to ${oh}x${ow}`,
    builder: b, outputs: [y], inputs: [input],
    expected: { data: ref.resize(input, shape, oh, ow, mode, coords), shape: [shape[0], oh, ow, shape[3]] },
  });
}

for (const mode of [ResizeMode.NEAREST, ResizeMode.BILINEAR]) {
  for (const coords of [ResizeCoordinates.ASYMMETRIC, ResizeCoordinates.HALF_PIXEL, ResizeCoordinates.ALIGN_CORNERS,
    ResizeCoordinates.PYTORCH_HALF_PIXEL]) {
    resizeCase([1, 5, 6, 3], 10, 12, mode, coords);
    resizeCase([2, 9, 7, 2], 4, 3, mode, coords);
    resizeCase([1, 4, 4, 1], 1, 1, mode, coords);
  }
}

function binaryCase(name: string, kind: BinaryKind, shapeA: number[], shapeB: number[], asConst = false, swap = false, act = Activation.NONE) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const a = b.input(shapeA);
  const valueA = ref.randomArray(ref.sizeOf(shapeA), next);
  const valueB = ref.randomArray(ref.sizeOf(shapeB), next, 0.5, 2);
  const params = [kind, act, f32(0), f32(0), swap ? 1 : 0];
  let y: number;
  const inputs = [valueA];
  if (asConst) {
    y = b.add(OpType.BINARY, [a], params, [valueB]);
  } else {
    const other = b.input(shapeB);
    inputs.push(valueB);
    y = b.add(OpType.BINARY, [a, other], params);
  }
  const expected = swap ? ref.binary(kind, valueB, shapeB, valueA, shapeA) : ref.binary(kind, valueA, shapeA, valueB, shapeB);
  if (act === Activation.RELU) expected.data = expected.data.map((v) => Math.max(v, 0));
  cases.push({ name, builder: b, outputs: [y], inputs, expected });
}

binaryCase('binary add same shape', BinaryKind.ADD, [2, 3, 4, 5], [2, 3, 4, 5]);
binaryCase('binary mul last dim', BinaryKind.MUL, [2, 3, 4, 13], [13]);
binaryCase('binary sub both broadcast', BinaryKind.SUB, [2, 1, 4, 1], [3, 1, 5]);
binaryCase('binary div const scalar', BinaryKind.DIV, [3, 7], [1], true);
binaryCase('binary max const last dim swapped', BinaryKind.MAX, [2, 9, 10], [10], true, true);
binaryCase('binary min const full relu', BinaryKind.MIN, [4, 6], [4, 6], true, false, Activation.RELU);
binaryCase('binary div swapped inputs', BinaryKind.DIV, [5, 1], [1, 6], false, true);
binaryCase('binary add channel broadcast', BinaryKind.ADD, [1, 4, 4, 1], [1, 4, 4, 24]);

function unaryCase(kind: UnaryKind, a: number, bValue: number, fn: (x: number, c: number) => number, slopeValues?: Float32Array) {
  const next = ref.random(seed++);
  const shape = [2, 3, 11];
  const b = new PlanBuilder();
  const x = b.input(shape);
  const y = b.add(OpType.UNARY, [x], [kind, f32(a), f32(bValue)], slopeValues ? [slopeValues] : []);
  const input = ref.randomArray(ref.sizeOf(shape), next, -2, 2);
  if (kind === UnaryKind.SQRT) input.forEach((v, i) => (input[i] = Math.abs(v)));
  cases.push({
    name: `unary ${UnaryKind[kind]}`, builder: b, outputs: [y], inputs: [input],
    expected: { data: input.map((v, i) => fn(v, i % 11)), shape },
  });
}

const unarySlopes = slopes(11);
unaryCase(UnaryKind.RELU, 0, 0, (x) => Math.max(x, 0));
unaryCase(UnaryKind.CLIP, -0.5, 1, (x) => Math.min(Math.max(x, -0.5), 1));
unaryCase(UnaryKind.PRELU, 0, 0, (x, c) => (x >= 0 ? x : x * unarySlopes[c]), unarySlopes);
unaryCase(UnaryKind.LEAKY_RELU, 0.2, 0, (x) => (x >= 0 ? x : 0.2 * x));
unaryCase(UnaryKind.SIGMOID, 0, 0, (x) => 1 / (1 + Math.exp(-x)));
unaryCase(UnaryKind.EXP, 0, 0, Math.exp);
unaryCase(UnaryKind.TANH, 0, 0, Math.tanh);
unaryCase(UnaryKind.ABS, 0, 0, Math.abs);
unaryCase(UnaryKind.SQRT, 0, 0, Math.sqrt);
unaryCase(UnaryKind.NEG, 0, 0, (x) => -x);

function padCase(mode: PadMode, pads: number[]) {
  const next = ref.random(seed++);
  const shape = [1, 4, 5, 3];
  const [top, bottom, left, right, before, after] = pads;
  const b = new PlanBuilder();
  const x = b.input(shape);
  const y = b.add(OpType.PAD, [x], [...pads, mode, f32(-7)]);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  const out: number[] = [];
  const map = (i: number, n: number) => {
    if (i >= 0 && i < n) return i;
    if (mode === PadMode.CONSTANT) return -1;
    if (mode === PadMode.EDGE) return i < 0 ? 0 : n - 1;
    return i < 0 ? -i : 2 * (n - 1) - i;
  };
  const oh = 4 + top + bottom, ow = 5 + left + right, oc = 3 + before + after;
  for (let yy = 0; yy < oh; yy++)
    for (let xx = 0; xx < ow; xx++)
      for (let c = 0; c < oc; c++) {
        const sy = map(yy - top, 4), sx = map(xx - left, 5), sc = map(c - before, 3);
        out.push(sy < 0 || sx < 0 || sc < 0 ? -7 : input[(sy * 5 + sx) * 3 + sc]);
      }
  cases.push({ name: `pad ${PadMode[mode]}`, builder: b, outputs: [y], inputs: [input], expected: { data: out, shape: [1, oh, ow, oc] } });
}

padCase(PadMode.CONSTANT, [1, 2, 0, 1, 2, 3]);
padCase(PadMode.REFLECT, [2, 1, 3, 2, 1, 2]);
padCase(PadMode.EDGE, [1, 3, 2, 0, 0, 4]);

{
  // RESHAPE, TRANSPOSE, SLICE, CONCAT, SOFTMAX, L2_NORMALIZE and CHANNEL_AFFINE in one chain.
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input([2, 3, 4, 5]);
  const input = ref.randomArray(120, next);
  const t = b.add(OpType.TRANSPOSE, [x], [4, 0, 3, 1, 2]); // [2, 5, 3, 4]
  const transposed: number[] = [];
  for (let n = 0; n < 2; n++) for (let c = 0; c < 5; c++) for (let h = 0; h < 3; h++) for (let w = 0; w < 4; w++)
    transposed.push(input[((n * 3 + h) * 4 + w) * 5 + c]);
  cases.push({ name: 'transpose nchw', builder: b, outputs: [t], inputs: [input], expected: { data: transposed, shape: [2, 5, 3, 4] } });

  const b2 = new PlanBuilder();
  const x2 = b2.input([2, 3, 4, 5]);
  const r = b2.add(OpType.RESHAPE, [x2], [3, 2, 6, 10]);
  const s = b2.add(OpType.SLICE, [r], [3, 0, 1, 3, 2, 5, 10]); // [2, 4, 7]
  const sliced: number[] = [];
  for (let n = 0; n < 2; n++) for (let i = 1; i < 5; i++) for (let j = 3; j < 10; j++) sliced.push(input[n * 60 + i * 10 + j]);
  cases.push({ name: 'reshape and slice', builder: b2, outputs: [s], inputs: [input], expected: { data: sliced, shape: [2, 4, 7] } });

  const b3 = new PlanBuilder();
  const a3 = b3.input([2, 3, 4]);
  const c3 = b3.input([2, 2, 4]);
  const cat = b3.add(OpType.CONCAT, [a3, c3, a3], [-2]);
  const va = ref.randomArray(24, next), vc = ref.randomArray(16, next);
  const concatenated: number[] = [];
  for (let n = 0; n < 2; n++) {
    concatenated.push(...va.slice(n * 12, n * 12 + 12), ...vc.slice(n * 8, n * 8 + 8), ...va.slice(n * 12, n * 12 + 12));
  }
  cases.push({ name: 'concat middle axis', builder: b3, outputs: [cat], inputs: [va, vc], expected: { data: concatenated, shape: [2, 8, 4] } });

  for (const axis of [1, -1]) {
    const b4 = new PlanBuilder();
    const x4 = b4.input([2, 3, 7]);
    const y4 = b4.add(OpType.SOFTMAX, [x4], [axis]);
    const v = ref.randomArray(42, next, -3, 3);
    const out = new Float32Array(42);
    const stride = axis === 1 ? 7 : 1;
    const length = axis === 1 ? 3 : 7;
    for (let n = 0; n < 2; n++)
      for (let j = 0; j < (axis === 1 ? 7 : 3); j++) {
        const base = axis === 1 ? n * 21 + j : n * 21 + j * 7;
        let sum = 0;
        for (let i = 0; i < length; i++) sum += Math.exp(v[base + i * stride]);
        for (let i = 0; i < length; i++) out[base + i * stride] = Math.exp(v[base + i * stride]) / sum;
      }
    cases.push({ name: `softmax axis ${axis}`, builder: b4, outputs: [y4], inputs: [v], expected: { data: out, shape: [2, 3, 7] } });
  }

  const b5 = new PlanBuilder();
  const x5 = b5.input([3, 128]);
  const y5 = b5.add(OpType.L2_NORMALIZE, [x5], [f32(1e-10)]);
  const v5 = ref.randomArray(384, next);
  const out5 = new Float32Array(384);
  for (let r5 = 0; r5 < 3; r5++) {
    const row = v5.subarray(r5 * 128, r5 * 128 + 128);
    const norm = Math.sqrt(row.reduce((acc, v) => acc + v * v, 0));
    row.forEach((v, i) => (out5[r5 * 128 + i] = v / norm));
  }
  cases.push({ name: 'l2 normalize', builder: b5, outputs: [y5], inputs: [v5], expected: { data: out5, shape: [3, 128] } });

  const b6 = new PlanBuilder();
  const x6 = b6.input([1, 3, 3, 19]);
  const scale = ref.randomArray(19, next), shift = ref.randomArray(19, next);
  const y6 = b6.add(OpType.CHANNEL_AFFINE, [x6], [], [scale, shift]);
  const v6 = ref.randomArray(171, next);
  cases.push({
    name: 'channel affine', builder: b6, outputs: [y6], inputs: [v6],
    expected: { data: v6.map((v, i) => v * scale[i % 19] + shift[i % 19]), shape: [1, 3, 3, 19] },
  });

  // Fewer than 8 channels take the flat path with a repeating scale and shift; the sizes
  // leave a remainder after the last whole period of 8 * channels floats.
  for (const shape of [[1, 5, 7, 3], [1, 3, 3, 1], [1, 2, 5, 7]]) {
    const channels = shape[3];
    const b7 = new PlanBuilder();
    const x7 = b7.input(shape);
    const scale7 = ref.randomArray(channels, next), shift7 = ref.randomArray(channels, next);
    const y7 = b7.add(OpType.CHANNEL_AFFINE, [x7], [], [scale7, shift7]);
    const v7 = ref.randomArray(ref.sizeOf(shape), next);
    cases.push({
      name: `channel affine ${channels} channels`, builder: b7, outputs: [y7], inputs: [v7],
      expected: { data: v7.map((v, i) => v * scale7[i % channels] + shift7[i % channels]), shape },
    });
  }
}

// A direct convolution with at most 16 outputs followed by a 1x1 conv with at most 16 outputs
// runs as one pass where the kernel set has a direct convolution. The pair stays separate
// when the first output has another reader or is a plan output, or when either activation
// is SIGMOID.
function directThenPointwise(name: string, shape: number[], first: ref.ConvParams, firstAct: ref.Act, outputs: number,
                             secondAct: ref.Act, options: { firstIsOutput?: boolean; secondReader?: boolean } = {}) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const firstConsts = [ref.randomArray(first.oc * first.kh * first.kw * shape[3], next), ref.randomArray(first.oc, next)];
  if (firstAct.kind === Activation.PRELU) firstConsts.push(firstAct.slopes!);
  const y = b.add(OpType.CONV2D, [x],
    [first.kh, first.kw, first.sh, first.sw, first.dh, first.dw, first.pt, first.pl, first.pb, first.pr, 1, first.oc,
      ...activationParams(firstAct)], firstConsts);
  const secondConsts = [ref.randomArray(outputs * first.oc, next), ref.randomArray(outputs, next)];
  if (secondAct.kind === Activation.PRELU) secondConsts.push(secondAct.slopes!);
  const z = b.add(OpType.CONV2D, [y], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, outputs, ...activationParams(secondAct)], secondConsts);
  const planOutputs = [z];
  if (options.firstIsOutput) planOutputs.push(y);
  if (options.secondReader) planOutputs.push(b.add(OpType.UNARY, [y], [UnaryKind.ABS, f32(0), f32(0)]));
  cases.push({ name, builder: b, outputs: planOutputs, inputs: [ref.randomArray(ref.sizeOf(shape), next)] });
}

directThenPointwise('direct then 1x1 fused', [1, 23, 37, 3], conv(3, 2, 1, 1, 16), relu, 16, { kind: Activation.NONE });
// 30 columns: a border pixel, three runs of 8, a run of 4 and a border pixel.
directThenPointwise('direct then 1x1 fused, run of 4', [1, 7, 30, 3], conv(3, 1, 1, 1, 16), relu, 12, relu);
directThenPointwise('direct then 1x1 fused prelu', [2, 9, 19, 4], conv(3, 1, 1, 1, 11), { kind: Activation.CLIP, a: 0, b: 0.5 }, 5,
  { kind: Activation.PRELU, slopes: slopes(5) });
directThenPointwise('direct then 1x1 first output kept', [1, 8, 12, 3], conv(3, 1, 1, 1, 16), relu, 16,
  { kind: Activation.NONE }, { firstIsOutput: true });
directThenPointwise('direct then 1x1 second reader', [1, 8, 12, 3], conv(3, 1, 1, 1, 16), relu, 8,
  { kind: Activation.LEAKY_RELU, a: 0.1 }, { secondReader: true });
directThenPointwise('direct then 1x1 sigmoid', [1, 6, 10, 3], conv(3, 1, 1, 1, 16), { kind: Activation.SIGMOID }, 16, relu);
directThenPointwise('direct then 1x1 too wide', [1, 6, 10, 3], conv(3, 1, 1, 1, 16), relu, 24, relu);
// The 1x1 conv from one channel to one compiles as depthwise, so the direct pass cannot take it.
directThenPointwise('direct then one-channel 1x1', [2, 8, 8, 3], conv(3, 1, 1, 1, 1), relu, 1, { kind: Activation.NONE });

{
  // A direct conv to one channel, a 1x1 conv from one channel to one, and a 1x1 conv to 80:
  // the middle conv must not join both the direct pass and a band.
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input([2, 8, 8, 3]);
  const a = b.add(OpType.CONV2D, [x], [3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, Activation.NONE, f32(0), f32(0)],
    [ref.randomArray(27, next), ref.randomArray(1, next)]);
  const y = b.add(OpType.CONV2D, [a], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, Activation.NONE, f32(0), f32(0)],
    [new Float32Array([2]), new Float32Array([0.5])]);
  const z = b.add(OpType.CONV2D, [y], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 80, Activation.NONE, f32(0), f32(0)],
    [ref.randomArray(80, next), ref.randomArray(80, next)]);
  cases.push({ name: 'direct, one-channel 1x1, then 1x1', builder: b, outputs: [z], inputs: [ref.randomArray(2 * 8 * 8 * 3, next)] });
}

// A depthwise conv followed by a 1x1 conv, and optionally by an ADD of the 1x1 conv's output
// and a second plan input, runs in bands of output rows where the kernel set is not the
// reference one. The shapes give several bands (each band contains 16384 floats of depthwise
// output) with a partial last band, odd channel counts, a batch of two and stride 2.
interface BandOptions {
  add?: ref.Act;
  residualFirst?: boolean;
  /** Index of a residual value set to NaN. Such a case is not compared with the scalar run. */
  nanAt?: number;
}
const bandCases: { name: string; builder: PlanBuilder; inputs: Float32Array[]; last: number; depthwise: number }[] = [];

/** Adds a depthwise conv over the plan input of `shape` to b, with random weights from next. */
function addDepthwise(b: PlanBuilder, shape: number[], dw: ref.ConvParams, dwAct: ref.Act, next: () => number) {
  const x = b.input(shape);
  const channels = shape[3];
  const dwConsts = [ref.randomArray(channels * dw.kh * dw.kw, next), ref.randomArray(channels, next)];
  if (dwAct.kind === Activation.PRELU) dwConsts.push(dwAct.slopes!);
  return b.add(OpType.CONV2D, [x],
    [dw.kh, dw.kw, dw.sh, dw.sw, dw.dh, dw.dw, dw.pt, dw.pl, dw.pb, dw.pr, channels, channels, ...activationParams(dwAct)], dwConsts);
}

function depthwiseThenPointwise(name: string, shape: number[], dw: ref.ConvParams, dwAct: ref.Act, outputs: number,
                                pwAct: ref.Act, options: BandOptions = {}) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const channels = shape[3];
  const y = addDepthwise(b, shape, dw, dwAct, next);
  const pwConsts = [ref.randomArray(outputs * channels, next), ref.randomArray(outputs, next)];
  if (pwAct.kind === Activation.PRELU) pwConsts.push(pwAct.slopes!);
  const z = b.add(OpType.CONV2D, [y], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, outputs, ...activationParams(pwAct)], pwConsts);
  const inputs = [ref.randomArray(ref.sizeOf(shape), next)];
  let last = z;
  if (options.add) {
    const oh = Math.floor((shape[1] + dw.pt + dw.pb - (dw.kh - 1) * dw.dh - 1) / dw.sh) + 1;
    const ow = Math.floor((shape[2] + dw.pl + dw.pr - (dw.kw - 1) * dw.dw - 1) / dw.sw) + 1;
    const residualShape = [shape[0], oh, ow, outputs];
    const residual = b.input(residualShape);
    const residualValues = ref.randomArray(ref.sizeOf(residualShape), next);
    if (options.nanAt !== undefined) residualValues[options.nanAt] = NaN;
    inputs.push(residualValues);
    const operands = options.residualFirst ? [residual, z] : [z, residual];
    last = b.add(OpType.BINARY, operands, [BinaryKind.ADD, ...activationParams(options.add), 0]);
  }
  if (options.nanAt === undefined) cases.push({ name, builder: b, outputs: [last], inputs });
  bandCases.push({ name, builder: b, inputs, last, depthwise: y });
}

const none = { kind: Activation.NONE };
depthwiseThenPointwise('depthwise then 1x1 then add in bands', [1, 30, 20, 64], conv(3, 1, 1, 64, 64),
  { kind: Activation.PRELU, slopes: slopes(64) }, 64, none, { add: none });
depthwiseThenPointwise('depthwise stride 2 then 1x1 in bands', [2, 41, 23, 200], { ...conv(3, 2, 1, 200, 200), pb: 0 }, relu, 40,
  { kind: Activation.PRELU, slopes: slopes(40) });
depthwiseThenPointwise('depthwise then 1x1 then add relu in bands', [1, 9, 70, 100], { ...conv(3, 1, 1, 100, 100), pt: 0, pl: 2 },
  { kind: Activation.CLIP, a: -0.1, b: 0.4 }, 24, relu, { add: relu, residualFirst: true });
depthwiseThenPointwise('depthwise dilated 5x5 then 1x1 then add clip', [1, 25, 25, 33], conv(5, 1, 4, 33, 33, 2), none, 3,
  { kind: Activation.LEAKY_RELU, a: 0.1 }, { add: { kind: Activation.CLIP, a: -0.5, b: 0.5 } });
// A 1x1 conv with one input and one output channel compiles as depthwise and has no packed
// matrix, so it cannot be the GEMM of a band.
depthwiseThenPointwise('one-channel depthwise then 1x1', [1, 8, 8, 1], conv(3, 1, 1, 1, 1), relu, 1, none);
// 5 channels leave a tail after the last 8-float vector of the AVX2 activation.
const nanAt = 7;
depthwiseThenPointwise('depthwise then 1x1 then add clip nan', [1, 4, 4, 5], conv(3, 1, 1, 5, 5), none, 5, none,
  { add: { kind: Activation.CLIP, a: -0.3, b: 0.4 }, nanAt });

// A depthwise conv followed by a pooling whose windows tile its input (kernel equal to
// stride, no padding) runs in bands too, as in YuNet. pool is [kind, kh, kw, sh, sw, pt, pl,
// pb, pr, countIncludePad]. The shapes give several bands with a partial last one, odd rows
// and columns that no window reads, and a batch of two. Pools that overlap or pad stay
// separate ops and must give the same values.
function depthwiseThenPool(name: string, shape: number[], dw: ref.ConvParams, dwAct: ref.Act, pool: number[]) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const y = addDepthwise(b, shape, dw, dwAct, next);
  const z = b.add(OpType.POOL2D, [y], pool);
  const inputs = [ref.randomArray(ref.sizeOf(shape), next)];
  cases.push({ name, builder: b, outputs: [z], inputs });
  bandCases.push({ name, builder: b, inputs, last: z, depthwise: y });
}

depthwiseThenPool('depthwise then max pool 2x2 in bands', [1, 61, 40, 24], conv(3, 1, 1, 24, 24), relu,
  [PoolKind.MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
depthwiseThenPool('depthwise stride 2 then average pool 3x3 in bands', [2, 70, 63, 17], { ...conv(3, 2, 1, 17, 17), pb: 0 },
  { kind: Activation.PRELU, slopes: slopes(17) }, [PoolKind.AVERAGE, 3, 3, 3, 3, 0, 0, 0, 0, 0]);
depthwiseThenPool('depthwise then max pool 2x2 ceil mode', [1, 9, 9, 16], conv(3, 1, 1, 16, 16), none,
  [PoolKind.MAX, 2, 2, 2, 2, 0, 0, 1, 1, 0]);
depthwiseThenPool('depthwise then overlapping max pool 3x3 stride 2', [1, 20, 20, 16], conv(3, 1, 1, 16, 16), relu,
  [PoolKind.MAX, 3, 3, 2, 2, 1, 1, 1, 1, 0]);

// 1x1 convs that read the same input run as one GEMM over their stacked weights, as a
// detector's heads do. Ops between them create tensors while the stacked GEMM's outputs for
// the later convs already hold their values, and the input has a depthwise reader too.
// The ReLU convs stack apart from the plain ones, and the PReLU conv stays on its own.
const siblingCase = (() => {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const shape = [2, 9, 11, 24];
  const x = b.input(shape);
  const pointwise = (oc: number, act: ref.Act) => {
    const consts = [ref.randomArray(oc * 24, next), ref.randomArray(oc, next)];
    if (act.kind === Activation.PRELU) consts.push(act.slopes!);
    return b.add(OpType.CONV2D, [x], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, oc, ...activationParams(act)], consts);
  };
  const depthwiseOf = (input: number, channels: number) => b.add(OpType.CONV2D, [input],
    [3, 3, 1, 1, 1, 1, 1, 1, 1, 1, channels, channels, Activation.RELU, f32(0), f32(0)],
    [ref.randomArray(9 * channels, next), ref.randomArray(channels, next)]);
  const scores = pointwise(1, none);
  const scoresDw = depthwiseOf(scores, 1);
  const boxes = pointwise(4, none);
  const boxesDw = depthwiseOf(boxes, 4);
  const wide = pointwise(10, relu);
  const prelu = pointwise(6, { kind: Activation.PRELU, slopes: slopes(6) });
  const landmarks = pointwise(10, none);
  const narrow = pointwise(3, relu);
  const inputDw = depthwiseOf(x, 24);
  const objectness = pointwise(1, none);
  const outputs = [scoresDw, boxesDw, wide, prelu, landmarks, narrow, inputDw, objectness];
  const c = { name: 'sibling 1x1 convs', builder: b, outputs, inputs: [ref.randomArray(ref.sizeOf(shape), next)] };
  cases.push(c);
  return c;
})();

{
  // A small BlazeFace-like block: channel padding, depthwise conv, 1x1 conv, add, max pool.
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input([1, 16, 16, 24]);
  const dwWeights = ref.randomArray(9 * 24, next);
  const dw = b.add(OpType.CONV2D, [x], [3, 3, 2, 2, 1, 1, 0, 0, 1, 1, 24, 24, Activation.NONE, f32(0), f32(0)],
    [dwWeights, ref.randomArray(24, next)]);
  const pw = b.add(OpType.CONV2D, [dw], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 28, Activation.NONE, f32(0), f32(0)],
    [ref.randomArray(28 * 24, next), ref.randomArray(28, next)]);
  const pooled = b.add(OpType.POOL2D, [x], [PoolKind.MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0]);
  const padded = b.add(OpType.PAD, [pooled], [0, 0, 0, 0, 0, 4, PadMode.CONSTANT, f32(0)]);
  const sum = b.add(OpType.BINARY, [pw, padded], [BinaryKind.ADD, Activation.RELU, f32(0), f32(0), 0]);
  cases.push({ name: 'blazeface block', builder: b, outputs: [sum, pw], inputs: [ref.randomArray(16 * 16 * 24, next)] });
}

for (const c of cases) {
  test(`scalar ${c.name} matches reference`, () => {
    const [out] = runWith('scalar', c);
    if (!c.expected) return;
    assert.equal(out.shape, c.expected.shape);
    ref.assertClose(out.data, c.expected.data, 1e-4, c.name);
  });
  for (const isa of fastIsas) {
    test(`${isa} ${c.name} matches scalar`, () => {
      const scalar = runWith('scalar', c);
      const fast = runWith(isa, c);
      assert.is(fast.length, scalar.length);
      for (let i = 0; i < scalar.length; i++) {
        assert.equal(fast[i].shape, scalar[i].shape);
        ref.assertClose(fast[i].data, scalar[i].data, 1e-4, `${isa} ${c.name} output ${i}`);
      }
    });
  }
}

// The banded pass computes every value as the separate ops do, so its outputs are bit for
// bit those of the same plan with the depthwise output also a plan output, which keeps the
// ops separate.
for (const c of bandCases) {
  for (const isa of fastIsas) {
    test(`${isa} ${c.name} matches the ops run separately`, () => {
      const banded = runWith(isa, { name: c.name, builder: c.builder, outputs: [c.last], inputs: c.inputs });
      const separate = runWith(isa, { name: c.name, builder: c.builder, outputs: [c.last, c.depthwise], inputs: c.inputs });
      assert.equal(banded[0].shape, separate[0].shape);
      assert.ok(Buffer.from(banded[0].data.buffer).equals(Buffer.from(separate[0].data.buffer)), `${isa} ${c.name}`);
    });
  }
}

test('clip after add keeps NaN', () => {
  const c = bandCases.find((item) => item.name === 'depthwise then 1x1 then add clip nan')!;
  for (const isa of isas) {
    const banded = runWith(isa, { name: c.name, builder: c.builder, outputs: [c.last], inputs: c.inputs });
    const separate = runWith(isa, { name: c.name, builder: c.builder, outputs: [c.last, c.depthwise], inputs: c.inputs });
    assert.ok(Number.isNaN(banded[0].data[nanAt]), `${isa} banded`);
    assert.ok(Number.isNaN(separate[0].data[nanAt]), `${isa} separate`);
  }
});

test('profileSync folds a banded group into one row', () => {
  const c = bandCases[0];
  for (const isa of isas) {
    const ops = profileWith(isa, { name: c.name, builder: c.builder, outputs: [c.last], inputs: c.inputs });
    assert.is(ops.length, 3);
    const description = isa === 'scalar' ? 'depthwise 3x3 64, 30x20 out' : 'depthwise 3x3 64 + conv 1x1 64->64 + add, 30x20 out, in bands, gemm';
    assert.is(ops[0].description, description);
    const expected = isa === 'scalar' ? -1 : 0;
    assert.is(ops[1].fusedInto, expected, `${isa} conv`);
    assert.is(ops[2].fusedInto, expected, `${isa} add`);
  }
});

// A NaN in a max pool's window makes that output NaN on every ISA, whether the NaN comes
// first in the window or later. 20 channels leave a tail after the 8- and 16-float vectors.
test('max pool keeps NaN on every ISA', () => {
  const shape = [1, 6, 7, 20];
  const input = ref.randomArray(ref.sizeOf(shape), ref.random(seed++));
  const nanAt = (y: number, x: number, c: number) => (y * shape[2] + x) * shape[3] + c;
  for (const [y, x, c] of [[0, 0, 0], [1, 1, 3], [2, 4, 17], [5, 6, 19], [3, 2, 8]]) input[nanAt(y, x, c)] = NaN;
  const pools: Array<[string, number[]]> = [
    ['2x2 stride 2', [PoolKind.MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0]],
    ['3x3 stride 2 padded', [PoolKind.MAX, 3, 3, 2, 2, 1, 1, 1, 1, 0]],
    ['global', [PoolKind.MAX, 0, 0, 1, 1, 0, 0, 0, 0, 0]],
  ];
  for (const [name, params] of pools) {
    const b = new PlanBuilder();
    const y = b.add(OpType.POOL2D, [b.input(shape)], params);
    const c = { name, builder: b, outputs: [y], inputs: [input] };
    const [scalar] = runWith('scalar', c);
    // The window pattern puts a NaN in some outputs and leaves others finite.
    const nans = Array.from(scalar.data).filter(Number.isNaN).length;
    assert.ok(nans > 0, `${name}: no NaN output`);
    assert.ok(nans < scalar.data.length, `${name}: every output NaN`);
    for (const isa of fastIsas) {
      const [fast] = runWith(isa, c);
      for (let i = 0; i < scalar.data.length; i++) {
        assert.is(Number.isNaN(fast.data[i]), Number.isNaN(scalar.data[i]), `${isa} ${name} output ${i}`);
        if (!Number.isNaN(scalar.data[i])) assert.is(fast.data[i], scalar.data[i], `${isa} ${name} output ${i}`);
      }
    }
  }
});

test('profileSync folds a depthwise conv and its pooling into one row', () => {
  const c = bandCases.find((item) => item.name === 'depthwise then max pool 2x2 in bands')!;
  for (const isa of isas) {
    const ops = profileWith(isa, { name: c.name, builder: c.builder, outputs: [c.last], inputs: c.inputs });
    assert.is(ops.length, 2);
    const description = isa === 'scalar' ? 'depthwise 3x3 24, 61x40 out' : 'depthwise 3x3 24 + max pool 2x2, 30x20 out, in bands';
    assert.is(ops[0].description, description);
    assert.is(ops[1].fusedInto, isa === 'scalar' ? -1 : 0);
  }
});

test('profileSync folds sibling 1x1 convs into the first', () => {
  for (const isa of isas) {
    const ops = profileWith(isa, siblingCase);
    const stacked = ops.filter((op) => op.description.includes('convs of one input')).map((op) => op.description);
    const expected = isa === 'scalar' ? [] : ['conv 1x1 24->16 for 4 convs of one input, 9x11 out, gemm', 'conv 1x1 24->13 for 2 convs of one input, 9x11 out, gemm'];
    assert.equal(stacked, expected, isa);
    assert.is(ops.filter((op) => op.fusedInto >= 0).length, isa === 'scalar' ? 0 : 4, `${isa} folded convs`);
  }
});

test('run resolves like runSync', async () => {
  const c = cases[0];
  const { words, weights } = encodePlan(c.builder.build(c.outputs));
  const model = new binding.Model(words, weights);
  const [sync] = model.runSync(c.inputs);
  const results = await Promise.all([model.run(c.inputs), model.run(c.inputs), model.run(c.inputs)]);
  for (const [out] of results) {
    assert.equal(out.shape, sync.shape);
    assert.equal(Array.from(out.data), Array.from(sync.data));
  }
});

test('runBatch resolves each set like runSync', async () => {
  const c = cases[0];
  const { words, weights } = encodePlan(c.builder.build(c.outputs));
  const model = new binding.Model(words, weights);
  const other = c.inputs.map((input) => input.map((v) => v * 0.5));
  const results = await model.runBatch([c.inputs, other, c.inputs]);
  assert.is(results.length, 3);
  const expected = [model.runSync(c.inputs), model.runSync(other), model.runSync(c.inputs)];
  results.forEach((outputs, i) => {
    assert.is(outputs.length, expected[i].length);
    assert.equal(outputs[0].shape, expected[i][0].shape);
    assert.equal(Array.from(outputs[0].data), Array.from(expected[i][0].data));
  });
  assert.equal(await model.runBatch([]), []);

  const wrongSize = [c.inputs, [new Float32Array(3)]];
  for (const [sets, pattern] of [
    [c.inputs, /^Input set 0: Expected an array of Float32Array inputs/],
    [wrongSize, /^Input set 1: Input 0 has 3 floats; expected/],
    ['x', /Expected an array of input arrays for sets but received/],
  ] as const) {
    try {
      await model.runBatch(sets as never);
      assert.unreachable('runBatch accepted bad input sets');
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, pattern);
    }
  }
  model.dispose();
  try {
    await model.runBatch([c.inputs]);
    assert.unreachable('runBatch ran a disposed model');
  } catch (error) {
    assert.is((error as { code?: string }).code, 'INVALID_MODEL');
  }
});

test('profileSync reports each op with its work and time', () => {
  const c = cases.find((item) => item.name === 'direct then 1x1 fused')!;
  const { words, weights } = encodePlan(c.builder.build(c.outputs));
  const model = new binding.Model(words, weights);
  const ops = model.profileSync(c.inputs, 3);
  assert.is(ops.length, 2);
  // 3x3 stride 2 over 23x37x3 gives 12x19x16; the 1x1 conv keeps 16 channels.
  assert.match(ops[0].description, /^conv 3x3 s2 3->16, 12x19 out, /);
  assert.match(ops[1].description, /^conv 1x1 16->16, 12x19 out, /);
  assert.is(ops[0].flops, 2 * 12 * 19 * 16 * 9 * 3);
  assert.is(ops[1].flops, 2 * 12 * 19 * 16 * 16);
  assert.ok(ops[0].seconds > 0, `seconds ${ops[0].seconds}`);
  // The direct kernel runs the 1x1 conv in the same pass, so its time is counted in op 0.
  if (ops[0].description.endsWith(', direct')) {
    assert.is(ops[1].fusedInto, 0);
    assert.is(ops[1].seconds, 0);
  } else {
    assert.is(ops[1].fusedInto, -1);
  }
  for (const runs of [0, 1.5, '3', 2e6]) {
    try {
      model.profileSync(c.inputs, runs as number);
      assert.unreachable(`runs ${String(runs)} was accepted`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, /for runs but received/);
    }
  }
});

test('isa reports a supported set', () => {
  assert.ok(isas.includes(binding.isa()));
  assert.is(isas[isas.length - 1], 'scalar');
});

test.run();
