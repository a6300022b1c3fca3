// bf16 precision: each bfloat16 GEMM this CPU can run (AMX tiles, VDPBF16PS) against a
// TypeScript reference that rounds both operands to bfloat16 and sums in float64, and the
// float32 fallback where none can run.

import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import { Activation, encodePlan, f32, OpType, PlanBuilder } from '../lib/plan';
import * as ref from './native-reference';

const binding = native();
const gemms = binding.supportedBf16Gemms();
const skipReason = binding.backend === 'wasm'
  ? 'the WebAssembly core has no bfloat16 GEMM'
  : 'this CPU or OS has neither AMX-BF16 tiles nor AVX512_BF16';

/** Rounds each value to bfloat16 (nearest even), as the core rounds GEMM operands. */
function bf16(values: Float32Array): Float32Array {
  const out = new Float32Array(values);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const odd = (bits[i] >>> 16) & 1;
    bits[i] = ((bits[i] + 0x7fff + odd) >>> 16) << 16;
  }
  return out;
}

interface Case {
  name: string;
  plan: { words: Int32Array; weights: Float32Array };
  input: Float32Array;
  /** Reference output from float32 and from bfloat16-rounded operands. */
  expect(round: boolean): ArrayLike<number>;
  /** Layers the bfloat16 GEMM should take. */
  bf16Layers: number;
}

const cases: Case[] = [];
let seed = 400;

function activationParams(act: ref.Act) {
  return [act.kind, f32(act.a ?? 0), f32(act.b ?? 0)];
}

function convCase(name: string, shape: number[], p: ref.ConvParams, act: ref.Act, bf16Layers = 1) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input(shape);
  const weights = ref.randomArray(p.oc * p.kh * p.kw * (shape[3] / p.groups), next);
  const bias = ref.randomArray(p.oc, next);
  const consts = [weights, bias];
  if (act.kind === Activation.PRELU) consts.push(act.slopes!);
  const y = b.add(OpType.CONV2D, [x],
    [p.kh, p.kw, p.sh, p.sw, p.dh, p.dw, p.pt, p.pl, p.pb, p.pr, p.groups, p.oc, ...activationParams(act)], consts);
  const input = ref.randomArray(ref.sizeOf(shape), next);
  cases.push({
    name, plan: encodePlan(b.build([y])), input, bf16Layers,
    expect: (round) => ref.conv2d(round ? bf16(input) : input, shape, round ? bf16(weights) : weights, bias, p, act).data,
  });
}

function fcCase(name: string, rows: number, depth: number, outF: number, act: ref.Act) {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input([rows, depth]);
  const weights = ref.randomArray(outF * depth, next);
  const bias = ref.randomArray(outF, next);
  const y = b.add(OpType.FULLY_CONNECTED, [x], [outF, ...activationParams(act)], [weights, bias]);
  const input = ref.randomArray(rows * depth, next);
  cases.push({
    name, plan: encodePlan(b.build([y])), input, bf16Layers: 1,
    expect: (round) => ref.fullyConnected(round ? bf16(input) : input, rows, round ? bf16(weights) : weights, bias, outF, act),
  });
}

function conv(kh: number, stride: number, pad: number, groups: number, oc: number) {
  return { kh, kw: kh, sh: stride, sw: stride, dh: 1, dw: 1, pt: pad, pl: pad, pb: pad, pr: pad, groups, oc };
}

const slopes = (n: number) => ref.randomArray(n, ref.random(77), 0, 0.5);

// Row counts that are not multiples of the 32-row block, column counts that leave half a
// block, and depths that are not multiples of the 32-deep tile step.
convCase('1x1, 63 rows, 48 columns, relu', [1, 7, 9, 64], conv(1, 1, 0, 1, 48), { kind: Activation.RELU });
convCase('1x1, depth 37, 150 columns, prelu', [1, 5, 7, 37], conv(1, 1, 0, 1, 150), { kind: Activation.PRELU, slopes: slopes(150) });
convCase('1x1, depth 300, clip', [1, 3, 5, 300], conv(1, 1, 0, 1, 64), { kind: Activation.CLIP, a: -0.5, b: 0.5 });
convCase('1x1, 16 columns, sigmoid', [1, 4, 4, 32], conv(1, 1, 0, 1, 16), { kind: Activation.SIGMOID });
convCase('1x1, 2 images, leaky relu', [2, 6, 6, 96], conv(1, 1, 0, 1, 40), { kind: Activation.LEAKY_RELU, a: 0.1 });
convCase('3x3 im2col, stride 2, prelu single slope', [1, 9, 11, 16], conv(3, 2, 1, 1, 32), { kind: Activation.PRELU, slopes: slopes(1) });
convCase('3x3 grouped', [1, 8, 8, 64], conv(3, 1, 1, 2, 64), { kind: Activation.NONE });
fcCase('fully connected, 3 rows, depth 512', 3, 512, 128, { kind: Activation.NONE });
fcCase('fully connected, depth 1000, 20 outputs, relu', 1, 1000, 20, { kind: Activation.RELU });
// Shapes the bfloat16 GEMMs leave to float32: 4 columns (dot products) and depth 8.
convCase('1x1, 4 columns stays float32', [1, 6, 6, 64], conv(1, 1, 0, 1, 4), { kind: Activation.NONE }, 0);
convCase('1x1, depth 8 stays float32', [1, 6, 6, 8], conv(1, 1, 0, 1, 32), { kind: Activation.NONE }, 0);
// A conv over at most 4 channels runs as a direct conv, which reads float32 weights.
convCase('direct conv, 4 channels stays float32', [1, 8, 9, 4], conv(3, 1, 1, 1, 48), { kind: Activation.RELU }, 0);

// Products of bfloat16 values are exact in float32, so only the float32 sum separates the
// kernel from the rounded reference. That error is far below the rounding of the operands.
const TOLERANCE = 1e-4;

function maxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  }
  return worst;
}

function checkCase(c: Case, gemm: string | undefined): void {
  const model = new binding.Model(c.plan.words, c.plan.weights, { precision: 'bf16' });
  const [out] = model.runSync([c.input]);
  if (!gemm || c.bf16Layers === 0) {
    // Float32 arithmetic, exactly as a model loaded without the option.
    assert.is(model.bf16Layers(), 0);
    const [plain] = new binding.Model(c.plan.words, c.plan.weights).runSync([c.input]);
    assert.equal(Array.from(out.data), Array.from(plain.data));
    return;
  }
  assert.is(model.bf16Layers(), c.bf16Layers);
  ref.assertClose(out.data, c.expect(true), TOLERANCE, `${gemm}: ${c.name}`);
  // The float32 reference must miss the same bound, or this case could not tell the two apart.
  assert.ok(maxError(out.data, c.expect(false)) > TOLERANCE, `${gemm}: ${c.name}: output matches float32 within ${TOLERANCE}`);
}

/** Runs body with each bfloat16 GEMM forced in turn, or once with none. */
function eachGemm(body: (gemm: string | undefined) => void): void {
  if (gemms.length === 0) return body(undefined);
  try {
    for (const gemm of gemms) {
      binding.setBf16Gemm(gemm);
      assert.is(binding.bf16Gemm(), gemm);
      body(gemm);
    }
  } finally {
    binding.setBf16Gemm(gemms[0]);
  }
}

for (const c of cases) {
  test(`bf16 ${c.name}`, () => eachGemm((gemm) => checkCase(c, gemm)));
}

test('both bfloat16 GEMMs give the same output where both run', () => {
  if (gemms.length < 2) {
    const runs = gemms.length === 0 ? 'no bfloat16 GEMM' : `only ${gemms[0]}`;
    console.log(`skip bf16 GEMM cross-check: this CPU runs ${runs}`);
    return;
  }
  for (const c of cases.filter((k) => k.bf16Layers > 0)) {
    const model = new binding.Model(c.plan.words, c.plan.weights, { precision: 'bf16' });
    const outputs: Float32Array[] = [];
    eachGemm(() => outputs.push(model.runSync([c.input])[0].data));
    ref.assertClose(outputs[1], outputs[0], TOLERANCE, c.name);
  }
});

test('bf16 runs in parallel like runSync', async () => {
  const c = cases[1];
  const model = new binding.Model(c.plan.words, c.plan.weights, { precision: 'bf16' });
  const [sync] = model.runSync([c.input]);
  const results = await Promise.all([0, 1, 2, 3].map(() => model.run([c.input])));
  for (const [out] of results) assert.equal(Array.from(out.data), Array.from(sync.data));
});

test('precision option rejects unknown values', () => {
  const c = cases[0];
  for (const bad of ['bfloat16', 'FP32', 16, null]) {
    try {
      new binding.Model(c.plan.words, c.plan.weights, { precision: bad as never });
      assert.unreachable(`precision ${String(bad)} was accepted`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, /'fp32' or 'bf16'/);
    }
  }
});

test('a 1x1 conv fused into a direct conv stays float32', () => {
  const next = ref.random(seed++);
  const b = new PlanBuilder();
  const x = b.input([1, 9, 10, 3]);
  const first = b.add(OpType.CONV2D, [x], [3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 16, Activation.RELU, f32(0), f32(0)],
    [ref.randomArray(16 * 9 * 3, next), ref.randomArray(16, next)]);
  const second = b.add(OpType.CONV2D, [first], [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 16, Activation.NONE, f32(0), f32(0)],
    [ref.randomArray(16 * 16, next), ref.randomArray(16, next)]);
  const { words, weights } = encodePlan(b.build([second]));
  const input = ref.randomArray(9 * 10 * 3, next);
  const model = new binding.Model(words, weights, { precision: 'bf16' });
  assert.is(model.bf16Layers(), 0);
  const [out] = model.runSync([input]);
  const [plain] = new binding.Model(words, weights).runSync([input]);
  assert.equal(Array.from(out.data), Array.from(plain.data));
});

test('bf16Gemm is null under a kernel set without one', () => {
  const initialIsa = binding.isa();
  for (const isa of binding.supportedIsas()) {
    binding.setIsa(isa);
    try {
      const expected = gemms.length > 0 && isa === 'avx512' ? gemms[0] : null;
      assert.is(binding.bf16Gemm(), expected, isa);
    } finally {
      binding.setIsa(initialIsa);
    }
  }
});

test('setBf16Gemm rejects unknown names', () => {
  if (gemms.length === 0) console.log(`bf16 precision runs float32 here: ${skipReason}`);
  assert.is(binding.bf16Gemm(), gemms.length > 0 ? gemms[0] : null);
  for (const bad of ['avx512', 'AMX', 'none', 7]) {
    if (typeof bad === 'string' && gemms.includes(bad)) continue;
    try {
      binding.setBf16Gemm(bad as string);
      assert.unreachable(`setBf16Gemm(${String(bad)}) was accepted`);
    } catch (error) {
      assert.is((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.match((error as Error).message, /bf16 GEMM/);
    }
  }
  assert.is(binding.bf16Gemm(), gemms.length > 0 ? gemms[0] : null);
});

test.run();
