/**
 * When and how long to wait before trying a call again: exponential backoff with full jitter, at least
 * what Retry-After asks, bounded in attempts and in how long one wait may be.
 */
import { WaiaasApiError, WaiaasNetworkError } from './errors.ts';

export interface RetryOptions {
  /** Attempts in all, the first included; 1 turns retrying off. Default 4. */
  attempts?: number;
  /** The first backoff ceiling in ms, doubled each attempt. Default 250. */
  baseDelayMs?: number;
  /** No backoff ceiling grows past this. Default 4,000. */
  maxDelayMs?: number;
  /** A Retry-After longer than this is not waited for: the error goes to the caller. Default 30,000. */
  maxRetryAfterMs?: number;
  /** Returns a number in [0, 1); tests pin it. Default Math.random. */
  random?: () => number;
}

export type ResolvedRetry = Required<RetryOptions>;

export const resolveRetry = (options: RetryOptions | false | undefined): ResolvedRetry => {
  const given = options === false ? { attempts: 1 } : (options ?? {});
  return {
    attempts: Math.max(1, Math.floor(given.attempts ?? 4)),
    baseDelayMs: given.baseDelayMs ?? 250,
    maxDelayMs: given.maxDelayMs ?? 4_000,
    maxRetryAfterMs: given.maxRetryAfterMs ?? 30_000,
    random: given.random ?? Math.random,
  };
};

/**
 * Whether the failure is transient: no answer at all, or a retryable answer about capacity (429) or
 * the service (5xx). A retryable policy refusal (outside hours, rate, delay) is the caller's to
 * schedule: trying again in a second cannot change it.
 */
export const isTransient = (error: unknown): boolean =>
  error instanceof WaiaasNetworkError ||
  (error instanceof WaiaasApiError && error.retryable && (error.status === 429 || error.status >= 500));

/** Backoff before attempt `attempt + 1` (attempt counts from 1), or undefined when not to wait for it. */
export function retryDelayMs(error: unknown, attempt: number, retry: ResolvedRetry): number | undefined {
  const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(retry.random() * ceiling);
  const retryAfter = error instanceof WaiaasApiError ? error.retryAfter : undefined;
  if (retryAfter === undefined) return jittered;
  const retryAfterMs = retryAfter * 1000;
  if (retryAfterMs > retry.maxRetryAfterMs) return undefined;
  return Math.max(retryAfterMs, jittered);
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
