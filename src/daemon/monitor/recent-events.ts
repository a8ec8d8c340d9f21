/**
 * What the monitor remembers of the audit feed: per wallet the recent policy refusals and its last
 * resume, and the enclave's recent restarts. Built only from audit entries, which every replica
 * writes to the one database, so each monitor sees the acts of all replicas.
 */
import type { AuditRow } from '../../store/audit.ts';
import type { Refusal } from './rules.ts';

export type FeedSignal = 'refusal' | 'restart' | 'transfer' | 'resume';

const MAX_PER_WALLET = 1_000;

const codeOf = (details: string): string => {
  try {
    const parsed = JSON.parse(details) as { code?: unknown };
    return typeof parsed.code === 'string' ? parsed.code : 'UNKNOWN';
  } catch {
    return 'UNKNOWN';
  }
};

export class RecentEvents {
  readonly #keepMs: number;
  readonly #refusals = new Map<string, Refusal[]>();
  readonly #lastResume = new Map<string, number>();
  #restarts: number[] = [];

  /** `keepMs`: the longest window any rule counts in. */
  constructor(keepMs: number) {
    this.#keepMs = keepMs;
  }

  /** Takes one entry in; says what kind of signal it was for the rules, if any. */
  apply(row: AuditRow): FeedSignal | undefined {
    const at = Number(row.at);
    const walletId = row.wallet_id;
    switch (row.kind) {
      case 'transfer.refused': {
        if (walletId === null) return undefined;
        const list = this.#refusals.get(walletId) ?? [];
        list.push({ at, code: codeOf(row.details) });
        if (list.length > MAX_PER_WALLET) list.splice(0, list.length - MAX_PER_WALLET);
        this.#refusals.set(walletId, list);
        return 'refusal';
      }
      case 'owner.resume':
        if (walletId === null) return undefined;
        this.#lastResume.set(walletId, Math.max(at, this.#lastResume.get(walletId) ?? 0));
        this.#refusals.delete(walletId);
        return 'resume';
      case 'enclave.restarted':
        this.#restarts.push(at);
        return 'restart';
      default:
        return walletId !== null && row.kind.startsWith('transfer.') ? 'transfer' : undefined;
    }
  }

  refusalsOf(walletId: string): readonly Refusal[] {
    return this.#refusals.get(walletId) ?? [];
  }

  /** Epoch ms of the wallet's last resume the feed has shown, if any. */
  lastResumeOf(walletId: string): number | undefined {
    return this.#lastResume.get(walletId);
  }

  rememberResume(walletId: string, at: number): void {
    this.#lastResume.set(walletId, Math.max(at, this.#lastResume.get(walletId) ?? 0));
  }

  restarts(): readonly number[] {
    return this.#restarts;
  }

  /** Forgets what no window reaches any more. */
  prune(nowMs: number): void {
    const oldest = nowMs - this.#keepMs;
    for (const [walletId, list] of this.#refusals) {
      const kept = list.filter((refusal) => refusal.at >= oldest);
      if (kept.length === 0) this.#refusals.delete(walletId);
      else if (kept.length !== list.length) this.#refusals.set(walletId, kept);
    }
    this.#restarts = this.#restarts.filter((at) => at >= oldest);
  }
}
