import type { VersionedTransaction } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { compileTransaction } from '../compile.ts';
import { memberOf } from '../wallet-state.ts';
import type { ResumeParams } from './resume.ts';
import { walletConfigInstructions } from './wallet-config.ts';

/** A policy change needs the agent in the multisig: a frozen wallet takes new limits when it resumes. */
export function assertLimitsReplaceable(params: Pick<ResumeParams, 'current' | 'agent'>): void {
  if (!memberOf(params.current.multisig, params.agent)) {
    throw new WaiaasError('WALLET_FROZEN', {
      message: 'The agent is not a member (the wallet is frozen); the new limits apply when it is resumed',
      details: { agent: params.agent.toBase58() },
    });
  }
}

/**
 * A policy change on chain, in one owner-signed transaction: limits whose asset, amount and
 * destinations are unchanged stay as they are (with today's usage); the others are removed and the
 * new ones added. Null when the chain already matches. Refused on a frozen wallet, which has no
 * limits until it is resumed.
 */
export function buildReplaceLimits(params: ResumeParams): VersionedTransaction | null {
  assertLimitsReplaceable(params);
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
