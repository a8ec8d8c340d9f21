import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import type { SpendingLimitSpec } from '../assets.ts';
import { compileTransaction } from '../compile.ts';
import type { OwnerActParams } from './freeze.ts';
import { walletConfigInstructions } from './wallet-config.ts';

export interface ResumeParams extends OwnerActParams {
  /** The agent key to let back in (a rotated key resumes the same way). */
  readonly agent: PublicKey;
  /** The policy's limits (spendingLimitSpecsFromPolicy). */
  readonly limits: readonly SpendingLimitSpec[];
}

/**
 * Undoes a freeze in one owner-signed transaction: the agent back as member (Initiate | Vote),
 * threshold 2, the agent's spending limits added anew. Null when nothing needs changing.
 */
export function buildResume(params: ResumeParams): VersionedTransaction | null {
  const instructions = walletConfigInstructions({
    current: params.current,
    target: { agent: params.agent, limits: params.limits },
    owner: params.owner,
    rentPayer: params.feePayer,
    rentCollector: params.rentCollector ?? params.feePayer,
    budget: params.budget,
  });
  return instructions.length === 0 ? null : compileTransaction(params, instructions);
}
