/**
 * What the chain says about a wallet's autonomous budget, read briefly cached: every spending limit of
 * its multisig, the cluster clock (limits reset by it), and the vault's balance of each limited asset.
 * Dry runs and GET /v1/wallets/:id read it per request; without the cache each would cost three RPC
 * round trips. An entry lives `ttlMs` (1 s by default) and is keyed by the wallet row's `updatedAt`
 * too, so an owner act (which touches the row) is seen at the next read after its server step.
 * Concurrent readers of one wallet share one load.
 */
import { type Connection, PublicKey } from '@solana/web3.js';
import {
  readSpendingLimits,
  readVaultBalances,
  type SpendingLimitState,
  spendingLimitAddress,
  type TokenAsset,
} from '../../squads/index.ts';
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
  readonly now?: () => number;
  /** Wallets kept; the oldest entries go first when exceeded. Default 10,000. */
  readonly maxEntries?: number;
}

interface Entry {
  readonly version: string;
  readonly snapshot: Promise<ChainSnapshot>;
  readonly loadedAtMs: number;
}

export const assetLabel = (limit: Pick<SpendingLimitState, 'asset'>): string =>
  limit.asset === 'SOL' ? 'SOL' : limit.asset.toBase58();

export class ChainSnapshots {
  readonly #connection: Connection;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  /** Mint facts never change: kept for good. */
  readonly #mints = new Map<string, TokenAsset | null>();
  #clock: { value: Promise<bigint | null>; atMs: number } | undefined;

  constructor(connection: Connection, options: ChainSnapshotsOptions = {}) {
    this.#connection = connection;
    this.#ttlMs = options.ttlMs ?? 1_000;
    this.#now = options.now ?? Date.now;
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** The snapshot of `multisig`, at most `ttlMs` old and read after the wallet row's `version`. */
  read(multisig: string, version: string): Promise<ChainSnapshot> {
    const now = this.#now();
    const cached = this.#entries.get(multisig);
    if (cached && cached.version === version && now - cached.loadedAtMs < this.#ttlMs) return cached.snapshot;
    const snapshot = this.#load(new PublicKey(multisig));
    if (this.#entries.size >= this.#maxEntries && !cached) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.delete(multisig);
    this.#entries.set(multisig, { version, snapshot, loadedAtMs: now });
    // A failed read is not cached: the next caller tries again.
    snapshot.catch(() => {
      if (this.#entries.get(multisig)?.snapshot === snapshot) this.#entries.delete(multisig);
    });
    return snapshot;
  }

  /** Forget everything (tests, and anyone who knows the chain just changed). */
  clear(): void {
    this.#entries.clear();
    this.#clock = undefined;
  }

  #chainTime(): Promise<bigint | null> {
    const now = this.#now();
    if (this.#clock && now - this.#clock.atMs < this.#ttlMs) return this.#clock.value;
    const value = readChainUnixTime(this.#connection).catch(() => null);
    this.#clock = { value, atMs: now };
    return value;
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

  async #load(multisig: PublicKey): Promise<ChainSnapshot> {
    const [limits, chainTime] = await Promise.all([
      readSpendingLimits(this.#connection, multisig),
      this.#chainTime(),
    ]);
    const agentLimits = new Map<string, SpendingLimitState>();
    for (const limit of limits) {
      if (limit.address.equals(spendingLimitAddress(multisig, limit.asset)))
        agentLimits.set(assetLabel(limit), limit);
    }
    const mints = [
      ...new Set(limits.flatMap((limit) => (limit.asset === 'SOL' ? [] : [limit.asset.toBase58()]))),
    ]
      .sort()
      .map((mint) => new PublicKey(mint));
    const tokens = await this.#tokenAssets(mints);
    const known = tokens.filter((token): token is TokenAsset => token !== null);
    const vault = await readVaultBalances(this.#connection, multisig, known);
    const balances = new Map<string, bigint | null>([['SOL', vault.lamports]]);
    for (const mint of mints) balances.set(mint.toBase58(), null);
    for (const token of vault.tokens) balances.set(token.mint.toBase58(), token.amount);
    return { limits, agentLimits, chainTime, balances, readAtMs: this.#now() };
  }
}

const snapshots = new WeakMap<object, ChainSnapshots>();

/** The runtime's snapshot cache, made on first use. */
export function chainSnapshotsOf(runtime: {
  readonly chain: { readonly connection: Connection };
}): ChainSnapshots {
  let found = snapshots.get(runtime);
  if (!found) {
    found = new ChainSnapshots(runtime.chain.connection);
    snapshots.set(runtime, found);
  }
  return found;
}
