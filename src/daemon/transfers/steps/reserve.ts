/**
 * Step 3: L1 and the reservation, in one write transaction so that N concurrent requests can never
 * exceed a cap. Under the wallet's lock (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) it
 * re-reads the wallet's status (a frozen wallet gets nothing), finds an earlier request under the same
 * idempotency key, reads the daily and rate windows from their buckets (a cost independent of the
 * wallet's history), decides, charges what the fee payer will spend for it to the wallet's fee budget,
 * and inserts the transfer already counting against the budget (the insert's trigger adds it to the
 * buckets in this same transaction).
 */
import { randomBytes } from 'node:crypto';
import { WaiaasError } from '../../../core/errors.ts';
import { DAILY_WINDOW_SECONDS, decideTransfer, RATE_WINDOW_SECONDS } from '../../../core/policy.ts';
import type { TransferStatus } from '../../../store/schema.ts';
import {
  findTransferByIdempotencyKey,
  insertTransfer,
  lockWalletGate,
  type TransferRecord,
} from '../../../store/transfers.ts';
import { readWindowUsage } from '../../../store/window-buckets.ts';
import { recordTransferEvent } from '../../notifier/transfer-events.ts';
import { chargeReservation, plannedFees } from '../approval/fee-budget.ts';
import type { PipelineContext } from '../context.ts';
import { assetOf, type TransferRequest } from '../types.ts';
import type { WalletContext } from '../wallet-context.ts';
import { sameRequest } from './idempotency.ts';

export type Reservation =
  | { readonly kind: 'new'; readonly record: TransferRecord; readonly wallet: WalletContext }
  | { readonly kind: 'existing'; readonly record: TransferRecord };

export const newTransferId = (): string => `tr_${randomBytes(12).toString('base64url')}`;

export async function reserve(ctx: PipelineContext, request: TransferRequest): Promise<Reservation> {
  const { store } = ctx;
  // Read before the lock: whether the fee payer would have to create the recipient's token account.
  const planned = await plannedFees(ctx, request);
  return store.writeTransaction(async (trx): Promise<Reservation> => {
    const gate = await lockWalletGate(trx, store.engine, request.walletId);
    if (gate === undefined) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${request.walletId}.` });
    if (request.idempotencyKey !== undefined) {
      const existing = await findTransferByIdempotencyKey(trx, request.walletId, request.idempotencyKey);
      if (existing) return { kind: 'existing', record: sameRequest(existing, request) };
    }
    if (gate.status === 'frozen') {
      throw new WaiaasError('WALLET_FROZEN', { layer: 'server', details: { walletId: request.walletId } });
    }
    if (gate.status !== 'active') {
      throw new WaiaasError('CONFLICT', {
        message: `The wallet is ${gate.status}, not active`,
        details: { walletId: request.walletId, walletStatus: gate.status },
      });
    }
    const wallet = await ctx.wallets.matching(trx, request.walletId, gate);
    if (wallet.agent === undefined) {
      throw new WaiaasError('CONFLICT', {
        message: 'The wallet has no active agent key',
        details: { walletId: request.walletId },
      });
    }

    const nowMs = ctx.now();
    const asset = assetOf(request);
    const usage = await readWindowUsage(
      trx,
      request.walletId,
      asset,
      BigInt(nowMs - DAILY_WINDOW_SECONDS * 1000),
      BigInt(nowMs - RATE_WINDOW_SECONDS * 1000),
    );
    const decision = decideTransfer(
      wallet.policy,
      { asset, amount: request.amount, recipient: request.to },
      nowMs,
      {
        spentInWindow: usage.spentInWindow,
        transfersInLastHour: usage.transfersInRateWindow,
      },
    );
    if (!decision.ok) {
      throw new WaiaasError(decision.code, {
        layer: 'server',
        details: { walletId: request.walletId, ...decision.details },
      });
    }

    const transferId = newTransferId();
    await chargeReservation(trx, {
      walletId: request.walletId,
      transferId,
      policy: wallet.policy,
      opensApproval: decision.tier === 'approval',
      planned,
      nowMs,
    });
    const delayed = decision.tier === 'delay' && decision.delaySeconds > 0;
    const status: TransferStatus =
      decision.tier === 'approval' ? 'received' : delayed ? 'delayed' : 'signing';
    const record = await insertTransfer(trx, {
      id: transferId,
      walletId: request.walletId,
      idempotencyKey: request.idempotencyKey ?? null,
      requestHash: request.requestHash,
      asset,
      amount: request.amount,
      destination: request.to,
      memo: request.memo ?? null,
      tier: decision.tier,
      status,
      countsDaily: decision.consumesDaily,
      executeAfter: delayed ? BigInt(nowMs + decision.delaySeconds * 1000) : null,
      expiresAt: null,
      agentPublicKey: wallet.agent.toBase58(),
      // Work this request drives at once is claimed by us from the start, at no extra write.
      claimedBy: delayed ? null : ctx.replicaId,
      claimedUntil: delayed ? null : BigInt(nowMs + ctx.leaseMs),
      nowMs: BigInt(nowMs),
    });
    // A delayed transfer is an event the owner hears of (they may cancel it): recorded with the row.
    if (status === 'delayed') await recordTransferEvent(trx, 'transfer.delayed', record);
    return { kind: 'new', record, wallet };
  });
}
