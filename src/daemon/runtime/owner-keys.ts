import { createOwnerSigner, type OwnerKey } from '../../keys/index.ts';
import type { Owner } from '../../store/index.ts';

/**
 * One OwnerKey per owner for the daemon's lifetime: an explicit unlock window lives inside the key
 * object, so a fresh object per request would forget it.
 */
export class OwnerKeys {
  readonly #keys = new Map<string, OwnerKey>();

  of(owner: Owner): OwnerKey {
    let key = this.#keys.get(owner.id);
    if (!key) {
      key = createOwnerSigner(owner.signer);
      this.#keys.set(owner.id, key);
    }
    return key;
  }

  async close(): Promise<void> {
    const keys = [...this.#keys.values()];
    this.#keys.clear();
    await Promise.all(keys.map((key) => key.close()));
  }
}
