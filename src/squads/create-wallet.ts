import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { assertSpendingLimitSpecs, type LimitAsset, type SpendingLimitSpec } from './assets.ts';
import { packTransactions, type TransactionEnvelope } from './compile.ts';
import { multisigAddress, spendingLimitAddress, vaultAddress } from './pdas.ts';
import { AGENT_PERMISSIONS, OWNER_PERMISSIONS, SQUADS_PROGRAM_ID, WALLET_THRESHOLD } from './program.ts';
import { addAgentSpendingLimitInstruction } from './spending-limit-instructions.ts';
import { assertDistinct } from './validate.ts';

export interface CreateWalletParams extends TransactionEnvelope {
  /** A fresh key that signs the first transaction once; the multisig address derives from it. */
  readonly createKey: PublicKey;
  readonly owner: PublicKey;
  readonly agent: PublicKey;
  /** The treasury stored in the program's ProgramConfig account (see readProgramConfig). */
  readonly treasury: PublicKey;
  readonly limits: readonly SpendingLimitSpec[];
  /**
   * Receives the rent of closed proposals (vaultTransactionAccountsClose); the fee payer, which paid
   * it, by default. Null: none, and then proposals cannot be closed.
   */
  readonly rentCollector?: PublicKey | null;
}

export interface WalletCreation {
  readonly multisig: PublicKey;
  /** The wallet address (vault 0). */
  readonly vault: PublicKey;
  readonly spendingLimits: readonly { asset: LimitAsset; address: PublicKey }[];
  /**
   * Unsigned, to send in order, each after the previous one confirmed. All are signed by the fee
   * payer and the owner (config authority, for the limits); the first also by the create key.
   */
  readonly transactions: readonly VersionedTransaction[];
}

/**
 * A controlled multisig (config authority = owner; owner all permissions, agent Initiate | Vote;
 * threshold 2; no time lock) and the agent's daily spending limit per asset, in as few
 * transactions as fit.
 */
export function buildCreateWallet(params: CreateWalletParams): WalletCreation {
  assertDistinct({ owner: params.owner, agent: params.agent, 'fee payer': params.feePayer });
  assertDistinct({ 'create key': params.createKey, owner: params.owner, agent: params.agent });
  assertSpendingLimitSpecs(params.limits);
  const multisigPda = multisigAddress(params.createKey);
  const create = multisig.instructions.multisigCreateV2({
    treasury: params.treasury,
    creator: params.feePayer,
    multisigPda,
    configAuthority: params.owner,
    threshold: WALLET_THRESHOLD,
    members: [
      { key: params.owner, permissions: OWNER_PERMISSIONS },
      { key: params.agent, permissions: AGENT_PERMISSIONS },
    ],
    timeLock: 0,
    createKey: params.createKey,
    rentCollector: params.rentCollector === undefined ? params.feePayer : params.rentCollector,
    programId: SQUADS_PROGRAM_ID,
  });
  const limits = params.limits.map((limit) =>
    addAgentSpendingLimitInstruction({
      multisig: multisigPda,
      owner: params.owner,
      agent: params.agent,
      rentPayer: params.feePayer,
      limit,
    }),
  );
  return {
    multisig: multisigPda,
    vault: vaultAddress(multisigPda),
    spendingLimits: params.limits.map((limit) => ({
      asset: limit.asset,
      address: spendingLimitAddress(multisigPda, limit.asset),
    })),
    transactions: packTransactions(params, [create], limits),
  };
}
