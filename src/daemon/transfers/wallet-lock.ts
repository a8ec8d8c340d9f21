/**
 * One proposal at a time per wallet in this process: a vault transaction takes the multisig's next
 * index, so two built at once would claim the same one and the second would fail on chain.
 */
export class WalletLocks {
  readonly #tails = new Map<string, Promise<unknown>>();

  run<T>(walletId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(walletId) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.#tails.set(walletId, tail);
    void tail.then(() => {
      if (this.#tails.get(walletId) === tail) this.#tails.delete(walletId);
    });
    return result;
  }
}
