import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import bs58 from 'bs58';

/**
 * Fixed, publicly derivable Ed25519 keys for roles on the local chain (faucet, validator identity,
 * Squads program-config authority and treasury). They hold nothing of value off this machine: their
 * seeds are sha256 of a public label, so they are reproducible across restarts and machines.
 */
export interface LocalnetKey {
  readonly publicKey: Uint8Array;
  readonly address: string;
  sign(message: Uint8Array): Uint8Array;
}

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export function localnetKey(label: string): LocalnetKey {
  const seed = createHash('sha256').update(`waiaas-localnet:${label}`).digest();
  const privateKey: KeyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(spki.length - 32));
  return {
    publicKey,
    address: bs58.encode(publicKey),
    sign: (message) => new Uint8Array(sign(null, message, privateKey)),
  };
}

export const faucetKey = localnetKey('faucet');
export const validatorIdentityKey = localnetKey('validator-identity');
export const squadsConfigAuthorityKey = localnetKey('squads-program-config-authority');
export const squadsTreasuryKey = localnetKey('squads-program-config-treasury');
