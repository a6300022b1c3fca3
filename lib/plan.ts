// The execution plan: the contract between the model importers (TypeScript) and
// the C++ core (native/plan.h mirrors every constant here).
//
// A plan is a list of ops over float32 tensors of rank 1 to 4. Spatial ops
// (CONV2D, POOL2D, PAD, RESIZE) read rank-4 tensors as NHWC. Every other op works on
// the shape as it is, so importers of NCHW formats track the layout themselves.
// All shapes are static: importers fold shape arithmetic before lowering.
//
// Serialised form, an Int32Array of words (float parameters are stored as their
// float32 bit pattern in the same word):
//   header   MAGIC, VERSION, tensorCount, opCount, inputCount, outputCount, weightCount
//   inputs   inputCount x (tensorId, rank, d0, d1, d2, d3)   unused dims are 1
//   outputs  outputCount x tensorId
//   ops      opCount x (type, inCount, in..., outId, paramCount, param...,
//                       constCount, (offset, length)...)
// Constants are ranges of one Float32Array of weightCount floats. Tensor ids are
// 0 .. tensorCount-1; each id is written by exactly one op or is a plan input, and
// an op may only read ids written before it.

export const PLAN_MAGIC = 0x31504246; // 'FBP1' little-endian
export const PLAN_VERSION = 1;
export const MAX_RANK = 4;

export enum OpType {
  // params: kh, kw, strideH, strideW, dilationH, dilationW, padTop, padLeft, padBottom,
  //         padRight, groups, outChannels, activation, actA(f32), actB(f32)
  // consts: weights OHWI [outC][kh][kw][inC/groups], bias [outC] (length 0 = none),
  //         PReLU slopes [outC] or [1] when activation is PRELU
  CONV2D = 1,
  // input [N, ...] is read as N rows of K = size/N. output [N, outFeatures]
  // params: outFeatures, activation, actA(f32), actB(f32)
  // consts: weights [outFeatures][K] row-major, bias [outFeatures] (length 0 = none),
  //         PReLU slopes when activation is PRELU
  FULLY_CONNECTED = 2,
  // Element-wise a (op) b with NumPy broadcasting, rank <= 4.
  // inputs: [a, b], or [a] with b given as consts[0] of size 1, of the last dim, or of a.
  // params: kind (BinaryKind), activation, actA(f32), actB(f32), swap (1 = b (op) a)
  BINARY = 3,
  // params: kind (UnaryKind), a(f32), b(f32)
  // consts: PReLU slopes (size 1 or last dim) when kind is PRELU
  UNARY = 4,
  // NHWC padding. params: top, bottom, left, right, channelsBefore, channelsAfter,
  //                       mode (PadMode), value(f32)
  PAD = 5,
  // NHWC pooling. params: kind (PoolKind), kh, kw, strideH, strideW, padTop, padLeft,
  //                       padBottom, padRight, countIncludePad
  // kh = kw = 0 means global pooling, output [N, 1, 1, C]. Padded cells never win a
  // max pool and count for average pooling only when countIncludePad is 1.
  POOL2D = 6,
  // params: rank, d0 .. d(rank-1). Same element count, data unchanged.
  RESHAPE = 7,
  // params: rank, perm[0] .. perm[rank-1]
  TRANSPOSE = 8,
  // params: axis
  CONCAT = 9,
  // params: axis
  SOFTMAX = 10,
  // y = x / max(||x||, eps) along the last axis. params: eps(f32)
  L2_NORMALIZE = 11,
  // NHWC resize. params: outH, outW, mode (ResizeMode), coordinates (ResizeCoordinates)
  RESIZE = 12,
  // params: rank, start[0..rank-1], end[0..rank-1] (step 1, ends exclusive, already clamped)
  SLICE = 13,
  // y[..., c] = x[..., c] * scale[c] + shift[c] over the last axis, for batch-norm that
  // has nothing to fold into and for input normalisation. consts: scale [C], shift [C]
  CHANNEL_AFFINE = 14,
}

export enum Activation {
  NONE = 0,
  RELU = 1,
  CLIP = 2, // min = actA, max = actB; ReLU6 is CLIP(0, 6)
  PRELU = 3,
  LEAKY_RELU = 4, // slope = actA
  SIGMOID = 5,
}

export enum BinaryKind {
  ADD = 0,
  SUB = 1,
  MUL = 2,
  DIV = 3,
  MAX = 4,
  MIN = 5,
}

export enum UnaryKind {
  RELU = 1,
  CLIP = 2,
  PRELU = 3,
  LEAKY_RELU = 4,
  SIGMOID = 5,
  EXP = 6,
  TANH = 7,
  ABS = 8,
  SQRT = 9,
  NEG = 10,
}

export enum PadMode {
  CONSTANT = 0,
  REFLECT = 1,
  EDGE = 2,
}

export enum PoolKind {
  MAX = 0,
  AVERAGE = 1,
}

export enum ResizeMode {
  NEAREST = 0,
  BILINEAR = 1,
}

export enum ResizeCoordinates {
  ASYMMETRIC = 0, // nearest uses floor
  HALF_PIXEL = 1,
  ALIGN_CORNERS = 2,
  PYTORCH_HALF_PIXEL = 3,
}

/** One op before encoding. Float parameters are marked so the encoder stores their bits. */
export interface PlanOp {
  type: OpType;
  inputs: number[];
  output: number;
  params: Array<number | { f32: number }>;
  consts: Float32Array[];
  /** Name of the source node, kept for error messages. */
  name?: string;
}

export interface PlanInput {
  id: number;
  shape: number[];
}

/** A plan ready for encoding: ops in execution order. */
export interface Plan {
  inputs: PlanInput[];
  outputs: number[];
  ops: PlanOp[];
  tensorCount: number;
}

export interface EncodedPlan {
  words: Int32Array;
  weights: Float32Array;
}

export function f32(value: number): { f32: number } {
  return { f32: value };
}

/** Builds a plan op by op and hands out tensor ids. */
export class PlanBuilder {
  private readonly ops: PlanOp[] = [];
  private readonly inputs: PlanInput[] = [];
  private nextId = 0;

  input(shape: number[]): number {
    const id = this.nextId++;
    this.inputs.push({ id, shape: shape.slice() });
    return id;
  }

  add(type: OpType, inputs: number[], params: PlanOp['params'], consts: Float32Array[] = [], name?: string): number {
    const output = this.nextId++;
    this.ops.push({ type, inputs: inputs.slice(), output, params, consts, name });
    return output;
  }

  build(outputs: number[]): Plan {
    return { inputs: this.inputs, outputs: outputs.slice(), ops: this.ops, tensorCount: this.nextId };
  }
}

/** Serialises a plan into the word stream and the weight array that the core reads. */
export function encodePlan(plan: Plan): EncodedPlan {
  let weightCount = 0;
  for (const op of plan.ops) for (const c of op.consts) weightCount += c.length;

  const words: number[] = [
    PLAN_MAGIC,
    PLAN_VERSION,
    plan.tensorCount,
    plan.ops.length,
    plan.inputs.length,
    plan.outputs.length,
    weightCount,
  ];

  for (const input of plan.inputs) {
    if (input.shape.length < 1 || input.shape.length > MAX_RANK) {
      throw new RangeError(`Plan input ${input.id} has rank ${input.shape.length}; expected 1 to ${MAX_RANK}`);
    }
    const dims = [1, 1, 1, 1];
    input.shape.forEach((d, i) => (dims[i] = d));
    words.push(input.id, input.shape.length, ...dims);
  }
  words.push(...plan.outputs);

  const weights = new Float32Array(weightCount);
  const bits = new DataView(new ArrayBuffer(4));
  let offset = 0;
  for (const op of plan.ops) {
    words.push(op.type, op.inputs.length, ...op.inputs, op.output, op.params.length);
    for (const p of op.params) {
      if (typeof p === 'number') {
        words.push(p | 0);
      } else {
        bits.setFloat32(0, p.f32, true);
        words.push(bits.getInt32(0, true));
      }
    }
    words.push(op.consts.length);
    for (const c of op.consts) {
      weights.set(c, offset);
      words.push(offset, c.length);
      offset += c.length;
    }
  }

  return { words: Int32Array.from(words), weights };
}
