/**
 * What the chain says about a wallet's autonomous budget, read briefly cached: every spending limit of
 * its multisig, the cluster clock (limits reset by it), and the vault's balance of each limited asset.
 * Dry runs and GET /v1/wallets/:id read it per request.
 *
 * Cost: a full read finds the limits by scanning the program's accounts (getProgramAccounts) and the
 * mints' token programs; it runs on a wallet's first read, whenever the wallet row changed (every
 * owner act touches it) and at least every `rescanMs` (30 s: limits added with the owner key outside
 * the daemon). In between, a refresh is one getMultipleAccounts of the accounts the scan found, the
 * vault, its token accounts and the Clock sysvar.
 *
 * Freshness: an entry is fresh for `ttlMs` (1 s). After that it is still served, for up to
 * `maxStaleMs` (5 s), while one refresh runs in the background, so readers never queue behind the RPC
 * while a recent answer exists (each answer carries when it was read). A wallet row that changed is
 * never answered from before the change: that read waits for the chain. Concurrent readers share one
 * load.
 */
import { type Connection, PublicKey, SYSVAR_CLOCK_PUBKEY } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import {
  associatedTokenAddress,
  readSpendingLimits,
  type SpendingLimitState,
  spendingLimitAddress,
  type TokenAsset,
  vaultAddress,
} from '../../squads/index.ts';
import { decodeSpendingLimit, decodeTokenAmount } from '../../squads/wallet-state.ts';
import { readChainUnixTime, readTokenAssets } from '../owner-acts/chain-reads.ts';

export interface ChainSnapshot {
  /** Every spending limit of the multisig, whoever its members are. */
  readonly limits: readonly SpendingLimitState[];
  /**
   * The limit at the agent's derived address per asset ("SOL" or the mint): the one the daemon's
   * transfers use.
   */
  readonly agentLimits: ReadonlyMap<string, SpendingLimitState>;
  /** Cluster unix seconds; null when the clock could not be read. */
  readonly chainTime: bigint | null;
  /** The vault's balance per limited asset, in base units; null when unknown (e.g. not a token mint). */
  readonly balances: ReadonlyMap<string, bigint | null>;
  /** Server time (ms) of the read. */
  readonly readAtMs: number;
}

export interface ChainSnapshotsOptions {
  readonly ttlMs?: number;
  /** How old an entry may be served while it is refreshed (default 5 s). */
  readonly maxStaleMs?: number;
  /** How often the limits are looked for anew (default 30 s). */
  readonly rescanMs?: number;
  readonly now?: () => number;
  /** Wallets kept; the oldest entries go first when exceeded. Default 10,000. */
  readonly maxEntries?: number;
}

/** What a full read found: the accounts a refresh reads again. */
interface Layout {
  readonly limitAddresses: readonly PublicKey[];
  readonly vault: PublicKey;
  /** Per limited mint: its token account in the vault, or null when it is no token mint. */
  readonly tokens: readonly { readonly mint: string; readonly account: PublicKey | null }[];
  readonly scannedAtMs: number;
}

interface Entry {
  readonly version: string;
  layout?: Layout;
  /** The last good load, once there is one. */
  last?: ChainSnapshot;
  /** The load in flight, if any. */
  loading?: Promise<ChainSnapshot>;
}

export const assetLabel = (limit: Pick<SpendingLimitState, 'asset'>): string =>
  limit.asset === 'SOL' ? 'SOL' : limit.asset.toBase58();

// Clock sysvar layout: slot u64, epoch_start_timestamp i64, epoch u64, leader_schedule_epoch u64, unix_timestamp i64.
const UNIX_TIMESTAMP_OFFSET = 32;

const chainUnavailable = (error: unknown) =>
  new WaiaasError('CHAIN_UNAVAILABLE', {
    message: 'Reading the wallet from the chain failed',
    details: { reason: error instanceof Error ? error.message.slice(0, 200) : String(error) },
    cause: error,
  });

function snapshotOf(
  multisig: PublicKey,
  limits: readonly SpendingLimitState[],
  chainTime: bigint | null,
  balances: Map<string, bigint | null>,
  readAtMs: number,
): ChainSnapshot {
  const agentLimits = new Map<string, SpendingLimitState>();
  for (const limit of limits) {
    if (limit.address.equals(spendingLimitAddress(multisig, limit.asset)))
      agentLimits.set(assetLabel(limit), limit);
  }
  return { limits, agentLimits, chainTime, balances, readAtMs };
}

export class ChainSnapshots {
  readonly #connection: Connection;
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #rescanMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  /** Mint facts never change: kept for good. */
  readonly #mints = new Map<string, TokenAsset | null>();

  constructor(connection: Connection, options: ChainSnapshotsOptions = {}) {
    this.#connection = connection;
    this.#ttlMs = options.ttlMs ?? 1_000;
    this.#maxStaleMs = Math.max(this.#ttlMs, options.maxStaleMs ?? 5_000);
    this.#rescanMs = options.rescanMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /**
   * The snapshot of `multisig` read after the wallet row's `version`: fresh, or (while it is
   * refreshed) at most `maxStaleMs` old.
   */
  read(multisig: string, version: string): Promise<ChainSnapshot> {
    const now = this.#now();
    let entry = this.#entries.get(multisig);
    if (entry === undefined || entry.version !== version) {
      if (entry === undefined && this.#entries.size >= this.#maxEntries) {
        const oldest = this.#entries.keys().next().value;
        if (oldest !== undefined) this.#entries.delete(oldest);
      }
      entry = { version };
      this.#entries.set(multisig, entry);
    }
    const last = entry.last;
    const age = last === undefined ? Number.POSITIVE_INFINITY : now - last.readAtMs;
    if (last !== undefined && age < this.#ttlMs) return Promise.resolve(last);
    const loading = entry.loading ?? this.#reload(new PublicKey(multisig), entry);
    return last !== undefined && age < this.#maxStaleMs ? Promise.resolve(last) : loading;
  }

  /** Forget everything (tests, and anyone who knows the chain just changed). */
  clear(): void {
    this.#entries.clear();
  }

  #reload(multisig: PublicKey, entry: Entry): Promise<ChainSnapshot> {
    const layout = entry.layout;
    const loading =
      layout === undefined || this.#now() - layout.scannedAtMs >= this.#rescanMs
        ? this.#scan(multisig, entry)
        : this.#refresh(multisig, layout);
    entry.loading = loading;
    loading.then(
      (snapshot) => {
        entry.last = snapshot;
        entry.loading = undefined;
      },
      // A failed read is not kept: the next reader tries again.
      () => {
        entry.loading = undefined;
      },
    );
    return loading;
  }

  async #tokenAssets(mints: readonly PublicKey[]): Promise<(TokenAsset | null)[]> {
    const unknown = mints.filter((mint) => !this.#mints.has(mint.toBase58()));
    if (unknown.length > 0) {
      const read = await readTokenAssets(this.#connection, unknown);
      unknown.forEach((mint, index) => {
        this.#mints.set(mint.toBase58(), read[index] ?? null);
      });
    }
    return mints.map((mint) => this.#mints.get(mint.toBase58()) ?? null);
  }

  /** The full read: find the limits, learn the mints, then read balances and the clock with them. */
  async #scan(multisig: PublicKey, entry: Entry): Promise<ChainSnapshot> {
    const scannedAtMs = this.#now();
    const limits = await readSpendingLimits(this.#connection, multisig);
    const mints = [
      ...new Set(limits.flatMap((limit) => (limit.asset === 'SOL' ? [] : [limit.asset.toBase58()]))),
    ]
      .sort()
      .map((mint) => new PublicKey(mint));
    const tokens = await this.#tokenAssets(mints);
    const vault = vaultAddress(multisig);
    const layout: Layout = {
      limitAddresses: limits.map((limit) => limit.address),
      vault,
      tokens: mints.map((mint, index) => {
        const token = tokens[index] ?? null;
        return {
          mint: mint.toBase58(),
          account: token === null ? null : associatedTokenAddress(vault, token),
        };
      }),
      scannedAtMs,
    };
    entry.layout = layout;
    return this.#refresh(multisig, layout);
  }

  /** One getMultipleAccounts: the clock, the vault, the limits found, the vault's token accounts. */
  async #refresh(multisig: PublicKey, layout: Layout): Promise<ChainSnapshot> {
    const tokenAccounts = layout.tokens.flatMap((token) => (token.account === null ? [] : [token.account]));
    const keys = [SYSVAR_CLOCK_PUBKEY, layout.vault, ...layout.limitAddresses, ...tokenAccounts];
    let infos: Awaited<ReturnType<Connection['getMultipleAccountsInfo']>>;
    try {
      infos = await this.#connection.getMultipleAccountsInfo(keys, 'confirmed');
    } catch (error) {
      throw chainUnavailable(error);
    }
    const [clock, vault, ...rest] = infos;
    const limitInfos = rest.slice(0, layout.limitAddresses.length);
    const tokenInfos = rest.slice(layout.limitAddresses.length);
    const chainTime =
      clock && clock.data.length >= UNIX_TIMESTAMP_OFFSET + 8
        ? clock.data.readBigInt64LE(UNIX_TIMESTAMP_OFFSET)
        : await readChainUnixTime(this.#connection).catch(() => null);
    // A limit gone since the scan (removed by an owner act) is simply no longer there.
    const limits = layout.limitAddresses.flatMap((address, index) => {
      const info = limitInfos[index];
      return info ? [decodeSpendingLimit(address, info)] : [];
    });
    const balances = new Map<string, bigint | null>([['SOL', BigInt(vault?.lamports ?? 0)]]);
    let next = 0;
    for (const token of layout.tokens) {
      if (token.account === null) {
        balances.set(token.mint, null);
        continue;
      }
      const info = tokenInfos[next++];
      balances.set(token.mint, info ? decodeTokenAmount(info) : 0n);
    }
    return snapshotOf(multisig, limits, chainTime, balances, this.#now());
  }
}
