/**
 * The transactions x402 payments and the float take, as the exact scheme specifies them: a v0 message
 * paid by the facilitator (account 0, whose signature the facilitator adds), a compute-unit limit and
 * price first, the transfer, and one memo (the seller's `extra.memo`, or a random nonce as the
 * maintainers' client adds, which also keeps two equal payments apart).
 *   - from the vault: a Squads spendingLimitUse of the token to the payee, under the on-chain limit;
 *   - from the float: a TransferChecked from the agent's own token account, the agent as authority;
 *   - the sweep: that TransferChecked to the vault's token account, paid by the daemon's fee payer.
 */
import { randomBytes } from 'node:crypto';
import { createTransferCheckedInstruction } from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  PublicKey,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import type { RecentBlockhash } from '../../solana/chain-client.ts';
import { MEMO_PROGRAM } from '../../solana/inspect/programs.ts';
import { MAX_MEMO_BYTES } from '../../solana/inspect/token-instructions.ts';
import {
  associatedTokenAddress,
  spendingLimitAddress,
  spendingLimitUseInstruction,
  type TokenAsset,
} from '../../squads/index.ts';
import { tokenProgramOf } from '../../squads/pdas.ts';
import { type BuiltTransaction, builtFromVersioned } from '../transfers/steps/signed-message.ts';

/** A spendingLimitUse of a token uses ~60-70k compute units; a TransferChecked and memo ~20k. */
export const VAULT_UNIT_LIMIT = 200_000;
export const FLOAT_UNIT_LIMIT = 40_000;
/** The maintainers' client default: a priority fee the facilitator pays, kept minimal. */
export const UNIT_PRICE_MICROLAMPORTS = 1;

const memoProgram = new PublicKey(MEMO_PROGRAM.base58);

/** The seller's memo when it gives one that fits, otherwise 16 random bytes in hex. */
export function memoFor(extra: Record<string, unknown> | undefined): string {
  const seller = extra?.['memo'];
  if (typeof seller === 'string' && seller.length > 0) {
    if (Buffer.byteLength(seller, 'utf8') > MAX_MEMO_BYTES) {
      throw new WaiaasError('X402_NO_ACCEPTABLE_OFFER', {
        message: `The seller's memo is longer than ${MAX_MEMO_BYTES} bytes.`,
        details: { reason: 'memo too long' },
      });
    }
    return seller;
  }
  return randomBytes(16).toString('hex');
}

const memoInstruction = (memo: string) =>
  new TransactionInstruction({ programId: memoProgram, keys: [], data: Buffer.from(memo, 'utf8') });

const compile = (
  feePayer: PublicKey,
  blockhash: RecentBlockhash,
  unitLimit: number,
  instructions: TransactionInstruction[],
): BuiltTransaction => {
  const message = new TransactionMessage({
    payerKey: feePayer,
    recentBlockhash: blockhash.blockhash,
    instructions: [
      ComputeBudgetProgram.setComputeUnitLimit({ units: unitLimit }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: UNIT_PRICE_MICROLAMPORTS }),
      ...instructions,
    ],
  }).compileToV0Message();
  return builtFromVersioned(new VersionedTransaction(message), blockhash.lastValidBlockHeight);
};

export interface PaymentParams {
  readonly token: TokenAsset;
  readonly amount: bigint;
  readonly payTo: PublicKey;
  readonly feePayer: PublicKey;
  readonly memo: string;
  readonly blockhash: RecentBlockhash;
}

export function buildVaultPayment(
  params: PaymentParams & { readonly multisig: PublicKey; readonly agent: PublicKey },
): BuiltTransaction {
  return compile(params.feePayer, params.blockhash, VAULT_UNIT_LIMIT, [
    spendingLimitUseInstruction({
      multisig: params.multisig,
      member: params.agent,
      spendingLimit: spendingLimitAddress(params.multisig, params.token.mint),
      asset: params.token,
      amount: params.amount,
      destination: params.payTo,
    }),
    memoInstruction(params.memo),
  ]);
}

const floatTransfer = (agent: PublicKey, token: TokenAsset, to: PublicKey, amount: bigint) =>
  createTransferCheckedInstruction(
    associatedTokenAddress(agent, token),
    token.mint,
    associatedTokenAddress(to, token),
    agent,
    amount,
    token.decimals,
    [],
    tokenProgramOf(token),
  );

export function buildFloatPayment(params: PaymentParams & { readonly agent: PublicKey }): BuiltTransaction {
  return compile(params.feePayer, params.blockhash, FLOAT_UNIT_LIMIT, [
    floatTransfer(params.agent, params.token, params.payTo, params.amount),
    memoInstruction(params.memo),
  ]);
}

export function buildFloatSweep(params: {
  readonly agent: PublicKey;
  readonly vault: PublicKey;
  readonly token: TokenAsset;
  readonly amount: bigint;
  readonly feePayer: PublicKey;
  readonly blockhash: RecentBlockhash;
}): BuiltTransaction {
  return compile(params.feePayer, params.blockhash, FLOAT_UNIT_LIMIT, [
    floatTransfer(params.agent, params.token, params.vault, params.amount),
  ]);
}

/** The wire transaction with every signature present so far; the fee payer's slot left zero. */
export function partiallySignedWire(built: BuiltTransaction): Uint8Array {
  const count = built.signers.length;
  const wire = new Uint8Array(1 + count * 64 + built.message.length);
  wire[0] = count;
  built.signatures.forEach((signature, index) => {
    if (signature !== undefined) wire.set(signature, 1 + index * 64);
  });
  wire.set(built.message, 1 + count * 64);
  return wire;
}
