/**
 * L1 for x402 payments and float fills, and their reservation, in one write transaction like any
 * transfer's (src/daemon/transfers/steps/reserve.ts): under the wallet's lock it re-reads the wallet's
 * status (a frozen wallet pays nothing), sums the same daily and rate windows, runs the one policy
 * decision with the payment's purpose, and inserts the row already counting against the budget.
 *
 * A fill's room in the float is the stricter of two views: the enclave's (fills in the daily window,
 * failed ones too, since it counted what it signed) and the chain's (the float's balance plus fills
 * still on their way), so the server is never looser than the enclave nor than the float's cap.
 */
import { type Kysely, sql } from 'kysely';
import { WaiaasError } from '../../core/errors.ts';
import {
  DAILY_WINDOW_SECONDS,
  decideTransfer,
  RATE_WINDOW_SECONDS,
  type SpendPurpose,
} from '../../core/policy.ts';
import type { Database, TransferKind } from '../../store/schema.ts';
import { insertTransfer, lockWalletGate, type TransferRecord } from '../../store/transfers.ts';
import { readWindowUsage } from '../../store/window-buckets.ts';
import type { PipelineContext } from '../transfers/context.ts';
import { newTransferId } from '../transfers/steps/reserve.ts';
import type { WalletContext } from '../transfers/wallet-context.ts';

export interface SpendReservation {
  readonly record: TransferRecord;
  readonly wallet: WalletContext;
}

export interface SpendRequest {
  readonly walletId: string;
  readonly purpose: Exclude<SpendPurpose, 'transfer'>;
  /** The mint. */
  readonly asset: string;
  readonly amount: bigint;
  /** The payee's wallet, or (a fill) the agent's key. */
  readonly recipient: string;
  /** A fill: the float's balance on chain, read just before. */
  readonly floatBalance?: bigint;
  /** What an x402 payment is for, stored with it. */
  readonly detail?: Record<string, unknown>;
}

const kindOf = (purpose: SpendRequest['purpose']): TransferKind =>
  purpose === 'float-fill' ? 'float_fill' : 'x402';

/** What went into the float of `asset` in the window, and what is still on its way there. */
async function floatFills(
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  sinceMs: bigint,
): Promise<{ inWindow: bigint; pending: bigint }> {
  const { rows } = await sql<{ filled: bigint | string | null; pending: bigint | string | null }>`
    select
      cast(coalesce(sum(case when created_at >= ${sinceMs} and status <> 'cancelled' then amount end), 0) as bigint) as filled,
      cast(coalesce(sum(case when status in ('signing', 'submitted') then amount end), 0) as bigint) as pending
    from transfers
    where wallet_id = ${walletId} and asset = ${asset} and kind = 'float_fill'`.execute(db);
  return { inWindow: BigInt(rows[0]?.filled ?? 0), pending: BigInt(rows[0]?.pending ?? 0) };
}

export async function reserveSpend(ctx: PipelineContext, request: SpendRequest): Promise<SpendReservation> {
  const { store } = ctx;
  return store.writeTransaction(async (trx): Promise<SpendReservation> => {
    const gate = await lockWalletGate(trx, store.engine, request.walletId);
    if (gate === undefined) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${request.walletId}.` });
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
    const dailySince = BigInt(nowMs - DAILY_WINDOW_SECONDS * 1000);
    // The window buckets, as a transfer's reservation reads them: flat cost whatever the history.
    const usage = await readWindowUsage(
      trx,
      request.walletId,
      request.asset,
      dailySince,
      BigInt(nowMs - RATE_WINDOW_SECONDS * 1000),
    );
    let floatHeld: bigint | undefined;
    if (request.purpose === 'float-fill') {
      const fills = await floatFills(trx, request.walletId, request.asset, dailySince);
      const onChain = (request.floatBalance ?? 0n) + fills.pending;
      floatHeld = fills.inWindow > onChain ? fills.inWindow : onChain;
    }
    const decision = decideTransfer(
      wallet.policy,
      {
        asset: request.asset,
        amount: request.amount,
        recipient: request.recipient,
        purpose: request.purpose,
      },
      nowMs,
      {
        spentInWindow: usage.spentInWindow,
        transfersInLastHour: usage.transfersInRateWindow,
        ...(floatHeld !== undefined && { floatHeld }),
      },
    );
    if (!decision.ok) {
      throw new WaiaasError(decision.code, {
        layer: 'server',
        details: { walletId: request.walletId, ...decision.details },
      });
    }
    // The schema keeps x402.perPayment and float.max at or below notifyMax: signed at once.
    if (decision.tier !== 'instant' && decision.tier !== 'notify') {
      throw new WaiaasError('INTERNAL', { message: `An x402 spend fell in the ${decision.tier} tier` });
    }
    const record = await insertTransfer(trx, {
      id: newTransferId(),
      walletId: request.walletId,
      idempotencyKey: null,
      requestHash: '',
      asset: request.asset,
      amount: request.amount,
      destination: request.recipient,
      memo: null,
      tier: decision.tier,
      status: 'signing',
      countsDaily: decision.consumesDaily,
      executeAfter: null,
      expiresAt: null,
      agentPublicKey: wallet.agent.toBase58(),
      claimedBy: ctx.replicaId,
      claimedUntil: BigInt(nowMs + ctx.leaseMs),
      nowMs: BigInt(nowMs),
      kind: kindOf(request.purpose),
      x402Detail: request.detail === undefined ? null : JSON.stringify(request.detail),
    });
    return { record, wallet };
  });
}
