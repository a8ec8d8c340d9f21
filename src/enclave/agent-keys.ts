/**
 * Agent keys: Ed25519 keys born in the enclave. A seed leaves only sealed by the key vault, under a
 * context naming the wallet, its owner, its multisig and the public key, so a sealed seed cannot be
 * loaded for another wallet, owner or multisig: the host stores the record and hands it back after a
 * restart, but cannot rebind it.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import bs58 from 'bs58';
import { WaiaasError } from '../core/errors.ts';
import { privateKeyFromSeed, publicKeyBytesOf } from '../keys/ed25519.ts';
import type { KeyVault } from '../keys/vault/types.ts';

/** What the enclave needs of the key vault (src/keys/vault): local AES-256-GCM, or KMS. */
export type EnclaveVault = Pick<KeyVault, 'seal' | 'unseal'>;

export interface SealedAgentKey {
  readonly walletId: string;
  /** base58 Owner Key the wallet is bound to. */
  readonly ownerPublicKey: string;
  /** base58 Squads multisig the wallet is bound to. */
  readonly multisig: string;
  /** base58 agent public key. */
  readonly publicKey: string;
  /** base64 of the vault's sealed blob of the 32-byte seed. */
  readonly sealedSeed: string;
}

export interface AgentKey {
  readonly publicKey: Uint8Array;
  readonly publicKeyBase58: string;
  readonly privateKey: KeyObject;
}

export const agentSeedContext = (record: Omit<SealedAgentKey, 'sealedSeed'>) => ({
  purpose: 'agent-seed',
  walletId: record.walletId,
  owner: record.ownerPublicKey,
  multisig: record.multisig,
  publicKey: record.publicKey,
});

// RFC 8410 PKCS#8 of an Ed25519 key is a fixed 16-byte prefix then the 32-byte seed.
const PKCS8_SEED_OFFSET = 16;

export const generateAgentKey = async (
  binding: { walletId: string; ownerPublicKey: string; multisig: string },
  vault: EnclaveVault,
): Promise<{ key: AgentKey; sealed: SealedAgentKey }> => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicKey = publicKeyBytesOf(privateKey);
  const publicKeyBase58 = bs58.encode(publicKey);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const seed = pkcs8.subarray(PKCS8_SEED_OFFSET);
  try {
    const unsealed = { ...binding, publicKey: publicKeyBase58 };
    const blob = await vault.seal(seed, agentSeedContext(unsealed));
    return {
      key: { publicKey, publicKeyBase58, privateKey },
      sealed: { ...unsealed, sealedSeed: Buffer.from(blob).toString('base64') },
    };
  } finally {
    pkcs8.fill(0);
  }
};

/** Unseals one record; the context must match what it was sealed with and the seed must give its public key. */
export const openAgentKey = async (record: SealedAgentKey, vault: EnclaveVault): Promise<AgentKey> => {
  const seed = await vault.unseal(Buffer.from(record.sealedSeed, 'base64'), agentSeedContext(record));
  try {
    if (seed.length !== 32) throw new WaiaasError('VAULT_CORRUPT', { details: { reason: 'seed length' } });
    const privateKey = privateKeyFromSeed(seed);
    const publicKey = publicKeyBytesOf(privateKey);
    const publicKeyBase58 = bs58.encode(publicKey);
    if (publicKeyBase58 !== record.publicKey) {
      throw new WaiaasError('VAULT_CORRUPT', {
        details: { reason: 'seed does not give the recorded public key' },
      });
    }
    return { publicKey, publicKeyBase58, privateKey };
  } finally {
    seed.fill(0);
  }
};

/**
 * The same seed sealed by another vault, under the same context: for moving keys off a vault the
 * enclave no longer uses. The seed must give the recorded public key before it is sealed again.
 */
export const resealAgentKey = async (
  record: SealedAgentKey,
  from: EnclaveVault,
  to: EnclaveVault,
): Promise<SealedAgentKey> => {
  const context = agentSeedContext(record);
  const seed = await from.unseal(Buffer.from(record.sealedSeed, 'base64'), context);
  try {
    if (seed.length !== 32) throw new WaiaasError('VAULT_CORRUPT', { details: { reason: 'seed length' } });
    if (bs58.encode(publicKeyBytesOf(privateKeyFromSeed(seed))) !== record.publicKey) {
      throw new WaiaasError('VAULT_CORRUPT', {
        details: { reason: 'seed does not give the recorded public key' },
      });
    }
    const blob = await to.seal(seed, context);
    return {
      walletId: record.walletId,
      ownerPublicKey: record.ownerPublicKey,
      multisig: record.multisig,
      publicKey: record.publicKey,
      sealedSeed: Buffer.from(blob).toString('base64'),
    };
  } finally {
    seed.fill(0);
  }
};
