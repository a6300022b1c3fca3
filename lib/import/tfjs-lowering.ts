// Shared lowering helpers for the TF.js importers: a mutable op list with fusion into
// convolutions, TF 'SAME' padding, and weight layout conversion from TF to the plan.

import { Activation, f32, OpType, Plan, PlanOp } from '../plan';

/** A graph value: a folded constant or a plan tensor with its static shape. */
export type Value =
  | { kind: 'const'; shape: number[]; data: Float32Array | Int32Array }
  | { kind: 'tensor'; id: number; shape: number[] };

export type TensorValue = Extract<Value, { kind: 'tensor' }>;
export type ConstValue = Extract<Value, { kind: 'const' }>;

/** The model interface an importer returns, with NHWC input and output shapes. */
export interface ImportedModel {
  plan: Plan;
  inputName: string;
  /** NHWC. */
  inputShape: number[];
  outputNames: string[];
  outputShapes: number[][];
}

export function sizeOf(shape: number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** TF 'SAME' padding for one spatial axis: the odd pixel goes to the bottom or right. */
export function samePadding(inSize: number, kernel: number, stride: number, dilation: number): [number, number] {
  const outSize = Math.ceil(inSize / stride);
  const effective = (kernel - 1) * dilation + 1;
  const total = Math.max((outSize - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function convOutputSize(inSize: number, kernel: number, stride: number, dilation: number, padBefore: number, padAfter: number): number {
  const effective = (kernel - 1) * dilation + 1;
  return Math.floor((inSize + padBefore + padAfter - effective) / stride) + 1;
}

/** Converts TF conv filters HWIO [kh][kw][in][out] to the plan's OHWI. */
export function hwioToOhwi(data: Float32Array, kh: number, kw: number, inC: number, outC: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < inC; i++)
        for (let o = 0; o < outC; o++) out[((o * kh + y) * kw + x) * inC + i] = data[((y * kw + x) * inC + i) * outC + o];
  return out;
}

/**
 * Converts TF depthwise filters [kh][kw][in][multiplier] to the plan's grouped OHWI
 * [in * multiplier][kh][kw][1]. Output channel c * multiplier + m reads input channel c.
 */
export function depthwiseToOhwi(data: Float32Array, kh: number, kw: number, inC: number, multiplier: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < inC; c++)
        for (let m = 0; m < multiplier; m++) out[((c * multiplier + m) * kh + y) * kw + x] = data[((y * kw + x) * inC + c) * multiplier + m];
  return out;
}

/** Activation state of a CONV2D or FULLY_CONNECTED op, kept apart from its params until the end. */
export interface FusedActivation {
  kind: Activation;
  a: number;
  b: number;
  slopes?: Float32Array;
}

interface MutableOp extends PlanOp {
  removed?: boolean;
  /** For CONV2D and FULLY_CONNECTED: weights, bias and activation, encoded at build time. */
  layer?: { weights: Float32Array; bias: Float32Array | null; outChannels: number; activation: FusedActivation };
}

/** Builds a plan with ops that later ops may still fuse into or remove. */
export class LoweringBuilder {
  readonly ops: MutableOp[] = [];
  private readonly producers = new Map<number, MutableOp>();
  private readonly inputShapes: Array<{ id: number; shape: number[] }> = [];
  private nextId = 0;

  input(shape: number[]): TensorValue {
    const id = this.nextId++;
    this.inputShapes.push({ id, shape: shape.slice() });
    return { kind: 'tensor', id, shape: shape.slice() };
  }

  emit(type: OpType, inputs: TensorValue[], params: PlanOp['params'], consts: Float32Array[], shape: number[], name?: string): TensorValue {
    const output = this.nextId++;
    const op: MutableOp = { type, inputs: inputs.map((v) => v.id), output, params, consts, name };
    this.ops.push(op);
    this.producers.set(output, op);
    return { kind: 'tensor', id: output, shape: shape.slice() };
  }

  /**
   * Emits a CONV2D (spatial = [kh, kw, sh, sw, dh, dw, pt, pl, pb, pr, groups]) or, without
   * `spatial`, a FULLY_CONNECTED op. Weights are OHWI or [out][in].
   */
  emitLayer(input: TensorValue, weights: Float32Array, bias: Float32Array | null, outChannels: number, shape: number[], name: string, spatial?: number[]): TensorValue {
    const type = spatial ? OpType.CONV2D : OpType.FULLY_CONNECTED;
    const value = this.emit(type, [input], spatial ?? [], [], shape, name);
    this.producers.get(value.id)!.layer = { weights, bias, outChannels, activation: { kind: Activation.NONE, a: 0, b: 0 } };
    return value;
  }

  /** Returns the CONV2D or FULLY_CONNECTED op that wrote `value`, if any. */
  layerOf(value: Value): MutableOp | undefined {
    if (value.kind !== 'tensor') return undefined;
    const op = this.producers.get(value.id);
    return op?.layer ? op : undefined;
  }

  producerOf(value: Value): MutableOp | undefined {
    return value.kind === 'tensor' ? this.producers.get(value.id) : undefined;
  }

  /** Removes an op whose output nothing reads any more. */
  remove(op: MutableOp): void {
    op.removed = true;
  }

  /** Assembles the plan, dropping removed ops and renumbering tensors densely. */
  build(outputs: TensorValue[]): Plan {
    const renumber = new Map<number, number>();
    let next = 0;
    for (const input of this.inputShapes) renumber.set(input.id, next++);
    const ops: PlanOp[] = [];
    for (const op of this.ops) {
      if (op.removed) continue;
      renumber.set(op.output, next++);
      ops.push(finishOp(op, renumber));
    }
    return {
      inputs: this.inputShapes.map((i) => ({ id: renumber.get(i.id)!, shape: i.shape })),
      outputs: outputs.map((o) => renumber.get(o.id)!),
      ops,
      tensorCount: next,
    };
  }
}

function finishOp(op: MutableOp, renumber: Map<number, number>): PlanOp {
  const inputs = op.inputs.map((id) => {
    const mapped = renumber.get(id);
    if (mapped === undefined) throw new Error(`Internal error: op ${op.name} reads tensor ${id} that no kept op writes`);
    return mapped;
  });
  const output = renumber.get(op.output)!;
  if (!op.layer) return { type: op.type, inputs, output, params: op.params, consts: op.consts, name: op.name };

  const { weights, bias, outChannels, activation } = op.layer;
  const consts = [weights, bias ?? new Float32Array(0)];
  if (activation.kind === Activation.PRELU) consts.push(activation.slopes!);
  const act = [activation.kind, f32(activation.a), f32(activation.b)];
  const params = op.type === OpType.CONV2D ? [...op.params, outChannels, ...act] : [outChannels, ...act];
  return { type: op.type, inputs, output, params, consts, name: op.name };
}

/** Expands a size-1 or per-channel constant to `channels` values, or returns null. */
export function perChannel(value: ConstValue, channels: number): Float32Array | null {
  const n = value.data.length;
  const nonUnit = value.shape.filter((d) => d !== 1);
  if (n === 1) return new Float32Array(channels).fill(value.data[0]);
  if (n === channels && nonUnit.length === 1 && value.shape[value.shape.length - 1] === channels) return Float32Array.from(value.data);
  return null;
}

/** Multiplies output channel o of a layer by scale[o]. */
export function scaleLayer(op: MutableOp, scale: Float32Array): void {
  const layer = op.layer!;
  const per = layer.weights.length / layer.outChannels;
  const weights = new Float32Array(layer.weights);
  for (let o = 0; o < layer.outChannels; o++) for (let i = 0; i < per; i++) weights[o * per + i] *= scale[o];
  layer.weights = weights;
  if (layer.bias) layer.bias = layer.bias.map((b, o) => b * scale[o]);
}

export function shiftLayer(op: MutableOp, shift: Float32Array): void {
  const layer = op.layer!;
  const bias = layer.bias ? new Float32Array(layer.bias) : new Float32Array(layer.outChannels);
  for (let o = 0; o < layer.outChannels; o++) bias[o] += shift[o];
  layer.bias = bias;
}
