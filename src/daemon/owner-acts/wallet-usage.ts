/**
 * Spent and remaining per asset at each of the three layers, side by side, so an owner sees where a
 * budget stands and whether the layers agree:
 *   - server: transfers that count against the daily budget (counts_daily = 1) within the rolling
 *     window of policy-window.ts;
 *   - enclave: its own counters, over the same window (it never takes the host's word for them);
 *   - chain: each spending limit's remainingAmount and lastReset, with the period reset the program
 *     applies at its next use already applied (effectiveLimit at the cluster's clock).
 * The server's and the enclave's windows are rolling and a little longer than the chain's day, so
 * after a day has passed the chain may show its budget renewed before the other two do.
 */
import { PublicKey } from '@solana/web3.js';
import { isWaiaasError } from '../../core/errors.ts';
import { DAILY_WINDOW_SECONDS, RATE_WINDOW_SECONDS } from '../../core/policy.ts';
import { readSpendingLimits, type SpendingLimitState, spendingLimitAddress } from '../../squads/index.ts';
import { effectiveLimit } from '../../squads/wallet-state.ts';
import type { Store, Wallet } from '../../store/index.ts';
import { countedSpentSince } from '../../store/wallet-budget.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { readChainUnixTime } from './chain-reads.ts';
import { policyInForce } from './common.ts';

export interface LayerUsage {
  readonly spent: string;
  /** What is left of the policy's daily amount; null when the policy in force names no such asset. */
  readonly remaining: string | null;
}

export interface ChainUsage {
  /** The spending limit account. */
  readonly address: string;
  /** The limit per period. */
  readonly amount: string;
  readonly spent: string;
  readonly remaining: string;
  /** Unix seconds (cluster clock) the limit's current period started, as stored on chain. */
  readonly lastReset: number;
  /** Unix seconds the period in force now started (after a reset the next use will apply). */
  readonly periodStart: number;
}

export interface AssetUsage {
  /** "SOL" or the mint. */
  readonly asset: string;
  /** The policy's daily amount, or null. */
  readonly daily: string | null;
  readonly server: LayerUsage;
  /** Null while the enclave cannot be asked (see `enclave.error`). */
  readonly enclave: LayerUsage | null;
  /** Null when the wallet has no spending limit for the asset on chain (e.g. frozen). */
  readonly chain: ChainUsage | null;
}

export interface WalletUsage {
  readonly walletId: string;
  readonly status: Wallet['status'];
  readonly policyVersion: number;
  readonly windowSeconds: number;
  /** Cluster unix time the chain figures are computed at; null when it could not be read. */
  readonly chainTime: number | null;
  readonly assets: AssetUsage[];
  readonly rate: {
    readonly windowSeconds: number;
    readonly enclaveTransfers: number | null;
  };
  readonly enclave: { readonly available: boolean; readonly error?: { code: string; message: string } };
}

/** Sum per asset of the wallet's transfers counting against the daily budget inside the window. */
export const serverSpent = (store: Store, walletId: string, nowMs: number): Promise<Map<string, bigint>> =>
  countedSpentSince(store.db, walletId, BigInt(nowMs - DAILY_WINDOW_SECONDS * 1000));

const remainingOf = (daily: bigint | undefined, spent: bigint): string | null =>
  daily === undefined ? null : (daily > spent ? daily - spent : 0n).toString();

const limitAssetLabel = (limit: SpendingLimitState): string =>
  limit.asset === 'SOL' ? 'SOL' : limit.asset.toBase58();

export async function readWalletUsage(runtime: Runtime, wallet: Wallet): Promise<WalletUsage> {
  const multisig = new PublicKey(wallet.multisig);
  const inForce = policyInForce(wallet);
  const nowMs = Date.now();
  const enclaveCall = runtime.signers
    .useFor(wallet.id, (client) => client.usage(wallet.id))
    .then(
      (usage) => ({ ok: true as const, usage }),
      (error: unknown) => ({ ok: false as const, error }),
    );
  const [server, limits, chainTime, enclaveAnswer] = await Promise.all([
    serverSpent(runtime.store, wallet.id, nowMs),
    readSpendingLimits(runtime.chain.connection, multisig),
    readChainUnixTime(runtime.chain.connection).catch(() => null),
    enclaveCall,
  ]);

  // The agent's limit per asset lives at its derived address; other limits (none, normally) are not its budget.
  const chainByAsset = new Map<string, SpendingLimitState>();
  for (const limit of limits) {
    if (limit.address.equals(spendingLimitAddress(multisig, limit.asset)))
      chainByAsset.set(limitAssetLabel(limit), limit);
  }
  const enclaveSpent = enclaveAnswer.ok ? enclaveAnswer.usage.spent : {};
  const assets = [
    ...new Set([
      ...inForce.policy.assets.keys(),
      ...server.keys(),
      ...Object.keys(enclaveSpent),
      ...chainByAsset.keys(),
    ]),
  ].sort((a, b) => (a === 'SOL' ? -1 : b === 'SOL' ? 1 : a.localeCompare(b)));

  return {
    walletId: wallet.id,
    status: wallet.status,
    policyVersion: inForce.document.version,
    windowSeconds: DAILY_WINDOW_SECONDS,
    chainTime: chainTime === null ? null : Number(chainTime),
    assets: assets.map((asset): AssetUsage => {
      const daily = inForce.policy.assets.get(asset)?.daily;
      const spentOnServer = server.get(asset) ?? 0n;
      const limit = chainByAsset.get(asset);
      let chain: ChainUsage | null = null;
      if (limit) {
        const effective =
          chainTime === null
            ? { remaining: limit.remainingAmount, periodStart: limit.lastReset }
            : effectiveLimit(limit, chainTime);
        chain = {
          address: limit.address.toBase58(),
          amount: limit.amount.toString(),
          spent: (limit.amount - effective.remaining).toString(),
          remaining: effective.remaining.toString(),
          lastReset: Number(limit.lastReset),
          periodStart: Number(effective.periodStart),
        };
      }
      const spentInEnclave = enclaveSpent[asset];
      return {
        asset,
        daily: daily?.toString() ?? null,
        server: { spent: spentOnServer.toString(), remaining: remainingOf(daily, spentOnServer) },
        enclave: enclaveAnswer.ok
          ? {
              spent: spentInEnclave ?? '0',
              remaining: remainingOf(daily, BigInt(spentInEnclave ?? '0')),
            }
          : null,
        chain,
      };
    }),
    rate: {
      windowSeconds: RATE_WINDOW_SECONDS,
      enclaveTransfers: enclaveAnswer.ok ? enclaveAnswer.usage.transfersInLastHour : null,
    },
    enclave: enclaveAnswer.ok
      ? { available: true }
      : {
          available: false,
          error: isWaiaasError(enclaveAnswer.error)
            ? { code: enclaveAnswer.error.code, message: enclaveAnswer.error.message }
            : { code: 'INTERNAL', message: 'Internal error' },
        },
  };
}
