/**
 * Step 7: the signed transaction, its signature and its last valid block height are stored before the
 * first send, moving the transfer to `submitted` (the approval tier's proposal stays `received`). The
 * update is guarded by state and claim: a transfer cancelled meanwhile (a freeze) is not sent. A
 * signature another transfer already holds (byte-identical transactions) is refused by the database.
 */
import { isUniqueViolation, type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { type BuiltTransaction, wireOf } from './signed-message.ts';

export interface SignedTransaction {
  readonly kind: 'stored';
  readonly record: TransferRecord;
  readonly wire: Uint8Array;
}

export type PersistResult =
  | SignedTransaction
  /** Someone else moved the transfer on (cancelled it, took it over): it must not be sent. */
  | { readonly kind: 'moved' }
  /** Another transfer's transaction is byte for byte this one: build it differently. */
  | { readonly kind: 'duplicate' };

export async function persistSigned(
  ctx: PipelineContext,
  record: TransferRecord,
  built: BuiltTransaction,
  signature: string,
): Promise<PersistResult> {
  const wire = wireOf(built);
  const signedTransaction = Buffer.from(wire).toString('base64');
  const nowMs = nowBig(ctx);
  const status = record.status === 'received' ? 'received' : 'submitted';
  let stored: boolean;
  try {
    stored = await transitionTransfer(
      ctx.store.db,
      record.id,
      { from: [record.status], claimedBy: ctx.replicaId },
      {
        status,
        signature,
        signed_transaction: signedTransaction,
        last_valid_block_height: built.lastValidBlockHeight,
        ...(built.transactionIndex !== undefined && { transaction_index: built.transactionIndex }),
        updated_at: nowMs,
      },
    );
  } catch (error) {
    if (isUniqueViolation(error)) return { kind: 'duplicate' };
    throw error;
  }
  if (!stored) return { kind: 'moved' };
  return {
    kind: 'stored',
    record: {
      ...record,
      status,
      signature,
      signedTransaction,
      lastValidBlockHeight: built.lastValidBlockHeight,
      transactionIndex: built.transactionIndex ?? record.transactionIndex,
      updatedAt: nowMs,
    },
    wire,
  };
}
