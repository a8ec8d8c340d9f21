/**
 * One change at a time per wallet's multisig, across every replica sharing the database.
 *
 * Why it exists: an approval's vault transaction takes the multisig's next transaction index, so two
 * proposals built at once (two requests, or two replicas) claim the same index and one fails on
 * chain; an owner act changing members invalidates proposals made meanwhile and plans from a chain
 * read another act may be changing. Both take this lock, keyed by wallet.
 *
 * Why a lease row (store/multisig-locks.ts) and not PostgreSQL advisory locks: an advisory lock lives
 * on one connection, so every held wallet would pin a pool connection for the seconds a proposal
 * takes to confirm (ten busy wallets starve the pool of requests), it needs a second code path for
 * SQLite (several processes may share one file), and a process that hangs with its connection open
 * holds it forever. A lease is one conditional write on both engines; the holder renews it while its
 * work runs, and when the holder dies renewal stops and the lease runs out within `leaseMs`.
 *
 * Why local time: the lease is compared with each replica's clock, so replicas must agree within a
 * small fraction of `leaseMs` (NTP keeps them within milliseconds; the lease is seconds).
 *
 * Waiters in this process queue in memory first (LocalQueue) and only the head polls the database,
 * with a short growing backoff. Every waiter has a deadline and then fails with MULTISIG_BUSY, never
 * hangs. Between replicas, a waiter that finds the lease taken marks itself as wanting it, and the
 * holder hands the lease to it on release rather than taking it again for its own next request: a
 * replica with a steady local queue cannot starve another. The handed lease is short (a few polls),
 * so a waiter that gave up in between blocks nobody for long.
 */
import { randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import {
  releaseMultisigLease,
  renewMultisigLease,
  takeMultisigLease,
  wantMultisigLease,
} from '../../store/multisig-locks.ts';
import type { Store } from '../../store/store.ts';
import type { Logger } from '../logger.ts';
import { LocalQueue } from './local-queue.ts';

export interface MultisigLockOptions {
  /** How long a lease lasts without renewal: how long a dead holder can block a wallet (default 15 s). */
  readonly leaseMs?: number;
  /** How long a waiter waits, in this process and for other replicas together (default 60 s). */
  readonly waitMs?: number;
  /** First and longest pause between two attempts on a taken lease (default 5 and 100 ms). */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** A replica id plus a per-process suffix: two processes on one data directory never share a lease. */
export const lockHolderFor = (replicaId: string): string =>
  `${replicaId}:${process.pid}:${randomBytes(6).toString('base64url')}`;

/**
 * A waiter polls at least every `maxBackoffMs` (×1.5 with jitter): one that asked within this many
 * of those is still waiting, and one handed the lease finds it within as long.
 */
const HAND_OVER_ASKED_WITHIN = 5;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class MultisigLocks {
  readonly holder: string;
  readonly #store: Store;
  readonly #logger: Logger | undefined;
  readonly #local = new LocalQueue();
  readonly #leaseMs: number;
  readonly #waitMs: number;
  readonly #minBackoffMs: number;
  readonly #maxBackoffMs: number;

  constructor(store: Store, holder: string, logger?: Logger, options: MultisigLockOptions = {}) {
    this.#store = store;
    this.holder = holder;
    this.#logger = logger;
    this.#leaseMs = options.leaseMs ?? 15_000;
    this.#waitMs = options.waitMs ?? 60_000;
    this.#minBackoffMs = options.minBackoffMs ?? 5;
    this.#maxBackoffMs = options.maxBackoffMs ?? 100;
  }

  /** Runs `work` while holding `walletId`'s multisig; MULTISIG_BUSY when it cannot be had in time. */
  async run<T>(walletId: string, work: () => Promise<T>): Promise<T> {
    const deadlineMs = Date.now() + this.#waitMs;
    const busy = () =>
      new WaiaasError('MULTISIG_BUSY', {
        message: `The wallet's multisig stayed busy for ${this.#waitMs} ms; retry.`,
        details: { walletId, waitedMs: this.#waitMs },
      });
    const releaseLocal = await this.#local.acquire(walletId, deadlineMs, busy);
    try {
      await this.#take(walletId, deadlineMs, busy);
      const stopRenewing = this.#renewWhileHeld(walletId);
      try {
        return await work();
      } finally {
        stopRenewing();
        const nowMs = Date.now();
        await releaseMultisigLease(
          this.#store.db,
          walletId,
          this.holder,
          nowMs - HAND_OVER_ASKED_WITHIN * this.#maxBackoffMs,
          nowMs + HAND_OVER_ASKED_WITHIN * this.#maxBackoffMs,
        ).catch((error: unknown) =>
          // It runs out by itself within leaseMs.
          this.#logger?.warn({ err: error, walletId }, 'could not release a multisig lease'),
        );
      }
    } finally {
      releaseLocal();
    }
  }

  async #take(walletId: string, deadlineMs: number, busy: () => Error): Promise<void> {
    let backoffMs = this.#minBackoffMs;
    for (;;) {
      const nowMs = Date.now();
      if (await takeMultisigLease(this.#store.db, walletId, this.holder, nowMs, nowMs + this.#leaseMs))
        return;
      const left = deadlineMs - Date.now();
      if (left <= 0) throw busy();
      await wantMultisigLease(this.#store.db, walletId, this.holder, Date.now());
      // Jitter, so replicas waiting on one wallet do not retry in step.
      await sleep(Math.min(left, backoffMs * (0.5 + Math.random())));
      backoffMs = Math.min(this.#maxBackoffMs, backoffMs * 2);
    }
  }

  /** Keeps the lease alive every third of its length; says so in the log if it was taken over. */
  #renewWhileHeld(walletId: string): () => void {
    let renewing: Promise<void> = Promise.resolve();
    let stopped = false;
    const timer = setInterval(
      () => {
        renewing = renewing.then(async () => {
          try {
            const held = await renewMultisigLease(
              this.#store.db,
              walletId,
              this.holder,
              Date.now() + this.#leaseMs,
            );
            if (!held && !stopped)
              this.#logger?.error(
                { walletId, holder: this.holder },
                'a multisig lease was taken over while its work ran (this process stalled past the lease)',
              );
          } catch (error) {
            this.#logger?.warn({ err: error, walletId }, 'could not renew a multisig lease');
          }
        });
      },
      Math.max(1, Math.floor(this.#leaseMs / 3)),
    );
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }
}
