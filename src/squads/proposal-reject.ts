import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';
import { assertTransactionIndex } from './validate.ts';

export interface ProposalRejectParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  /** A voting member: the owner, or the agent withdrawing its own proposal. */
  readonly member: PublicKey;
  readonly transactionIndex: bigint;
  readonly memo?: string;
}

/**
 * A rejection vote. With two voters and threshold 2 one rejection already makes the proposal
 * Rejected for good (it can no longer reach two approvals), so the transfer can never execute.
 * A member's rejection replaces its earlier approval.
 */
export function buildProposalReject(params: ProposalRejectParams): VersionedTransaction {
  assertTransactionIndex(params.transactionIndex);
  return compileTransaction(params, [
    multisig.instructions.proposalReject({
      multisigPda: params.multisig,
      transactionIndex: params.transactionIndex,
      member: params.member,
      ...(params.memo !== undefined && { memo: params.memo }),
      programId: SQUADS_PROGRAM_ID,
    }),
  ]);
}
