// Writes the seed corpora in fuzz/corpus/: one small valid plan per op type for
// plan_fuzzer (u32 word count, words, weights), and short byte strings for the
// structured targets. Run: npx tsx fuzz/make-seeds.ts
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Activation, encodePlan, f32, OpType, PlanBuilder } from '../lib/plan';

const root = path.join(__dirname, 'corpus');

function write(target: string, name: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.join(root, target), { recursive: true });
  fs.writeFileSync(path.join(root, target, name), bytes);
}

function planSeed(build: (b: PlanBuilder) => number): Uint8Array {
  const b = new PlanBuilder();
  const out = build(b);
  const { words, weights } = encodePlan(b.build([out]));
  const bytes = new Uint8Array(4 + words.byteLength + weights.byteLength);
  new DataView(bytes.buffer).setUint32(0, words.length, true);
  bytes.set(new Uint8Array(words.buffer), 4);
  bytes.set(new Uint8Array(weights.buffer), 4 + words.byteLength);
  return bytes;
}

const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 4);
const none = [Activation.NONE, f32(0), f32(0)];

const plans: Record<string, (b: PlanBuilder) => number> = {
  conv: (b) => b.add(OpType.CONV2D, [b.input([1, 5, 5, 2])], [3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, ...none], [ramp(72), ramp(4)]),
  depthwise: (b) =>
    b.add(OpType.CONV2D, [b.input([1, 6, 6, 3])], [3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3, Activation.PRELU, f32(0), f32(0)], [ramp(27), ramp(3), ramp(3)]),
  fc: (b) => b.add(OpType.FULLY_CONNECTED, [b.input([2, 6])], [3, Activation.RELU, f32(0), f32(0)], [ramp(18), ramp(3)]),
  binary: (b) => {
    const x = b.input([1, 2, 2, 3]);
    return b.add(OpType.BINARY, [x, b.input([3])], [0, Activation.NONE, f32(0), f32(0), 0]);
  },
  binaryConst: (b) => b.add(OpType.BINARY, [b.input([2, 3])], [2, Activation.CLIP, f32(0), f32(6), 1], [ramp(3)]),
  unary: (b) => b.add(OpType.UNARY, [b.input([4, 3])], [3, f32(0), f32(0)], [ramp(3)]),
  pad: (b) => b.add(OpType.PAD, [b.input([1, 3, 3, 2])], [1, 1, 2, 2, 0, 1, 1, f32(0)]),
  pool: (b) => b.add(OpType.POOL2D, [b.input([1, 4, 4, 2])], [1, 2, 2, 2, 2, 0, 0, 1, 1, 0]),
  globalPool: (b) => b.add(OpType.POOL2D, [b.input([1, 4, 4, 2])], [0, 0, 0, 1, 1, 0, 0, 0, 0, 0]),
  reshape: (b) => b.add(OpType.RESHAPE, [b.input([2, 6])], [3, 3, 2, 2]),
  transpose: (b) => b.add(OpType.TRANSPOSE, [b.input([1, 2, 3, 4])], [4, 0, 3, 1, 2]),
  concat: (b) => {
    const x = b.input([2, 3]);
    return b.add(OpType.CONCAT, [x, b.input([2, 5])], [-1]);
  },
  softmax: (b) => b.add(OpType.SOFTMAX, [b.input([2, 5])], [1]),
  l2: (b) => b.add(OpType.L2_NORMALIZE, [b.input([2, 8])], [f32(1e-10)]),
  resize: (b) => b.add(OpType.RESIZE, [b.input([1, 3, 4, 2])], [7, 5, 1, 1]),
  slice: (b) => b.add(OpType.SLICE, [b.input([3, 4])], [2, 1, 0, 3, 2]),
  affine: (b) => b.add(OpType.CHANNEL_AFFINE, [b.input([2, 3])], [], [ramp(3), ramp(3)]),
};
for (const [name, build] of Object.entries(plans)) write('plan_fuzzer', name, planSeed(build));

// The structured targets read their choices byte by byte from the end and their pixels
// or weights from the start, so a few varied byte strings are enough to start from.
for (let i = 0; i < 8; i++) {
  const n = 24 + i * 40;
  const bytes = Uint8Array.from({ length: n }, (_, k) => (k * (31 + i * 12) + i) & 255);
  write('shape_fuzzer', `seed${i}`, bytes);
  write('image_fuzzer', `seed${i}`, bytes);
  write('search_fuzzer', `seed${i}`, bytes);
}
