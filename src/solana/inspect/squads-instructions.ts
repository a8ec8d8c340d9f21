/**
 * The four Squads v4 instructions an agent may sign, decoded by hand from their Anchor data:
 * 8-byte discriminator, then Borsh arguments (see @sqds/multisig generated/instructions). Account
 * slots follow the generated builders; Anchor passes the program id in an optional slot for "None".
 */
import { ByteReader, bytesEqual } from './bytes.ts';

const discriminator = (...bytes: number[]) => new Uint8Array(bytes);

export const SQUADS_DISCRIMINATORS = {
  spendingLimitUse: discriminator(16, 57, 130, 127, 193, 20, 155, 134),
  vaultTransactionCreate: discriminator(48, 250, 78, 168, 208, 226, 218, 211),
  proposalCreate: discriminator(220, 60, 73, 224, 30, 108, 79, 159),
  proposalApprove: discriminator(144, 37, 164, 136, 188, 216, 42, 248),
} as const;

export const SPENDING_LIMIT_USE_ACCOUNTS = {
  multisig: 0,
  member: 1,
  spendingLimit: 2,
  vault: 3,
  destination: 4,
  systemProgram: 5,
  mint: 6,
  vaultTokenAccount: 7,
  destinationTokenAccount: 8,
  tokenProgram: 9,
  count: 10,
} as const;

export const VAULT_TRANSACTION_CREATE_ACCOUNTS = {
  multisig: 0,
  transaction: 1,
  creator: 2,
  rentPayer: 3,
  systemProgram: 4,
  count: 5,
} as const;

export const PROPOSAL_CREATE_ACCOUNTS = {
  multisig: 0,
  proposal: 1,
  creator: 2,
  rentPayer: 3,
  systemProgram: 4,
  count: 5,
} as const;

export const PROPOSAL_APPROVE_ACCOUNTS = { multisig: 0, member: 1, proposal: 2, count: 3 } as const;

export type SquadsInstruction =
  | { kind: 'spendingLimitUse'; amount: bigint; decimals: number; memo: Uint8Array | undefined }
  | {
      kind: 'vaultTransactionCreate';
      vaultIndex: number;
      ephemeralSigners: number;
      transactionMessage: Uint8Array;
      memo: Uint8Array | undefined;
    }
  | { kind: 'proposalCreate'; transactionIndex: bigint; draft: boolean }
  | { kind: 'proposalApprove'; memo: Uint8Array | undefined };

const startsWith = (data: Uint8Array, prefix: Uint8Array): boolean =>
  data.length >= prefix.length && bytesEqual(data.subarray(0, prefix.length), prefix);

/**
 * The decoded instruction, or undefined when the data is not one of the four. Malformed arguments of
 * a known discriminator throw MalformedBytes (including trailing bytes).
 */
export const decodeSquadsInstruction = (data: Uint8Array): SquadsInstruction | undefined => {
  const reader = new ByteReader(data, 8);
  let decoded: SquadsInstruction | undefined;
  if (startsWith(data, SQUADS_DISCRIMINATORS.spendingLimitUse)) {
    decoded = {
      kind: 'spendingLimitUse',
      amount: reader.u64('amount'),
      decimals: reader.u8('decimals'),
      memo: reader.optionalString('memo'),
    };
  } else if (startsWith(data, SQUADS_DISCRIMINATORS.vaultTransactionCreate)) {
    decoded = {
      kind: 'vaultTransactionCreate',
      vaultIndex: reader.u8('vault index'),
      ephemeralSigners: reader.u8('ephemeral signers'),
      transactionMessage: reader.take(reader.u32('transaction message'), 'transaction message'),
      memo: reader.optionalString('memo'),
    };
  } else if (startsWith(data, SQUADS_DISCRIMINATORS.proposalCreate)) {
    decoded = {
      kind: 'proposalCreate',
      transactionIndex: reader.u64('transaction index'),
      draft: reader.bool('draft'),
    };
  } else if (startsWith(data, SQUADS_DISCRIMINATORS.proposalApprove)) {
    decoded = { kind: 'proposalApprove', memo: reader.optionalString('memo') };
  } else {
    return undefined;
  }
  reader.end(decoded.kind);
  return decoded;
};
