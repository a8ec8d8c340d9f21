/**
 * Runs the pipeline's background work: the start-up recovery pass, then on every tick the due delayed
 * transfers, the approval expiries and abandoned work. A delayed transfer accepted here also sets a
 * timer for its due time, so it does not wait for the next tick.
 */
import type { PipelineContext } from '../context.ts';
import { runDueDelayed } from './delayed.ts';
import { expireApprovals } from './expiry.ts';
import { recoverAbandoned } from './recovery.ts';

export class TransferWorkers {
  readonly #ctx: PipelineContext;
  readonly #pollIntervalMs: number;
  #interval: NodeJS.Timeout | undefined;
  #wake: { timer: NodeJS.Timeout; atMs: number } | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = true;

  constructor(ctx: PipelineContext, pollIntervalMs: number) {
    this.#ctx = ctx;
    this.#pollIntervalMs = pollIntervalMs;
  }

  /** Resolves once the start-up recovery pass is done, or after `startupWaitMs` (it then goes on). */
  async start(startupWaitMs: number): Promise<void> {
    if (!this.#stopped) return;
    this.#stopped = false;
    const startup = this.#guarded(() => recoverAbandoned(this.#ctx, true).then(() => undefined));
    this.#running = startup;
    void startup.finally(() => {
      if (this.#running === startup) this.#running = undefined;
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([startup, new Promise((resolve) => (timer = setTimeout(resolve, startupWaitMs)))]);
    clearTimeout(timer);
    this.#interval = setInterval(() => void this.tick(), this.#pollIntervalMs);
    this.#interval.unref();
  }

  /** One round of every worker; a call during a round runs one more round after it. */
  tick(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const round = this.#guarded(async () => {
      do {
        this.#again = false;
        await runDueDelayed(this.#ctx);
        await expireApprovals(this.#ctx);
        await recoverAbandoned(this.#ctx, false);
      } while (this.#again && !this.#stopped);
    });
    this.#running = round;
    void round.finally(() => {
      if (this.#running === round) this.#running = undefined;
    });
    return round;
  }

  /** Runs a tick at `atMs` (server clock) unless one is already set for earlier. */
  wakeAt(atMs: number): void {
    if (this.#stopped) return;
    if (this.#wake && this.#wake.atMs <= atMs) return;
    if (this.#wake) clearTimeout(this.#wake.timer);
    const timer = setTimeout(
      () => {
        this.#wake = undefined;
        void this.tick();
      },
      Math.max(0, atMs - this.#ctx.now()),
    );
    timer.unref();
    this.#wake = { timer, atMs };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#interval);
    if (this.#wake) clearTimeout(this.#wake.timer);
    this.#wake = undefined;
    await this.#running;
  }

  #guarded(work: () => Promise<void>): Promise<void> {
    return work().catch((error) => {
      this.#ctx.logger.error({ err: error }, 'transfer worker round failed');
    });
  }
}
