// The ONNX messages that the importer reads, decoded from the protobuf wire format with the
// field numbers of onnx.proto, as in the code that onnx-proto 8.0.1 generates from it (the
// tests decode every reference model with both and compare). Fields the importer does not
// use (doc strings, metadata, training info, local functions, sparse and non-tensor types)
// are skipped. int64 fields decode to numbers, and repeated fields are always arrays.
// Messages merge as protobuf specifies: a repeated field appends, a scalar field that occurs
// twice keeps its last value, and an embedded message that occurs twice merges into one.

import { ProtoReader } from './protobuf';

/** TensorProto.DataType: element types of tensors. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
} as const;

/** AttributeProto.AttributeType: which value field of an attribute is set. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** TensorProto.DataLocation: EXTERNAL means the data is in a file named by external_data. */
export const DataLocation = {
  DEFAULT: 0,
  EXTERNAL: 1,
} as const;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}

/** The byte range of a larger tensor that a TensorProto holds, when it is split. */
export interface TensorSegment {
  begin?: number;
  end?: number;
}

export interface TensorProto {
  name?: string;
  dims: number[];
  dataType?: number;
  segment?: TensorSegment;
  rawData?: Uint8Array;
  floatData: number[];
  int32Data: number[];
  int64Data: number[];
  doubleData: number[];
  uint64Data: number[];
  stringData: Uint8Array[];
  externalData: StringStringEntryProto[];
  dataLocation?: number;
}

export interface AttributeProto {
  name?: string;
  refAttrName?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats: number[];
  ints: number[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
}

export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute: AttributeProto[];
}

/** One dim of a tensor shape: a size, a symbolic name, or neither when it is unknown. */
export interface DimensionProto {
  dimValue?: number;
  dimParam?: string;
}

export interface TensorShapeProto {
  dim: DimensionProto[];
}

export interface TensorTypeProto {
  elemType?: number;
  shape?: TensorShapeProto;
}

/** A value's type. Only tensor types are decoded, so a sequence or map leaves `tensorType` unset. */
export interface TypeProto {
  tensorType?: TensorTypeProto;
}

export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  /** Number of sparse initializers, which the importer does not read. */
  sparseInitializerCount: number;
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  valueInfo: ValueInfoProto[];
}

export interface OperatorSetIdProto {
  domain?: string;
  version?: number;
}

export interface ModelProto {
  irVersion?: number;
  opsetImport: OperatorSetIdProto[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  graph?: GraphProto;
}

/** Decodes an ONNX ModelProto. Throws ProtobufError when the bytes are not valid protobuf. */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const model: ModelProto = { opsetImport: [] };
  readModel(ProtoReader.root(bytes, 'onnx.ModelProto'), model);
  return model;
}

function readModel(r: ProtoReader, model: ModelProto): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: model.irVersion = r.int64(wireType); break;
      case 2: model.producerName = r.string(wireType); break;
      case 3: model.producerVersion = r.string(wireType); break;
      case 4: model.domain = r.string(wireType); break;
      case 5: model.modelVersion = r.int64(wireType); break;
      case 7: readGraph(r.nested(wireType, 'onnx.GraphProto'), (model.graph ??= newGraph())); break;
      case 8: model.opsetImport.push(readOperatorSetId(r.nested(wireType, 'onnx.OperatorSetIdProto'))); break;
      default: r.skip(wireType);
    }
  }
}

function readOperatorSetId(r: ProtoReader): OperatorSetIdProto {
  const entry: OperatorSetIdProto = {};
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: entry.domain = r.string(wireType); break;
      case 2: entry.version = r.int64(wireType); break;
      default: r.skip(wireType);
    }
  }
  return entry;
}

function newGraph(): GraphProto {
  return { node: [], initializer: [], sparseInitializerCount: 0, input: [], output: [], valueInfo: [] };
}

function readGraph(r: ProtoReader, graph: GraphProto): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: graph.node.push(readNode(r.nested(wireType, 'onnx.NodeProto'))); break;
      case 2: graph.name = r.string(wireType); break;
      case 5: graph.initializer.push(readTensor(r.nested(wireType, 'onnx.TensorProto'), newTensor())); break;
      case 11: graph.input.push(readValueInfo(r.nested(wireType, 'onnx.ValueInfoProto'))); break;
      case 12: graph.output.push(readValueInfo(r.nested(wireType, 'onnx.ValueInfoProto'))); break;
      case 13: graph.valueInfo.push(readValueInfo(r.nested(wireType, 'onnx.ValueInfoProto'))); break;
      case 15:
        r.nested(wireType, 'onnx.SparseTensorProto');
        graph.sparseInitializerCount++;
        break;
      default: r.skip(wireType);
    }
  }
}

function readNode(r: ProtoReader): NodeProto {
  const node: NodeProto = { input: [], output: [], attribute: [] };
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: node.input.push(r.string(wireType)); break;
      case 2: node.output.push(r.string(wireType)); break;
      case 3: node.name = r.string(wireType); break;
      case 4: node.opType = r.string(wireType); break;
      case 5: node.attribute.push(readAttribute(r.nested(wireType, 'onnx.AttributeProto'))); break;
      case 7: node.domain = r.string(wireType); break;
      default: r.skip(wireType);
    }
  }
  return node;
}

function readAttribute(r: ProtoReader): AttributeProto {
  const attribute: AttributeProto = { floats: [], ints: [], strings: [], tensors: [], graphs: [] };
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: attribute.name = r.string(wireType); break;
      case 2: attribute.f = r.float(wireType); break;
      case 3: attribute.i = r.int64(wireType); break;
      case 4: attribute.s = r.bytesField(wireType); break;
      case 5: readTensor(r.nested(wireType, 'onnx.TensorProto'), (attribute.t ??= newTensor())); break;
      case 6: readGraph(r.nested(wireType, 'onnx.GraphProto'), (attribute.g ??= newGraph())); break;
      case 7: r.repeatedFloat(wireType, attribute.floats); break;
      case 8: r.repeatedInt64(wireType, attribute.ints); break;
      case 9: attribute.strings.push(r.bytesField(wireType)); break;
      case 10: attribute.tensors.push(readTensor(r.nested(wireType, 'onnx.TensorProto'), newTensor())); break;
      case 11: {
        const graph = newGraph();
        readGraph(r.nested(wireType, 'onnx.GraphProto'), graph);
        attribute.graphs.push(graph);
        break;
      }
      case 20: attribute.type = r.int32(wireType); break;
      case 21: attribute.refAttrName = r.string(wireType); break;
      default: r.skip(wireType);
    }
  }
  return attribute;
}

function newTensor(): TensorProto {
  return { dims: [], floatData: [], int32Data: [], int64Data: [], doubleData: [], uint64Data: [], stringData: [], externalData: [] };
}

function readTensor(r: ProtoReader, tensor: TensorProto): TensorProto {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: r.repeatedInt64(wireType, tensor.dims); break;
      case 2: tensor.dataType = r.int32(wireType); break;
      case 3: readSegment(r.nested(wireType, 'onnx.TensorProto.Segment'), (tensor.segment ??= {})); break;
      case 4: r.repeatedFloat(wireType, tensor.floatData); break;
      case 5: r.repeatedInt32(wireType, tensor.int32Data); break;
      case 6: tensor.stringData.push(r.bytesField(wireType)); break;
      case 7: r.repeatedInt64(wireType, tensor.int64Data); break;
      case 8: tensor.name = r.string(wireType); break;
      case 9: tensor.rawData = r.bytesField(wireType); break;
      case 10: r.repeatedDouble(wireType, tensor.doubleData); break;
      case 11: r.repeatedUint64(wireType, tensor.uint64Data); break;
      case 13: tensor.externalData.push(readStringEntry(r.nested(wireType, 'onnx.StringStringEntryProto'))); break;
      case 14: tensor.dataLocation = r.int32(wireType); break;
      default: r.skip(wireType);
    }
  }
  return tensor;
}

function readSegment(r: ProtoReader, segment: TensorSegment): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: segment.begin = r.int64(wireType); break;
      case 2: segment.end = r.int64(wireType); break;
      default: r.skip(wireType);
    }
  }
}

function readStringEntry(r: ProtoReader): StringStringEntryProto {
  const entry: StringStringEntryProto = {};
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: entry.key = r.string(wireType); break;
      case 2: entry.value = r.string(wireType); break;
      default: r.skip(wireType);
    }
  }
  return entry;
}

function readValueInfo(r: ProtoReader): ValueInfoProto {
  const info: ValueInfoProto = {};
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: info.name = r.string(wireType); break;
      case 2: readType(r.nested(wireType, 'onnx.TypeProto'), (info.type ??= {})); break;
      default: r.skip(wireType);
    }
  }
  return info;
}

function readType(r: ProtoReader, type: TypeProto): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: readTensorType(r.nested(wireType, 'onnx.TypeProto.Tensor'), (type.tensorType ??= {})); break;
      default: r.skip(wireType);
    }
  }
}

function readTensorType(r: ProtoReader, tensorType: TensorTypeProto): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: tensorType.elemType = r.int32(wireType); break;
      case 2: readShape(r.nested(wireType, 'onnx.TensorShapeProto'), (tensorType.shape ??= { dim: [] })); break;
      default: r.skip(wireType);
    }
  }
}

function readShape(r: ProtoReader, shape: TensorShapeProto): void {
  while (r.more()) {
    const wireType = r.tag();
    switch (r.field) {
      case 1: shape.dim.push(readDimension(r.nested(wireType, 'onnx.TensorShapeProto.Dimension'))); break;
      default: r.skip(wireType);
    }
  }
}

function readDimension(r: ProtoReader): DimensionProto {
  const dim: DimensionProto = {};
  while (r.more()) {
    const wireType = r.tag();
    // dim_value and dim_param form a oneof, so setting one clears the other.
    switch (r.field) {
      case 1:
        dim.dimValue = r.int64(wireType);
        delete dim.dimParam;
        break;
      case 2:
        dim.dimParam = r.string(wireType);
        delete dim.dimValue;
        break;
      default: r.skip(wireType);
    }
  }
  return dim;
}
