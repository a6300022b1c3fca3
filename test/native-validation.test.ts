import { test } from 'uvu';
import * as assert from 'uvu/assert';

import { native } from '../lib/native';
import { Activation, encodePlan, f32, OpType, PLAN_MAGIC, PlanBuilder } from '../lib/plan';

const binding = native();

/** Builds a valid plan: 3x3 conv then global average pool, input [1, 6, 6, 3]. */
function validPlan() {
  const b = new PlanBuilder();
  const x = b.input([1, 6, 6, 3]);
  const conv = b.add(OpType.CONV2D, [x], [3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, Activation.RELU, f32(0), f32(0)],
    [new Float32Array(4 * 9 * 3).fill(0.1), new Float32Array(4).fill(0.5)]);
  const pooled = b.add(OpType.POOL2D, [conv], [1, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
  return encodePlan(b.build([pooled]));
}

function expectError(fn: () => unknown, code: string, pattern: RegExp) {
  try {
    fn();
  } catch (error) {
    const e = error as Error & { code?: string };
    assert.instance(e, Error);
    assert.is(e.code, code, e.message);
    assert.match(e.message, pattern);
    return;
  }
  assert.unreachable('expected an error');
}

async function expectRejection(promise: Promise<unknown>, code: string, pattern: RegExp) {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { code?: string };
    assert.is(e.code, code, e.message);
    assert.match(e.message, pattern);
    return;
  }
  assert.unreachable('expected a rejection');
}

test('valid plan loads and runs', () => {
  const { words, weights } = validPlan();
  const [out] = new binding.Model(words, weights).runSync([new Float32Array(108).fill(1)]);
  assert.equal(out.shape, [1, 1, 1, 4]);
  assert.ok(out.data[0] > 0.5);
});

test('every truncation is rejected', () => {
  const { words, weights } = validPlan();
  for (let length = 0; length < words.length; length++) {
    expectError(() => new binding.Model(words.slice(0, length), weights), 'INVALID_MODEL', /Invalid plan/);
  }
});

test('trailing words are rejected', () => {
  const { words, weights } = validPlan();
  const longer = Int32Array.from([...words, 0]);
  expectError(() => new binding.Model(longer, weights), 'INVALID_MODEL', /unexpected words/);
});

test('bad magic and version are rejected', () => {
  const { words, weights } = validPlan();
  const badMagic = words.slice();
  badMagic[0] = PLAN_MAGIC + 1;
  expectError(() => new binding.Model(badMagic, weights), 'INVALID_MODEL', /magic/);
  const badVersion = words.slice();
  badVersion[1] = 2;
  expectError(() => new binding.Model(badVersion, weights), 'INVALID_MODEL', /version 2/);
});

test('weight count mismatch is rejected', () => {
  const { words, weights } = validPlan();
  expectError(() => new binding.Model(words, weights.subarray(1)), 'INVALID_MODEL', /weights/);
});

// Word index of the first op: header (7) + one input record (6) + one output id.
const firstOp = 14;

test('out-of-range const offset names the op', () => {
  const { words, weights } = validPlan();
  const bad = words.slice();
  // CONV2D: type, inCount, in, out, paramCount, 15 params, constCount, then (offset, length).
  const offsetIndex = firstOp + 4 + 15 + 2;
  bad[offsetIndex] = weights.length;
  expectError(() => new binding.Model(bad, weights), 'INVALID_MODEL', /op 0 \(CONV2D\): const 0 .* outside the weight array/);
  bad[offsetIndex] = -1;
  expectError(() => new binding.Model(bad, weights), 'INVALID_MODEL', /op 0 \(CONV2D\)/);
});

test('tensor read before write is rejected', () => {
  const b = new PlanBuilder();
  const x = b.input([2, 3]);
  const later = 3;
  const y = b.add(OpType.BINARY, [x, later], [0, 0, f32(0), f32(0), 0]);
  b.add(OpType.UNARY, [x], [1, f32(0), f32(0)]);
  b.add(OpType.UNARY, [x], [1, f32(0), f32(0)]);
  const { words, weights } = encodePlan(b.build([y]));
  expectError(() => new binding.Model(words, weights), 'INVALID_MODEL', /op 0 \(BINARY\): reads tensor 3 before/);
});

test('tensor written twice is rejected', () => {
  const b = new PlanBuilder();
  const x = b.input([4]);
  const y = b.add(OpType.UNARY, [x], [1, f32(0), f32(0)]);
  const plan = b.build([y]);
  plan.ops.push({ ...plan.ops[0], output: x });
  const { words, weights } = encodePlan(plan);
  expectError(() => new binding.Model(words, weights), 'INVALID_MODEL', /op 1 \(UNARY\): writes tensor 0/);
});

test('wrong param count and bad shapes name the op', () => {
  const cases: Array<[OpType, number[], Array<number | { f32: number }>, Float32Array[], RegExp]> = [
    [OpType.CONV2D, [1, 5, 5, 3], [3, 3, 1, 1], [], /op 0 \(CONV2D\): has 4 params; expected 15/],
    [OpType.CONV2D, [1, 5, 5, 3], [3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 0, f32(0), f32(0)], [new Float32Array(10), new Float32Array(2)],
      /weights .* has 10 floats; expected 54/],
    [OpType.CONV2D, [1, 5, 5, 3], [3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 0, f32(0), f32(0)], [], /not divisible by groups/],
    [OpType.CONV2D, [5, 5, 3], [3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 0, f32(0), f32(0)], [], /expected rank 4/],
    [OpType.CONV2D, [1, 2, 2, 3], [5, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 2, 0, f32(0), f32(0)], [], /larger than the padded input/],
    [OpType.CONV2D, [1, 1, 1, 3], [2 ** 30, 2 ** 30, 1, 1, 1, 1, 2 ** 30, 2 ** 30, 0, 0, 1, 2 ** 30, 0, f32(0), f32(0)],
      [new Float32Array(0), new Float32Array(0)], /overflows/],
    [OpType.FULLY_CONNECTED, [2, 8], [4, 9, f32(0), f32(0)], [], /activation is 9/],
    [OpType.BINARY, [2, 8], [0, 0, f32(0), f32(0), 0], [new Float32Array(3)], /constant operand has 3 floats/],
    [OpType.POOL2D, [1, 4, 4, 2], [0, 2, 2, 1, 1, 2, 0, 0, 0, 0], [], /padding must be smaller/],
    [OpType.RESHAPE, [2, 8], [2, 3, 5], [], /has 15 elements/],
    [OpType.TRANSPOSE, [2, 8], [2, 0, 0], [], /repeats axis 0/],
    [OpType.SLICE, [2, 8], [2, 0, 4, 2, 3], [], /axis 1 is empty/],
    [OpType.SOFTMAX, [2, 8], [2], [], /axis 2 is out of range/],
    [OpType.PAD, [1, 2, 2, 2], [0, 0, 0, 0, 0, 2, 1, f32(0)], [], /reflect padding/],
    [OpType.CHANNEL_AFFINE, [2, 8], [], [new Float32Array(8), new Float32Array(7)], /shift .* has 7 floats; expected 8/],
    [OpType.RESIZE, [1, 2, 2, 2], [0, 4, 0, 0], [], /outH is 0/],
  ];
  for (const [type, shape, params, consts, pattern] of cases) {
    const b = new PlanBuilder();
    const x = b.input(shape);
    const y = b.add(type, [x], params, consts);
    const { words, weights } = encodePlan(b.build([y]));
    expectError(() => new binding.Model(words, weights), 'INVALID_MODEL', pattern);
  }
});

test('unknown op type is rejected', () => {
  const b = new PlanBuilder();
  const x = b.input([4]);
  const y = b.add(99 as OpType, [x], []);
  const { words, weights } = encodePlan(b.build([y]));
  expectError(() => new binding.Model(words, weights), 'INVALID_MODEL', /op 0 \(UNKNOWN\): unknown op type 99/);
});

test('oversized tensors are rejected', () => {
  const b = new PlanBuilder();
  const x = b.input([1, 4, 4, 1]);
  const y = b.add(OpType.RESIZE, [x], [100000, 100000, 0, 0]);
  const { words, weights } = encodePlan(b.build([y]));
  expectError(() => new binding.Model(words, weights), 'INVALID_MODEL', /op 0 \(RESIZE\): output has shape .* more than/);
});

test('wrong argument types are rejected', () => {
  const { words, weights } = validPlan();
  expectError(() => new binding.Model(Array.from(words) as unknown as Int32Array, weights), 'INVALID_ARGUMENT', /Int32Array for words/);
  expectError(() => new binding.Model(words, new Float64Array(weights) as unknown as Float32Array), 'INVALID_ARGUMENT', /Float32Array for weights/);
});

test('wrong input length is a typed error', async () => {
  const { words, weights } = validPlan();
  const model = new binding.Model(words, weights);
  expectError(() => model.runSync([new Float32Array(107)]), 'INVALID_ARGUMENT', /Input 0 has 107 floats; expected 108/);
  expectError(() => model.runSync([]), 'INVALID_ARGUMENT', /Expected 1 inputs but received 0/);
  await expectRejection(model.run([new Float32Array(109)]), 'INVALID_ARGUMENT', /has 109 floats; expected 108/);
  await expectRejection(model.run([new Uint8Array(108) as unknown as Float32Array]), 'INVALID_ARGUMENT', /Float32Array for input 0/);
});

test('disposed model rejects runs', async () => {
  const { words, weights } = validPlan();
  const model = new binding.Model(words, weights);
  model.dispose();
  model.dispose();
  expectError(() => model.runSync([new Float32Array(108)]), 'INVALID_MODEL', /disposed/);
  await expectRejection(model.run([new Float32Array(108)]), 'INVALID_MODEL', /disposed/);
});

test('dispose during a run lets the run finish', async () => {
  const { words, weights } = validPlan();
  const model = new binding.Model(words, weights);
  const input = new Float32Array(108).fill(1);
  const expected = model.runSync([input]);
  const pending = [model.run([input]), model.run([input])];
  model.dispose();
  for (const [out] of await Promise.all(pending)) assert.equal(Array.from(out.data), Array.from(expected[0].data));
});

test('setIsa rejects unknown and unsupported sets', () => {
  const before = binding.isa();
  expectError(() => binding.setIsa('sse9'), 'INVALID_ARGUMENT', /"sse9" is not supported/);
  if (!binding.supportedIsas().includes('neon')) {
    expectError(() => binding.setIsa('neon'), 'INVALID_ARGUMENT', /"neon" is not supported/);
  }
  expectError(() => binding.setIsa(3 as unknown as string), 'INVALID_ARGUMENT', /ISA name/);
  assert.is(binding.isa(), before);
  binding.setIsa('scalar');
  assert.is(binding.isa(), 'scalar');
  binding.setIsa(before);
});

test.run();
