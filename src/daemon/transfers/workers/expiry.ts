/** Approvals past their deadline become `expired`, in one statement (exactly once however many replicas run it). */
import { expireOverdueApprovals } from '../../../store/transfers.ts';
import { recordTransferEvent } from '../../notifier/transfer-events.ts';
import type { PipelineContext } from '../context.ts';

export async function expireApprovals(ctx: PipelineContext): Promise<number> {
  // Expired and recorded (audit entry, webhook event per transfer) in one write transaction.
  const expired = await ctx.store.writeTransaction(async (trx) => {
    const rows = await expireOverdueApprovals(trx, BigInt(ctx.now()));
    for (const record of rows) await recordTransferEvent(trx, 'transfer.expired', record);
    return rows;
  });
  for (const record of expired) ctx.events.emit('transfer.expired', record);
  return expired.length;
}
