/** Real parts for enclave tests: the local AES-256-GCM key vault, owner keys, signed policies. */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bs58 from 'bs58';
import { type PolicyBundle, type PolicyDocument, signPolicyBundle } from '../../../src/core/policy.ts';
import { privateKeyFromSeed } from '../../../src/keys/ed25519.ts';
import { openLocalVault, provisionLocalVault } from '../../../src/keys/vault/local-vault.ts';
import type { KeyVault } from '../../../src/keys/vault/types.ts';

export const VAULT_PASSPHRASE = 'correct horse battery staple';

export const tempDir = (prefix = 'waiaas-enclave-') => mkdtempSync(join(tmpdir(), prefix));

/** A fresh local vault (keystore with the test-only KDF cost) in `dir`. */
export const createTestVault = async (
  dir = tempDir(),
): Promise<{ vault: KeyVault; keystorePath: string }> => {
  const keystorePath = join(dir, 'vault.keystore');
  const config = await provisionLocalVault(
    { keystorePath, passphrase: VAULT_PASSPHRASE },
    { insecureKdfForTests: true },
  );
  return { vault: await openLocalVault(config, VAULT_PASSPHRASE), keystorePath };
};

export interface TestOwner {
  readonly publicKey: string;
  readonly privateKey: KeyObject;
  signPolicy(walletId: string, document: PolicyDocument): Promise<PolicyBundle>;
}

export const createOwner = (seed?: Uint8Array): TestOwner => {
  const privateKey = seed ? privateKeyFromSeed(seed) : generateKeyPairSync('ed25519').privateKey;
  const publicKey = createPublicKey(privateKey);
  const raw = bs58.encode(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
  const signer = {
    publicKey: async () => raw,
    sign: async (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey)),
  };
  return {
    publicKey: raw,
    privateKey,
    signPolicy: (walletId, document) => signPolicyBundle(walletId, document, signer),
  };
};

export const USDC = 'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v';

export const solPolicy = (
  overrides: Partial<PolicyDocument> & { recipients: PolicyDocument['recipients'] },
): PolicyDocument => ({
  version: 1,
  assets: {
    SOL: {
      perTransaction: '2000000000',
      daily: '5000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 900 },
    },
  },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 120 },
  approvalTimeoutSeconds: 3600,
  ...overrides,
});
