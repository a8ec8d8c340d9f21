/**
 * A deterministic CBOR encoder (RFC 8949) for the few types an attestation document uses:
 * unsigned and negative integers, byte and text strings, arrays, maps in insertion order, null.
 */
export type CborValue =
  | number
  | string
  | Uint8Array
  | null
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>;

const head = (major: number, argument: number): Uint8Array => {
  const type = major << 5;
  if (argument < 24) return Uint8Array.of(type | argument);
  if (argument < 0x100) return Uint8Array.of(type | 24, argument);
  if (argument < 0x10000) return Uint8Array.of(type | 25, argument >> 8, argument & 0xff);
  if (argument < 0x1_0000_0000) {
    const bytes = new Uint8Array(5);
    bytes[0] = type | 26;
    new DataView(bytes.buffer).setUint32(1, argument);
    return bytes;
  }
  const bytes = new Uint8Array(9);
  bytes[0] = type | 27;
  new DataView(bytes.buffer).setBigUint64(1, BigInt(argument));
  return bytes;
};

const encodeInto = (value: CborValue, out: Uint8Array[]): void => {
  if (value === null) {
    out.push(Uint8Array.of(0xf6));
  } else if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new RangeError('only safe integers are encoded');
    out.push(value >= 0 ? head(0, value) : head(1, -1 - value));
  } else if (typeof value === 'string') {
    const utf8 = new TextEncoder().encode(value);
    out.push(head(3, utf8.length), utf8);
  } else if (value instanceof Uint8Array) {
    out.push(head(2, value.length), value);
  } else if (value instanceof Map) {
    out.push(head(5, value.size));
    for (const [key, entry] of value) {
      encodeInto(key, out);
      encodeInto(entry, out);
    }
  } else {
    const items = value as readonly CborValue[];
    out.push(head(4, items.length));
    for (const item of items) encodeInto(item, out);
  }
};

export const encodeCbor = (value: CborValue): Uint8Array => {
  const out: Uint8Array[] = [];
  encodeInto(value, out);
  return Buffer.concat(out);
};
