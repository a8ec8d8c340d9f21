import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import { compileTransaction, type TransactionEnvelope } from '../compile.ts';
import { type BudgetContext, type CurrentWalletConfig, walletConfigInstructions } from './wallet-config.ts';

export interface OwnerActParams extends TransactionEnvelope {
  /** The wallet as read from the chain just before (readMultisig + readSpendingLimits). */
  readonly current: CurrentWalletConfig;
  /** The owner key, config authority of the multisig; signs with the fee payer. */
  readonly owner: PublicKey;
  /** Receives the rent of removed spending limits and closed proposals; the fee payer by default. */
  readonly rentCollector?: PublicKey;
  /** Today's spending, carried into re-created limits (and pinned in removed ones). */
  readonly budget: BudgetContext;
}

/**
 * The kill switch on chain, in one owner-signed transaction: threshold 1, every member but the
 * owner removed, every spending limit removed. Removing the agent alone would not do: the deployed
 * program lets a limit's own members spend even after they leave the multisig, so the limits go
 * too. Null when the wallet is frozen already.
 */
export function buildFreeze(params: OwnerActParams): VersionedTransaction | null {
  const instructions = walletConfigInstructions({
    current: params.current,
    target: { agent: null, limits: [] },
    owner: params.owner,
    rentPayer: params.feePayer,
    rentCollector: params.rentCollector ?? params.feePayer,
    budget: params.budget,
  });
  return instructions.length === 0 ? null : compileTransaction(params, instructions);
}
