/**
 * Approvals past their deadline become `expired`, in one statement (exactly once however many replicas
 * run it). Then the decided approval requests whose rent the chain lets the fee payer take back alone
 * (executed, rejected, cancelled or stale proposals; ones that never landed) are closed; an expired
 * proposal still open on chain waits for the owner's next act (close-proposals.ts). A wallet is looked
 * at again only after RESETTLE_MS, so a proposal waiting for the owner costs no RPC on every tick.
 */
import { PublicKey } from '@solana/web3.js';
import { openApprovals } from '../../../store/fee-spends.ts';
import { expireOverdueApprovals } from '../../../store/transfers.ts';
import { findWallet } from '../../../store/wallets.ts';
import { recordTransferEvent } from '../../notifier/transfer-events.ts';
import { settleApprovalRent } from '../approval/close-proposals.ts';
import type { PipelineContext } from '../context.ts';

const RESETTLE_MS = 30_000;
const settledAt = new WeakMap<PipelineContext, Map<string, number>>();
const DECIDED = new Set(['confirmed', 'rejected', 'expired', 'cancelled', 'failed']);

export async function expireApprovals(ctx: PipelineContext): Promise<number> {
  // Expired and recorded (audit entry, webhook event per transfer) in one write transaction.
  const expired = await ctx.store.writeTransaction(async (trx) => {
    const rows = await expireOverdueApprovals(trx, BigInt(ctx.now()));
    for (const record of rows) await recordTransferEvent(trx, 'transfer.expired', record);
    return rows;
  });
  for (const record of expired) ctx.events.emit('transfer.expired', record);
  await closeDecidedApprovals(ctx, new Set(expired.map((record) => record.walletId)));
  return expired.length;
}

/** Fee-payer-only closing of decided approval requests, per wallet at most every RESETTLE_MS. */
async function closeDecidedApprovals(ctx: PipelineContext, justExpired: ReadonlySet<string>): Promise<void> {
  const seen = settledAt.get(ctx) ?? new Map<string, number>();
  settledAt.set(ctx, seen);
  const nowMs = ctx.now();
  const wallets = new Set(
    (await openApprovals(ctx.store.db))
      .filter((open) => DECIDED.has(open.status))
      .map((open) => open.walletId)
      .filter((walletId) => justExpired.has(walletId) || nowMs - (seen.get(walletId) ?? 0) >= RESETTLE_MS),
  );
  for (const walletId of wallets) {
    seen.set(walletId, nowMs);
    const wallet = await findWallet(ctx.store.db, walletId);
    if (wallet === undefined) continue;
    try {
      await settleApprovalRent(ctx.runtime, walletId, new PublicKey(wallet.multisig));
    } catch (error) {
      ctx.logger.warn({ err: error, walletId }, 'could not close decided approval requests');
    }
  }
}
