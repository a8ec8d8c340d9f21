/** Approvals past their deadline become `expired`, in one statement (exactly once however many replicas run it). */
import { expireOverdueApprovals } from '../../../store/transfers.ts';
import type { PipelineContext } from '../context.ts';

export async function expireApprovals(ctx: PipelineContext): Promise<number> {
  const expired = await expireOverdueApprovals(ctx.store.db, BigInt(ctx.now()));
  for (const record of expired) ctx.events.emit('transfer.expired', record);
  return expired.length;
}
