/**
 * Every address of a wallet follows from its multisig address (itself from the create key), so
 * nothing but the multisig address needs storing. Spending limits are keyed by a create key we
 * derive from the multisig and the asset: one limit per asset, found again without a lookup.
 */
import { createHash } from 'node:crypto';
import { getAssociatedTokenAddressSync, TOKEN_PROGRAM_ID } from '@solana/spl-token';
import { PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { type LimitAsset, limitMintOf, type TokenAsset } from './assets.ts';
import { SQUADS_PROGRAM_ID, WALLET_VAULT_INDEX } from './program.ts';

const programId = SQUADS_PROGRAM_ID;

export const programConfigAddress = (): PublicKey => multisig.getProgramConfigPda({ programId })[0];

export const multisigAddress = (createKey: PublicKey): PublicKey =>
  multisig.getMultisigPda({ createKey, programId })[0];

/** The wallet's address: vault 0 of its multisig. Deposits go here, never to the multisig account. */
export const vaultAddress = (multisigPda: PublicKey): PublicKey =>
  multisig.getVaultPda({ multisigPda, index: WALLET_VAULT_INDEX, programId })[0];

const derivedKey = (label: string, multisigPda: PublicKey, asset: LimitAsset): PublicKey =>
  new PublicKey(
    createHash('sha256')
      .update(label)
      .update(multisigPda.toBytes())
      .update(limitMintOf(asset).toBytes())
      .digest(),
  );

/**
 * The create key of the agent's spending limit for `asset`. The program takes it as a plain
 * argument (it need not sign nor be on the curve), so a hash is as good as a random key and can
 * be derived again. Re-adding a removed limit with the same key works in one transaction.
 */
export const spendingLimitCreateKey = (multisigPda: PublicKey, asset: LimitAsset): PublicKey =>
  derivedKey('waiaas/squads/spending-limit/v1', multisigPda, asset);

export const spendingLimitAddress = (multisigPda: PublicKey, asset: LimitAsset): PublicKey =>
  multisig.getSpendingLimitPda({
    multisigPda,
    createKey: spendingLimitCreateKey(multisigPda, asset),
    programId,
  })[0];

/** The create key of the owner's one-time withdrawal limit; it lives only inside the withdraw transaction. */
export const withdrawLimitCreateKey = (multisigPda: PublicKey, asset: LimitAsset): PublicKey =>
  derivedKey('waiaas/squads/withdraw-limit/v1', multisigPda, asset);

export const withdrawLimitAddress = (multisigPda: PublicKey, asset: LimitAsset): PublicKey =>
  multisig.getSpendingLimitPda({
    multisigPda,
    createKey: withdrawLimitCreateKey(multisigPda, asset),
    programId,
  })[0];

export const transactionAddress = (multisigPda: PublicKey, transactionIndex: bigint): PublicKey =>
  multisig.getTransactionPda({ multisigPda, index: transactionIndex, programId })[0];

export const proposalAddress = (multisigPda: PublicKey, transactionIndex: bigint): PublicKey =>
  multisig.getProposalPda({ multisigPda, transactionIndex, programId })[0];

export const tokenProgramOf = (token: Pick<TokenAsset, 'tokenProgram'>): PublicKey =>
  token.tokenProgram ?? TOKEN_PROGRAM_ID;

/** The associated token account of `owner` (a wallet or the vault PDA) for `token`. */
export const associatedTokenAddress = (
  owner: PublicKey,
  token: Pick<TokenAsset, 'mint' | 'tokenProgram'>,
): PublicKey => getAssociatedTokenAddressSync(token.mint, owner, true, tokenProgramOf(token));
