import type { AccountMeta, PublicKey, TransactionInstruction, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { WaiaasError } from '../core/errors.ts';
import { compileTransaction, type TransactionEnvelope } from './compile.ts';
import { proposalAddress, transactionAddress, vaultAddress } from './pdas.ts';
import { SQUADS_PROGRAM_ID } from './program.ts';
import { proposalCloseInstruction, setRentCollectorInstruction } from './proposal-close.ts';
import { assertTransactionIndex } from './validate.ts';
import { assertVaultTransactionIs, type VaultTransfer } from './vault-transfer.ts';

export interface OwnerApproveAndExecuteParams extends TransactionEnvelope {
  readonly multisig: PublicKey;
  readonly owner: PublicKey;
  readonly transactionIndex: bigint;
  /** The vault transaction as stored on chain (readVaultTransaction). */
  readonly vaultTransaction: multisig.accounts.VaultTransaction;
  /** The transfer the owner agreed to; the stored transaction must be exactly this. */
  readonly expected: VaultTransfer;
  /**
   * Close the executed vault transaction and proposal in the same transaction, rent to this rent
   * collector, set first by the owner when `setRentCollector` (an older wallet without one).
   */
  readonly close?: { readonly rentCollector: PublicKey; readonly setRentCollector: boolean };
}

/** The accounts the stored message uses, in its order; the vault is signed for by the program. */
function executeAccounts(account: multisig.accounts.VaultTransaction, vault: PublicKey): AccountMeta[] {
  const { message } = account;
  if (message.addressTableLookups.length > 0) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'Vault transactions with address lookup tables are not supported',
      details: { transactionIndex: String(account.index) },
    });
  }
  return message.accountKeys.map((pubkey, index) => ({
    pubkey,
    isWritable: multisig.utils.isStaticWritableIndex(message, index),
    isSigner: multisig.utils.isSignerIndex(message, index) && !pubkey.equals(vault),
  }));
}

/**
 * The owner's approval of a pending transfer and its execution, in one transaction (owner signs
 * as voter and executor, the fee payer pays). Refused before building if the stored vault
 * transaction is not `expected`.
 */
export function buildOwnerApproveAndExecute(params: OwnerApproveAndExecuteParams): VersionedTransaction {
  assertTransactionIndex(params.transactionIndex);
  if (BigInt(params.vaultTransaction.index.toString()) !== params.transactionIndex) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'The vault transaction read is not the one at this index',
      details: { transactionIndex: String(params.transactionIndex) },
    });
  }
  assertVaultTransactionIs(params.vaultTransaction, params.multisig, params.expected);
  const approve = multisig.instructions.proposalApprove({
    multisigPda: params.multisig,
    transactionIndex: params.transactionIndex,
    member: params.owner,
    programId: SQUADS_PROGRAM_ID,
  });
  const close = params.close;
  return compileTransaction(params, [
    ...(close?.setRentCollector
      ? [
          setRentCollectorInstruction({
            multisig: params.multisig,
            owner: params.owner,
            rentCollector: close.rentCollector,
            rentPayer: params.feePayer,
          }),
        ]
      : []),
    approve,
    vaultTransactionExecuteInstruction(params),
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

/**
 * Executes an approved vault transaction as `owner` (the only member with Execute). Pure: the
 * accounts come from the stored message, not from another RPC read.
 */
export function vaultTransactionExecuteInstruction(params: {
  multisig: PublicKey;
  owner: PublicKey;
  transactionIndex: bigint;
  vaultTransaction: multisig.accounts.VaultTransaction;
}): TransactionInstruction {
  return multisig.generated.createVaultTransactionExecuteInstruction(
    {
      multisig: params.multisig,
      proposal: proposalAddress(params.multisig, params.transactionIndex),
      transaction: transactionAddress(params.multisig, params.transactionIndex),
      member: params.owner,
      anchorRemainingAccounts: executeAccounts(params.vaultTransaction, vaultAddress(params.multisig)),
    },
    SQUADS_PROGRAM_ID,
  );
}
