// ONNX importer: decodes a model (lib/import/onnx-schema.ts), folds its constant subgraphs and lowers the
// remaining compute to a plan (lib/plan.ts) that takes NHWC input.
//
// Layout tracking: a rank-4 value that spatial ops produce is stored NHWC in the plan while it
// represents an NCHW ONNX tensor (`nhwc: true`). Other ops either remap their axes onto that
// layout or first transpose the value to plain row-major NCHW. Every plan output contains its
// data in ONNX row-major order with the ONNX shape, as onnxruntime returns it.

import { FacebitsError, invalidModel, invalidParameter, unsupportedOp } from '../errors';
import { MAX_RANK, OpType, Plan, PlanBuilder } from '../plan';
import { FOLDABLE_OPS, FoldContext, foldNode } from './onnx-fold';
import { lowerNode } from './onnx-lower';
import { nodeLabel } from './onnx-node';
import { DataType, ModelProto, NodeProto, ValueInfoProto, decodeModel } from './onnx-schema';
import { ConstTensor, decodeTensor } from './onnx-tensor';
import { MAX_MESSAGE_BYTES, ProtobufError } from './protobuf';

export interface ImportOptions {
  /** NCHW shape of the model input, required where the model leaves a dim dynamic. */
  inputShape?: number[];
}

export interface ImportedModel {
  plan: Plan;
  inputName: string;
  /** NHWC shape that the plan input takes. */
  inputShape: number[];
  outputNames: string[];
  /** ONNX shapes of the outputs, in whose row-major order the plan outputs store their data. */
  outputShapes: number[][];
}

/** A value known at import time. */
export interface ConstValue {
  kind: 'const';
  tensor: ConstTensor;
}

/** A value computed by the plan. `shape` is the ONNX shape, and `nhwc` marks rank-4 data stored NHWC. */
export interface TensorValue {
  kind: 'tensor';
  id: number;
  shape: number[];
  nhwc: boolean;
}

/**
 * A value of the dynamic-quantisation pattern (DynamicQuantizeLinear, ConvInteger or
 * MatMulInteger, Cast, Mul), which the importer lowers to float ops with dequantised weights.
 */
export interface QuantValue {
  kind: 'quant';
  /** Role: data, scale and zero are the outputs of DynamicQuantizeLinear, and product is an integer conv or matmul. */
  role: 'data' | 'scale' | 'zero' | 'product';
  /** The float tensor that DynamicQuantizeLinear quantises (data and product). */
  source?: TensorValue;
  /** The weight scale that a Mul combined with the activation scale (scale). */
  weightScale?: ConstTensor;
  /** The ConvInteger or MatMulInteger node and its weights minus their zero point (product). */
  node?: NodeProto;
  weight?: ConstTensor;
}

export type Value = ConstValue | TensorValue | QuantValue;

/** State shared by the lowering functions while one graph is imported. */
export class ImportContext {
  readonly builder = new PlanBuilder();
  readonly values = new Map<string, Value>();
  /** Nodes that read each value name. A graph output counts as one reader. */
  readonly readers = new Map<string, Array<NodeProto | 'output'>>();
  /** Nodes already lowered as part of an earlier node (fused activations, folded batch norms). */
  readonly fused = new Set<NodeProto>();
  /** Layout conversions already added, keyed by source id and shape, so a value read twice converts once. */
  private readonly plainCopies = new Map<string, TensorValue>();
  private readonly nhwcCopies = new Map<string, TensorValue>();

  constructor(readonly file: string, readonly opset: number) {}

  foldContext(label: string): FoldContext {
    return { file: this.file, label, opset: this.opset };
  }

  /** Returns the plan-layout shape of a tensor value. */
  planShape(value: TensorValue): number[] {
    const s = value.shape;
    return value.nhwc ? [s[0], s[2], s[3], s[1]] : s.slice();
  }

  /** Returns the value in plain row-major order, adding a TRANSPOSE when it is stored NHWC. */
  toPlain(value: TensorValue, name?: string): TensorValue {
    if (!value.nhwc) return value;
    const cached = this.plainCopies.get(`${value.id}:${value.shape}`);
    if (cached) return cached;
    const s = value.shape;
    // With one channel or a 1x1 image, NHWC and NCHW order the data identically.
    const id = isLayoutFree(s)
      ? this.builder.add(OpType.RESHAPE, [value.id], [4, ...s], [], name)
      : this.builder.add(OpType.TRANSPOSE, [value.id], [4, 0, 3, 1, 2], [], name);
    const plain: TensorValue = { kind: 'tensor', id, shape: s.slice(), nhwc: false };
    this.plainCopies.set(`${value.id}:${value.shape}`, plain);
    return plain;
  }

  /** Returns the rank-4 value stored NHWC, adding a TRANSPOSE when it is plain. */
  toNhwc(value: TensorValue, name?: string): TensorValue {
    if (value.nhwc) return value;
    const cached = this.nhwcCopies.get(`${value.id}:${value.shape}`);
    if (cached) return cached;
    const s = value.shape;
    if (s.length !== 4) throw new Error(`expected a rank-4 value for an NHWC op, got rank ${s.length}`);
    const id = isLayoutFree(s)
      ? this.builder.add(OpType.RESHAPE, [value.id], [4, s[0], s[2], s[3], s[1]], [], name)
      : this.builder.add(OpType.TRANSPOSE, [value.id], [4, 0, 2, 3, 1], [], name);
    const nhwc: TensorValue = { kind: 'tensor', id, shape: s.slice(), nhwc: true };
    this.nhwcCopies.set(`${value.id}:${value.shape}`, nhwc);
    return nhwc;
  }

  /** Adds a RESHAPE of a plain value to `shape`, or returns the value when the shape is unchanged. */
  reshape(value: TensorValue, shape: number[], name?: string): TensorValue {
    if (shape.length < 1 || shape.length > MAX_RANK) {
      throw unsupportedOp(this.file, 'Reshape', name ?? '', `rank ${shape.length} is outside 1 to ${MAX_RANK}`);
    }
    // After this step the plan data is in ONNX row-major order, whatever shape it has.
    const source = value.nhwc && !isLayoutFree(value.shape) ? this.toPlain(value, name) : value;
    const current = this.planShape(source);
    const unchanged = current.length === shape.length && current.every((d, i) => d === shape[i]);
    if (unchanged) return { kind: 'tensor', id: source.id, shape: shape.slice(), nhwc: false };
    const id = this.builder.add(OpType.RESHAPE, [source.id], [shape.length, ...shape], [], name);
    return { kind: 'tensor', id, shape: shape.slice(), nhwc: false };
  }
}

/** Returns true when NHWC and NCHW order a rank-4 tensor of this NCHW shape identically. */
function isLayoutFree(shape: number[]): boolean {
  return shape[1] === 1 || shape[2] * shape[3] === 1;
}

function parseModel(bytes: Uint8Array, file: string): ModelProto {
  if (bytes.length > MAX_MESSAGE_BYTES) {
    const reason = `the file has ${bytes.length} bytes, more than the ${MAX_MESSAGE_BYTES} that a protobuf message can have`;
    throw invalidModel(file, `${reason}. A model this large keeps its weights in external data files, which the importer does not read`);
  }
  let model: ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    if (!(error instanceof ProtobufError)) throw error;
    const fix = 'Check that the file is a complete ONNX model, and export or download it again if it was cut short';
    throw invalidModel(file, `the file is not a valid ONNX protobuf: ${error.message}. ${fix}`, error);
  }
  if (!model.graph || model.graph.node.length === 0) {
    throw invalidModel(file, 'the file has no graph. Check that it is an ONNX model and not truncated');
  }
  return model;
}

function defaultOpset(model: ModelProto): number {
  const entry = model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx');
  return entry ? entry.version ?? 0 : 1;
}

/** Resolves the model input's NCHW shape from its declared dims and `options.inputShape`. */
function resolveInputShape(input: ValueInfoProto, file: string, requested: number[] | undefined): number[] {
  const tensorType = input.type?.tensorType;
  if (!tensorType) throw invalidModel(file, `input "${input.name}" is not a tensor`);
  if (tensorType.elemType !== DataType.FLOAT) {
    throw invalidModel(file, `input "${input.name}" has element type ${tensorType.elemType}, but the importer takes float32 inputs only`);
  }
  const dims = (tensorType.shape?.dim ?? []).map((d) => (d.dimValue !== undefined && d.dimValue > 0 ? d.dimValue : -1));
  if (requested !== undefined) {
    const valid = Array.isArray(requested) && requested.length === dims.length && requested.every((d) => Number.isInteger(d) && d > 0);
    if (!valid) {
      throw invalidParameter('options.inputShape', `an array of ${dims.length} positive integers (NCHW)`, requested);
    }
    dims.forEach((d, i) => {
      if (d > 0 && d !== requested[i]) {
        throw invalidParameter('options.inputShape', `dim ${i} equal to ${d}, the model's static size`, requested);
      }
    });
    return requested.slice();
  }
  if (dims.some((d) => d < 0)) {
    throw invalidParameter('options.inputShape', `an NCHW shape, because input "${input.name}" has dynamic dims`, requested);
  }
  return dims;
}

/**
 * Imports an ONNX model. Throws INVALID_MODEL, UNSUPPORTED_OP or INVALID_ARGUMENT. Any other
 * failure inside the importer (a malformed field it did not anticipate) becomes INVALID_MODEL.
 */
export function importOnnx(bytes: Uint8Array, file: string, options: ImportOptions = {}): ImportedModel {
  if (!(bytes instanceof Uint8Array)) throw invalidParameter('bytes', 'a Uint8Array', bytes);
  try {
    return importGraph(bytes, file, options);
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw invalidModel(file, `import failed: ${(error as Error).message}`, error);
  }
}

function importGraph(bytes: Uint8Array, file: string, options: ImportOptions): ImportedModel {
  const model = parseModel(bytes, file);
  const graph = model.graph!;
  for (const entry of model.opsetImport) {
    if (entry.domain && entry.domain !== 'ai.onnx') {
      throw invalidModel(file, `the model imports opset domain "${entry.domain}", which the importer does not support`);
    }
  }
  const ctx = new ImportContext(file, defaultOpset(model));

  if (graph.sparseInitializerCount > 0) {
    throw invalidModel(file, `the graph has ${graph.sparseInitializerCount} sparse initializers, which the importer does not read. Store them as dense initializers`);
  }
  for (const initializer of graph.initializer) {
    ctx.values.set(initializer.name ?? '', { kind: 'const', tensor: decodeTensor(initializer, file) });
  }

  const inputs = graph.input.filter((i) => !ctx.values.has(i.name ?? ''));
  if (inputs.length !== 1) {
    throw invalidModel(file, `the graph has ${inputs.length} inputs besides initializers, but the importer takes exactly 1`);
  }
  const input = inputs[0];
  const inputShape = resolveInputShape(input, file, options.inputShape);
  if (inputShape.length < 1 || inputShape.length > MAX_RANK) {
    throw unsupportedOp(file, 'input', input.name ?? '', `rank ${inputShape.length} is outside 1 to ${MAX_RANK}`);
  }
  const isImage = inputShape.length === 4;
  const planInputShape = isImage ? [inputShape[0], inputShape[2], inputShape[3], inputShape[1]] : inputShape.slice();
  const inputId = ctx.builder.input(planInputShape);
  ctx.values.set(input.name ?? '', { kind: 'tensor', id: inputId, shape: inputShape, nhwc: isImage });

  const nodes = graph.node;
  for (const node of nodes) {
    for (const name of node.input) {
      if (!name) continue;
      const list = ctx.readers.get(name) ?? [];
      list.push(node);
      ctx.readers.set(name, list);
    }
  }
  for (const output of graph.output) {
    const list = ctx.readers.get(output.name ?? '') ?? [];
    list.push('output');
    ctx.readers.set(output.name ?? '', list);
  }

  // Constant nodes are evaluated first so that fusion can read activation parameters
  // (Clip bounds, PRelu slopes) from Constant nodes placed after the node being fused.
  nodes.forEach((node, index) => {
    if (node.opType !== 'Constant') return;
    const tensor = foldNode(node, [], ctx.foldContext(nodeLabel(node, index)))!;
    ctx.values.set(node.output?.[0] ?? '', { kind: 'const', tensor });
  });

  nodes.forEach((node, index) => {
    if (node.opType === 'Constant' || ctx.fused.has(node)) return;
    importNode(ctx, node, index);
  });

  const outputNames: string[] = [];
  const outputShapes: number[][] = [];
  const outputIds: number[] = [];
  for (const output of graph.output) {
    const name = output.name ?? '';
    const value = ctx.values.get(name);
    if (!value) throw invalidModel(file, `graph output "${name}" is not produced by any node`);
    if (value.kind !== 'tensor') {
      throw unsupportedOp(file, 'output', name, 'the output is a constant or a quantised value, which the plan cannot return');
    }
    checkDeclaredShape(output, value.shape, file);
    outputNames.push(name);
    outputShapes.push(value.shape.slice());
    outputIds.push(ctx.toPlain(value, name).id);
  }

  return { plan: ctx.builder.build(outputIds), inputName: input.name ?? '', inputShape: planInputShape, outputNames, outputShapes };
}

/** Throws INVALID_MODEL when a static dim the model declares differs from the inferred shape. */
function checkDeclaredShape(output: ValueInfoProto, shape: number[], file: string): void {
  const dims = output.type?.tensorType?.shape?.dim;
  if (!dims) return;
  const declared = dims.map((d) => d.dimValue ?? 0);
  const conflict = declared.length !== shape.length || declared.some((d, i) => d > 0 && d !== shape[i]);
  if (conflict) {
    throw invalidModel(file, `output "${output.name}" is declared as [${declared.join(', ')}] but the graph computes [${shape.join(', ')}]`);
  }
}

function importNode(ctx: ImportContext, node: NodeProto, index: number): void {
  const op = node.opType ?? '';
  const label = nodeLabel(node, index);
  if (node.domain && node.domain !== 'ai.onnx') {
    throw unsupportedOp(ctx.file, `${node.domain}.${op}`, label, 'only the default ONNX domain is supported');
  }
  const inputs: Array<Value | undefined> = node.input.map((name) => {
    if (!name) return undefined;
    const value = ctx.values.get(name);
    if (!value) {
      throw invalidModel(ctx.file, `node "${label}" reads "${name}", which no node, initializer or graph input produces`);
    }
    return value;
  });

  const present = inputs.filter((v): v is Value => v !== undefined);
  const allConst = present.every((v) => v.kind === 'const');
  if (op === 'Shape' && inputs[0]) {
    const source = inputs[0];
    if (source.kind === 'quant') throw unsupportedOp(ctx.file, op, label, 'the shape of a quantised value is not supported');
    const shape = source.kind === 'const' ? source.tensor.shape : source.shape;
    const rank = shape.length;
    const clampAxis = (a: number) => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
    const start = clampAxis(intAttributeOf(node, 'start', 0));
    const end = clampAxis(intAttributeOf(node, 'end', rank));
    const dims = shape.slice(start, Math.max(start, end));
    setOutput(ctx, node, { kind: 'const', tensor: { isFloat: false, shape: [dims.length], data: Float64Array.from(dims) } });
    return;
  }
  if (allConst && present.length > 0 && FOLDABLE_OPS.has(op)) {
    const constants = inputs.map((v) => (v && v.kind === 'const' ? v.tensor : undefined));
    const folded = foldNode(node, constants, ctx.foldContext(label));
    if (folded) {
      setOutput(ctx, node, { kind: 'const', tensor: folded });
      return;
    }
  }

  try {
    lowerNode(ctx, node, label, inputs);
  } catch (error) {
    if (error instanceof FacebitsError) throw error;
    throw invalidModel(ctx.file, `node "${label}" (${op}) could not be lowered: ${(error as Error).message}`, error);
  }
}

function intAttributeOf(node: NodeProto, name: string, fallback: number): number {
  const attribute = node.attribute.find((a) => a.name === name);
  return attribute ? attribute.i ?? 0 : fallback;
}

/** Binds the node's first output name to `value`. */
export function setOutput(ctx: ImportContext, node: NodeProto, value: Value, outputName?: string): void {
  ctx.values.set(outputName ?? node.output[0] ?? '', value);
}
