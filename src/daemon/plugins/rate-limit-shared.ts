/**
 * The request limits kept in PostgreSQL, so N replicas behind a load balancer enforce one limit per
 * token and per address instead of N. One statement per request (store/rate-limit-windows.ts) checks
 * the address's window and counts against the token's (or the address's, without a token).
 *
 * Windows instead of token buckets: a bucket's refill would need its level read and written under a
 * row lock (two statements, or a long one); a window is one conditional upsert. A window starts with
 * the key's first request after the previous one ended and allows `max` requests, so like the
 * in-memory bucket a client may send `max` at once and at most 2 × `max` over any span of one window.
 */
import type { Kysely } from 'kysely';
import {
  chargeWindowed,
  fullWindowEnd,
  pruneWindows,
  takeWindowed,
  type WindowLimit,
} from '../../store/rate-limit-windows.ts';
import type { Database } from '../../store/schema.ts';

/** What the plugin asks of a limiter: the scope that refused and the seconds to wait, or undefined. */
export interface Refusal {
  readonly scope: 'token' | 'ip';
  readonly retryAfterSeconds: number;
}

export interface SharedLimits {
  readonly perToken: WindowLimit | undefined;
  readonly perIp: WindowLimit | undefined;
}

const PRUNE_EVERY_MS = 60_000;

const secondsUntil = (endsMs: number, nowMs: number) => Math.max(1, Math.ceil((endsMs - nowMs) / 1000));

export class SharedRateLimits {
  readonly #db: Kysely<Database>;
  readonly #limits: SharedLimits;
  #pruner: NodeJS.Timeout | undefined;

  constructor(db: Kysely<Database>, limits: SharedLimits) {
    this.#db = db;
    this.#limits = limits;
  }

  /** Counts one request; `tokenHash` undefined for a request without a token. */
  async take(tokenHash: string | undefined, ip: string, nowMs: number): Promise<Refusal | undefined> {
    const { perToken, perIp } = this.#limits;
    const ipKey = `i:${ip}`;
    if (tokenHash === undefined || perToken === undefined) {
      // Token requests with no token limit are still refused while their address is full.
      if (perIp === undefined) return undefined;
      if (tokenHash !== undefined) {
        const endsMs = await fullWindowEnd(this.#db, nowMs, ipKey, perIp);
        return endsMs === undefined
          ? undefined
          : { scope: 'ip', retryAfterSeconds: secondsUntil(endsMs, nowMs) };
      }
      const taken = await takeWindowed(this.#db, nowMs, ipKey, perIp);
      return taken.allowed
        ? undefined
        : { scope: 'ip', retryAfterSeconds: secondsUntil(taken.windowEndsMs, nowMs) };
    }
    const taken = await takeWindowed(
      this.#db,
      nowMs,
      `t:${tokenHash}`,
      perToken,
      perIp === undefined ? undefined : { key: ipKey, limit: perIp },
    );
    if (taken.allowed) return undefined;
    return {
      scope: taken.by === 'gate' ? 'ip' : 'token',
      retryAfterSeconds: secondsUntil(taken.windowEndsMs, nowMs),
    };
  }

  /** A request answered 401: it counts against its address. */
  async chargeIp(ip: string, nowMs: number): Promise<void> {
    if (this.#limits.perIp) await chargeWindowed(this.#db, nowMs, `i:${ip}`, this.#limits.perIp);
  }

  /** Forgets ended windows now and then, whichever replica gets there (a delete of nothing is cheap). */
  startPruning(onError: (error: unknown) => void): void {
    const longest = Math.max(this.#limits.perToken?.windowMs ?? 0, this.#limits.perIp?.windowMs ?? 0);
    this.#pruner = setInterval(() => {
      pruneWindows(this.#db, Date.now() - 2 * longest).catch(onError);
    }, PRUNE_EVERY_MS);
    this.#pruner.unref();
  }

  stop(): void {
    clearInterval(this.#pruner);
  }
}
