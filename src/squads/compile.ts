import {
  ComputeBudgetProgram,
  type PublicKey,
  type TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { WaiaasError } from '../core/errors.ts';
import { MAX_TRANSACTION_BYTES } from './program.ts';

/** Optional compute-budget instructions put first in a transaction. */
export interface ComputeBudget {
  /** Compute-unit limit for the whole transaction (at most 1,400,000). */
  readonly unitLimit?: number;
  /** Priority fee in micro-lamports per compute unit. */
  readonly microLamportsPerUnit?: bigint;
}

/** Who pays and which blockhash the transaction is valid for. */
export interface TransactionEnvelope {
  readonly feePayer: PublicKey;
  readonly recentBlockhash: string;
  readonly computeBudget?: ComputeBudget;
}

export function computeBudgetInstructions(budget: ComputeBudget | undefined): TransactionInstruction[] {
  if (budget === undefined) return [];
  const instructions: TransactionInstruction[] = [];
  if (budget.unitLimit !== undefined) {
    if (!Number.isInteger(budget.unitLimit) || budget.unitLimit <= 0 || budget.unitLimit > 1_400_000) {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: 'Compute-unit limit must be an integer from 1 to 1,400,000',
        details: { unitLimit: budget.unitLimit },
      });
    }
    instructions.push(ComputeBudgetProgram.setComputeUnitLimit({ units: budget.unitLimit }));
  }
  if (budget.microLamportsPerUnit !== undefined) {
    if (budget.microLamportsPerUnit < 0n || budget.microLamportsPerUnit >= 2n ** 64n) {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: 'Compute-unit price must fit in u64',
        details: { microLamportsPerUnit: String(budget.microLamportsPerUnit) },
      });
    }
    instructions.push(
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: budget.microLamportsPerUnit }),
    );
  }
  return instructions;
}

/** Wire size of the transaction once signed, or undefined when the message cannot even be encoded. */
function signedSize(transaction: VersionedTransaction): number | undefined {
  try {
    const signatures = transaction.message.header.numRequiredSignatures;
    return transaction.message.serialize().length + 1 + 64 * signatures;
  } catch {
    return undefined;
  }
}

function compile(
  envelope: TransactionEnvelope,
  instructions: TransactionInstruction[],
): VersionedTransaction {
  const message = new TransactionMessage({
    payerKey: envelope.feePayer,
    recentBlockhash: envelope.recentBlockhash,
    instructions: [...computeBudgetInstructions(envelope.computeBudget), ...instructions],
  }).compileToV0Message();
  return new VersionedTransaction(message);
}

const fits = (transaction: VersionedTransaction): boolean => {
  const size = signedSize(transaction);
  return size !== undefined && size <= MAX_TRANSACTION_BYTES;
};

/** One unsigned v0 transaction; refused when it would exceed the 1232-byte packet limit. */
export function compileTransaction(
  envelope: TransactionEnvelope,
  instructions: TransactionInstruction[],
): VersionedTransaction {
  const transaction = compile(envelope, instructions);
  if (!fits(transaction)) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'The transaction is larger than a Solana packet (1232 bytes); use fewer assets or addresses',
      details: { instructions: instructions.length, bytes: signedSize(transaction) ?? 'over 1232' },
    });
  }
  return transaction;
}

/**
 * As few transactions as fit: the first starts with `head`, then the items of `items` are added in
 * order while the packet limit allows. An item is one instruction or a group that must stay in one
 * transaction; each must fit in a transaction on its own.
 */
export function packTransactions(
  envelope: TransactionEnvelope,
  head: TransactionInstruction[],
  items: readonly (TransactionInstruction | readonly TransactionInstruction[])[],
): VersionedTransaction[] {
  const transactions: VersionedTransaction[] = [];
  let current = [...head];
  for (const item of items) {
    const group = Array.isArray(item) ? [...item] : [item as TransactionInstruction];
    if (fits(compile(envelope, [...current, ...group]))) {
      current.push(...group);
      continue;
    }
    if (current.length === 0) compileTransaction(envelope, group);
    transactions.push(compileTransaction(envelope, current));
    current = group;
  }
  if (current.length > 0) transactions.push(compileTransaction(envelope, current));
  return transactions;
}
