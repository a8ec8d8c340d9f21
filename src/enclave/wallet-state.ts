/**
 * One wallet inside the enclave: what it is bound to (owner, multisig, vault), its agent keys, the
 * owner-signed policy in force, and the enclave's own counters (spent per asset in the daily window,
 * transfers in the rate window, first sight of delay-tier requests, messages already signed).
 */
import bs58 from 'bs58';
import { DAILY_WINDOW_SECONDS, type Policy, RATE_WINDOW_SECONDS, RollingWindow } from '../core/policy.ts';
import { bytesEqual } from '../solana/inspect/bytes.ts';
import { associatedTokenAddress, spendingLimitAddress, vaultAddress } from '../solana/inspect/pda.ts';
import type { AgentKey } from './agent-keys.ts';
import type { SigningScope } from './inspect-transaction.ts';

export interface WalletBinding {
  readonly walletId: string;
  readonly ownerPublicKey: string;
  readonly multisig: string;
}

export interface ActivePolicy {
  /** The owner-signed bundle as JSON text: a string holds it in about half the memory of its objects. */
  readonly bundleJson: string;
  readonly policy: Policy;
  /** hex sha256 of the canonical policy. */
  readonly hash: string;
}

/** Signing stopped by the host (no owner needed); only an owner-signed policy above `version` lifts it. */
export interface Halt {
  readonly version: number;
  readonly atMs: number;
}

export interface DelayEntry {
  readonly firstSeenMs: number;
  readonly asset: string;
  readonly amount: bigint;
  readonly destination: string;
}

/**
 * Bucket sizes bound memory per wallet (at most ~290 spend buckets per asset and 360 rate buckets).
 * A bucket counts while any second of it is in the window, so a spend can count up to 5 minutes past
 * the daily window and a transfer up to 10 s past the rate window: stricter, never looser.
 */
const SPEND_BUCKET_SECONDS = 300;
const RATE_BUCKET_SECONDS = 10;
/** Identical message bytes signed again within this time are not counted twice (a retried call). */
export const SIGNED_MESSAGE_MEMORY_MS = 10 * 60_000;
const MAX_REMEMBERED_MESSAGES = 100_000;
/**
 * Expiries of remembered messages are whole seconds from 2024-01-01: small integers V8 keeps in the
 * map entry itself, where milliseconds since 1970 would each be a heap number (tens of thousands live).
 */
const EXPIRY_BASE_SECONDS = 1_704_067_200;
const secondsSinceBase = (nowMs: number) => nowMs / 1000 - EXPIRY_BASE_SECONDS;
export const MAX_DELAY_ENTRIES = 100_000;
/**
 * The window counting fills of an asset's float, kept beside the assets' daily windows (journaled as
 * `spend` records, which only ever add): the enclave cannot see the float's balance, so it caps what
 * goes in per daily window instead.
 */
export const floatWindowKey = (asset: string): string => `float:${asset}`;
const MAX_ADDRESS_TEXTS = 1_024;
const NO_LIMITS: ReadonlyMap<string, string> = new Map();

/** A map key for 32 address bytes: latin1 text is the cheapest string to make from them. */
const bytesKey = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

const NO_DELAYS: ReadonlyMap<string, DelayEntry> = new Map();

/**
 * Everything that stays empty for most wallets (spend windows, delay entries, remembered messages,
 * memoised texts, retired keys) is created on first use: with thousands of wallets, empty maps and
 * windows would be a good part of the enclave's memory.
 */
export class WalletState implements SigningScope {
  readonly binding: WalletBinding;
  readonly multisig: Uint8Array;
  readonly vault: Uint8Array;
  readonly agentKeys: Uint8Array[] = [];
  readonly keys: AgentKey[] = [];
  active: ActivePolicy | undefined;
  halt: Halt | undefined;
  /** State changed since the last checkpoint was sealed. */
  dirty = false;
  /** The enclave's own journal knew this wallet before its keys were loaded. */
  fromJournal = false;
  #delays: Map<string, DelayEntry> | undefined;
  #spent: Map<string, RollingWindow> | undefined;
  #rate: RollingWindow | undefined;
  #signed: Map<string, number> | undefined;
  #spendingLimits: ReadonlyMap<string, string> = NO_LIMITS;
  #tokenAccountOwners: Map<string, Map<string, string>> | undefined;
  #payeeAccounts: Map<string, Map<string, string>> | undefined;
  #associatedAccounts: Map<string, Uint8Array> | undefined;
  #addressTexts: Map<string, string> | undefined;
  /** base58 of agent keys rotated out of this wallet; they are never taken back. */
  #retired: Set<string> | undefined;

  constructor(binding: WalletBinding) {
    this.binding = binding;
    // One allocation for both addresses.
    const addresses = new Uint8Array(64);
    addresses.set(bs58.decode(binding.multisig), 0);
    this.multisig = addresses.subarray(0, 32);
    addresses.set(vaultAddress(this.multisig), 32);
    this.vault = addresses.subarray(32, 64);
  }

  isRetired(publicKeyBase58: string): boolean {
    return this.#retired?.has(publicKeyBase58) ?? false;
  }

  retiredKeys(): Iterable<string> {
    return this.#retired ?? [];
  }

  addKey(key: AgentKey): boolean {
    if (this.isRetired(key.publicKeyBase58)) return false;
    if (this.agentKeys.some((existing) => bytesEqual(existing, key.publicKey))) return false;
    this.agentKeys.push(key.publicKey);
    this.keys.push(key);
    return true;
  }

  /** Forgets the key and refuses it from now on; false when it was retired already. */
  retireKey(publicKeyBase58: string): boolean {
    if (this.isRetired(publicKeyBase58)) return false;
    this.#retired ??= new Set();
    this.#retired.add(publicKeyBase58);
    const index = this.keys.findIndex((key) => key.publicKeyBase58 === publicKeyBase58);
    if (index !== -1) {
      this.keys.splice(index, 1);
      this.agentKeys.splice(index, 1);
    }
    return true;
  }

  setPolicy(active: ActivePolicy): void {
    this.active = active;
    if (this.halt !== undefined && active.policy.version > this.halt.version) this.halt = undefined;
    const limits = new Map<string, string>();
    for (const asset of active.policy.assets.keys())
      limits.set(bytesKey(spendingLimitAddress(this.multisig, asset)), asset);
    this.#spendingLimits = limits;
    this.#tokenAccountOwners = undefined;
    this.#payeeAccounts = undefined;
  }

  addressText(address: Uint8Array): string {
    const key = bytesKey(address);
    this.#addressTexts ??= new Map();
    let text = this.#addressTexts.get(key);
    if (text === undefined) {
      if (this.#addressTexts.size >= MAX_ADDRESS_TEXTS) this.#addressTexts.clear();
      text = bs58.encode(address);
      this.#addressTexts.set(key, text);
    }
    return text;
  }

  spendingLimitAsset(address: Uint8Array): string | undefined {
    return this.#spendingLimits.get(bytesKey(address));
  }

  recipientOfTokenAccount(
    tokenAccount: Uint8Array,
    mint: Uint8Array,
    tokenProgram: Uint8Array,
  ): string | undefined {
    const recipients = this.active?.policy.recipients;
    if (recipients?.mode !== 'allowlist') return undefined;
    const cacheKey = bytesKey(mint) + bytesKey(tokenProgram);
    this.#tokenAccountOwners ??= new Map();
    let owners = this.#tokenAccountOwners.get(cacheKey);
    if (owners === undefined) {
      owners = new Map();
      for (const wallet of recipients.addresses) {
        owners.set(bytesKey(associatedTokenAddress(bs58.decode(wallet), mint, tokenProgram)), wallet);
      }
      this.#tokenAccountOwners.set(cacheKey, owners);
    }
    return owners.get(bytesKey(tokenAccount));
  }

  associatedTokenAccount(owner: Uint8Array, mint: Uint8Array, tokenProgram: Uint8Array): Uint8Array {
    const cacheKey = bytesKey(owner) + bytesKey(mint) + bytesKey(tokenProgram);
    this.#associatedAccounts ??= new Map();
    let account = this.#associatedAccounts.get(cacheKey);
    if (account === undefined) {
      if (this.#associatedAccounts.size >= MAX_ADDRESS_TEXTS) this.#associatedAccounts.clear();
      account = associatedTokenAddress(owner, mint, tokenProgram);
      this.#associatedAccounts.set(cacheKey, account);
    }
    return account;
  }

  /**
   * The wallet a payment's token account belongs to, among those the policy names for `mint`: its x402
   * payees and the recipients allowlist. Unknown (undefined) for anyone else, which only a policy
   * naming no one (recipients "any", no payees) lets through.
   */
  payeeOfTokenAccount(
    tokenAccount: Uint8Array,
    mint: Uint8Array,
    tokenProgram: Uint8Array,
  ): string | undefined {
    const policy = this.active?.policy;
    if (policy === undefined) return undefined;
    const cacheKey = bytesKey(mint) + bytesKey(tokenProgram);
    this.#payeeAccounts ??= new Map();
    let owners = this.#payeeAccounts.get(cacheKey);
    if (owners === undefined) {
      owners = new Map();
      const named = [
        ...(policy.assets.get(bs58.encode(mint))?.x402?.payees ?? []),
        ...(policy.recipients.mode === 'allowlist' ? policy.recipients.addresses : []),
      ];
      for (const wallet of named) {
        owners.set(bytesKey(associatedTokenAddress(bs58.decode(wallet), mint, tokenProgram)), wallet);
      }
      this.#payeeAccounts.set(cacheKey, owners);
    }
    return owners.get(bytesKey(tokenAccount));
  }

  spentInWindow(asset: string, nowSeconds: number): bigint {
    return this.#spent?.get(asset)?.total(nowSeconds) ?? 0n;
  }

  transfersInRateWindow(nowSeconds: number): number {
    return this.#rate === undefined ? 0 : Number(this.#rate.total(nowSeconds));
  }

  recordSignature(atSeconds: number, asset: string | undefined, dailyAmount: bigint): void {
    this.#rateWindow().add(atSeconds, 1n);
    if (asset !== undefined && dailyAmount > 0n) this.#spendWindow(asset).add(atSeconds, dailyAmount);
  }

  addSpend(atSeconds: number, asset: string, amount: bigint): void {
    this.#spendWindow(asset).add(atSeconds, amount);
  }

  /** Spends of `asset` since `sinceSeconds` count from `atSeconds` on (RollingWindow.hold). */
  holdSpends(asset: string, sinceSeconds: number, atSeconds: number): bigint {
    return this.#spent?.get(asset)?.hold(sinceSeconds, atSeconds) ?? 0n;
  }

  addTransfers(atSeconds: number, count: bigint): void {
    this.#rateWindow().add(atSeconds, count);
  }

  #rateWindow(): RollingWindow {
    this.#rate ??= new RollingWindow(RATE_WINDOW_SECONDS, RATE_BUCKET_SECONDS);
    return this.#rate;
  }

  #spendWindow(asset: string): RollingWindow {
    this.#spent ??= new Map();
    let window = this.#spent.get(asset);
    if (window === undefined) {
      window = new RollingWindow(DAILY_WINDOW_SECONDS, SPEND_BUCKET_SECONDS);
      this.#spent.set(asset, window);
    }
    return window;
  }

  mergeSpendBuckets(asset: string, buckets: readonly (readonly [number, bigint])[]): void {
    this.#spendWindow(asset).mergeMax(buckets);
  }

  mergeRateBuckets(buckets: readonly (readonly [number, bigint])[]): void {
    if (buckets.length > 0) this.#rateWindow().mergeMax(buckets);
  }

  spendBuckets(nowSeconds: number): { asset: string; buckets: [number, bigint][] }[] {
    return [...(this.#spent ?? [])].map(([asset, window]) => ({
      asset,
      buckets: window.buckets(nowSeconds),
    }));
  }

  rateBuckets(nowSeconds: number): [number, bigint][] {
    return this.#rate?.buckets(nowSeconds) ?? [];
  }

  /** `messageHash`: the message's SHA-256 as a latin1 string (32 characters: the cheapest key). */
  wasSigned(messageHash: string, nowMs: number): boolean {
    const expires = this.#signed?.get(messageHash);
    return expires !== undefined && expires > secondsSinceBase(nowMs);
  }

  rememberSigned(messageHash: string, nowMs: number): void {
    this.#signed ??= new Map();
    const now = secondsSinceBase(nowMs);
    // Entries are kept in insertion order, which is expiry order: prune from the oldest end.
    for (const [hash, expires] of this.#signed) {
      if (expires > now && this.#signed.size < MAX_REMEMBERED_MESSAGES) break;
      // Expired, or full of live entries: the worst case of forgetting one is counting a retry twice.
      this.#signed.delete(hash);
    }
    this.#signed.set(messageHash, Math.ceil(now + SIGNED_MESSAGE_MEMORY_MS / 1000));
  }

  /** First sightings of delay-tier requests by request id, for reading (no map is made for it). */
  get delays(): ReadonlyMap<string, DelayEntry> {
    return this.#delays ?? NO_DELAYS;
  }

  addDelay(requestId: string, entry: DelayEntry): void {
    this.#delays ??= new Map();
    this.#delays.set(requestId, entry);
  }

  /** Drops delay entries whose request can no longer matter (older than the longest delay plus a day). */
  pruneDelays(nowMs: number, maxAgeMs: number): void {
    if (this.#delays === undefined) return;
    for (const [requestId, entry] of this.#delays) {
      if (nowMs - entry.firstSeenMs <= maxAgeMs) break; // first sightings are in insertion order
      this.#delays.delete(requestId);
    }
  }
}
