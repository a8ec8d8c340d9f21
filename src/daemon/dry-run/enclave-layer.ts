/**
 * L2 predicted: the same decideTransfer the enclave runs before it signs, fed with the enclave's own
 * counters (asked over its socket, cached about a second per wallet so dry runs do not queue behind
 * signatures; `asOf` says how old they are). A prediction only: the enclave decides for real when asked to sign, from the
 * transaction it parses itself, and signs a delay-tier transfer only once its delay has passed.
 */
import { decideTransfer, type Policy, type TransferIntent, type TransferRoute } from '../../core/policy.ts';
import type { EnclaveRouter } from '../enclave-router.ts';
import type { LayerVerdict } from './types.ts';
import { fromDecision, notChecked } from './verdict.ts';

export interface EnclaveUsage {
  readonly spent: Readonly<Record<string, string>>;
  readonly transfersInLastHour: number;
  readonly readAtMs: number;
}

const PREDICTION_NOTE =
  'A prediction from the enclave’s own counters: the enclave decides for real only when asked to sign.';

/**
 * The enclave's counters per wallet: fresh for `ttlMs`, then served up to `maxStaleMs` old while one
 * call refreshes them, so dry runs never queue behind the enclave while a recent answer exists.
 */
export class EnclaveUsageCache {
  readonly #enclave: Pick<EnclaveRouter, 'useFor'>;
  readonly #ttlMs: number;
  readonly #maxStaleMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { last?: EnclaveUsage; loading?: Promise<EnclaveUsage> }>();

  constructor(
    enclave: Pick<EnclaveRouter, 'useFor'>,
    options: { ttlMs?: number; maxStaleMs?: number; now?: () => number } = {},
  ) {
    this.#enclave = enclave;
    this.#ttlMs = options.ttlMs ?? 1_000;
    this.#maxStaleMs = Math.max(this.#ttlMs, options.maxStaleMs ?? 5_000);
    this.#now = options.now ?? Date.now;
  }

  read(walletId: string): Promise<EnclaveUsage> {
    let entry = this.#entries.get(walletId);
    if (entry === undefined) {
      if (this.#entries.size >= 10_000) this.#entries.clear();
      entry = {};
      this.#entries.set(walletId, entry);
    }
    const last = entry.last;
    const age = last === undefined ? Number.POSITIVE_INFINITY : this.#now() - last.readAtMs;
    if (last !== undefined && age < this.#ttlMs) return Promise.resolve(last);
    let loading = entry.loading;
    if (loading === undefined) {
      const target = entry;
      loading = this.#enclave
        .useFor(walletId, (client) => client.usage(walletId))
        .then((usage) => ({ ...usage, readAtMs: this.#now() }));
      target.loading = loading;
      loading.then(
        (usage) => {
          target.last = usage;
          target.loading = undefined;
        },
        () => {
          target.loading = undefined;
        },
      );
    }
    return last !== undefined && age < this.#maxStaleMs ? Promise.resolve(last) : loading;
  }

  clear(): void {
    this.#entries.clear();
  }
}

export interface EnclaveLayer {
  readonly verdict: LayerVerdict;
  /** What is left of the daily budget by the enclave's count; null when unknown. */
  readonly spent: bigint | null;
}

export async function enclaveLayer(
  usage: EnclaveUsageCache,
  walletId: string,
  policy: Policy,
  intent: TransferIntent,
  route: TransferRoute,
  nowMs: number,
): Promise<EnclaveLayer> {
  let counters: EnclaveUsage;
  try {
    counters = await usage.read(walletId);
  } catch (error) {
    return { verdict: notChecked(['The enclave could not be asked for its counters.'], error), spent: null };
  }
  const spent = BigInt(counters.spent[intent.asset] ?? '0');
  const decision = decideTransfer(
    policy,
    intent,
    nowMs,
    { spentInWindow: spent, transfersInLastHour: counters.transfersInLastHour },
    route,
  );
  const notes = [PREDICTION_NOTE];
  if (decision.ok && decision.tier === 'delay')
    notes.push(`The enclave signs it only ${decision.delaySeconds} s after it first sees the request.`);
  return {
    verdict: fromDecision(
      decision,
      { spentInWindow: spent.toString(), transfersInLastHour: counters.transfersInLastHour },
      notes,
      new Date(counters.readAtMs).toISOString(),
    ),
    spent,
  };
}
