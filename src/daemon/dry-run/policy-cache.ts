import type { Wallet } from '../../store/index.ts';
import { type PolicyInForce, policyInForce } from '../owner-acts/common.ts';

/**
 * Parsed policies per wallet, reused while the stored bundle text is the same: parsing and hashing a
 * bundle costs more than the rest of a dry run.
 */
export class PolicyCache {
  readonly #entries = new Map<string, { text: string; inForce: PolicyInForce }>();
  readonly #maxEntries: number;

  constructor(maxEntries = 10_000) {
    this.#maxEntries = maxEntries;
  }

  of(wallet: Pick<Wallet, 'id' | 'policyBundle'>): PolicyInForce {
    const cached = this.#entries.get(wallet.id);
    if (cached && cached.text === wallet.policyBundle) return cached.inForce;
    const inForce = policyInForce(wallet as Wallet);
    if (this.#entries.size >= this.#maxEntries) this.#entries.clear();
    this.#entries.set(wallet.id, { text: wallet.policyBundle, inForce });
    return inForce;
  }
}
