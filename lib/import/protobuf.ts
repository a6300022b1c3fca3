// A strict reader of the protobuf wire format (tags, varints, fixed-width and length-delimited
// fields), enough for the ONNX messages that the importer decodes. It checks every varint,
// length and wire type against the enclosing message, so malformed input raises ProtobufError
// and never reads past the end, loops forever or recurses without bound.

/** Wire types of the protobuf encoding that the reader accepts. Groups (3 and 4) are deprecated. */
export type WireType = 0 | 1 | 2 | 5;

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

const WIRE_TYPE_NAMES: Record<number, string> = {
  0: 'varint',
  1: '64-bit',
  2: 'length-delimited',
  3: 'start group',
  4: 'end group',
  5: '32-bit',
};

/** Protobuf messages, and so ONNX files that keep their weights inside, are limited to 2 GiB - 1. */
export const MAX_MESSAGE_BYTES = 0x7fffffff;

/** Maximum nesting of decoded messages, the default recursion limit of protobuf's Java CodedInputStream. */
export const MAX_DEPTH = 100;

/** Malformed protobuf input: `offset` is the byte at which decoding failed. */
export class ProtobufError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'ProtobufError';
  }
}

const TWO_POW_32 = 4294967296;

// Proto2 does not require string fields to be valid UTF-8, and the ONNX schema is proto2, so
// invalid sequences become U+FFFD instead of failing the model.
const utf8 = new TextDecoder('utf-8');

/**
 * Cursor over one message: the bytes from `pos` to `end` of a shared buffer. Reading a
 * length-delimited field as a message returns a new reader limited to that field.
 */
export class ProtoReader {
  /** Field number of the last tag read, for error messages. */
  field = 0;
  private lo = 0;
  private hi = 0;

  private constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private pos: number,
    private readonly end: number,
    /** Fully qualified message name, for error messages. */
    readonly message: string,
    readonly depth: number,
  ) {}

  /** Starts reading `bytes` as one top-level message of type `message`. */
  static root(bytes: Uint8Array, message: string): ProtoReader {
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new ProtobufError(`${bytes.length} bytes is more than the protobuf limit of ${MAX_MESSAGE_BYTES} bytes`, 0);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new ProtoReader(bytes, view, 0, bytes.length, message, 1);
  }

  /** Returns true while the message has bytes left. */
  more(): boolean {
    return this.pos < this.end;
  }

  /** Reads a field tag, stores its field number in `field` and returns its wire type. */
  tag(): WireType {
    const at = this.pos;
    this.varint();
    if (this.hi !== 0 || this.lo >>> 3 === 0) {
      throw this.error(`invalid field number ${this.hi !== 0 ? 'above 2^29' : 0}`, at);
    }
    const wireType = this.lo & 7;
    this.field = this.lo >>> 3;
    if (wireType !== 0 && wireType !== 1 && wireType !== 2 && wireType !== 5) {
      const name = WIRE_TYPE_NAMES[wireType] ?? 'unknown';
      throw this.error(`wire type ${wireType} (${name}) is not accepted`, at);
    }
    return wireType as WireType;
  }

  /** Skips the value of an unknown field. */
  skip(wireType: WireType): void {
    switch (wireType) {
      case VARINT: this.varint(); break;
      case FIXED64: this.advance(8); break;
      case FIXED32: this.advance(4); break;
      case LENGTH_DELIMITED: this.advance(this.length()); break;
    }
  }

  /** Reads an int32 or enum field: the low 32 bits of the varint, signed. */
  int32(wireType: WireType): number {
    this.expect(wireType, VARINT);
    this.varint();
    return this.lo | 0;
  }

  /**
   * Reads an int64 field as a number. Values beyond 2^53 in magnitude are rounded to the
   * nearest double, as protobufjs's Long.toNumber rounds them.
   */
  int64(wireType: WireType): number {
    this.expect(wireType, VARINT);
    this.varint();
    return (this.hi | 0) * TWO_POW_32 + this.lo;
  }

  /** Reads a uint64 field as a number, rounded to the nearest double beyond 2^53. */
  uint64(wireType: WireType): number {
    this.expect(wireType, VARINT);
    this.varint();
    return this.hi * TWO_POW_32 + this.lo;
  }

  float(wireType: WireType): number {
    this.expect(wireType, FIXED32);
    const at = this.advance(4);
    return this.view.getFloat32(at, true);
  }

  double(wireType: WireType): number {
    this.expect(wireType, FIXED64);
    const at = this.advance(8);
    return this.view.getFloat64(at, true);
  }

  /** Reads a bytes field as a view into the input buffer, without copying. */
  bytesField(wireType: WireType): Uint8Array {
    this.expect(wireType, LENGTH_DELIMITED);
    const length = this.length();
    const at = this.advance(length);
    return this.bytes.subarray(at, at + length);
  }

  string(wireType: WireType): string {
    this.expect(wireType, LENGTH_DELIMITED);
    const length = this.length();
    const at = this.advance(length);
    const bytes = this.bytes;
    // Node and tensor names are short ASCII, which String.fromCharCode builds faster than
    // TextDecoder, and without the view that TextDecoder needs.
    if (length <= 64) {
      let text = '';
      for (let i = at; i < at + length; i++) {
        if (bytes[i] >= 0x80) return utf8.decode(bytes.subarray(at, at + length));
        text += String.fromCharCode(bytes[i]);
      }
      return text;
    }
    return utf8.decode(bytes.subarray(at, at + length));
  }

  /** Reads an embedded message field of type `message` and returns a reader limited to it. */
  nested(wireType: WireType, message: string): ProtoReader {
    this.expect(wireType, LENGTH_DELIMITED);
    const length = this.length();
    if (this.depth >= MAX_DEPTH) {
      throw this.error(`messages are nested more than ${MAX_DEPTH} deep`, this.pos);
    }
    const at = this.advance(length);
    return new ProtoReader(this.bytes, this.view, at, at + length, message, this.depth + 1);
  }

  /** Appends a repeated int32 field, packed or not. */
  repeatedInt32(wireType: WireType, out: number[]): void {
    if (wireType !== LENGTH_DELIMITED) {
      out.push(this.int32(wireType));
      return;
    }
    const end = this.packedEnd();
    while (this.pos < end) {
      this.varint(end);
      out.push(this.lo | 0);
    }
  }

  /** Appends a repeated int64 field, packed or not. */
  repeatedInt64(wireType: WireType, out: number[]): void {
    if (wireType !== LENGTH_DELIMITED) {
      out.push(this.int64(wireType));
      return;
    }
    const end = this.packedEnd();
    while (this.pos < end) {
      this.varint(end);
      out.push((this.hi | 0) * TWO_POW_32 + this.lo);
    }
  }

  /** Appends a repeated uint64 field, packed or not. */
  repeatedUint64(wireType: WireType, out: number[]): void {
    if (wireType !== LENGTH_DELIMITED) {
      out.push(this.uint64(wireType));
      return;
    }
    const end = this.packedEnd();
    while (this.pos < end) {
      this.varint(end);
      out.push(this.hi * TWO_POW_32 + this.lo);
    }
  }

  /** Appends a repeated float field, packed or not. */
  repeatedFloat(wireType: WireType, out: number[]): void {
    if (wireType !== LENGTH_DELIMITED) {
      out.push(this.float(wireType));
      return;
    }
    const end = this.packedEnd(4);
    for (let at = this.pos; at < end; at += 4) out.push(this.view.getFloat32(at, true));
    this.pos = end;
  }

  /** Appends a repeated double field, packed or not. */
  repeatedDouble(wireType: WireType, out: number[]): void {
    if (wireType !== LENGTH_DELIMITED) {
      out.push(this.double(wireType));
      return;
    }
    const end = this.packedEnd(8);
    for (let at = this.pos; at < end; at += 8) out.push(this.view.getFloat64(at, true));
    this.pos = end;
  }

  /** Builds the error for the current field, naming the message, the field and the byte offset. */
  error(detail: string, at = this.pos): ProtobufError {
    const where = this.field > 0 ? `${this.message} field ${this.field}` : this.message;
    return new ProtobufError(`${where}: ${detail} (at byte ${at})`, at);
  }

  private expect(actual: WireType, expected: number): void {
    if (actual !== expected) {
      throw this.error(`wire type ${actual} (${WIRE_TYPE_NAMES[actual]}) where the schema expects ${expected} (${WIRE_TYPE_NAMES[expected]})`);
    }
  }

  /** Moves past `count` bytes of this message and returns where they start. */
  private advance(count: number): number {
    const at = this.pos;
    if (count > this.end - at) {
      throw this.error(`${count} bytes needed but only ${this.end - at} are left in the message`, at);
    }
    this.pos = at + count;
    return at;
  }

  /** Reads the length of a length-delimited field and checks that it fits in the message. */
  private length(): number {
    const at = this.pos;
    this.varint();
    if (this.hi !== 0 || this.lo > this.end - this.pos) {
      const length = this.hi * TWO_POW_32 + this.lo;
      throw this.error(`length ${length} runs past the end of the message, which has ${this.end - this.pos} bytes left`, at);
    }
    return this.lo;
  }

  /** Reads the length of a packed field and returns where its values end. */
  private packedEnd(elementSize = 0): number {
    const length = this.length();
    if (elementSize > 0 && length % elementSize !== 0) {
      throw this.error(`packed field of ${length} bytes is not a whole number of ${elementSize}-byte values`);
    }
    return this.pos + length;
  }

  /**
   * Reads a varint of up to 10 bytes into `lo` and `hi` (the low and high 32 bits, unsigned).
   * Raises when it runs past `end` or does not fit in 64 bits.
   */
  private varint(end = this.end): void {
    const bytes = this.bytes;
    const start = this.pos;
    let pos = start;
    let lo = 0;
    let hi = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= end) throw this.error('varint runs past the end of the message', start);
      const byte = bytes[pos++];
      if (shift < 28) {
        lo |= (byte & 0x7f) << shift;
      } else if (shift === 28) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >>> 4;
      } else if (shift < 63) {
        hi |= (byte & 0x7f) << (shift - 32);
      } else if (byte > 1) {
        // The tenth byte holds bit 63 only, so any other bit overflows 64 bits.
        throw this.error('varint is longer than 64 bits', start);
      } else {
        hi |= byte << 31;
      }
      if ((byte & 0x80) === 0) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
    }
    // Unreachable: the tenth byte either ends the varint or raises above.
    throw this.error('varint is longer than 10 bytes', start);
  }
}
