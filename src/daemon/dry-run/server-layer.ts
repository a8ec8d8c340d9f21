/**
 * L1 as the reservation would run it, without reserving: the wallet's status, then decideTransfer with
 * the server's counters read as the reservation reads them, from the window buckets (what counts
 * against the daily budget in the rolling window, and the transfers of the rate window).
 */
import type { Kysely } from 'kysely';
import {
  DAILY_WINDOW_SECONDS,
  decideTransfer,
  type Policy,
  type PolicyDecision,
  RATE_WINDOW_SECONDS,
  type TransferIntent,
} from '../../core/policy.ts';
import type { Database, Wallet } from '../../store/index.ts';
import type { WindowUsage } from '../../store/transfers.ts';
import { readWindowUsage } from '../../store/window-buckets.ts';
import type { LayerVerdict } from './types.ts';
import { fromDecision, refused } from './verdict.ts';

export interface ServerLayer {
  readonly verdict: LayerVerdict;
  readonly usage: WindowUsage;
  /** The policy's decision with the server's counters (also when the wallet's status refuses first). */
  readonly decision: PolicyDecision;
}

export async function serverLayer(
  db: Kysely<Database>,
  wallet: Pick<Wallet, 'id' | 'status'>,
  policy: Policy,
  intent: TransferIntent,
  nowMs: number,
): Promise<ServerLayer> {
  const usage = await readWindowUsage(
    db,
    wallet.id,
    intent.asset,
    BigInt(nowMs - DAILY_WINDOW_SECONDS * 1000),
    BigInt(nowMs - RATE_WINDOW_SECONDS * 1000),
  );
  const basis = {
    spentInWindow: usage.spentInWindow.toString(),
    transfersInLastHour: usage.transfersInRateWindow,
    walletStatus: wallet.status,
  };
  const decision = decideTransfer(policy, intent, nowMs, {
    spentInWindow: usage.spentInWindow,
    transfersInLastHour: usage.transfersInRateWindow,
  });
  const asOf = new Date(nowMs).toISOString();
  if (wallet.status === 'frozen') {
    return {
      verdict: refused(
        'WALLET_FROZEN',
        { walletId: wallet.id },
        basis,
        ['The owner must resume the wallet.'],
        asOf,
      ),
      usage,
      decision,
    };
  }
  if (wallet.status !== 'active') {
    return {
      verdict: refused('CONFLICT', { walletId: wallet.id, walletStatus: wallet.status }, basis, [], asOf),
      usage,
      decision,
    };
  }
  return { verdict: fromDecision(decision, basis, [], asOf), usage, decision };
}
