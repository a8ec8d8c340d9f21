/**
 * The windows the policy counts in, shared by the daemon (L1) and the enclave (L2) so neither is looser.
 *
 * On-chain, a Squads spending limit with period Day does not reset at UTC midnight. Its window is
 * anchored at the limit's `lastReset` (its creation time at first): a use at chain time `t` resets the
 * remaining amount only when `t - lastReset > 86400`, and then moves `lastReset` forward by whole days.
 * So every use within one closed interval `[lastReset, lastReset + 86400]` shares one `amount`, and we
 * cannot know `lastReset` without reading the chain.
 *
 * Rule: a spend counts against `daily` while `spentAt ≥ now − DAILY_WINDOW_SECONDS`, a rolling window of
 * one day plus a margin, inclusive at its start. Any two spends the chain puts in one of its windows
 * lie at most 86400 s apart on the chain clock, so they also lie in one of ours, wherever the chain's
 * anchor is: our window is never looser than the chain. The margin covers the time between signing and
 * landing (a blockhash lives about 150 slots, ~1 minute) and the skew between our clock and the
 * cluster's Clock sysvar. The price: after spending the whole budget the agent waits 24 h 10 min, not
 * 24 h. A UTC-midnight window would be looser than the chain: `daily` at 23:59 and again at 00:01
 * passes the server and the enclave while the chain refuses the second.
 *
 * Rate: a transfer counts against `maxPerHour` while `signedAt ≥ now − RATE_WINDOW_SECONDS`.
 */
export const CHAIN_DAY_SECONDS = 86_400;
export const DAILY_WINDOW_MARGIN_SECONDS = 600;
export const DAILY_WINDOW_SECONDS = CHAIN_DAY_SECONDS + DAILY_WINDOW_MARGIN_SECONDS;
export const RATE_WINDOW_SECONDS = 3_600;

/** The first second (unix seconds) still inside the window that ends at `nowSeconds`. */
export const windowStart = (nowSeconds: number, windowSeconds: number): number => nowSeconds - windowSeconds;

/**
 * A running sum over a rolling window, kept as buckets of `bucketSeconds`. A bucket counts while any
 * second of it is inside the window, so the sum can only be too high (stricter), never too low. Memory
 * is bounded by window / bucket, and adding or reading is amortised O(1).
 */
export class RollingWindow {
  readonly windowSeconds: number;
  readonly bucketSeconds: number;
  #starts: number[] = [];
  #values: bigint[] = [];
  #head = 0;
  #total = 0n;

  constructor(windowSeconds: number, bucketSeconds: number) {
    if (!(bucketSeconds >= 1 && windowSeconds >= bucketSeconds)) throw new RangeError('bad window');
    this.windowSeconds = windowSeconds;
    this.bucketSeconds = bucketSeconds;
  }

  /** The sum of everything added at or after `nowSeconds − windowSeconds` (bucket-rounded, upwards). */
  total(nowSeconds: number): bigint {
    this.#evict(nowSeconds);
    return this.#total;
  }

  add(atSeconds: number, value: bigint): void {
    const start = atSeconds - (atSeconds % this.bucketSeconds);
    const last = this.#starts.length - 1;
    if (last >= this.#head && this.#starts[last]! >= start) {
      // Clocks may step back a little; keep the entry in the newest bucket, which is evicted last.
      this.#values[last] = this.#values[last]! + value;
    } else {
      this.#starts.push(start);
      this.#values.push(value);
    }
    this.#total += value;
  }

  /** Buckets as [start, value] pairs, oldest first, for export. */
  buckets(nowSeconds: number): [number, bigint][] {
    this.#evict(nowSeconds);
    const out: [number, bigint][] = [];
    for (let index = this.#head; index < this.#starts.length; index++)
      out.push([this.#starts[index]!, this.#values[index]!]);
    return out;
  }

  /**
   * Merges buckets from another copy of this window (e.g. restored after a restart), keeping the larger
   * value of each bucket, so a merge never lowers a count.
   */
  mergeMax(buckets: readonly (readonly [number, bigint])[]): void {
    const merged = new Map<number, bigint>();
    for (let index = this.#head; index < this.#starts.length; index++)
      merged.set(this.#starts[index]!, this.#values[index]!);
    for (const [start, value] of buckets) {
      const aligned = start - (start % this.bucketSeconds);
      const current = merged.get(aligned);
      if (current === undefined || value > current) merged.set(aligned, value);
    }
    const starts = [...merged.keys()].sort((a, b) => a - b);
    this.#starts = starts;
    this.#values = starts.map((start) => merged.get(start)!);
    this.#head = 0;
    this.#total = this.#values.reduce((sum, value) => sum + value, 0n);
  }

  /**
   * Counts everything added from `sinceSeconds` on as if added at `atSeconds` instead: moved forward in
   * time, never back, so every later total is as high as before or higher. Returns the amount moved.
   */
  hold(sinceSeconds: number, atSeconds: number): bigint {
    const from = sinceSeconds - (sinceSeconds % this.bucketSeconds);
    const to = atSeconds - (atSeconds % this.bucketSeconds);
    let moved = 0n;
    const starts: number[] = [];
    const values: bigint[] = [];
    for (let index = this.#head; index < this.#starts.length; index++) {
      const start = this.#starts[index]!;
      if (start >= from && start < to) moved += this.#values[index]!;
      else {
        starts.push(start);
        values.push(this.#values[index]!);
      }
    }
    if (moved === 0n) return 0n;
    this.#starts = starts;
    this.#values = values;
    this.#head = 0;
    this.#total -= moved;
    this.add(atSeconds, moved);
    return moved;
  }

  #evict(nowSeconds: number): void {
    const oldestKept = windowStart(nowSeconds, this.windowSeconds) - this.bucketSeconds + 1;
    while (this.#head < this.#starts.length && this.#starts[this.#head]! < oldestKept) {
      this.#total -= this.#values[this.#head]!;
      this.#head++;
    }
    if (this.#head > 64 && this.#head * 2 > this.#starts.length) {
      this.#starts = this.#starts.slice(this.#head);
      this.#values = this.#values.slice(this.#head);
      this.#head = 0;
    }
  }
}
