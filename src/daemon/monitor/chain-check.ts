/**
 * Spending that bypassed the daemon: for each active wallet and each asset of its policy, the chain's
 * spending limit says how much its current period has spent. Take away what the owner act that
 * created the limit carried in (budget-carry.ts); what remains was spent under the limit since, and
 * the daemon must have sent at least that much itself (transfers in flight, or confirmed since the
 * period began). More on chain means a transfer signed with the agent key outside the daemon: a
 * leaked key. The rule fires `spend_bypassed_daemon` and the monitor freezes the wallet.
 *
 * Cost: one getMultipleAccounts per 100 limits (plus the clock), and per wallet that has spent
 * anything, one small query for the period records and one per asset for what it sent.
 */
import { type Connection, PublicKey, SYSVAR_CLOCK_PUBKEY } from '@solana/web3.js';
import { DAILY_WINDOW_MARGIN_SECONDS } from '../../core/policy-window.ts';
import { spendingLimitAddress } from '../../squads/index.ts';
import { carriedIntoPeriod, spentInPeriod } from '../../squads/owner-acts/budget-carry.ts';
import { decodeSpendingLimit, effectiveLimit, type SpendingLimitState } from '../../squads/wallet-state.ts';
import type { Store } from '../../store/index.ts';
import { recentPeriodRecords } from '../../store/owner-acts.ts';
import { activeWalletsWithPolicy } from '../../store/wallet-acts.ts';
import { sentUnderLimitSince } from '../../store/wallet-budget.ts';
import type { PolicyCache } from '../dry-run/policy-cache.ts';
import { type Alert, bypassAlert } from './rules.ts';

const ACCOUNTS_PER_READ = 100;
const RECORDS_LOOK_BACK_MS = 2 * 86_400_000;
// Clock sysvar layout: slot u64, epoch_start_timestamp i64, epoch u64, leader_schedule_epoch u64, unix_timestamp i64.
const UNIX_TIMESTAMP_OFFSET = 32;

interface Watched {
  readonly walletId: string;
  readonly asset: string;
  readonly address: PublicKey;
}

async function readLimits(
  connection: Connection,
  watched: readonly Watched[],
): Promise<{ chainTime: bigint; limits: (SpendingLimitState | undefined)[] }> {
  const [clock] = await connection.getMultipleAccountsInfo([SYSVAR_CLOCK_PUBKEY], 'confirmed');
  if (!clock || clock.data.length < UNIX_TIMESTAMP_OFFSET + 8) throw new Error('no Clock sysvar account');
  const chainTime = clock.data.readBigInt64LE(UNIX_TIMESTAMP_OFFSET);
  const limits: (SpendingLimitState | undefined)[] = [];
  for (let start = 0; start < watched.length; start += ACCOUNTS_PER_READ) {
    const page = watched.slice(start, start + ACCOUNTS_PER_READ);
    const infos = await connection.getMultipleAccountsInfo(
      page.map((entry) => entry.address),
      'confirmed',
    );
    page.forEach((entry, index) => {
      const info = infos[index];
      limits.push(info ? decodeSpendingLimit(entry.address, info) : undefined);
    });
  }
  return { chainTime, limits };
}

/** One pass over every active wallet; the alerts for those the chain shows spent behind the daemon's back. */
export async function spendBypassAlerts(
  store: Store,
  connection: Connection,
  policies: PolicyCache,
  nowMs: number,
): Promise<Alert[]> {
  const watched: Watched[] = [];
  for (const wallet of await activeWalletsWithPolicy(store.db)) {
    const multisig = new PublicKey(wallet.multisig);
    for (const asset of policies.of(wallet).policy.assets.keys()) {
      watched.push({
        walletId: wallet.id,
        asset,
        address: spendingLimitAddress(multisig, asset === 'SOL' ? 'SOL' : new PublicKey(asset)),
      });
    }
  }
  if (watched.length === 0) return [];
  const { chainTime, limits } = await readLimits(connection, watched);
  // Cluster seconds to server milliseconds, less the margin the server's window allows for skew.
  const offsetMs = BigInt(nowMs) - chainTime * 1000n - BigInt(DAILY_WINDOW_MARGIN_SECONDS * 1000);

  const alerts = new Map<string, Alert>();
  const records = new Map<string, Awaited<ReturnType<typeof recentPeriodRecords>>>();
  for (const [index, entry] of watched.entries()) {
    const limit = limits[index];
    if (limit === undefined || alerts.has(entry.walletId)) continue;
    const chainSpent = spentInPeriod(limit, chainTime);
    if (chainSpent === 0n) continue;
    let walletRecords = records.get(entry.walletId);
    if (walletRecords === undefined) {
      walletRecords = await recentPeriodRecords(
        store.db,
        entry.walletId,
        BigInt(nowMs - RECORDS_LOOK_BACK_MS),
      );
      records.set(entry.walletId, walletRecords);
    }
    const carried = carriedIntoPeriod(limit, walletRecords.get(entry.asset) ?? [], chainTime);
    const { periodStart } = effectiveLimit(limit, chainTime);
    const sent = await sentUnderLimitSince(
      store.db,
      entry.walletId,
      entry.asset,
      periodStart * 1000n + offsetMs,
    );
    const alert = bypassAlert(entry.walletId, {
      asset: entry.asset,
      chainSpent,
      carried,
      sent,
      periodStart,
    });
    if (alert) alerts.set(entry.walletId, alert);
  }
  return [...alerts.values()];
}
