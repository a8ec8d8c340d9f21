/**
 * The daemon's health kept current in the background, so GET /v1/health never waits on I/O: each part
 * (the database, the chain, the daemon's own parts: enclave, fee payer, owner keys) is read by its own
 * timer, the next read scheduled only when the previous one has finished (a slow chain never stacks
 * reads), and the answer's JSON is built once per change rather than once per request.
 * GET /v1/ready reads every part live instead, coalesced so that any number of callers cause at most
 * one live read at a time and one per `liveMinIntervalMs`.
 */
import {
  type DatabaseHealth,
  type Health,
  type HealthAnswer,
  type HealthDependencies,
  type HealthParts,
  type HealthSource,
  healthFrom,
  type RuntimeHealth,
} from '../routes/health.ts';

export interface HealthRefreshIntervals {
  readonly databaseMs: number;
  readonly chainMs: number;
  readonly runtimeMs: number;
  /** The least time between two live reads (GET /v1/ready). */
  readonly liveMinIntervalMs: number;
}

export const defaultHealthIntervals: HealthRefreshIntervals = {
  databaseMs: 1_000,
  chainMs: 2_000,
  runtimeMs: 2_000,
  liveMinIntervalMs: 1_000,
};

type PartName = 'db' | 'chain' | 'runtime';

const iso = (ms: number) => new Date(ms).toISOString();

export class HealthState implements HealthSource {
  readonly ready: Promise<void>;
  readonly #deps: HealthDependencies;
  readonly #intervals: HealthRefreshIntervals;
  readonly #timers = new Map<PartName, NodeJS.Timeout>();
  #db: DatabaseHealth | undefined;
  #chain: HealthParts['chain'] | undefined;
  #runtime: RuntimeHealth = {};
  readonly #checkedAt: { db: number; chain: number; runtime?: number } = { db: 0, chain: 0 };
  #answer: (HealthAnswer & { second: number }) | undefined;
  #live: Promise<Health> | undefined;
  #lastLive: { at: number; health: Health } | undefined;
  #stopped = false;
  readonly #listeners = new Set<(health: Health) => void>();

  constructor(deps: HealthDependencies, intervals: Partial<HealthRefreshIntervals> = {}) {
    this.#deps = deps;
    this.#intervals = { ...defaultHealthIntervals, ...intervals };
    const first: Promise<void>[] = [this.#refresh('db'), this.#refresh('chain')];
    if (deps.readRuntime) first.push(this.#refresh('runtime'));
    this.ready = Promise.all(first).then(() => undefined);
  }

  /** The health document from what was last read. */
  snapshot(nowMs = Date.now()): Health {
    return healthFrom(this.#deps, this.#parts(), nowMs);
  }

  current(nowMs = Date.now()): HealthAnswer {
    const second = Math.floor(nowMs / 1000);
    if (this.#answer === undefined || this.#answer.second !== second) {
      const health = this.snapshot(nowMs);
      this.#answer = { statusCode: health.db.ok ? 200 : 503, body: JSON.stringify(health), second };
    }
    return this.#answer;
  }

  live(): Promise<Health> {
    const now = Date.now();
    if (this.#lastLive && now - this.#lastLive.at < this.#intervals.liveMinIntervalMs) {
      return Promise.resolve(this.#lastLive.health);
    }
    this.#live ??= (async () => {
      try {
        const parts: Promise<void>[] = [this.#refresh('db', false), this.#refresh('chain', false)];
        if (this.#deps.readRuntime) parts.push(this.#refresh('runtime', false));
        await Promise.all(parts);
        const health = this.snapshot();
        this.#lastLive = { at: Date.now(), health };
        return health;
      } finally {
        this.#live = undefined;
      }
    })();
    return this.#live;
  }

  /** Called with the new document after every background read (metrics follow the fee payer this way). */
  onChange(listener: (health: Health) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #parts(): HealthParts {
    const db: DatabaseHealth = this.#db ?? {
      ok: false,
      engine: 'sqlite',
      latencyMs: 0,
      error: 'not read yet',
    };
    const chain: HealthParts['chain'] = this.#chain ?? {
      ok: false,
      rpcUrl: '',
      latencyMs: 0,
      error: 'not read yet',
      squads: { status: 'unknown' },
    };
    const checkedAt = {
      db: iso(this.#checkedAt.db),
      chain: iso(this.#checkedAt.chain),
      ...(this.#checkedAt.runtime === undefined ? {} : { runtime: iso(this.#checkedAt.runtime) }),
    };
    return { db, chain, runtime: this.#runtime, checkedAt };
  }

  /** Reads one part; with `reschedule`, the part's next background read follows this one. */
  async #refresh(part: PartName, reschedule = true): Promise<void> {
    try {
      switch (part) {
        case 'db':
          this.#db = await this.#deps.readDatabase();
          break;
        case 'chain':
          this.#chain = await this.#deps.readChain();
          break;
        case 'runtime':
          if (this.#deps.readRuntime) this.#runtime = await this.#deps.readRuntime();
          break;
      }
      this.#checkedAt[part] = Date.now();
    } catch {
      // The readers report failure in what they return; one that throws leaves the last state standing.
    } finally {
      this.#answer = undefined;
      if (reschedule) this.#schedule(part);
    }
    if (this.#listeners.size > 0) {
      const health = this.snapshot();
      for (const listener of this.#listeners) listener(health);
    }
  }

  #schedule(part: PartName): void {
    if (this.#stopped) return;
    const delay =
      part === 'db'
        ? this.#intervals.databaseMs
        : part === 'chain'
          ? this.#intervals.chainMs
          : this.#intervals.runtimeMs;
    const timer = setTimeout(() => void this.#refresh(part), delay);
    timer.unref();
    this.#timers.set(part, timer);
  }
}
