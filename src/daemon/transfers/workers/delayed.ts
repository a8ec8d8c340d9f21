/**
 * Delayed transfers that are due, claimed by exactly one replica (FOR UPDATE SKIP LOCKED on
 * PostgreSQL, one conditional UPDATE on SQLite) and executed like an instant one. Only wallets still
 * active are claimed; a cancelled transfer is never claimed again.
 */
import { claimDueDelayed } from '../../../store/transfers.ts';
import type { PipelineContext } from '../context.ts';
import { executeSpend } from '../execute-spend.ts';
import { track } from '../track.ts';

const BATCH = 64;

export async function runDueDelayed(ctx: PipelineContext): Promise<number> {
  const nowMs = ctx.now();
  const claimed = await claimDueDelayed(ctx.store.db, ctx.store.engine, {
    claimer: ctx.replicaId,
    nowMs: BigInt(nowMs),
    leaseUntil: BigInt(nowMs + ctx.leaseMs),
    limit: BATCH,
  });
  await Promise.all(
    claimed.map((record) =>
      track(ctx, record.id, async () => {
        const wallet = await ctx.wallets.get(ctx.store.db, record.walletId);
        if (wallet === undefined) return record;
        return executeSpend(ctx, record, wallet, 'retry-later');
      }).catch((error) => {
        ctx.logger.error({ err: error, transferId: record.id }, 'delayed transfer failed to run');
      }),
    ),
  );
  return claimed.length;
}
