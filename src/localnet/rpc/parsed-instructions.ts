/**
 * Instructions as a cluster renders them in `jsonParsed` form (and always in simulateTransaction's
 * inner instructions): a known instruction of a known program as `{program, programId, parsed,
 * stackHeight}`, anything else partially decoded as `{programId, accounts, data, stackHeight}` with
 * base58 accounts and data. Parsed here, as Agave's transaction-status parsers do: SPL Token and
 * Token-2022 transfer / transferChecked / mintTo, System transfer / createAccount, and SPL Memo;
 * x402 facilitators read the token transfers made by CPI from exactly these.
 */
import bs58 from 'bs58';
import { isAccountWritable, type LoadedAddresses } from '../chain/message-accounts.ts';
import type { InnerInstructionsJson } from '../chain/transaction-history.ts';
import type { WireMessage } from '../chain/wire-transaction.ts';
import { isTokenProgram, uiTokenAmount } from './token-accounts.ts';

const SYSTEM_PROGRAM_ID = '11111111111111111111111111111111';
const MEMO_PROGRAM_IDS = new Set([
  'MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr',
  'Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo',
]);

export interface PartiallyDecodedInstruction {
  programId: string;
  accounts: string[];
  data: string;
  stackHeight: number | null;
}

export interface ParsedInstruction {
  program: string;
  programId: string;
  parsed: unknown;
  stackHeight: number | null;
}

export type UiInstruction = ParsedInstruction | PartiallyDecodedInstruction;

const view = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, data.byteLength);

/** A token authority: a single signer, or a multisig account followed by its signers. */
const authority = (accounts: string[], at: number, name: string): Record<string, unknown> =>
  accounts.length > at + 1
    ? { [`multisig${name[0]!.toUpperCase()}${name.slice(1)}`]: accounts[at], signers: accounts.slice(at + 1) }
    : { [name]: accounts[at] };

function parseToken(accounts: string[], data: Uint8Array): unknown {
  const kind = data[0];
  if (kind === 3 && data.length === 9 && accounts.length >= 3) {
    return {
      type: 'transfer',
      info: {
        source: accounts[0],
        destination: accounts[1],
        amount: view(data).getBigUint64(1, true).toString(),
        ...authority(accounts, 2, 'authority'),
      },
    };
  }
  if (kind === 7 && data.length === 9 && accounts.length >= 3) {
    return {
      type: 'mintTo',
      info: {
        mint: accounts[0],
        account: accounts[1],
        amount: view(data).getBigUint64(1, true).toString(),
        ...authority(accounts, 2, 'mintAuthority'),
      },
    };
  }
  if (kind === 12 && data.length === 10 && accounts.length >= 4) {
    return {
      type: 'transferChecked',
      info: {
        source: accounts[0],
        mint: accounts[1],
        destination: accounts[2],
        ...authority(accounts, 3, 'authority'),
        tokenAmount: uiTokenAmount(view(data).getBigUint64(1, true), data[9]!),
      },
    };
  }
  return undefined;
}

function parseSystem(accounts: string[], data: Uint8Array): unknown {
  if (data.length < 4) return undefined;
  const kind = view(data).getUint32(0, true);
  if (kind === 2 && data.length === 12 && accounts.length >= 2) {
    return {
      type: 'transfer',
      info: {
        source: accounts[0],
        destination: accounts[1],
        lamports: Number(view(data).getBigUint64(4, true)),
      },
    };
  }
  if (kind === 0 && data.length === 52 && accounts.length >= 2) {
    return {
      type: 'createAccount',
      info: {
        source: accounts[0],
        newAccount: accounts[1],
        lamports: Number(view(data).getBigUint64(4, true)),
        space: Number(view(data).getBigUint64(12, true)),
        owner: bs58.encode(data.subarray(20, 52)),
      },
    };
  }
  return undefined;
}

/** One instruction, parsed when its program and kind are known, partially decoded otherwise. */
export function uiInstruction(
  programId: string,
  accounts: string[],
  data: Uint8Array,
  stackHeight: number | null,
): UiInstruction {
  let parsed: unknown;
  let program: string | undefined;
  if (isTokenProgram(programId)) {
    parsed = parseToken(accounts, data);
    program = 'spl-token';
  } else if (programId === SYSTEM_PROGRAM_ID) {
    parsed = parseSystem(accounts, data);
    program = 'system';
  } else if (MEMO_PROGRAM_IDS.has(programId)) {
    const text = Buffer.from(data).toString('utf8');
    // The Memo program only accepts UTF-8, so what is not is not a memo it ran.
    if (Buffer.from(text, 'utf8').equals(Buffer.from(data))) parsed = text;
    program = 'spl-memo';
  }
  if (parsed !== undefined && program !== undefined) return { program, programId, parsed, stackHeight };
  return { programId, accounts, data: bs58.encode(data), stackHeight };
}

/** Inner instructions recorded as compiled (indexes into `keys`, base58 data) in parsed form. */
export function parsedInnerInstructions(
  inner: readonly InnerInstructionsJson[],
  keys: readonly string[],
): { index: number; instructions: UiInstruction[] }[] {
  return inner.map((group) => ({
    index: group.index,
    instructions: group.instructions.map((instruction) =>
      uiInstruction(
        keys[instruction.programIdIndex] ?? '',
        instruction.accounts.map((index) => keys[index] ?? ''),
        bs58.decode(instruction.data),
        instruction.stackHeight,
      ),
    ),
  }));
}

/** The `jsonParsed` message: account keys with their roles and source, instructions parsed. */
export function parsedMessage(message: WireMessage, keys: readonly string[], loaded: LoadedAddresses) {
  const staticCount = message.accountKeys.length;
  return {
    accountKeys: keys.map((pubkey, index) => ({
      pubkey,
      signer: index < message.numRequiredSignatures,
      writable: isAccountWritable(message, index, loaded),
      source: index < staticCount ? 'transaction' : 'lookupTable',
    })),
    recentBlockhash: bs58.encode(message.recentBlockhash),
    instructions: message.instructions.map((instruction) =>
      uiInstruction(
        keys[instruction.programIdIndex] ?? '',
        [...instruction.accounts].map((index) => keys[index] ?? ''),
        instruction.data,
        null,
      ),
    ),
    ...(message.version === 0
      ? {
          addressTableLookups: message.addressTableLookups.map((lookup) => ({
            accountKey: bs58.encode(lookup.accountKey),
            writableIndexes: [...lookup.writableIndexes],
            readonlyIndexes: [...lookup.readonlyIndexes],
          })),
        }
      : {}),
  };
}
