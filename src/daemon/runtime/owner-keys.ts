import { createOwnerSigner, type OwnerKey } from '../../keys/index.ts';
import type { OwnerUnlock } from '../../keys/types.ts';
import type { Owner, Store } from '../../store/index.ts';
import { isWrongFactor, UnlockThrottle } from './unlock-throttle.ts';

export interface OwnerKeysOptions {
  /** Where wrong second factors are counted (every replica sees the same count). */
  readonly store?: Store;
  readonly now?: () => number;
}

/**
 * One OwnerKey per owner for the daemon's lifetime: an explicit unlock window lives inside the key
 * object, so a fresh object per request would forget it. With a store, every use of a second factor
 * goes through the owner's throttle (unlock-throttle.ts): counted before it is checked, refused with
 * 429 while the owner must wait, cleared by the right factor.
 */
export class OwnerKeys {
  readonly #keys = new Map<string, OwnerKey>();
  readonly throttle: UnlockThrottle | undefined;

  constructor(options: OwnerKeysOptions = {}) {
    this.throttle = options.store ? new UnlockThrottle(options.store, options.now) : undefined;
  }

  of(owner: Owner): OwnerKey {
    let key = this.#keys.get(owner.id);
    if (!key) {
      const inner = createOwnerSigner(owner.signer);
      key = this.throttle ? throttled(inner, owner.id, this.throttle) : inner;
      this.#keys.set(owner.id, key);
    }
    return key;
  }

  /** OWNER_UNLOCK_THROTTLED before anything changes, when this replica already knows the owner waits. */
  assertNotThrottled(owner: Pick<Owner, 'id'>): void {
    this.throttle?.assertNotKnownLocked(owner.id);
  }

  async close(): Promise<void> {
    const keys = [...this.#keys.values()];
    this.#keys.clear();
    await Promise.all(keys.map((key) => key.close()));
  }
}

/** The key, with every check of a second factor counted by the owner's throttle. */
function throttled(inner: OwnerKey, ownerId: string, throttle: UnlockThrottle): OwnerKey {
  /** Whether this call will check `unlock` (a window open, or no factor, means it will not). */
  const checksFactor = (unlock: OwnerUnlock | undefined): boolean => {
    const protection = inner.protection();
    return (
      protection.secondFactor !== 'none' &&
      protection.unlockedUntil === undefined &&
      unlock !== undefined &&
      unlock !== ''
    );
  };

  const guarded = async <T>(
    unlock: OwnerUnlock | undefined,
    run: (proven: () => Promise<void>) => Promise<T>,
  ): Promise<T> => {
    if (!checksFactor(unlock)) return run(async () => undefined);
    await throttle.begin(ownerId);
    let judged = false;
    const proven = async () => {
      if (judged) return;
      judged = true;
      await throttle.succeeded(ownerId);
    };
    try {
      const result = await run(proven);
      await proven();
      return result;
    } catch (error) {
      if (!judged) {
        judged = true;
        if (isWrongFactor(error)) await throttle.failed(ownerId, (error as { code: string }).code);
        else await throttle.release(ownerId);
      }
      throw error;
    }
  };

  return {
    kind: inner.kind,
    publicKey: () => inner.publicKey(),
    sign: (message, unlock) => guarded(unlock, () => inner.sign(message, unlock)),
    withUnlock: (unlock, act) =>
      guarded(unlock, (proven) =>
        inner.withUnlock(unlock, async (signer) => {
          await proven();
          return act(signer);
        }),
      ),
    unlockFor: (seconds, unlock) => guarded(unlock, () => inner.unlockFor(seconds, unlock)),
    lock: () => inner.lock(),
    protection: () => inner.protection(),
    close: () => inner.close(),
  };
}
