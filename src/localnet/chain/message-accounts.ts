import bs58 from 'bs58';
import { isStaticKeyWritable, type WireMessage } from './wire-transaction.ts';

const ADDRESS_LOOKUP_TABLE_META_SIZE = 56;
const SYSTEM_PROGRAM = new Uint8Array(32);
const NONCE_ADVANCE = 4;

export interface LoadedAddresses {
  writable: string[];
  readonly: string[];
}

/**
 * All account keys a message touches, in the runtime's order: static keys, then the addresses
 * loaded from lookup tables (all writable ones, then all readonly ones). `readAccountData` returns
 * a lookup table's data (null if absent; execution then fails on its own).
 */
export function messageAccountKeys(
  message: WireMessage,
  readAccountData: (address: Uint8Array) => Uint8Array | null,
): { keys: Uint8Array[]; loadedAddresses: LoadedAddresses } {
  if (message.addressTableLookups.length === 0) {
    return { keys: message.accountKeys, loadedAddresses: { writable: [], readonly: [] } };
  }
  const writable: Uint8Array[] = [];
  const readonly: Uint8Array[] = [];
  for (const lookup of message.addressTableLookups) {
    const table = readAccountData(lookup.accountKey);
    if (!table) continue;
    const at = (index: number): Uint8Array | null => {
      const start = ADDRESS_LOOKUP_TABLE_META_SIZE + index * 32;
      return start + 32 <= table.length ? table.subarray(start, start + 32) : null;
    };
    for (const index of lookup.writableIndexes) {
      const key = at(index);
      if (key) writable.push(key);
    }
    for (const index of lookup.readonlyIndexes) {
      const key = at(index);
      if (key) readonly.push(key);
    }
  }
  return {
    keys: [...message.accountKeys, ...writable, ...readonly],
    loadedAddresses: {
      writable: writable.map((key) => bs58.encode(key)),
      readonly: readonly.map((key) => bs58.encode(key)),
    },
  };
}

/** Whether the key at `index` of messageAccountKeys' list is writable. */
export function isAccountWritable(message: WireMessage, index: number, loaded: LoadedAddresses): boolean {
  if (index < message.accountKeys.length) return isStaticKeyWritable(message, index);
  return index < message.accountKeys.length + loaded.writable.length;
}

/** A durable-nonce transaction starts with System AdvanceNonceAccount; its "blockhash" is the nonce. */
export function usesDurableNonce(message: WireMessage): boolean {
  const first = message.instructions[0];
  if (!first) return false;
  const program = message.accountKeys[first.programIdIndex];
  return (
    program !== undefined &&
    Buffer.compare(program, SYSTEM_PROGRAM) === 0 &&
    first.data.length >= 4 &&
    new DataView(first.data.buffer, first.data.byteOffset, 4).getUint32(0, true) === NONCE_ADVANCE
  );
}
