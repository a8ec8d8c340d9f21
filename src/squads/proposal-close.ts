/**
 * Approval requests give their rent back: `vaultTransactionAccountsClose` closes a vault transaction
 * and its proposal and pays their rent to the multisig's rent collector. The program allows it once
 * the proposal is executed, rejected or cancelled, or stale (a later membership change invalidated
 * it); it needs no signature, so the fee payer alone closes those. An open proposal (Active, not
 * stale) needs a rejection first, which only a voter can sign: the owner. The rent collector must be
 * set (new wallets have the fee payer); an older wallet gets it set by the owner in the same
 * transaction (it invalidates nothing).
 */
import type { PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { packTransactions, type TransactionEnvelope } from './compile.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';
import { assertTransactionIndex } from './validate.ts';

const programId = SQUADS_PROGRAM_ID;

/** Closes the vault transaction and proposal at `transactionIndex`; rent to `rentCollector`. */
export function proposalCloseInstruction(params: {
  readonly multisig: PublicKey;
  readonly transactionIndex: bigint;
  readonly rentCollector: PublicKey;
}): TransactionInstruction {
  assertTransactionIndex(params.transactionIndex);
  return multisig.instructions.vaultTransactionAccountsClose({
    multisigPda: params.multisig,
    rentCollector: params.rentCollector,
    transactionIndex: params.transactionIndex,
    programId,
  });
}

/** The owner (config authority) makes `rentCollector` the multisig's rent collector. */
export function setRentCollectorInstruction(params: {
  readonly multisig: PublicKey;
  readonly owner: PublicKey;
  readonly rentCollector: PublicKey;
  readonly rentPayer: PublicKey;
}): TransactionInstruction {
  return multisig.instructions.multisigSetRentCollector({
    multisigPda: params.multisig,
    configAuthority: params.owner,
    newRentCollector: params.rentCollector,
    rentPayer: params.rentPayer,
    programId,
  });
}

export interface ProposalsCloseParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  /** The multisig's rent collector (the fee payer for wallets WAIaaS made). */
  readonly rentCollector: PublicKey;
  /** Closable as they are: executed, rejected, cancelled or stale. */
  readonly closable: readonly bigint[];
  /** Still open: rejected by `owner` first, then closed. Needs `owner`. */
  readonly toReject?: readonly bigint[];
  /** Signs the rejections, and sets the rent collector when `setRentCollector`. */
  readonly owner?: PublicKey;
  readonly setRentCollector?: boolean;
}

/**
 * As few transactions as fit, each signed by the fee payer (and the owner when it rejects or sets the
 * rent collector; that instruction then comes first, in the first transaction).
 */
export function buildProposalsClose(params: ProposalsCloseParams): VersionedTransaction[] {
  const owner = params.owner;
  const rejections = params.toReject ?? [];
  if ((rejections.length > 0 || params.setRentCollector) && owner === undefined) {
    throw new Error('buildProposalsClose: rejecting or setting the rent collector needs the owner');
  }
  const close = (transactionIndex: bigint) =>
    proposalCloseInstruction({
      multisig: params.multisig,
      transactionIndex,
      rentCollector: params.rentCollector,
    });
  const head =
    params.setRentCollector && owner
      ? [
          setRentCollectorInstruction({
            multisig: params.multisig,
            owner,
            rentCollector: params.rentCollector,
            rentPayer: params.feePayer,
          }),
        ]
      : [];
  // A rejection and its close stay in one transaction: packed as one item.
  const items: (readonly TransactionInstruction[])[] = [
    ...rejections.map((transactionIndex) => {
      assertTransactionIndex(transactionIndex);
      return [
        multisig.instructions.proposalReject({
          multisigPda: params.multisig,
          transactionIndex,
          member: owner!,
          programId,
        }),
        close(transactionIndex),
      ];
    }),
    ...params.closable.map((transactionIndex) => [close(transactionIndex)]),
  ];
  if (items.length === 0 && head.length === 0) return [];
  return packTransactions(params, head, items);
}
