/**
 * First come, first served per key inside this process, with a deadline: the part of the multisig
 * lock that costs no database round trip, so a process never competes with itself for a lease.
 */
export class LocalQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /**
   * Resolves with `release` once every earlier holder of `key` in this process released; rejects with
   * `onTimeout()` when that takes past `deadlineMs` (epoch ms). A waiter that gave up keeps its place
   * until the one before it is done, so later waiters still go in order.
   */
  async acquire(key: string, deadlineMs: number, onTimeout: () => Error): Promise<() => void> {
    const previous = this.#tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), Math.max(0, deadlineMs - Date.now()));
    });
    try {
      const outcome = await Promise.race([previous.then(() => 'turn' as const), timedOut]);
      if (outcome === 'timeout') {
        void previous.then(release);
        throw onTimeout();
      }
      return release;
    } finally {
      clearTimeout(timer);
    }
  }
}
