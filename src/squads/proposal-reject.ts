import type { PublicKey, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';
import { proposalCloseInstruction, setRentCollectorInstruction } from './proposal-close.ts';
import { assertTransactionIndex } from './validate.ts';

export interface ProposalRejectParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  /** A voting member: the owner, or the agent withdrawing its own proposal. */
  readonly member: PublicKey;
  readonly transactionIndex: bigint;
  readonly memo?: string;
  /** Close the rejected proposal in the same transaction (see owner-approve-and-execute `close`). */
  readonly close?: { readonly rentCollector: PublicKey; readonly setRentCollector: boolean };
}

/**
 * A rejection vote. With two voters and threshold 2 one rejection already makes the proposal
 * Rejected for good (it can no longer reach two approvals), so the transfer can never execute.
 * A member's rejection replaces its earlier approval.
 */
export function buildProposalReject(params: ProposalRejectParams): VersionedTransaction {
  assertTransactionIndex(params.transactionIndex);
  const close = params.close;
  return compileTransaction(params, [
    ...(close?.setRentCollector
      ? [
          setRentCollectorInstruction({
            multisig: params.multisig,
            owner: params.member,
            rentCollector: close.rentCollector,
            rentPayer: params.feePayer,
          }),
        ]
      : []),
    multisig.instructions.proposalReject({
      multisigPda: params.multisig,
      transactionIndex: params.transactionIndex,
      member: params.member,
      ...(params.memo !== undefined && { memo: params.memo }),
      programId: SQUADS_PROGRAM_ID,
    }),
    ...(close
      ? [
          proposalCloseInstruction({
            multisig: params.multisig,
            transactionIndex: params.transactionIndex,
            rentCollector: close.rentCollector,
          }),
        ]
      : []),
  ]);
}
