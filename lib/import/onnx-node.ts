// Attribute access for ONNX nodes, with the defaults given by the caller.

import type { AttributeProto, NodeProto, TensorProto } from './onnx-schema';

export type OnnxNode = NodeProto;

function findAttribute(node: OnnxNode, name: string): AttributeProto | undefined {
  return node.attribute.find((a) => a.name === name);
}

export function hasAttribute(node: OnnxNode, name: string): boolean {
  return findAttribute(node, name) !== undefined;
}

export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? attribute.i ?? 0 : fallback;
}

export function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? attribute.f ?? 0 : fallback;
}

export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const attribute = findAttribute(node, name);
  return attribute ? attribute.ints.slice() : undefined;
}

export function floatsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const attribute = findAttribute(node, name);
  return attribute ? attribute.floats.slice() : undefined;
}

export function stringAttribute(node: OnnxNode, name: string, fallback: string): string {
  const attribute = findAttribute(node, name);
  return attribute?.s ? Buffer.from(attribute.s).toString('utf8') : fallback;
}

export function tensorAttribute(node: OnnxNode, name: string): TensorProto | undefined {
  return findAttribute(node, name)?.t;
}

/** Returns the node's name, or its op type and position when the model leaves it unnamed. */
export function nodeLabel(node: OnnxNode, index: number): string {
  return node.name || `${node.opType ?? '?'}#${index}`;
}
