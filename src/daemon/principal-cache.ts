/**
 * Principals resolved from bearer tokens, kept in memory so an authenticated request costs one
 * primary-key read (the revocation epoch) instead of a token lookup and its row's decoding.
 *
 * Why a revoked token is refused on the very next request, through any replica: a revocation (or any
 * change to a session, operator token or owner) bumps the epoch in the same transaction, by trigger
 * (migration 0013), so the revoking request's 204 follows the epoch's commit. Every request reads the
 * epoch before it trusts a cached principal, and trusts only one resolved at that same epoch; a request
 * that starts after the 204, on any replica, reads the new epoch, so it resolves the token again from
 * the database and finds it revoked. A notification (LISTEN/NOTIFY) could not promise that: it
 * arrives some time after the commit, and a request can overtake it. Expiry is checked on every
 * request, cached or not.
 */
import { WaiaasError } from '../core/errors.ts';
import { hashToken } from '../core/tokens.ts';
import { readRevocationEpoch } from '../store/revocation-epoch.ts';
import type { Store } from '../store/store.ts';
import { type Principal, resolvePrincipalByHash } from './auth.ts';

interface Entry {
  readonly principal: Principal;
  readonly epoch: bigint;
}

export interface PrincipalCacheStats {
  hits: number;
  misses: number;
}

export class PrincipalCache {
  readonly #store: Store;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();
  /** The newest epoch seen; entries of older epochs are dropped when it moves. */
  #epoch = -1n;
  readonly stats: PrincipalCacheStats = { hits: 0, misses: 0 };

  constructor(store: Store, maxEntries = 10_000) {
    this.#store = store;
    this.#maxEntries = maxEntries;
  }

  async resolve(token: string, nowMs = Date.now()): Promise<Principal> {
    const tokenHash = hashToken(token);
    // Read before anything else: what is cached or stored below is trusted only at this epoch.
    const epoch = await readRevocationEpoch(this.#store.db);
    if (epoch > this.#epoch) {
      this.#epoch = epoch;
      this.#entries.clear();
    }
    const cached = this.#entries.get(tokenHash);
    if (cached !== undefined && cached.epoch === epoch) {
      const { principal } = cached;
      if (principal.role === 'agent' && principal.session.expiresAt <= BigInt(nowMs)) {
        this.#entries.delete(tokenHash);
        throw new WaiaasError('SESSION_EXPIRED');
      }
      this.stats.hits++;
      return principal;
    }
    this.stats.misses++;
    const principal = await resolvePrincipalByHash(this.#store, token, tokenHash, nowMs);
    // A newer epoch was seen meanwhile: what was just read may predate a revocation.
    if (epoch === this.#epoch) {
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value!);
      this.#entries.set(tokenHash, { principal, epoch });
    }
    return principal;
  }
}
