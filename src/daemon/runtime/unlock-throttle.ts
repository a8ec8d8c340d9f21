/**
 * Wrong owner second factors (`X-Owner-Unlock`) back off per owner, in the database so that every
 * replica counts the same attempts:
 *
 *   - every attempt with a factor is counted BEFORE it is checked (one write transaction), so a burst
 *     of parallel guesses is counted as it arrives, not after the slow check of each;
 *   - the first UNLOCK_FREE_ATTEMPTS attempts are free; after that the next attempt waits 30 s, then
 *     60 s, 120 s … doubling up to the lockout window of 15 minutes (UNLOCK_LOCKOUT_MS), and stays
 *     there while wrong factors keep coming;
 *   - an attempt inside the wait is refused with 429 OWNER_UNLOCK_THROTTLED and Retry-After, without
 *     checking the factor and without counting (so it cannot lengthen the wait);
 *   - the right factor clears the count; a count with no attempt for 24 h is forgotten; an attempt
 *     that ended for another reason than the factor (the KMS unreachable) is not counted.
 *
 * Bounded on purpose: whoever holds the owner's token can keep the owner waiting at most 15 minutes
 * past its own last wrong guess, never longer, and each such guess is an audited `owner.unlock_failed`
 * the owner sees. A lockout that grew without bound would hand that attacker a permanent denial of
 * the kill switch's chain step and of every approval for a few requests a day. The guessing rate it
 * leaves is about 4 per 15 minutes (~400 a day), against an argon2id keystore passphrase or a
 * 6-digit MFA code that also expires every 30 s.
 */
import { WaiaasError } from '../../core/errors.ts';
import {
  clearUnlockThrottle,
  lockUnlockThrottle,
  saveUnlockThrottle,
  type UnlockThrottleState,
} from '../../store/owner-unlock-throttle.ts';
import type { Store } from '../../store/store.ts';
import { appendAudit } from '../audit/index.ts';

export const UNLOCK_FREE_ATTEMPTS = 3;
export const UNLOCK_FIRST_WAIT_MS = 30_000;
export const UNLOCK_LOCKOUT_MS = 15 * 60_000;
export const UNLOCK_FORGET_MS = 24 * 3_600_000;

/** How long the next attempt must wait once `attempts` have been counted since the last success. */
export const unlockWaitMs = (attempts: number): number =>
  attempts < UNLOCK_FREE_ATTEMPTS
    ? 0
    : Math.min(UNLOCK_FIRST_WAIT_MS * 2 ** (attempts - UNLOCK_FREE_ATTEMPTS), UNLOCK_LOCKOUT_MS);

const retryAfterSeconds = (lockedUntil: number, now: number): number =>
  Math.max(1, Math.ceil((lockedUntil - now) / 1000));

export const throttledError = (lockedUntil: number, now: number): WaiaasError => {
  const seconds = retryAfterSeconds(lockedUntil, now);
  return new WaiaasError('OWNER_UNLOCK_THROTTLED', {
    message: `Too many wrong second factors for this owner; try again in ${seconds} s.`,
    details: { retryAfterSeconds: seconds, lockedUntil: new Date(lockedUntil).toISOString() },
  });
};

/** The errors that say the factor itself was wrong (and so count). */
export const isWrongFactor = (error: unknown): boolean =>
  error instanceof WaiaasError &&
  (error.code === 'KEYSTORE_WRONG_PASSPHRASE' || error.code === 'OWNER_UNLOCK_INVALID');

export class UnlockThrottle {
  readonly #store: Store;
  #now: () => number;
  /** What this replica last saw of each owner's wait: a cheap early refusal before any state changes. */
  readonly #seen = new Map<string, number>();

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  setClock(now: () => number): void {
    this.#now = now;
  }

  /** Throws OWNER_UNLOCK_THROTTLED when this replica already knows the owner must wait. */
  assertNotKnownLocked(ownerId: string): void {
    const until = this.#seen.get(ownerId);
    if (until === undefined) return;
    const now = this.#now();
    if (until > now) throw throttledError(until, now);
    this.#seen.delete(ownerId);
  }

  /** Counts an attempt about to be checked, or refuses it while the owner must wait. */
  async begin(ownerId: string): Promise<void> {
    const store = this.#store;
    const now = this.#now();
    const refusedUntil = await store.writeTransaction(async (trx) => {
      const state = await lockUnlockThrottle(trx, store.engine, ownerId);
      if (state !== undefined && state.lockedUntil > now) return state.lockedUntil;
      const previous =
        state !== undefined && now - state.lastAttemptAt < UNLOCK_FORGET_MS ? state.failures : 0;
      const attempts = previous + 1;
      const wait = unlockWaitMs(attempts);
      await saveUnlockThrottle(trx, ownerId, {
        failures: attempts,
        lastAttemptAt: now,
        lockedUntil: wait > 0 ? now + wait : 0,
      });
      return undefined;
    });
    if (refusedUntil !== undefined) {
      this.#seen.set(ownerId, refusedUntil);
      throw throttledError(refusedUntil, now);
    }
  }

  /** The factor was right: the count starts again. */
  async succeeded(ownerId: string): Promise<void> {
    this.#seen.delete(ownerId);
    await clearUnlockThrottle(this.#store.db, ownerId);
  }

  /** The factor was wrong: the attempt stays counted, and the audit log says so. */
  async failed(ownerId: string, code: string): Promise<void> {
    const store = this.#store;
    const now = this.#now();
    const state = await store.writeTransaction(async (trx) => {
      const current = await lockUnlockThrottle(trx, store.engine, ownerId);
      await appendAudit(trx, {
        kind: 'owner.unlock_failed',
        actor: { role: 'owner', id: ownerId },
        subject: ownerId,
        details: {
          code,
          attempts: current?.failures ?? 1,
          ...(current !== undefined && current.lockedUntil > now
            ? {
                lockedUntil: new Date(current.lockedUntil).toISOString(),
                retryAfterSeconds: retryAfterSeconds(current.lockedUntil, now),
              }
            : {}),
        },
      });
      return current;
    });
    if (state !== undefined && state.lockedUntil > now) this.#seen.set(ownerId, state.lockedUntil);
  }

  /** The attempt ended before the factor was judged (key unreachable): it does not count. */
  async release(ownerId: string): Promise<void> {
    const store = this.#store;
    await store.writeTransaction(async (trx) => {
      const state = await lockUnlockThrottle(trx, store.engine, ownerId);
      if (state === undefined) return;
      const attempts = Math.max(0, state.failures - 1);
      const next: UnlockThrottleState = {
        failures: attempts,
        lastAttemptAt: state.lastAttemptAt,
        lockedUntil: unlockWaitMs(attempts) > 0 ? state.lockedUntil : 0,
      };
      await saveUnlockThrottle(trx, ownerId, next);
    });
  }
}
