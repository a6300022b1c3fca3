// Mutation fuzzer for the ONNX protobuf decoder (decodeModel in lib/import/onnx-schema.ts)
// and the importer behind it (importOnnx). Each round mutates a valid model: bit flips, byte
// runs, varints of edge values written over the bytes (lengths, tags, dims), truncation,
// duplicated and deleted byte ranges. decodeModel must return or raise ProtobufError, and
// importOnnx must return or raise a FacebitsError; anything else is a finding, saved under
// fuzz/out/. The bases are three small graphs and, when the reference data is beside the
// checkout, the YuNet 320x320 detector.
//   npx tsx fuzz/onnx-fuzz.ts --seconds 60 [--seed N]

import * as fs from 'node:fs';
import * as path from 'node:path';

import { onnx } from 'onnx-proto';

import { FacebitsError } from '../lib/errors';
import { importOnnx } from '../lib/import/onnx';
import { decodeModel } from '../lib/import/onnx-schema';
import { ProtobufError } from '../lib/import/protobuf';
import { finish, fuzzArguments, saveFinding } from './driver';

const REFERENCE_MODEL = path.join(__dirname, '..', '..', 'shared', 'models', 'yunet', 'yunet_s_320_320.onnx');

function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;
const Attribute = onnx.AttributeProto.AttributeType;

function valueInfo(name: string, dims: number[]): onnx.IValueInfoProto {
  return { name, type: { tensorType: { elemType: FLOAT, shape: { dim: dims.map((d) => ({ dimValue: d })) } } } };
}

function encode(graph: onnx.IGraphProto): Uint8Array {
  return onnx.ModelProto.encode({ irVersion: 8, opsetImport: [{ domain: '', version: 13 }], graph }).finish();
}

/** Valid small models that cover raw_data, float_data, int64 data, attributes of each kind and subgraphs. */
export function baseModels(): Uint8Array[] {
  const conv = encode({
    name: 'conv',
    node: [
      { opType: 'Conv', name: 'conv', input: ['x', 'w', 'b'], output: ['c'], attribute: [{ name: 'kernel_shape', type: Attribute.INTS, ints: [3, 3] }, { name: 'pads', type: Attribute.INTS, ints: [1, 1, 1, 1] }] },
      { opType: 'Clip', name: 'clip', input: ['c', 'lo', 'hi'], output: ['y'] },
    ],
    input: [valueInfo('x', [1, 2, 6, 6])],
    output: [valueInfo('y', [1, 3, 6, 6])],
    initializer: [
      { name: 'w', dims: [3, 2, 3, 3], dataType: FLOAT, rawData: new Uint8Array(Float32Array.from({ length: 54 }, (_, i) => Math.sin(i)).buffer) },
      { name: 'b', dims: [3], dataType: FLOAT, floatData: [0.5, -0.25, 1] },
      { name: 'lo', dims: [], dataType: FLOAT, floatData: [0] },
      { name: 'hi', dims: [], dataType: FLOAT, floatData: [6] },
    ],
  });
  const reshape = encode({
    name: 'reshape',
    node: [
      { opType: 'Constant', name: 'shape', output: ['s'], attribute: [{ name: 'value', type: Attribute.TENSOR, t: { dims: [2], dataType: INT64, int64Data: [1, -1] } }] },
      { opType: 'Reshape', name: 'flatten', input: ['x', 's'], output: ['f'] },
      { opType: 'Gemm', name: 'fc', input: ['f', 'w'], output: ['y'], attribute: [{ name: 'transB', type: Attribute.INT, i: 1 }, { name: 'alpha', type: Attribute.FLOAT, f: 0.5 }] },
    ],
    input: [valueInfo('x', [1, 2, 2, 2])],
    output: [valueInfo('y', [1, 4])],
    initializer: [{ name: 'w', dims: [4, 8], dataType: FLOAT, floatData: Array.from({ length: 32 }, (_, i) => i / 32) }],
  });
  const branch: onnx.IGraphProto = { name: 'then', node: [{ opType: 'Identity', input: ['x'], output: ['t'] }], output: [valueInfo('t', [1, 1, 2, 2])] };
  const subgraph = encode({
    name: 'if',
    node: [
      { opType: 'Resize', name: 'resize', input: ['x', '', 'scales'], output: ['r'], attribute: [{ name: 'mode', type: Attribute.STRING, s: new TextEncoder().encode('nearest') }] },
      { opType: 'If', name: 'branch', input: ['cond'], output: ['y'], attribute: [{ name: 'then_branch', type: Attribute.GRAPH, g: branch }, { name: 'else_branch', type: Attribute.GRAPH, g: branch }] },
    ],
    input: [valueInfo('x', [1, 1, 2, 2])],
    output: [valueInfo('r', [1, 1, 4, 4])],
    initializer: [
      { name: 'scales', dims: [4], dataType: FLOAT, floatData: [1, 1, 2, 2] },
      { name: 'cond', dims: [], dataType: onnx.TensorProto.DataType.BOOL, int32Data: [1] },
    ],
  });
  const bases = [conv, reshape, subgraph];
  if (fs.existsSync(REFERENCE_MODEL)) bases.push(new Uint8Array(fs.readFileSync(REFERENCE_MODEL)));
  return bases;
}

/** Varint values that sit on the limits of the reader: lengths, field numbers and 64-bit edges. */
const EDGE_VARINTS = [0n, 1n, 127n, 128n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 1n << 53n, (1n << 63n) - 1n, (1n << 64n) - 1n];

function encodeVarint(value: bigint): number[] {
  const out: number[] = [];
  let rest = value;
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return out;
}

/** Returns `bytes` with `removed` bytes at `at` replaced by `inserted`. */
function splice(bytes: Uint8Array, at: number, removed: number, inserted: Uint8Array = new Uint8Array(0)): Uint8Array {
  const tail = bytes.subarray(Math.min(bytes.length, at + removed));
  const out = new Uint8Array(at + inserted.length + tail.length);
  out.set(bytes.subarray(0, at));
  out.set(inserted, at);
  out.set(tail, at + inserted.length);
  return out;
}

function mutate(base: Uint8Array, next: () => number): Uint8Array {
  let bytes = new Uint8Array(base);
  const pick = (n: number): number => Math.floor(next() * n);
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds && bytes.length > 0; r++) {
    const at = pick(bytes.length);
    switch (pick(7)) {
      case 0: bytes[at] ^= 1 << pick(8); break;
      case 1: bytes.fill(pick(256), at, Math.min(bytes.length, at + 1 + pick(16))); break;
      case 2: {
        // A varint of an edge value over the bytes at `at`, which often hits a tag or a length.
        const value = EDGE_VARINTS[pick(EDGE_VARINTS.length)] + BigInt(pick(3)) - 1n;
        const encoded = encodeVarint(BigInt.asUintN(64, value));
        if (pick(4) === 0) encoded.push(0x80, 0x80); // longer than the protobuf maximum of 10 bytes
        bytes.set(encoded.slice(0, bytes.length - at), at);
        break;
      }
      case 3: bytes = bytes.slice(0, pick(bytes.length + 1)); break;
      case 4: {
        const length = 1 + pick(64);
        const copy = bytes.slice(at, at + length);
        bytes = splice(bytes, pick(bytes.length + 1), 0, copy);
        break;
      }
      case 5: bytes = splice(bytes, at, 1 + pick(32)); break;
      default: {
        const extra = Uint8Array.from({ length: 1 + pick(16) }, () => pick(256));
        bytes = splice(bytes, at, 0, extra);
      }
    }
  }
  return bytes;
}

export interface OnnxFuzzReport {
  rounds: number;
  /** Inputs that decodeModel rejected with ProtobufError. */
  rejected: number;
  /** Inputs that decoded and that importOnnx then imported. */
  imported: number;
  /** Inputs that decoded and that importOnnx then rejected with a FacebitsError. */
  importRejected: number;
  findings: string[];
}

/** Runs rounds until `seconds` pass or `maxRounds` are done. */
export function fuzzOnnx(seconds: number, seed = 1, maxRounds = Infinity): OnnxFuzzReport {
  const bases = baseModels();
  const next = random(seed);
  const report: OnnxFuzzReport = { rounds: 0, rejected: 0, imported: 0, importRejected: 0, findings: [] };
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end && report.rounds < maxRounds) {
    const bytes = mutate(bases[report.rounds % bases.length], next);
    report.rounds++;
    try {
      decodeModel(bytes);
    } catch (error) {
      if (error instanceof ProtobufError) report.rejected++;
      else saveFinding(report.findings, 'onnx', '.onnx', seed, report.rounds, bytes, error);
      continue;
    }
    try {
      importOnnx(bytes, 'fuzz.onnx');
      report.imported++;
    } catch (error) {
      if (error instanceof FacebitsError) report.importRejected++;
      else saveFinding(report.findings, 'onnx', '.onnx', seed, report.rounds, bytes, error);
    }
  }
  return report;
}

if (require.main === module) {
  const { seconds, seed } = fuzzArguments();
  const report = fuzzOnnx(seconds, seed);
  finish(
    `onnx-fuzz: seed ${seed}, ${report.rounds} rounds in ${seconds} s, ${report.rejected} rejected by the decoder, ` +
      `${report.importRejected} rejected by the importer, ${report.imported} imported`,
    report.findings,
  );
}
