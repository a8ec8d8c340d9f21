/**
 * Decodes a Solana transaction message (legacy or v0) from its wire bytes, checking the structure the
 * runtime's sanitizer checks: header counts, indexes in range, no duplicate keys, no trailing bytes.
 * Account keys are views into the input, not copies.
 */
import { ByteReader, bytesEqual, MalformedBytes } from './bytes.ts';

export interface CompiledInstruction {
  readonly programIdIndex: number;
  readonly accountIndexes: Uint8Array;
  readonly data: Uint8Array;
}

export interface AddressTableLookup {
  readonly accountKey: Uint8Array;
  readonly writableIndexes: Uint8Array;
  readonly readonlyIndexes: Uint8Array;
}

export interface DecodedMessage {
  readonly version: 'legacy' | 0;
  readonly numRequiredSignatures: number;
  readonly numReadonlySigned: number;
  readonly numReadonlyUnsigned: number;
  readonly accountKeys: readonly Uint8Array[];
  readonly recentBlockhash: Uint8Array;
  readonly instructions: readonly CompiledInstruction[];
  readonly addressTableLookups: readonly AddressTableLookup[];
}

const KEY_BYTES = 32;

const hasDuplicate = (keys: readonly Uint8Array[]): boolean => {
  if (keys.length <= 16) {
    for (let a = 0; a < keys.length; a++) {
      for (let b = a + 1; b < keys.length; b++) if (bytesEqual(keys[a]!, keys[b]!)) return true;
    }
    return false;
  }
  const seen = new Set<string>();
  for (const key of keys)
    seen.add(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1'));
  return seen.size !== keys.length;
};

export const decodeMessage = (bytes: Uint8Array): DecodedMessage => {
  const reader = new ByteReader(bytes);
  let version: 'legacy' | 0 = 'legacy';
  if (reader.remaining > 0 && (bytes[0]! & 0x80) !== 0) {
    const declared = reader.u8() & 0x7f;
    if (declared !== 0) throw new MalformedBytes(`message version ${declared} is not supported`);
    version = 0;
  }
  const numRequiredSignatures = reader.u8('header');
  const numReadonlySigned = reader.u8('header');
  const numReadonlyUnsigned = reader.u8('header');
  const keyCount = reader.compactU16('account keys');
  const accountKeys: Uint8Array[] = new Array(keyCount);
  for (let index = 0; index < keyCount; index++) accountKeys[index] = reader.take(KEY_BYTES, 'account key');
  const recentBlockhash = reader.take(KEY_BYTES, 'blockhash');
  const instructionCount = reader.compactU16('instructions');
  const instructions: CompiledInstruction[] = new Array(instructionCount);
  for (let index = 0; index < instructionCount; index++) {
    const programIdIndex = reader.u8('program index');
    const accountIndexes = reader.take(reader.compactU16('instruction accounts'), 'instruction accounts');
    const data = reader.take(reader.compactU16('instruction data'), 'instruction data');
    instructions[index] = { programIdIndex, accountIndexes, data };
  }
  const addressTableLookups: AddressTableLookup[] = [];
  if (version === 0) {
    const lookupCount = reader.compactU16('lookups');
    for (let index = 0; index < lookupCount; index++) {
      const accountKey = reader.take(KEY_BYTES, 'lookup table');
      const writableIndexes = reader.take(reader.compactU16('lookup indexes'), 'lookup indexes');
      const readonlyIndexes = reader.take(reader.compactU16('lookup indexes'), 'lookup indexes');
      addressTableLookups.push({ accountKey, writableIndexes, readonlyIndexes });
    }
  }
  reader.end('message');

  if (numRequiredSignatures === 0) throw new MalformedBytes('no fee payer');
  if (numReadonlySigned >= numRequiredSignatures) throw new MalformedBytes('fee payer is read-only');
  if (numRequiredSignatures + numReadonlyUnsigned > keyCount)
    throw new MalformedBytes('header exceeds account keys');
  let loadedCount = 0;
  for (const lookup of addressTableLookups)
    loadedCount += lookup.writableIndexes.length + lookup.readonlyIndexes.length;
  const totalAccounts = keyCount + loadedCount;
  if (totalAccounts > 256) throw new MalformedBytes('more than 256 accounts');
  for (const instruction of instructions) {
    // Programs must be static keys, and the fee payer can never be one.
    if (instruction.programIdIndex === 0 || instruction.programIdIndex >= keyCount) {
      throw new MalformedBytes('program index out of range');
    }
    for (const accountIndex of instruction.accountIndexes) {
      if (accountIndex >= totalAccounts) throw new MalformedBytes('account index out of range');
    }
  }
  if (hasDuplicate(accountKeys)) throw new MalformedBytes('duplicate account key');
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
};

export const isSignerIndex = (message: DecodedMessage, index: number): boolean =>
  index < message.numRequiredSignatures;

export const isWritableIndex = (message: DecodedMessage, index: number): boolean =>
  index < message.numRequiredSignatures
    ? index < message.numRequiredSignatures - message.numReadonlySigned
    : index < message.accountKeys.length - message.numReadonlyUnsigned;
