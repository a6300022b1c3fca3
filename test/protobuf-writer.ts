// A minimal protobuf encoder for tests, to build well-formed and deliberately malformed
// ONNX messages byte by byte.

/** Encodes a varint. Negative values take ten bytes, as int64 fields encode them. */
export function varint(value: number | bigint): number[] {
  let rest = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out.push(rest > 0n ? low | 0x80 : low);
  } while (rest > 0n);
  return out;
}

export function concat(...parts: Array<Uint8Array | number[]>): Uint8Array {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function tag(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

export function varintField(field: number, value: number | bigint): Uint8Array {
  return concat(tag(field, 0), varint(value));
}

export function bytesField(field: number, bytes: Uint8Array | number[]): Uint8Array {
  return concat(tag(field, 2), varint(bytes.length), bytes);
}

export function stringField(field: number, text: string): Uint8Array {
  return bytesField(field, new TextEncoder().encode(text));
}

/** An embedded message: the concatenated fields, length-delimited. */
export function messageField(field: number, ...fields: Uint8Array[]): Uint8Array {
  return bytesField(field, concat(...fields));
}

export function floatField(field: number, value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setFloat32(0, value, true);
  return concat(tag(field, 5), bytes);
}

/** A packed repeated varint field. */
export function packedVarints(field: number, values: Array<number | bigint>): Uint8Array {
  return bytesField(field, values.flatMap((v) => varint(v)));
}

/** A packed repeated float field. */
export function packedFloats(field: number, values: number[]): Uint8Array {
  return bytesField(field, new Uint8Array(Float32Array.from(values).buffer));
}
