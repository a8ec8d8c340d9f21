import type { Address } from '../core/address.ts';

/** Anything that signs as the owner: 64-byte Ed25519 signatures over arbitrary messages. */
export interface OwnerSigner {
  publicKey(): Promise<Address>;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export type OwnerSignerKind = 'local' | 'aws-kms';

/** The owner's second factor for one act, as sent in `X-Owner-Unlock`: the keystore passphrase or an MFA code. */
export type OwnerUnlock = string;

/** How the owner key is protected, for health and `waiaas owner show`. Never holds a secret. */
export type OwnerKeyProtection =
  | { kind: 'local'; secondFactor: 'passphrase'; unlockedUntil?: string }
  | { kind: 'aws-kms'; secondFactor: 'mfa' | 'none'; unlockedUntil?: string };

/**
 * The owner key behind one backend. Owner-key acts prove the second factor, either per act (the
 * `unlock` argument) or once for an explicit, time-boxed window (`unlockFor`). Every signature it
 * returns has been verified against its public key.
 */
export interface OwnerKey extends OwnerSigner {
  readonly kind: OwnerSignerKind;
  /** Signs one message. `unlock` is needed unless a window is open or the key has no second factor. */
  sign(message: Uint8Array, unlock?: OwnerUnlock): Promise<Uint8Array>;
  /** Proves the factor once and lends a signer for the duration of `act` (one act, several signatures). */
  withUnlock<T>(unlock: OwnerUnlock | undefined, act: (signer: OwnerSigner) => Promise<T>): Promise<T>;
  /** Opens a window of `seconds` (at most 3600) during which acts need no factor. Returns when it lapses. */
  unlockFor(seconds: number, unlock: OwnerUnlock): Promise<Date>;
  /** Closes the window now and drops the key material or session credentials it held. */
  lock(): void;
  protection(): OwnerKeyProtection;
  /** Locks and releases network clients. */
  close(): Promise<void>;
}
