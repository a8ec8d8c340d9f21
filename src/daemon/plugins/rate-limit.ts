/**
 * Request rate limits, per token and per client IP, answered 429 RATE_LIMITED with Retry-After.
 *
 * Where the counts live:
 * - PostgreSQL (`store` given and on PostgreSQL): in the database (rate-limit-shared.ts), so N replicas
 *   behind a load balancer enforce ONE limit per token and per address, not N. A key's window allows
 *   `max` requests per `windowSeconds`, starting with its first request; one statement per request
 *   (bench/rate-limit.ts measures what it adds).
 * - SQLite or no store: token buckets in memory. SQLite means one machine, where one daemon serves the
 *   data directory; a bucket holds up to `max` requests and refills at `max` per `windowSeconds`.
 * Either way a client may send `max` at once and at most about 2 × `max` over any span of one window.
 *
 * - Requests with a bearer token count against that token (keyed by the token's hash; the token
 *   itself is never kept).
 * - The IP's count is drawn from by requests without a token and by every answer 401 (an unknown,
 *   revoked or expired token), and requests with a token are refused while their IP's count is used
 *   up: guessing tokens from one address is throttled, while authenticated traffic from a shared
 *   address (agents behind one NAT, a benchmark on loopback) is limited per token only.
 * - The client IP is Fastify's `request.ip`: the socket's address unless the app trusts a proxy
 *   (`trustProxy`), in which case X-Forwarded-For is believed.
 * - Exempt by default: GET /v1/health and GET /metrics (probes and scrapers must always get through).
 * - When the database cannot be reached the shared limits let requests through (logged): every route
 *   needs the database too, so nothing can be guessed or spent meanwhile, and 500s from the limiter
 *   would only hide the real failure.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import { hashToken } from '../../core/tokens.ts';
import type { Store } from '../../store/store.ts';
import { bearerToken } from '../auth.ts';
import { type Refusal, SharedRateLimits } from './rate-limit-shared.ts';

export interface RateLimit {
  /** Requests allowed per window (also the burst size). */
  readonly max: number;
  readonly windowSeconds: number;
}

export interface RateLimitOptions {
  /** Default 600 per 60 s; false disables. */
  perToken?: RateLimit | false;
  /** Default 1200 per 60 s; false disables. */
  perIp?: RateLimit | false;
  /** Paths (without query) never limited; default ['/v1/health', '/metrics']. */
  exemptPaths?: readonly string[];
  /** Clock in ms (tests). */
  now?: () => number;
  /** Most buckets kept per kind; when exceeded, idle (full) buckets are dropped first. Default 100,000. */
  maxBuckets?: number;
  /** On PostgreSQL the counts are kept there and shared by every replica; otherwise ignored. */
  store?: Pick<Store, 'db' | 'engine'>;
}

export const defaultRateLimits = {
  perToken: { max: 600, windowSeconds: 60 },
  perIp: { max: 1200, windowSeconds: 60 },
} as const satisfies Record<string, RateLimit>;

interface Bucket {
  tokens: number;
  updatedMs: number;
}

/** A set of token buckets sharing one limit. */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly maxBuckets: number,
  ) {
    this.perMs = limit.max / (limit.windowSeconds * 1000);
  }

  private refreshed(key: string, nowMs: number): Bucket {
    const bucket = this.buckets.get(key);
    if (!bucket) return { tokens: this.limit.max, updatedMs: nowMs };
    const elapsed = Math.max(0, nowMs - bucket.updatedMs);
    return { tokens: Math.min(this.limit.max, bucket.tokens + elapsed * this.perMs), updatedMs: nowMs };
  }

  /** Seconds until one request is allowed again (at least 1). */
  private retryAfter(bucket: Bucket): number {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.perMs / 1000));
  }

  /** Takes one request; undefined when allowed, else the seconds to wait. */
  take(key: string, nowMs: number): number | undefined {
    const bucket = this.refreshed(key, nowMs);
    if (bucket.tokens < 1) {
      this.store(key, bucket);
      return this.retryAfter(bucket);
    }
    bucket.tokens -= 1;
    this.store(key, bucket);
    return undefined;
  }

  /** Like take, without using anything up. */
  peek(key: string, nowMs: number): number | undefined {
    const bucket = this.refreshed(key, nowMs);
    return bucket.tokens < 1 ? this.retryAfter(bucket) : undefined;
  }

  /** Uses up one request after the fact (it was already answered); never refuses. */
  charge(key: string, nowMs: number): void {
    const bucket = this.refreshed(key, nowMs);
    bucket.tokens = Math.max(-this.limit.max, bucket.tokens - 1);
    this.store(key, bucket);
  }

  get size(): number {
    return this.buckets.size;
  }

  private store(key: string, bucket: Bucket): void {
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > this.maxBuckets) this.evict(bucket.updatedMs);
  }

  /** Drops buckets that have refilled (forgetting them changes nothing), then the least recently used. */
  private evict(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.buckets.size <= this.maxBuckets * 0.9) return;
      if (bucket.tokens + (nowMs - bucket.updatedMs) * this.perMs >= this.limit.max) this.buckets.delete(key);
    }
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= this.maxBuckets) return;
      this.buckets.delete(key);
    }
  }
}

const rateLimited = (scope: 'token' | 'ip', retryAfterSeconds: number) =>
  new WaiaasError('RATE_LIMITED', {
    message: `Too many requests from this ${scope === 'token' ? 'token' : 'address'}; retry in ${retryAfterSeconds} s.`,
    details: { scope, retryAfterSeconds },
  });

const pathOf = (request: FastifyRequest): string => {
  const query = request.url.indexOf('?');
  return query === -1 ? request.url : request.url.slice(0, query);
};

/**
 * Installs the limits on the root app (call it directly, not through `app.register`, before the routes
 * are registered): its onRequest hook runs before any route's authentication, so a limited client costs
 * no database query.
 */
export function registerRateLimit(app: FastifyInstance, options: RateLimitOptions = {}): void {
  // Every 429 says when to come back, whoever refused it (these limits, or an owner's unlock throttle).
  app.addHook('onError', async (_request, reply, error) => {
    const seconds =
      isWaiaasError(error) && error.status === 429 ? error.details.retryAfterSeconds : undefined;
    if (typeof seconds === 'number' && !reply.hasHeader('retry-after'))
      reply.header('retry-after', String(seconds));
  });
  const now = options.now ?? Date.now;
  const perToken = options.perToken ?? defaultRateLimits.perToken;
  const perIp = options.perIp ?? defaultRateLimits.perIp;
  if (perToken === false && perIp === false) return;
  const exempt = new Set(options.exemptPaths ?? ['/v1/health', '/metrics']);
  const limiter =
    options.store?.engine === 'postgres'
      ? sharedLimiter(app, options.store, perToken, perIp)
      : memoryLimiter(perToken, perIp, options.maxBuckets ?? 100_000);

  app.addHook('onRequest', async (request, reply) => {
    if (exempt.has(pathOf(request))) return;
    const token = bearerToken(request);
    const refusal = await limiter.take(token === undefined ? undefined : hashToken(token), request.ip, now());
    if (refusal) {
      reply.header('retry-after', String(refusal.retryAfterSeconds));
      throw rateLimited(refusal.scope, refusal.retryAfterSeconds);
    }
  });

  if (perIp !== false) {
    app.addHook('onResponse', async (request, reply) => {
      if (reply.statusCode === 401 && bearerToken(request) !== undefined)
        await limiter.chargeIp(request.ip, now());
    });
  }
}

interface Limiter {
  take(tokenHash: string | undefined, ip: string, nowMs: number): Promise<Refusal | undefined>;
  chargeIp(ip: string, nowMs: number): Promise<void>;
}

function memoryLimiter(perToken: RateLimit | false, perIp: RateLimit | false, maxBuckets: number): Limiter {
  const tokenBuckets = perToken === false ? undefined : new TokenBuckets(perToken, maxBuckets);
  const ipBuckets = perIp === false ? undefined : new TokenBuckets(perIp, maxBuckets);
  return {
    async take(tokenHash, ip, nowMs) {
      if (tokenHash === undefined) {
        const wait = ipBuckets?.take(ip, nowMs);
        return wait === undefined ? undefined : { scope: 'ip', retryAfterSeconds: wait };
      }
      const ipWait = ipBuckets?.peek(ip, nowMs);
      if (ipWait !== undefined) return { scope: 'ip', retryAfterSeconds: ipWait };
      const tokenWait = tokenBuckets?.take(tokenHash, nowMs);
      return tokenWait === undefined ? undefined : { scope: 'token', retryAfterSeconds: tokenWait };
    },
    async chargeIp(ip, nowMs) {
      ipBuckets?.charge(ip, nowMs);
    },
  };
}

function sharedLimiter(
  app: FastifyInstance,
  store: Pick<Store, 'db'>,
  perToken: RateLimit | false,
  perIp: RateLimit | false,
): Limiter {
  const windowOf = (limit: RateLimit | false) =>
    limit === false ? undefined : { max: limit.max, windowMs: limit.windowSeconds * 1000 };
  const shared = new SharedRateLimits(store.db, { perToken: windowOf(perToken), perIp: windowOf(perIp) });
  const warn = (error: unknown) => app.log.warn({ err: error }, 'shared rate limits: database unreachable');
  shared.startPruning(warn);
  app.addHook('onClose', async () => shared.stop());
  return {
    take: (tokenHash, ip, nowMs) =>
      shared.take(tokenHash, ip, nowMs).catch((error: unknown) => {
        warn(error);
        return undefined;
      }),
    chargeIp: (ip, nowMs) => shared.chargeIp(ip, nowMs).catch(warn),
  };
}
