/** The owner cancels a delayed transfer before it is due; its reservation is released, recorded as the owner's act. */
import type { Owner } from '../../../store/owners.ts';
import { findTransfer, type TransferRecord } from '../../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { transitionRecorded } from '../steps/record-event.ts';
import { notInState, ownedTransfer } from './owned.ts';

export async function cancelTransfer(
  ctx: PipelineContext,
  owner: Owner,
  transferId: string,
): Promise<TransferRecord> {
  const { record } = await ownedTransfer(ctx, owner, transferId);
  const nowMs = nowBig(ctx);
  const cancelled: TransferRecord = { ...record, status: 'cancelled', countsDaily: false, updatedAt: nowMs };
  const moved = await transitionRecorded(
    ctx,
    record.id,
    { from: ['delayed'] },
    { status: 'cancelled', counts_daily: 0n, updated_at: nowMs },
    { type: 'transfer.cancelled', transfer: cancelled, actor: { role: 'owner', id: owner.id } },
  );
  if (!moved) {
    const latest = (await findTransfer(ctx.store.db, record.id)) ?? record;
    throw notInState(latest, 'cancelled', 'delayed');
  }
  ctx.events.emit('transfer.cancelled', cancelled);
  return cancelled;
}
