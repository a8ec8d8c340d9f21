import {
  ASSOCIATED_TOKEN_PROGRAM_ID,
  createAssociatedTokenAccountIdempotentInstruction,
} from '@solana/spl-token';
import type { PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import { assertTransferAsset, type TokenAsset } from './assets.ts';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { associatedTokenAddress, tokenProgramOf } from './pdas.ts';

/** Creates `owner`'s associated token account unless it exists; `payer` pays the rent. */
export function createTokenAccountInstruction(params: {
  payer: PublicKey;
  owner: PublicKey;
  token: TokenAsset;
}): TransactionInstruction {
  assertTransferAsset(params.token);
  return createAssociatedTokenAccountIdempotentInstruction(
    params.payer,
    associatedTokenAddress(params.owner, params.token),
    params.owner,
    params.token.mint,
    tokenProgramOf(params.token),
    ASSOCIATED_TOKEN_PROGRAM_ID,
  );
}

/**
 * A transaction signed by the fee payer alone that makes sure a recipient (or the vault) has its
 * token account. Kept apart from the agent's transfer so the enclave never signs anything but
 * Squads instructions.
 */
export function buildCreateTokenAccountTransaction(
  params: TransactionEnvelope & { owner: PublicKey; token: TokenAsset },
): VersionedTransaction {
  return compileTransaction(params, [
    createTokenAccountInstruction({ payer: params.feePayer, owner: params.owner, token: params.token }),
  ]);
}
