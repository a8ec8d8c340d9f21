/**
 * The one SPL token instruction an agent may sign at top level: `TransferChecked` (Token and
 * Token-2022 share its layout), which x402's exact scheme uses for a payment from the agent float.
 * Data: u8 12, u64 LE amount, u8 decimals. Accounts: source, mint, destination, authority (then
 * multisig signers, which the enclave refuses).
 */
import { ByteReader } from './bytes.ts';
import type { CompiledInstruction } from './message.ts';

export const TRANSFER_CHECKED = 12;

export const TRANSFER_CHECKED_ACCOUNTS = {
  source: 0,
  mint: 1,
  destination: 2,
  authority: 3,
  count: 4,
} as const;

export interface TransferChecked {
  readonly amount: bigint;
  readonly decimals: number;
}

/** The decoded instruction, or undefined when the data is not exactly a TransferChecked. */
export const decodeTransferChecked = (instruction: CompiledInstruction): TransferChecked | undefined => {
  const data = instruction.data;
  if (data.length !== 10 || data[0] !== TRANSFER_CHECKED) return undefined;
  const reader = new ByteReader(data, 1);
  return { amount: reader.u64('amount'), decimals: reader.u8('decimals') };
};

/** The SPL Memo program logs its data as UTF-8; x402 memos are at most 256 bytes. */
export const MAX_MEMO_BYTES = 256;
