/**
 * Work a replica abandoned (a crash, a lapsed claim) resumed from its stored state:
 * - a signed transaction stored: look its signature up. Found: confirmed or failed. Not found while
 *   its blockhash is valid: the same bytes are sent again. Not found and provably expired (block
 *   height past its last valid height, after one more lookup): back to signing with a new blockhash;
 * - `signing` with nothing stored was never sent: signed again (the agent tiers), or handed back to
 *   the owner (the owner's execution of an approval);
 * - `received` with nothing stored: the approval's proposal is made again.
 * At start-up this replica also takes back what it held before it stopped, without waiting for its
 * claims to lapse.
 */
import { claimAbandoned, type TransferRecord, transitionTransfer } from '../../../store/transfers.ts';
import { propose } from '../approval/propose.ts';
import { nowBig, type PipelineContext } from '../context.ts';
import { driveSigned, wireOf } from '../drive-signed.ts';
import { executeSpend } from '../execute-spend.ts';
import { track } from '../track.ts';

const BATCH = 64;

export async function resumeTransfer(ctx: PipelineContext, claimed: TransferRecord): Promise<TransferRecord> {
  const wallet = await ctx.wallets.get(ctx.store.db, claimed.walletId);
  if (wallet === undefined) return claimed;
  let record = claimed;
  if (record.signature !== null && record.signedTransaction !== null) {
    record = await driveSigned(ctx, record, {
      wire: wireOf(record),
      fresh: false,
      skipPreflight: record.tier !== 'approval',
      vault: wallet.vault,
      approvalTimeoutSeconds: wallet.policy.approvalTimeoutSeconds,
    });
  }
  if (record.status === 'signing' && record.tier !== 'approval') {
    return executeSpend(ctx, record, wallet, 'retry-later');
  }
  if (record.status === 'signing' && record.tier === 'approval') {
    const nowMs = nowBig(ctx);
    await transitionTransfer(
      ctx.store.db,
      record.id,
      { from: ['signing'], claimedBy: ctx.replicaId },
      { status: 'pending_approval', claimed_by: null, claimed_until: null, updated_at: nowMs },
    );
    return { ...record, status: 'pending_approval' };
  }
  if (record.status === 'received' && record.signature === null) {
    return propose(ctx, record, wallet, 'retry-later');
  }
  return record;
}

export async function recoverAbandoned(ctx: PipelineContext, atStartup: boolean): Promise<number> {
  const nowMs = ctx.now();
  const claimed = await claimAbandoned(ctx.store.db, ctx.store.engine, {
    claimer: ctx.replicaId,
    nowMs: BigInt(nowMs),
    leaseUntil: BigInt(nowMs + ctx.leaseMs),
    limit: BATCH,
    ...(atStartup ? { previousClaimer: ctx.replicaId } : {}),
  });
  const fresh = claimed.filter((record) => !ctx.inFlight.has(record.id));
  await Promise.all(
    fresh.map((record) =>
      track(ctx, record.id, () => resumeTransfer(ctx, record)).catch((error) => {
        ctx.logger.error({ err: error, transferId: record.id }, 'resuming a transfer failed');
      }),
    ),
  );
  return fresh.length;
}
