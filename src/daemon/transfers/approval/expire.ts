/** Approvals the owner left undecided past `expires_at` end as `expired`; the proposal can then never execute through us. */
import type { TransferRecord } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { transitionRecorded } from '../steps/record-event.ts';

/** The transfer, expired now if it was pending past its deadline (the worker may not have run yet). */
export async function expireIfOverdue(ctx: PipelineContext, record: TransferRecord): Promise<TransferRecord> {
  const nowMs = nowBig(ctx);
  if (record.status !== 'pending_approval' || record.expiresAt === null || record.expiresAt > nowMs)
    return record;
  const expired: TransferRecord = { ...record, status: 'expired', updatedAt: nowMs };
  const moved = await transitionRecorded(
    ctx,
    record.id,
    { from: ['pending_approval'] },
    { status: 'expired', updated_at: nowMs },
    { type: 'transfer.expired', transfer: expired },
  );
  if (!moved) return record;
  ctx.events.emit('transfer.expired', expired);
  return expired;
}
