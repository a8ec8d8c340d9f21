import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { compileTransaction } from '../compile.ts';
import { assertDistinct } from '../validate.ts';
import { memberOf } from '../wallet-state.ts';
import type { ResumeParams } from './resume.ts';
import { walletConfigInstructions } from './wallet-config.ts';

export interface RotateAgentParams extends Omit<ResumeParams, 'agent'> {
  readonly oldAgent: PublicKey;
  readonly newAgent: PublicKey;
}

/** A rotation needs distinct keys and the old key still the agent member. */
export function assertRotatable(
  params: Pick<RotateAgentParams, 'current' | 'oldAgent' | 'newAgent' | 'owner'>,
): void {
  assertDistinct({ 'old agent': params.oldAgent, 'new agent': params.newAgent, owner: params.owner });
  if (!memberOf(params.current.multisig, params.oldAgent)) {
    throw new WaiaasError('CONFLICT', {
      message:
        'The old agent key is not a member: the wallet is frozen or already rotated; resume with the new key',
      details: { oldAgent: params.oldAgent.toBase58() },
    });
  }
}

/**
 * Swaps the agent key in one owner-signed transaction: the new key is added as member before the
 * old one is removed (the threshold of 2 holds throughout), then the old key's spending limits are
 * replaced by limits for the new key at the same addresses, carrying what the period spent. The vault, and
 * so the wallet address, does not change. A frozen wallet is not rotated here: resume it with the
 * new key instead.
 */
export function buildRotateAgent(params: RotateAgentParams): VersionedTransaction {
  assertRotatable(params);
  return compileTransaction(
    params,
    walletConfigInstructions({
      current: params.current,
      target: { agent: params.newAgent, limits: params.limits },
      owner: params.owner,
      rentPayer: params.feePayer,
      rentCollector: params.rentCollector ?? params.feePayer,
      budget: params.budget,
    }),
  );
}
