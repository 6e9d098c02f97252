/**
 * The small part of the protobuf wire format that KPL aggregation needs
 * (https://protobuf.dev/programming-guides/encoding/): base-128 varints, length-delimited fields, and
 * skipping of unknown fields. Internal to `kpl/`.
 */

/** Protobuf wire types. Groups (3, 4) are deprecated and never written by the KPL. */
export const WireType = { VARINT: 0, FIXED64: 1, LENGTH_DELIMITED: 2, FIXED32: 5 } as const;

/** A field's tag: field number and wire type in one varint. Fits in one byte for field numbers below 16. */
export function fieldTag(fieldNumber: number, wireType: number): number {
  return (fieldNumber << 3) | wireType;
}

/** Bytes taken by `value` (a non-negative safe integer) as a varint. */
export function varintSize(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Writes `value` (a non-negative safe integer) as a varint at `pos`; returns the position after it. */
export function writeVarint(out: Uint8Array, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[pos++] = value;
  return pos;
}

/** The bytes are not a well-formed protobuf message. Internal: de-aggregation turns it into "plain record". */
export class WireFormatError extends Error {
  constructor(message: string, position: number) {
    super(`${message} at byte ${position}`);
    this.name = 'WireFormatError';
  }
}

/**
 * A cursor over `bytes[pos, end)`. Reads never pass `end`; malformed input throws {@link WireFormatError}.
 * One reader is reused (see {@link WireReader.reset}) so that parsing allocates nothing per field.
 */
export class WireReader {
  readonly #bytes: Uint8Array;
  #pos: number;
  #end: number;

  constructor(bytes: Uint8Array, start: number, end: number) {
    this.#bytes = bytes;
    this.#pos = start;
    this.#end = end;
  }

  /** Current position in the underlying bytes. */
  get pos(): number {
    return this.#pos;
  }

  /** Whether every byte up to the end was read. */
  get isAtEnd(): boolean {
    return this.#pos >= this.#end;
  }

  /** Moves the cursor to read `bytes[start, end)`. */
  reset(start: number, end: number): void {
    this.#pos = start;
    this.#end = end;
  }

  /**
   * Reads a varint of up to 10 bytes (uint64). Values above 2^53 lose precision, which is harmless
   * here: every value read is a length or a table index, checked against far smaller bounds.
   */
  readVarint(): number {
    const bytes = this.#bytes;
    let pos = this.#pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.#end) throw new WireFormatError('truncated varint', pos);
      const byte = bytes[pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.#pos = pos;
        return result;
      }
      scale *= 0x80;
    }
    throw new WireFormatError('varint longer than 10 bytes', this.#pos);
  }

  /** Reads the length prefix of a length-delimited field and checks that the field fits before the end. */
  readLength(): number {
    const length = this.readVarint();
    if (length > this.#end - this.#pos)
      throw new WireFormatError('length-delimited field past the end', this.#pos);
    return length;
  }

  /** Advances past `length` bytes already checked by {@link WireReader.readLength}. */
  skipBytes(length: number): void {
    this.#pos += length;
  }

  /** Skips the value of an unknown field, as protobuf parsers do. */
  skipField(tag: number): void {
    if (tag < 8) throw new WireFormatError('field number 0', this.#pos);
    switch (tag % 8) {
      case WireType.VARINT:
        this.readVarint();
        return;
      case WireType.FIXED64:
        this.#skipFixed(8);
        return;
      case WireType.LENGTH_DELIMITED: {
        const length = this.readLength(); // before reading #pos: readLength moves it
        this.#pos += length;
        return;
      }
      case WireType.FIXED32:
        this.#skipFixed(4);
        return;
      default:
        throw new WireFormatError(`unsupported wire type ${tag % 8}`, this.#pos);
    }
  }

  #skipFixed(length: number): void {
    if (length > this.#end - this.#pos)
      throw new WireFormatError('fixed-width field past the end', this.#pos);
    this.#pos += length;
  }
}
