/**
 * The Squads `TransactionMessage` carried by vaultTransactionCreate: the vault's own instructions in a
 * compact Squads format (u8 counts, u16 data lengths; see @sqds/multisig `transactionMessageBeet`),
 * which the program expands at execution with the vault signing by PDA seeds.
 */
import { ByteReader, MalformedBytes } from './bytes.ts';

export interface VaultMessageInstruction {
  readonly programIdIndex: number;
  readonly accountIndexes: Uint8Array;
  readonly data: Uint8Array;
}

export interface VaultMessage {
  readonly numSigners: number;
  readonly numWritableSigners: number;
  readonly numWritableNonSigners: number;
  readonly accountKeys: readonly Uint8Array[];
  readonly instructions: readonly VaultMessageInstruction[];
  readonly addressTableLookupCount: number;
}

export const decodeVaultMessage = (bytes: Uint8Array): VaultMessage => {
  const reader = new ByteReader(bytes);
  const numSigners = reader.u8('signers');
  const numWritableSigners = reader.u8('writable signers');
  const numWritableNonSigners = reader.u8('writable non-signers');
  const keyCount = reader.u8('account keys');
  const accountKeys: Uint8Array[] = new Array(keyCount);
  for (let index = 0; index < keyCount; index++) accountKeys[index] = reader.take(32, 'account key');
  const instructionCount = reader.u8('instructions');
  const instructions: VaultMessageInstruction[] = new Array(instructionCount);
  for (let index = 0; index < instructionCount; index++) {
    const programIdIndex = reader.u8('program index');
    const accountIndexes = reader.take(reader.u8('instruction accounts'), 'instruction accounts');
    const data = reader.take(reader.u16('instruction data'), 'instruction data');
    instructions[index] = { programIdIndex, accountIndexes, data };
  }
  const addressTableLookupCount = reader.u8('lookups');
  // Lookups are refused by the caller; their bytes are skipped only to check the message's length.
  for (let index = 0; index < addressTableLookupCount; index++) {
    reader.take(32, 'lookup table');
    reader.take(reader.u8('lookup indexes'), 'lookup indexes');
    reader.take(reader.u8('lookup indexes'), 'lookup indexes');
  }
  reader.end('vault transaction message');

  if (numSigners > keyCount) throw new MalformedBytes('vault message: more signers than keys');
  if (numWritableSigners > numSigners)
    throw new MalformedBytes('vault message: writable signers exceed signers');
  if (numWritableNonSigners > keyCount - numSigners)
    throw new MalformedBytes('vault message: writable non-signers exceed keys');
  for (const instruction of instructions) {
    if (instruction.programIdIndex >= keyCount)
      throw new MalformedBytes('vault message: program index out of range');
    for (const accountIndex of instruction.accountIndexes) {
      if (accountIndex >= keyCount) throw new MalformedBytes('vault message: account index out of range');
    }
  }
  return {
    numSigners,
    numWritableSigners,
    numWritableNonSigners,
    accountKeys,
    instructions,
    addressTableLookupCount,
  };
};
