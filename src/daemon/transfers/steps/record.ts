/**
 * Step 10: the outcome stored, and the events that follow it. Failure releases the reservation
 * (counts_daily = 0). Expiry sends the transfer back to be signed again with a new blockhash (the
 * owner's execution back to the owner; the agent's proposal back to be proposed again).
 */
import type { TransferStatus } from '../../../store/schema.ts';
import { type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { storedError } from '../stored-error.ts';
import type { ChainOutcome } from './confirm.ts';

/** Which transaction of the transfer the stored signature is. */
export type SignedPhase = 'spend' | 'proposal' | 'owner-execution';

export const phaseOf = (record: TransferRecord): SignedPhase =>
  record.tier !== 'approval' ? 'spend' : record.status === 'received' ? 'proposal' : 'owner-execution';

const cleared = { signature: null, signed_transaction: null, last_valid_block_height: null } as const;

export async function recordOutcome(
  ctx: PipelineContext,
  record: TransferRecord,
  outcome: ChainOutcome,
  approvalTimeoutSeconds?: number,
): Promise<TransferRecord> {
  const signature = record.signature ?? undefined;
  const phase = phaseOf(record);
  const db = ctx.store.db;
  const nowMs = nowBig(ctx);
  const move = async (to: TransferStatus, changes: Parameters<typeof transitionTransfer>[3]) => {
    const moved = await transitionTransfer(db, record.id, { from: [record.status], signature }, changes);
    return moved ? ({ ...record, status: to, updatedAt: nowMs } as TransferRecord) : undefined;
  };

  switch (outcome.kind) {
    case 'unknown':
      return record;
    case 'confirmed': {
      if (phase === 'proposal') {
        const expiresAt = nowMs + BigInt((approvalTimeoutSeconds ?? 3600) * 1000);
        const pending = await move('pending_approval', {
          status: 'pending_approval',
          proposal_signature: record.signature,
          ...cleared,
          expires_at: expiresAt,
          updated_at: nowMs,
        });
        if (!pending) return record;
        const done = { ...pending, proposalSignature: record.signature, expiresAt, ...nullSigned };
        ctx.events.emit('transfer.pending_approval', done);
        return done;
      }
      // A transfer cancelled by a freeze after it was sent still landed: the chain has the last word.
      const confirmed = await transitionTransfer(
        db,
        record.id,
        { from: [record.status, 'cancelled'], signature },
        { status: 'confirmed', updated_at: nowMs },
      );
      if (!confirmed) return record;
      const done: TransferRecord = { ...record, status: 'confirmed', updatedAt: nowMs };
      ctx.events.emit('transfer.confirmed', done);
      if (done.tier === 'notify') ctx.events.emit('transfer.notify', done);
      return done;
    }
    case 'failed': {
      const failed = await move('failed', {
        status: 'failed',
        counts_daily: 0n,
        ...storedError(outcome.error),
        updated_at: nowMs,
      });
      if (!failed) return record;
      const done = { ...failed, countsDaily: false, ...errorFields(outcome.error) };
      ctx.events.emit('transfer.failed', done);
      return done;
    }
    case 'expired': {
      const to: TransferStatus =
        phase === 'spend' ? 'signing' : phase === 'proposal' ? 'received' : 'pending_approval';
      const back = await move(to, { status: to, ...cleared, updated_at: nowMs });
      return back ? { ...back, ...nullSigned } : record;
    }
  }
}

const nullSigned = { signature: null, signedTransaction: null, lastValidBlockHeight: null } as const;

const errorFields = (error: Parameters<typeof storedError>[0]) => {
  const stored = storedError(error);
  return { errorCode: stored.error_code, errorDetail: stored.error_detail };
};
