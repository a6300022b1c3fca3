// The ONNX protobuf decoder (lib/import/onnx-schema.ts over lib/import/protobuf.ts): the same
// graphs as onnx-proto (protobufjs) for every reference model, the protobuf encoding rules,
// and typed errors for malformed input.

import * as fs from 'node:fs';
import * as path from 'node:path';

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { onnx } from 'onnx-proto';

import { FacebitsError } from '../lib/errors';
import { importOnnx } from '../lib/import/onnx';
import {
  AttributeProto, DataType, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto, decodeModel,
} from '../lib/import/onnx-schema';
import { MAX_DEPTH, MAX_MESSAGE_BYTES, ProtobufError } from '../lib/import/protobuf';
import { MODELS } from './helpers';
import {
  bytesField, concat, floatField, messageField, packedFloats, packedVarints, stringField, tag, varint, varintField,
} from './protobuf-writer';

const FACEPLUGIN = path.join(__dirname, '..', 'node_modules', 'faceplugin-face-recognition-js', 'model');

// ---------------------------------------------------------------------------------------------
// onnx-proto as the reference decoder: its objects converted to the decoder's shape

type Long = number | { toNumber(): number };
type ProtobufjsMessage = Record<string, unknown>;

function has(message: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(message, key);
}

/** Returns the field when the wire data set it, or undefined where protobufjs shows a default. */
function present<T>(message: object, key: string, convert: (value: never) => T = (v) => v): T | undefined {
  return has(message, key) ? convert((message as ProtobufjsMessage)[key] as never) : undefined;
}

function long(value: Long): number {
  return typeof value === 'number' ? value : value.toNumber();
}

function list<T>(message: object, key: string, convert: (value: never) => T): T[] {
  const values = (message as ProtobufjsMessage)[key] as unknown[] | undefined;
  return (values ?? []).map((v) => convert(v as never));
}

function fromTensor(t: onnx.ITensorProto): TensorProto {
  return {
    name: present(t, 'name'),
    dims: list(t, 'dims', long),
    dataType: present(t, 'dataType'),
    segment: present(t, 'segment', (s: onnx.TensorProto.ISegment) => ({ begin: present(s, 'begin', long), end: present(s, 'end', long) })),
    rawData: present(t, 'rawData'),
    floatData: list(t, 'floatData', Number),
    int32Data: list(t, 'int32Data', Number),
    int64Data: list(t, 'int64Data', long),
    doubleData: list(t, 'doubleData', Number),
    uint64Data: list(t, 'uint64Data', long),
    stringData: list(t, 'stringData', (b: Uint8Array) => b),
    externalData: list(t, 'externalData', (e: onnx.IStringStringEntryProto) => ({ key: present(e, 'key'), value: present(e, 'value') })),
    dataLocation: present(t, 'dataLocation'),
  };
}

function fromAttribute(a: onnx.IAttributeProto): AttributeProto {
  return {
    name: present(a, 'name'),
    refAttrName: present(a, 'refAttrName'),
    type: present(a, 'type'),
    f: present(a, 'f'),
    i: present(a, 'i', long),
    s: present(a, 's'),
    t: present(a, 't', fromTensor),
    g: present(a, 'g', fromGraph),
    floats: list(a, 'floats', Number),
    ints: list(a, 'ints', long),
    strings: list(a, 'strings', (b: Uint8Array) => b),
    tensors: list(a, 'tensors', fromTensor),
    graphs: list(a, 'graphs', fromGraph),
  };
}

function fromNode(n: onnx.INodeProto): NodeProto {
  return {
    input: list(n, 'input', String),
    output: list(n, 'output', String),
    name: present(n, 'name'),
    opType: present(n, 'opType'),
    domain: present(n, 'domain'),
    attribute: list(n, 'attribute', fromAttribute),
  };
}

function fromValueInfo(v: onnx.IValueInfoProto): ValueInfoProto {
  const tensorType = v.type && has(v.type, 'tensorType') ? v.type.tensorType! : undefined;
  return {
    name: present(v, 'name'),
    type: present(v, 'type', () => ({
      tensorType: tensorType && {
        elemType: present(tensorType, 'elemType'),
        shape: present(tensorType, 'shape', (s: onnx.ITensorShapeProto) => ({
          dim: list(s, 'dim', (d: onnx.TensorShapeProto.IDimension) => ({ dimValue: present(d, 'dimValue', long), dimParam: present(d, 'dimParam') })),
        })),
      },
    })),
  };
}

function fromGraph(g: onnx.IGraphProto): GraphProto {
  return {
    name: present(g, 'name'),
    node: list(g, 'node', fromNode),
    initializer: list(g, 'initializer', fromTensor),
    sparseInitializerCount: (g.sparseInitializer ?? []).length,
    input: list(g, 'input', fromValueInfo),
    output: list(g, 'output', fromValueInfo),
    valueInfo: list(g, 'valueInfo', fromValueInfo),
  };
}

function fromModel(m: onnx.IModelProto): ModelProto {
  return {
    irVersion: present(m, 'irVersion', long),
    opsetImport: list(m, 'opsetImport', (o: onnx.IOperatorSetIdProto) => ({ domain: present(o, 'domain'), version: present(o, 'version', long) })),
    producerName: present(m, 'producerName'),
    producerVersion: present(m, 'producerVersion'),
    domain: present(m, 'domain'),
    modelVersion: present(m, 'modelVersion', long),
    graph: present(m, 'graph', fromGraph),
  };
}

/** Returns the path of the first difference between two decoded values, or undefined when they are equal. */
function firstDifference(a: unknown, b: unknown, at = 'model'): string | undefined {
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    const same = a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
    return same ? undefined : `${at}: bytes differ`;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return `${at}: an array on one side only`;
    if (a.length !== b.length) return `${at}: length ${a.length} against ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const difference = firstDifference(a[i], b[i], `${at}[${i}]`);
      if (difference) return difference;
    }
    return undefined;
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of keys) {
      const difference = firstDifference((a as ProtobufjsMessage)[key], (b as ProtobufjsMessage)[key], `${at}.${key}`);
      if (difference) return difference;
    }
    return undefined;
  }
  return Object.is(a, b) ? undefined : `${at}: ${String(a)} against ${String(b)}`;
}

function referenceModels(): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.onnx')) files.push(full);
    }
  };
  walk(MODELS);
  walk(FACEPLUGIN);
  return files.sort();
}

test('decodeModel matches onnx-proto on every reference model', () => {
  const files = referenceModels();
  if (files.length === 0) {
    console.log(`  skip: no ONNX models under ${MODELS} or ${FACEPLUGIN}`);
    return;
  }
  let nodes = 0;
  for (const file of files) {
    const bytes = fs.readFileSync(file);
    const ours = decodeModel(bytes);
    const reference = fromModel(onnx.ModelProto.decode(bytes));
    assert.is(firstDifference(ours, reference), undefined, path.relative(path.join(__dirname, '..', '..'), file));
    assert.ok(ours.graph!.node.length > 0, `${file} has nodes`);
    nodes += ours.graph!.node.length;
  }
  console.log(`  ${files.length} models, ${nodes} nodes decoded identically`);
});

test('decodeModel matches onnx-proto on a model that uses every decoded field', () => {
  const tensor: onnx.ITensorProto = {
    name: 'every',
    dims: [2, -1, 9007199254740993],
    dataType: onnx.TensorProto.DataType.INT64,
    segment: { begin: 1, end: 2 },
    rawData: Uint8Array.from([1, 2, 3]),
    floatData: [1.5, -0, NaN, Infinity],
    int32Data: [-1, 2147483647, -2147483648],
    int64Data: [-1, 1, 2 ** 53, -(2 ** 53)],
    doubleData: [Math.PI, -1e300],
    uint64Data: [0, 2 ** 53],
    stringData: [Uint8Array.from([0xff, 0])],
    externalData: [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '0' }],
    dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
  };
  const attribute: onnx.IAttributeProto = {
    name: 'a', refAttrName: 'r', type: 1, f: 0.1, i: -5, s: Uint8Array.from([104, 105]), t: tensor,
    g: { name: 'sub', node: [{ opType: 'Identity', input: ['p'], output: ['q'] }] },
    floats: [1, 2], ints: [-3, 4], strings: [Uint8Array.from([1])], tensors: [tensor, {}], graphs: [{ name: 'g1' }, {}],
  };
  const model = onnx.ModelProto.encode({
    irVersion: 9,
    opsetImport: [{ domain: '', version: 17 }, { domain: 'com.example', version: 1 }],
    producerName: 'p', producerVersion: 'v', domain: 'd', modelVersion: 3, docString: 'skipped',
    metadataProps: [{ key: 'skipped', value: 'too' }],
    graph: {
      name: 'main-ñ-图',
      node: [{ opType: 'Op', name: 'n'.repeat(100), domain: 'ai.onnx', input: ['x', ''], output: ['y'], attribute: [attribute], docString: 'skipped' }],
      initializer: [tensor],
      sparseInitializer: [{ dims: [1] }],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimParam: 'N' }, {}] } } } }],
      output: [{ name: 'y', type: { sequenceType: { elemType: { tensorType: { elemType: 1 } } } } }],
      valueInfo: [{ name: 'v' }],
    },
  }).finish();
  const ours = decodeModel(model);
  assert.is(firstDifference(ours, fromModel(onnx.ModelProto.decode(model))), undefined);
  assert.is(ours.graph!.sparseInitializerCount, 1);
  assert.is(ours.graph!.output[0].type!.tensorType, undefined, 'a sequence type leaves tensorType unset');
});

// ---------------------------------------------------------------------------------------------
// Encoding rules

/** Builds a ModelProto with one graph of one node whose single attribute has the given fields. */
function modelWithAttribute(...fields: Uint8Array[]): Uint8Array {
  return messageField(7, messageField(1, stringField(4, 'Op'), messageField(5, ...fields)));
}

function onlyAttribute(model: ModelProto): AttributeProto {
  return model.graph!.node[0].attribute[0];
}

test('decodeModel reads packed and unpacked repeated fields alike', () => {
  const ints = [0, 1, -1, 300, -(2 ** 40)];
  const floats = [0.5, -2, 1e-30];
  const packed = decodeModel(modelWithAttribute(packedVarints(8, ints), packedFloats(7, floats)));
  const unpacked = decodeModel(modelWithAttribute(...ints.map((v) => varintField(8, v)), ...floats.map((v) => floatField(7, v))));
  assert.equal(onlyAttribute(packed).ints, ints);
  assert.equal(onlyAttribute(unpacked).ints, ints);
  assert.equal(onlyAttribute(packed).floats, Array.from(Float32Array.from(floats)));
  assert.equal(onlyAttribute(unpacked).floats, Array.from(Float32Array.from(floats)));
  // Both encodings may be mixed within one field, and the values append in order.
  const mixed = decodeModel(modelWithAttribute(packedVarints(8, [1, 2]), varintField(8, 3), packedVarints(8, [4])));
  assert.equal(onlyAttribute(mixed).ints, [1, 2, 3, 4]);
});

test('decodeModel reads 64-bit and negative varints', () => {
  const model = decodeModel(modelWithAttribute(
    varintField(3, -1n),
    packedVarints(8, [(1n << 63n) - 1n, -(1n << 63n), (1n << 53n) + 1n, -2n]),
    varintField(20, -7),
  ));
  const attribute = onlyAttribute(model);
  assert.is(attribute.i, -1);
  assert.equal(attribute.ints, [2 ** 63, -(2 ** 63), 2 ** 53, -2]);
  assert.is(attribute.type, -7, 'int32 fields take the low 32 bits of a 10-byte varint');

  const uint64 = decodeModel(messageField(7, messageField(5, packedVarints(11, [(1n << 64n) - 1n, 5n]))));
  assert.equal(uint64.graph!.initializer[0].uint64Data, [2 ** 64, 5]);
});

test('decodeModel skips unknown fields of every wire type', () => {
  const fixed64 = concat(tag(1000, 1), new Uint8Array(8));
  const fixed32 = concat(tag(1001, 5), new Uint8Array(4));
  const unknown = concat(varintField(999, -1), fixed64, fixed32, bytesField(1002, [1, 2, 3]));
  const model = decodeModel(concat(unknown, varintField(1, 7), messageField(7, unknown, stringField(2, 'g'), unknown)));
  assert.is(model.irVersion, 7);
  assert.is(model.graph!.name, 'g');
});

test('decodeModel merges repeated messages and keeps the last scalar', () => {
  const bytes = concat(
    varintField(1, 3),
    messageField(7, stringField(2, 'first'), messageField(1, stringField(4, 'A'))),
    varintField(1, 8),
    messageField(7, messageField(1, stringField(4, 'B'))),
  );
  const model = decodeModel(bytes);
  assert.is(model.irVersion, 8);
  assert.is(model.graph!.name, 'first', 'the second graph field merges into the first');
  assert.equal(model.graph!.node.map((n) => n.opType), ['A', 'B']);
});

test('decodeModel keeps one member of the dim oneof', () => {
  const dim = (...fields: Uint8Array[]) => messageField(7, messageField(11, messageField(2, messageField(1, messageField(2, messageField(1, ...fields))))));
  const valueLast = decodeModel(dim(stringField(2, 'N'), varintField(1, 4)));
  assert.equal(valueLast.graph!.input[0].type!.tensorType!.shape!.dim, [{ dimValue: 4 }]);
  const paramLast = decodeModel(dim(varintField(1, 4), stringField(2, 'N')));
  assert.equal(paramLast.graph!.input[0].type!.tensorType!.shape!.dim, [{ dimParam: 'N' }]);
});

test('decodeModel decodes UTF-8 names and replaces invalid bytes', () => {
  const name = (bytes: number[]) => decodeModel(messageField(7, bytesField(2, bytes))).graph!.name;
  assert.is(name([0x61, 0xc3, 0xb1]), 'añ');
  assert.is(name([0x61, 0xff]), 'a\ufffd', 'proto2 strings need not be valid UTF-8');
  const long = 'x'.repeat(70) + 'é';
  assert.is(name(Array.from(new TextEncoder().encode(long))), long);
});

test('decodeModel returns raw_data as a view of the input', () => {
  const bytes = messageField(7, messageField(5, bytesField(9, [9, 8, 7])));
  const raw = decodeModel(bytes).graph!.initializer[0].rawData!;
  assert.equal(Array.from(raw), [9, 8, 7]);
  assert.is(raw.buffer, bytes.buffer);
});

test('decodeModel decodes an empty input as an empty model', () => {
  const model = decodeModel(new Uint8Array(0));
  assert.is(model.graph, undefined);
  assert.equal(model.opsetImport, []);
});

// ---------------------------------------------------------------------------------------------
// Malformed input

function expectProtobufError(bytes: Uint8Array, pattern: RegExp): ProtobufError {
  try {
    decodeModel(bytes);
  } catch (error) {
    assert.instance(error, ProtobufError, `expected a ProtobufError, received ${String(error)}`);
    assert.match((error as Error).message, pattern);
    return error as ProtobufError;
  }
  assert.unreachable(`expected a ProtobufError matching ${pattern}`);
  throw new Error('unreachable');
}

const MALFORMED: Array<{ name: string; bytes: Uint8Array; pattern: RegExp }> = [
  { name: 'varint of 11 bytes', bytes: Uint8Array.from([0x08, ...new Array(10).fill(0xff), 0x01]), pattern: /longer than 64 bits/ },
  { name: 'varint whose tenth byte overflows', bytes: Uint8Array.from([0x08, ...new Array(9).fill(0xff), 0x02]), pattern: /longer than 64 bits/ },
  { name: 'varint cut short', bytes: Uint8Array.from([0x08, 0x80, 0x80]), pattern: /varint runs past the end/ },
  { name: 'tag cut short', bytes: Uint8Array.from([0x80]), pattern: /varint runs past the end/ },
  { name: 'length past the end', bytes: Uint8Array.from([0x3a, 0x05, 0x0a, 0x00]), pattern: /length 5 runs past the end.*2 bytes left/ },
  { name: 'length of 2^32', bytes: Uint8Array.from([0x3a, 0x80, 0x80, 0x80, 0x80, 0x10]), pattern: /length 4294967296 runs past the end/ },
  { name: 'length past the enclosing message', bytes: concat(bytesField(7, [0x0a, 0x09]), new Uint8Array(16)), pattern: /onnx\.GraphProto field 1: length 9 runs past the end/ },
  { name: 'fixed32 cut short', bytes: messageField(7, messageField(1, messageField(5, [0x15, 0, 0]))), pattern: /AttributeProto field 2: 4 bytes needed but only 2/ },
  { name: 'message field as a varint', bytes: Uint8Array.from([0x38, 0x01]), pattern: /ModelProto field 7: wire type 0 \(varint\) where the schema expects 2/ },
  { name: 'string field as fixed64', bytes: concat(tag(2, 1), new Uint8Array(8)), pattern: /field 2: wire type 1 .* expects 2/ },
  { name: 'float as a varint', bytes: modelWithAttribute(varintField(2, 1)), pattern: /AttributeProto field 2: wire type 0 .* expects 5/ },
  { name: 'start group', bytes: Uint8Array.from([0x0b]), pattern: /wire type 3 \(start group\) is not accepted/ },
  { name: 'end group', bytes: Uint8Array.from([0x0c]), pattern: /wire type 4 \(end group\) is not accepted/ },
  { name: 'wire type 7', bytes: Uint8Array.from([0x0f]), pattern: /wire type 7 \(unknown\) is not accepted/ },
  { name: 'field number 0', bytes: Uint8Array.from([0x00, 0x00]), pattern: /invalid field number 0/ },
  { name: 'packed floats not a multiple of 4', bytes: modelWithAttribute(bytesField(7, [0, 0, 0, 0, 0])), pattern: /5 bytes is not a whole number of 4-byte values/ },
  { name: 'packed varint past its length', bytes: modelWithAttribute(bytesField(8, [0x01, 0x80])), pattern: /varint runs past the end/ },
];

for (const { name, bytes, pattern } of MALFORMED) {
  test(`decodeModel rejects ${name}`, () => {
    expectProtobufError(bytes, pattern);
  });
}

test('importOnnx reports malformed protobuf as INVALID_MODEL', () => {
  for (const { name, bytes } of MALFORMED) {
    try {
      importOnnx(bytes, 'broken.onnx');
      assert.unreachable(`${name} was imported`);
    } catch (error) {
      assert.instance(error, FacebitsError, name);
      assert.is((error as FacebitsError).code, 'INVALID_MODEL', name);
      assert.match((error as Error).message, /broken\.onnx: the file is not a valid ONNX protobuf/, name);
      assert.match((error as Error).message, /export or download it again/, name);
      assert.instance((error as Error).cause, ProtobufError, name);
    }
  }
});

/** Builds a model whose graphs nest `levels` deep through If-style graph attributes. */
function nestedGraphs(levels: number): Uint8Array {
  let graph = concat(stringField(2, 'leaf'));
  for (let i = 0; i < levels; i++) {
    graph = concat(messageField(1, stringField(4, 'If'), messageField(5, stringField(1, 'then_branch'), messageField(6, graph))));
  }
  return messageField(7, graph);
}

test('decodeModel limits how deep messages nest', () => {
  // Model, then graph, node and attribute for each level: 1 + 3 x levels + 1 messages.
  const deepest = Math.floor((MAX_DEPTH - 2) / 3);
  const model = decodeModel(nestedGraphs(deepest));
  assert.is(model.graph!.node[0].opType, 'If');
  expectProtobufError(nestedGraphs(deepest + 1), new RegExp(`nested more than ${MAX_DEPTH} deep`));
  // Far deeper than the limit: the reader stops at the limit instead of overflowing the stack.
  expectProtobufError(nestedGraphs(5000), /nested more than/);
});

test('decodeModel rejects input over 2 GiB before reading it', () => {
  // A view that reports 2 GiB, without allocating it.
  class HugeView extends Uint8Array {
    get length(): number {
      return MAX_MESSAGE_BYTES + 1;
    }
  }
  const error = expectProtobufError(new HugeView(8), /2147483648 bytes is more than the protobuf limit of 2147483647 bytes/);
  assert.is(error.offset, 0);
  expectInvalidModel(new HugeView(8), /2147483648 bytes, more than the 2147483647 that a protobuf message can have/);
  expectInvalidModel(new HugeView(8), /external data files/);
});

test('decodeModel rejects every truncation inside a field', () => {
  const bytes = modelWithAttribute(stringField(1, 'alpha'), floatField(2, 0.5), packedVarints(8, [1, -1]));
  let rejected = 0;
  for (let length = 1; length < bytes.length; length++) {
    try {
      decodeModel(bytes.subarray(0, length));
    } catch (error) {
      assert.instance(error, ProtobufError);
      rejected++;
    }
  }
  // The graph field encloses everything, so only the full length decodes.
  assert.is(rejected, bytes.length - 1);
});

// ---------------------------------------------------------------------------------------------
// Fields that the decoder reads so that the importer can reject them clearly

function graphWithInitializer(tensor: onnx.ITensorProto, extra: Partial<onnx.IGraphProto> = {}): Uint8Array {
  const info = (name: string): onnx.IValueInfoProto => ({ name, type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 2 }] } } } });
  return onnx.ModelProto.encode({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      node: [{ opType: 'Add', input: ['x', 'w'], output: ['y'] }],
      input: [info('x')],
      output: [info('y')],
      initializer: [{ name: 'w', dims: [1, 2], dataType: DataType.FLOAT, ...tensor }],
      ...extra,
    },
  }).finish();
}

function expectInvalidModel(bytes: Uint8Array, pattern: RegExp): void {
  try {
    importOnnx(bytes, 'model.onnx');
  } catch (error) {
    assert.instance(error, FacebitsError);
    assert.is((error as FacebitsError).code, 'INVALID_MODEL');
    assert.match((error as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected INVALID_MODEL matching ${pattern}`);
}

test('importOnnx imports the base graph of these cases', () => {
  const imported = importOnnx(graphWithInitializer({ floatData: [1, 2] }), 'model.onnx');
  assert.equal(imported.outputShapes, [[1, 2]]);
});

test('importOnnx rejects external data and names the file', () => {
  const external = { dataLocation: onnx.TensorProto.DataLocation.EXTERNAL, externalData: [{ key: 'location', value: 'weights.bin' }] };
  expectInvalidModel(graphWithInitializer(external), /tensor "w" stores its data in the external file "weights\.bin"/);
  expectInvalidModel(graphWithInitializer(external), /save_as_external_data=False/);
  expectInvalidModel(graphWithInitializer({ dataLocation: onnx.TensorProto.DataLocation.EXTERNAL }), /stores its data in an external file/);
});

test('importOnnx rejects segmented tensors', () => {
  expectInvalidModel(graphWithInitializer({ floatData: [1, 2], segment: { begin: 0, end: 2 } }), /one segment of a split tensor/);
});

test('importOnnx rejects sparse initializers', () => {
  const sparse = { sparseInitializer: [{ dims: [1, 2], values: { name: 's', dims: [1], dataType: DataType.FLOAT, floatData: [1] } }] };
  expectInvalidModel(graphWithInitializer({ floatData: [1, 2] }, sparse), /1 sparse initializers/);
});

test.run();
