/**
 * One wallet inside the enclave: what it is bound to (owner, multisig, vault), its agent keys, the
 * owner-signed policy in force, and the enclave's own counters (spent per asset in the daily window,
 * transfers in the rate window, first sight of delay-tier requests, messages already signed).
 */
import bs58 from 'bs58';
import {
  DAILY_WINDOW_SECONDS,
  type Policy,
  type PolicyBundle,
  RATE_WINDOW_SECONDS,
  RollingWindow,
} from '../core/policy.ts';
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
  readonly bundle: PolicyBundle;
  readonly policy: Policy;
  /** hex sha256 of the canonical policy. */
  readonly hash: string;
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
export const MAX_DELAY_ENTRIES = 100_000;
const MAX_ADDRESS_TEXTS = 1_024;

const hexKey = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export class WalletState implements SigningScope {
  readonly binding: WalletBinding;
  readonly multisig: Uint8Array;
  readonly vault: Uint8Array;
  readonly agentKeys: Uint8Array[] = [];
  readonly keys: AgentKey[] = [];
  active: ActivePolicy | undefined;
  readonly delays = new Map<string, DelayEntry>();
  readonly #spent = new Map<string, RollingWindow>();
  readonly #rate = new RollingWindow(RATE_WINDOW_SECONDS, RATE_BUCKET_SECONDS);
  readonly #signed = new Map<string, number>();
  #spendingLimits = new Map<string, string>();
  #tokenAccountOwners = new Map<string, Map<string, string>>();
  readonly #addressTexts = new Map<string, string>();

  constructor(binding: WalletBinding) {
    this.binding = binding;
    this.multisig = bs58.decode(binding.multisig);
    this.vault = vaultAddress(this.multisig);
  }

  /** base58 of agent keys rotated out of this wallet; they are never taken back. */
  readonly retired = new Set<string>();

  addKey(key: AgentKey): boolean {
    if (this.retired.has(key.publicKeyBase58)) return false;
    if (this.agentKeys.some((existing) => bytesEqual(existing, key.publicKey))) return false;
    this.agentKeys.push(key.publicKey);
    this.keys.push(key);
    return true;
  }

  /** Forgets the key and refuses it from now on; false when it was retired already. */
  retireKey(publicKeyBase58: string): boolean {
    if (this.retired.has(publicKeyBase58)) return false;
    this.retired.add(publicKeyBase58);
    const index = this.keys.findIndex((key) => key.publicKeyBase58 === publicKeyBase58);
    if (index !== -1) {
      this.keys.splice(index, 1);
      this.agentKeys.splice(index, 1);
    }
    return true;
  }

  setPolicy(active: ActivePolicy): void {
    this.active = active;
    const limits = new Map<string, string>();
    for (const asset of active.policy.assets.keys())
      limits.set(hexKey(spendingLimitAddress(this.multisig, asset)), asset);
    this.#spendingLimits = limits;
    this.#tokenAccountOwners = new Map();
  }

  addressText(address: Uint8Array): string {
    const key = Buffer.from(address.buffer, address.byteOffset, address.byteLength).toString('latin1');
    let text = this.#addressTexts.get(key);
    if (text === undefined) {
      if (this.#addressTexts.size >= MAX_ADDRESS_TEXTS) this.#addressTexts.clear();
      text = bs58.encode(address);
      this.#addressTexts.set(key, text);
    }
    return text;
  }

  spendingLimitAsset(address: Uint8Array): string | undefined {
    return this.#spendingLimits.get(hexKey(address));
  }

  recipientOfTokenAccount(
    tokenAccount: Uint8Array,
    mint: Uint8Array,
    tokenProgram: Uint8Array,
  ): string | undefined {
    const recipients = this.active?.policy.recipients;
    if (recipients?.mode !== 'allowlist') return undefined;
    const cacheKey = hexKey(mint) + hexKey(tokenProgram);
    let owners = this.#tokenAccountOwners.get(cacheKey);
    if (owners === undefined) {
      owners = new Map();
      for (const wallet of recipients.addresses) {
        owners.set(hexKey(associatedTokenAddress(bs58.decode(wallet), mint, tokenProgram)), wallet);
      }
      this.#tokenAccountOwners.set(cacheKey, owners);
    }
    return owners.get(hexKey(tokenAccount));
  }

  spentInWindow(asset: string, nowSeconds: number): bigint {
    return this.#spent.get(asset)?.total(nowSeconds) ?? 0n;
  }

  transfersInRateWindow(nowSeconds: number): number {
    return Number(this.#rate.total(nowSeconds));
  }

  recordSignature(atSeconds: number, asset: string | undefined, dailyAmount: bigint): void {
    this.#rate.add(atSeconds, 1n);
    if (asset !== undefined && dailyAmount > 0n) this.#spendWindow(asset).add(atSeconds, dailyAmount);
  }

  addSpend(atSeconds: number, asset: string, amount: bigint): void {
    this.#spendWindow(asset).add(atSeconds, amount);
  }

  addTransfers(atSeconds: number, count: bigint): void {
    this.#rate.add(atSeconds, count);
  }

  #spendWindow(asset: string): RollingWindow {
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
    this.#rate.mergeMax(buckets);
  }

  spendBuckets(nowSeconds: number): { asset: string; buckets: [number, bigint][] }[] {
    return [...this.#spent].map(([asset, window]) => ({ asset, buckets: window.buckets(nowSeconds) }));
  }

  rateBuckets(nowSeconds: number): [number, bigint][] {
    return this.#rate.buckets(nowSeconds);
  }

  wasSigned(messageHash: string, nowMs: number): boolean {
    const expires = this.#signed.get(messageHash);
    return expires !== undefined && expires > nowMs;
  }

  rememberSigned(messageHash: string, nowMs: number): void {
    // Entries are kept in insertion order, which is expiry order: prune from the oldest end.
    for (const [hash, expires] of this.#signed) {
      if (expires > nowMs && this.#signed.size < MAX_REMEMBERED_MESSAGES) break;
      // Expired, or full of live entries: the worst case of forgetting one is counting a retry twice.
      this.#signed.delete(hash);
    }
    this.#signed.set(messageHash, nowMs + SIGNED_MESSAGE_MEMORY_MS);
  }

  /** Drops delay entries whose request can no longer matter (older than the longest delay plus a day). */
  pruneDelays(nowMs: number, maxAgeMs: number): void {
    for (const [requestId, entry] of this.delays) {
      if (nowMs - entry.firstSeenMs <= maxAgeMs) break; // first sightings are in insertion order
      this.delays.delete(requestId);
    }
  }
}
