/**
 * Decoding of Solana wire transactions (legacy and v0), enough to check, fee and record them
 * without a full SDK decode on the hot path. Views share the caller's buffer.
 */
export interface CompiledInstruction {
  programIdIndex: number;
  accounts: Uint8Array;
  data: Uint8Array;
}

export interface AddressTableLookup {
  accountKey: Uint8Array;
  writableIndexes: Uint8Array;
  readonlyIndexes: Uint8Array;
}

export interface WireMessage {
  version: 'legacy' | 0;
  numRequiredSignatures: number;
  numReadonlySigned: number;
  numReadonlyUnsigned: number;
  accountKeys: Uint8Array[];
  recentBlockhash: Uint8Array;
  instructions: CompiledInstruction[];
  addressTableLookups: AddressTableLookup[];
}

export interface WireTransaction {
  signatures: Uint8Array[];
  messageBytes: Uint8Array;
  message: WireMessage;
}

export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

class Reader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  u8(): number {
    const value = this.bytes[this.offset];
    if (value === undefined) throw new WireFormatError('unexpected end of data');
    this.offset++;
    return value;
  }

  compactU16(): number {
    let value = 0;
    for (let shift = 0; shift < 21; shift += 7) {
      const byte = this.u8();
      value |= (byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
    }
    throw new WireFormatError('compact-u16 too long');
  }

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) throw new WireFormatError('unexpected end of data');
    const view = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return view;
  }
}

export function decodeWireMessage(bytes: Uint8Array): WireMessage {
  const reader = new Reader(bytes);
  const first = reader.u8();
  let version: 'legacy' | 0 = 'legacy';
  let numRequiredSignatures = first;
  if (first & 0x80) {
    if ((first & 0x7f) !== 0) throw new WireFormatError(`unsupported transaction version ${first & 0x7f}`);
    version = 0;
    numRequiredSignatures = reader.u8();
  }
  const numReadonlySigned = reader.u8();
  const numReadonlyUnsigned = reader.u8();
  const keyCount = reader.compactU16();
  const accountKeys: Uint8Array[] = [];
  for (let i = 0; i < keyCount; i++) accountKeys.push(reader.take(32));
  const recentBlockhash = reader.take(32);
  const instructionCount = reader.compactU16();
  const instructions: CompiledInstruction[] = [];
  for (let i = 0; i < instructionCount; i++) {
    const programIdIndex = reader.u8();
    const accounts = reader.take(reader.compactU16());
    const data = reader.take(reader.compactU16());
    instructions.push({ programIdIndex, accounts, data });
  }
  const addressTableLookups: AddressTableLookup[] = [];
  if (version === 0) {
    const lookupCount = reader.compactU16();
    for (let i = 0; i < lookupCount; i++) {
      const accountKey = reader.take(32);
      const writableIndexes = reader.take(reader.compactU16());
      const readonlyIndexes = reader.take(reader.compactU16());
      addressTableLookups.push({ accountKey, writableIndexes, readonlyIndexes });
    }
  }
  if (reader.offset !== bytes.length) throw new WireFormatError('trailing bytes after message');
  if (numRequiredSignatures === 0 || numRequiredSignatures > keyCount) {
    throw new WireFormatError('invalid signature count in message header');
  }
  if (numReadonlySigned >= numRequiredSignatures || numReadonlyUnsigned > keyCount - numRequiredSignatures) {
    throw new WireFormatError('invalid readonly counts in message header');
  }
  const loadedCount = addressTableLookups.reduce(
    (n, l) => n + l.writableIndexes.length + l.readonlyIndexes.length,
    0,
  );
  for (const instruction of instructions) {
    if (instruction.programIdIndex >= keyCount) throw new WireFormatError('program id index out of range');
    for (const index of instruction.accounts) {
      if (index >= keyCount + loadedCount) throw new WireFormatError('account index out of range');
    }
  }
  return {
    version,
    numRequiredSignatures,
    numReadonlySigned,
    numReadonlyUnsigned,
    accountKeys,
    recentBlockhash,
    instructions,
    addressTableLookups,
  };
}

export function decodeWireTransaction(bytes: Uint8Array): WireTransaction {
  const reader = new Reader(bytes);
  const count = reader.compactU16();
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < count; i++) signatures.push(reader.take(64));
  const messageBytes = bytes.subarray(reader.offset);
  const message = decodeWireMessage(messageBytes);
  if (signatures.length !== message.numRequiredSignatures) {
    throw new WireFormatError('signature count does not match the message header');
  }
  return { signatures, messageBytes, message };
}

/** Whether the static account key at `index` is writable according to the message header. */
export function isStaticKeyWritable(message: WireMessage, index: number): boolean {
  if (index < message.numRequiredSignatures) {
    return index < message.numRequiredSignatures - message.numReadonlySigned;
  }
  return index < message.accountKeys.length - message.numReadonlyUnsigned;
}
