/**
 * L2 predicted: the same decideTransfer the enclave runs before it signs, fed with the enclave's own
 * counters (asked over its socket, cached about a second per wallet so dry runs do not queue behind
 * signatures). A prediction only: the enclave decides for real when asked to sign, from the
 * transaction it parses itself, and signs a delay-tier transfer only once its delay has passed.
 */
import { decideTransfer, type Policy, type TransferIntent, type TransferRoute } from '../../core/policy.ts';
import type { EnclaveSupervisor } from '../enclave-supervisor.ts';
import type { LayerVerdict } from './types.ts';
import { fromDecision, notChecked } from './verdict.ts';

export interface EnclaveUsage {
  readonly spent: Readonly<Record<string, string>>;
  readonly transfersInLastHour: number;
  readonly readAtMs: number;
}

const PREDICTION_NOTE =
  'A prediction from the enclave’s own counters: the enclave decides for real only when asked to sign.';

/** The enclave's counters per wallet, at most `ttlMs` old; concurrent readers share one call. */
export class EnclaveUsageCache {
  readonly #enclave: Pick<EnclaveSupervisor, 'use'>;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { value: Promise<EnclaveUsage>; atMs: number }>();

  constructor(enclave: Pick<EnclaveSupervisor, 'use'>, options: { ttlMs?: number; now?: () => number } = {}) {
    this.#enclave = enclave;
    this.#ttlMs = options.ttlMs ?? 1_000;
    this.#now = options.now ?? Date.now;
  }

  read(walletId: string): Promise<EnclaveUsage> {
    const now = this.#now();
    const cached = this.#entries.get(walletId);
    if (cached && now - cached.atMs < this.#ttlMs) return cached.value;
    const value = this.#enclave
      .use((client) => client.usage(walletId))
      .then((usage) => ({ ...usage, readAtMs: this.#now() }));
    if (this.#entries.size >= 10_000) this.#entries.clear();
    this.#entries.set(walletId, { value, atMs: now });
    value.catch(() => {
      if (this.#entries.get(walletId)?.value === value) this.#entries.delete(walletId);
    });
    return value;
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
