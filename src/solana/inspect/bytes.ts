/**
 * A bounds-checked cursor over untrusted bytes. Every read past the end, and every non-canonical
 * compact-u16, throws `MalformedBytes`, so decoders built on it never read garbage or loop forever.
 */
export class MalformedBytes extends Error {
  override readonly name = 'MalformedBytes';
}

export class ByteReader {
  readonly bytes: Uint8Array;
  offset: number;
  readonly #view: DataView;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }

  #need(count: number, what: string): void {
    if (count < 0 || this.offset + count > this.bytes.length) throw new MalformedBytes(`truncated ${what}`);
  }

  u8(what = 'u8'): number {
    this.#need(1, what);
    return this.bytes[this.offset++]!;
  }

  u16(what = 'u16'): number {
    this.#need(2, what);
    const value = this.#view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(what = 'u32'): number {
    this.#need(4, what);
    const value = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(what = 'u64'): bigint {
    this.#need(8, what);
    const value = this.#view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A view (no copy) of the next `count` bytes. */
  take(count: number, what = 'bytes'): Uint8Array {
    this.#need(count, what);
    const slice = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return slice;
  }

  /**
   * Solana's short_vec length: 7 bits per byte, at most 3 bytes, value ≤ 0xffff. Like the runtime,
   * refuses alias encodings (a trailing zero byte) so one message has one encoding.
   */
  compactU16(what = 'length'): number {
    let value = 0;
    for (let index = 0; index < 3; index++) {
      const byte = this.u8(what);
      if (index === 2 && byte > 0x03) throw new MalformedBytes(`${what} overflows u16`);
      if (index > 0 && byte === 0) throw new MalformedBytes(`${what} has an alias encoding`);
      value |= (byte & 0x7f) << (7 * index);
      if ((byte & 0x80) === 0) return value;
    }
    throw new MalformedBytes(`${what} is longer than 3 bytes`);
  }

  /** Borsh Option<String>: 0, or 1 then a u32 length and UTF-8 bytes (returned undecoded). */
  optionalString(what = 'string'): Uint8Array | undefined {
    const tag = this.u8(what);
    if (tag === 0) return undefined;
    if (tag !== 1) throw new MalformedBytes(`${what} has option tag ${tag}`);
    return this.take(this.u32(what), what);
  }

  bool(what = 'bool'): boolean {
    const value = this.u8(what);
    if (value > 1) throw new MalformedBytes(`${what} is not a bool`);
    return value === 1;
  }

  end(what = 'data'): void {
    if (this.offset !== this.bytes.length)
      throw new MalformedBytes(`${this.remaining} trailing bytes after ${what}`);
  }
}

export const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false;
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false;
  return true;
};
