import { Decoder, Tag } from 'cbor-x';

/**
 * Decodes one CBOR item holding untrusted bytes. Maps stay `Map`s (integer keys survive), byte
 * strings come back as `Uint8Array`s and nothing is shared between calls: a fresh decoder each
 * time, so no record structure or flag from an earlier input can leak into the next one.
 * Throws whatever cbor-x throws; callers turn that into their own error.
 */
export const decodeCborItem = (bytes: Uint8Array): unknown =>
  new Decoder({ mapsAsObjects: false, useRecords: false }).decode(bytes);

export const isCborTag = (value: unknown, tag: number): value is Tag =>
  value instanceof Tag && value.tag === tag;

export const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;

const head = (major: number, length: number): Uint8Array => {
  const type = major << 5;
  if (length < 24) return Uint8Array.of(type | length);
  if (length < 0x100) return Uint8Array.of(type | 24, length);
  if (length < 0x10000) return Uint8Array.of(type | 25, length >> 8, length & 0xff);
  return Uint8Array.of(type | 26, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
};

const byteString = (bytes: Uint8Array): Uint8Array[] => [head(2, bytes.length), bytes];

/**
 * The COSE Sig_structure a COSE_Sign1 signature covers (RFC 9052 §4.4):
 * `["Signature1", protected, external_aad = h'', payload]`, encoded by hand so the bytes do not
 * depend on an encoder's choices (cbor-x would tag a plain Uint8Array).
 */
export const coseSign1SigStructure = (protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array => {
  const context = new TextEncoder().encode('Signature1');
  return Buffer.concat([
    head(4, 4),
    head(3, context.length),
    context,
    ...byteString(protectedHeader),
    ...byteString(new Uint8Array(0)),
    ...byteString(payload),
  ]);
};
