import type { KeyObject } from 'node:crypto';
import { type Address, addressFromBytes } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import { publicKeyObject } from './ed25519.ts';
import { assertSignatureValid } from './signature-check.ts';
import type { OwnerKey, OwnerKeyProtection, OwnerSigner, OwnerSignerKind, OwnerUnlock } from './types.ts';

/** Signing rights obtained by proving the second factor: a decrypted key, or an MFA session. */
export interface SigningSession {
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** Drops the key material or credentials. Later `sign` calls fail with OWNER_UNLOCK_REQUIRED. */
  release(): void;
  /** Epoch ms after which the session stops working by itself (STS credentials expire). */
  readonly expiresAt?: number;
}

/** What a backend provides; the factor rules, unlock window and signature checks live in one place below. */
export interface OwnerKeyBackend {
  readonly kind: OwnerSignerKind;
  readonly secondFactor: 'passphrase' | 'mfa' | 'none';
  publicKey(): Promise<Uint8Array>;
  /**
   * Proves `unlock` and opens a session. `unlock` is undefined only for keys without a second factor.
   * `windowSeconds` is set for an explicit unlock window, absent for a single act.
   */
  openSession(unlock: OwnerUnlock | undefined, windowSeconds?: number): Promise<SigningSession>;
  close(): Promise<void>;
}

export const MAX_UNLOCK_SECONDS = 3600;

export interface OwnerKeyOptions {
  /** Epoch ms; injectable so tests can let an unlock window lapse. */
  now?: () => number;
}

export const releasedSessionError = () =>
  new WaiaasError('OWNER_UNLOCK_REQUIRED', { message: 'The owner key was locked' });

export const ownerKeyFromBackend = (backend: OwnerKeyBackend, options: OwnerKeyOptions = {}): OwnerKey => {
  const now = options.now ?? Date.now;
  let verifier: Promise<{ address: Address; key: KeyObject }> | undefined;
  let window: { session: SigningSession; until: number; timer: NodeJS.Timeout } | undefined;

  const verifierOf = () => {
    if (verifier === undefined) {
      const loading = backend
        .publicKey()
        .then((bytes) => ({ address: addressFromBytes(bytes), key: publicKeyObject(bytes) }));
      // A failed lookup (KMS down) is retried on the next call rather than remembered.
      loading.catch(() => {
        if (verifier === loading) verifier = undefined;
      });
      verifier = loading;
    }
    return verifier;
  };

  const signWith = async (session: SigningSession, message: Uint8Array): Promise<Uint8Array> => {
    const { address, key } = await verifierOf();
    return assertSignatureValid(key, message, await session.sign(message), address);
  };

  const lock = () => {
    if (window === undefined) return;
    clearTimeout(window.timer);
    window.session.release();
    window = undefined;
  };

  const activeWindow = () => {
    if (window !== undefined && now() >= window.until) lock();
    return window;
  };

  const withSession = async <T>(
    unlock: OwnerUnlock | undefined,
    use: (session: SigningSession) => Promise<T>,
  ) => {
    const open = activeWindow();
    if (open !== undefined) return use(open.session);
    if ((unlock === undefined || unlock === '') && backend.secondFactor !== 'none') {
      throw new WaiaasError('OWNER_UNLOCK_REQUIRED', { details: { secondFactor: backend.secondFactor } });
    }
    const session = await backend.openSession(backend.secondFactor === 'none' ? undefined : unlock);
    try {
      return await use(session);
    } finally {
      session.release();
    }
  };

  const publicKey = async () => (await verifierOf()).address;

  return {
    kind: backend.kind,
    publicKey,
    sign: (message, unlock) => withSession(unlock, (session) => signWith(session, message)),
    withUnlock: (unlock, act) =>
      withSession(unlock, (session) => {
        const signer: OwnerSigner = { publicKey, sign: (message) => signWith(session, message) };
        return act(signer);
      }),
    async unlockFor(seconds, unlock) {
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_UNLOCK_SECONDS) {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: `An unlock lasts 1 to ${MAX_UNLOCK_SECONDS} seconds`,
          details: { field: 'seconds', max: MAX_UNLOCK_SECONDS },
        });
      }
      if ((unlock === undefined || unlock === '') && backend.secondFactor !== 'none') {
        throw new WaiaasError('OWNER_UNLOCK_REQUIRED', { details: { secondFactor: backend.secondFactor } });
      }
      const session = await backend.openSession(
        backend.secondFactor === 'none' ? undefined : unlock,
        seconds,
      );
      await verifierOf();
      lock();
      const until = Math.min(now() + seconds * 1000, session.expiresAt ?? Number.POSITIVE_INFINITY);
      // A real-time backstop that drops the key material even if no call comes to notice the lapse.
      const timer = setTimeout(() => activeWindow(), Math.max(0, until - now()) + 10);
      timer.unref();
      window = { session, until, timer };
      return new Date(until);
    },
    lock,
    protection(): OwnerKeyProtection {
      const open = activeWindow();
      const unlockedUntil = open === undefined ? {} : { unlockedUntil: new Date(open.until).toISOString() };
      return backend.kind === 'local'
        ? { kind: 'local', secondFactor: 'passphrase', ...unlockedUntil }
        : {
            kind: 'aws-kms',
            secondFactor: backend.secondFactor === 'mfa' ? 'mfa' : 'none',
            ...unlockedUntil,
          };
    },
    async close() {
      lock();
      await backend.close();
    },
  };
};
