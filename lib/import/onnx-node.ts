// Attribute access for ONNX nodes, with the defaults given by the caller.

import { onnx } from 'onnx-proto';

import { toNumber } from './onnx-tensor';

export type OnnxNode = onnx.INodeProto;

function findAttribute(node: OnnxNode, name: string): onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function hasAttribute(node: OnnxNode, name: string): boolean {
  return findAttribute(node, name) !== undefined;
}

export function intAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? toNumber(attribute.i) : fallback;
}

export function floatAttribute(node: OnnxNode, name: string, fallback: number): number {
  const attribute = findAttribute(node, name);
  return attribute ? attribute.f ?? 0 : fallback;
}

export function intsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const attribute = findAttribute(node, name);
  return attribute ? (attribute.ints ?? []).map(toNumber) : undefined;
}

export function floatsAttribute(node: OnnxNode, name: string): number[] | undefined {
  const attribute = findAttribute(node, name);
  return attribute ? Array.from(attribute.floats ?? []) : undefined;
}

export function stringAttribute(node: OnnxNode, name: string, fallback: string): string {
  const attribute = findAttribute(node, name);
  return attribute?.s ? Buffer.from(attribute.s).toString('utf8') : fallback;
}

export function tensorAttribute(node: OnnxNode, name: string): onnx.ITensorProto | undefined {
  return findAttribute(node, name)?.t ?? undefined;
}

/** Returns the node's name, or its op type and position when the model leaves it unnamed. */
export function nodeLabel(node: OnnxNode, index: number): string {
  return node.name || `${node.opType ?? '?'}#${index}`;
}
