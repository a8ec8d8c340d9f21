/**
 * Step 10: the outcome stored with its audit entry and webhook event (one write transaction), then
 * the in-memory events. Failure releases the reservation
 * (counts_daily = 0). Expiry sends the transfer back to be signed again with a new blockhash (the
 * owner's execution back to the owner; the agent's proposal back to be proposed again).
 */
import type { TransferStatus } from '../../../store/schema.ts';
import { type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { storedError } from '../stored-error.ts';
import type { ChainOutcome } from './confirm.ts';
import { transitionRecorded } from './record-event.ts';

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
  const nowMs = nowBig(ctx);
  const guard = { from: [record.status], signature };

  switch (outcome.kind) {
    case 'unknown':
      return record;
    case 'confirmed': {
      if (phase === 'proposal') {
        const expiresAt = nowMs + BigInt((approvalTimeoutSeconds ?? 3600) * 1000);
        const done: TransferRecord = {
          ...record,
          status: 'pending_approval',
          proposalSignature: record.signature,
          expiresAt,
          updatedAt: nowMs,
          ...nullSigned,
        };
        const pending = await transitionRecorded(
          ctx,
          record.id,
          guard,
          {
            status: 'pending_approval',
            proposal_signature: record.signature,
            ...cleared,
            expires_at: expiresAt,
            updated_at: nowMs,
          },
          { type: 'transfer.pending_approval', transfer: done },
        );
        if (!pending) return record;
        ctx.events.emit('transfer.pending_approval', done);
        return done;
      }
      // A transfer cancelled by a freeze after it was sent still landed: the chain has the last word.
      const done: TransferRecord = { ...record, status: 'confirmed', updatedAt: nowMs };
      const confirmed = await transitionRecorded(
        ctx,
        record.id,
        { from: [record.status, 'cancelled'], signature },
        { status: 'confirmed', updated_at: nowMs },
        { type: 'transfer.confirmed', transfer: done },
      );
      if (!confirmed) return record;
      ctx.events.emit('transfer.confirmed', done);
      if (done.tier === 'notify') ctx.events.emit('transfer.notify', done);
      return done;
    }
    case 'failed': {
      const done: TransferRecord = {
        ...record,
        status: 'failed',
        countsDaily: false,
        updatedAt: nowMs,
        ...errorFields(outcome.error),
      };
      const failed = await transitionRecorded(
        ctx,
        record.id,
        guard,
        { status: 'failed', counts_daily: 0n, ...storedError(outcome.error), updated_at: nowMs },
        { type: 'transfer.failed', transfer: done },
      );
      if (!failed) return record;
      ctx.events.emit('transfer.failed', done);
      return done;
    }
    case 'expired': {
      const to: TransferStatus =
        phase === 'spend' ? 'signing' : phase === 'proposal' ? 'received' : 'pending_approval';
      const back = await transitionTransfer(ctx.store.db, record.id, guard, {
        status: to,
        ...cleared,
        updated_at: nowMs,
      });
      return back ? { ...record, status: to, updatedAt: nowMs, ...nullSigned } : record;
    }
  }
}

const nullSigned = { signature: null, signedTransaction: null, lastValidBlockHeight: null } as const;

const errorFields = (error: Parameters<typeof storedError>[0]) => {
  const stored = storedError(error);
  return { errorCode: stored.error_code, errorDetail: stored.error_detail };
};
