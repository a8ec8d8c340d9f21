import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DecryptCommand, EncryptCommand, KMSClient, type KMSServiceException } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsKmsVault, createAwsKmsVault, provisionAwsKmsVault } from '../../src/keys/vault/kms-vault.ts';
import { openLocalVault, provisionLocalVault } from '../../src/keys/vault/local-vault.ts';
import { contextDigest, SEALED_HEADER_BYTES } from '../../src/keys/vault/sealed-blob.ts';
import type { KeyVault, VaultRecipient } from '../../src/keys/vault/types.ts';
import { buildUnsignedAttestationDocument } from '../support/kms-recipient.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { BASE_CREDENTIALS, caught, expectCode } from './support.ts';

const credentials = BASE_CREDENTIALS;
const seedContext = { walletId: 'w-1', purpose: 'agent-seed' };
const otherWallet = { walletId: 'w-2', purpose: 'agent-seed' };

let kms: TestKms;
let local: KeyVault;
let remote: AwsKmsVault;
let recipient: VaultRecipient;

/** Rewrites the context digest in a blob's header: a forger trying to pass it off as another wallet's. */
const relabel = (blob: Uint8Array, context: Record<string, string>) => {
  const copy = Buffer.from(blob);
  contextDigest(context).copy(copy, SEALED_HEADER_BYTES - 32);
  return copy;
};

beforeAll(async () => {
  kms = await startTestKms();
  const dir = await mkdtemp(join(tmpdir(), 'waiaas-vault-'));
  const config = await provisionLocalVault(
    { keystorePath: join(dir, 'vault.json'), passphrase: 'vault passphrase' },
    { insecureKdfForTests: true },
  );
  local = await openLocalVault(config, 'vault passphrase');
  remote = createAwsKmsVault(
    await provisionAwsKmsVault({ region: kms.region, endpoint: kms.endpoint }, { credentials }),
    {
      credentials,
    },
  );
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  recipient = {
    attestationDocument: buildUnsignedAttestationDocument(publicKey.export({ format: 'der', type: 'spki' })),
    privateKey,
  };
});

afterAll(async () => {
  await local.close();
  await remote.close();
  await kms.close();
});

describe.each([
  ['local', () => local],
  ['aws-kms', () => remote],
] as const)('%s key vault', (_name, vault) => {
  it('unseals what it sealed, with the same context', async () => {
    const seed = randomBytes(32);
    const blob = await vault().seal(seed, seedContext);
    expect(Buffer.from(blob).includes(seed)).toBe(false);
    expect(Buffer.from(await vault().unseal(blob, { purpose: 'agent-seed', walletId: 'w-1' }))).toEqual(seed);
  });

  it('refuses another context with VAULT_CONTEXT_MISMATCH', async () => {
    const blob = await vault().seal(randomBytes(32), seedContext);
    await expectCode(vault().unseal(blob, otherWallet), 'VAULT_CONTEXT_MISMATCH');
    await expectCode(vault().unseal(blob, { walletId: 'w-1', purpose: 'backup' }), 'VAULT_CONTEXT_MISMATCH');
  });

  it('refuses a blob relabelled for another context, or damaged, with VAULT_CORRUPT', async () => {
    const blob = await vault().seal(randomBytes(32), seedContext);
    await expectCode(vault().unseal(relabel(blob, otherWallet), otherWallet), 'VAULT_CORRUPT');
    const damaged = Buffer.from(blob);
    damaged[damaged.length - 20] = (damaged[damaged.length - 20] ?? 0) ^ 0x01;
    await expectCode(vault().unseal(damaged, seedContext), 'VAULT_CORRUPT');
    await expectCode(vault().unseal(blob.subarray(0, 20), seedContext), 'VAULT_CORRUPT');
    await expectCode(vault().seal(randomBytes(8), {}), 'VALIDATION_FAILED');
  });
});

describe('aws-kms key vault', () => {
  it('the KMS stand-in itself refuses a mismatched EncryptionContext', async () => {
    const sdk = new KMSClient({ region: kms.region, endpoint: kms.endpoint, credentials });
    const keyId = kms.createKey('SYMMETRIC_DEFAULT');
    const { CiphertextBlob } = await sdk.send(
      new EncryptCommand({
        KeyId: keyId,
        Plaintext: new Uint8Array([1, 2, 3]),
        EncryptionContext: seedContext,
      }),
    );
    const error = (await caught(
      sdk.send(new DecryptCommand({ KeyId: keyId, CiphertextBlob, EncryptionContext: otherWallet })),
    )) as KMSServiceException;
    expect(error.name).toBe('InvalidCiphertextException');
    sdk.destroy();
  });

  it('maps a disabled vault key and denied credentials to VAULT_ACCESS_DENIED', async () => {
    const config = await provisionAwsKmsVault(
      { region: kms.region, endpoint: kms.endpoint },
      { credentials },
    );
    const vault = createAwsKmsVault(config, { credentials });
    const blob = await vault.seal(randomBytes(32), seedContext);
    kms.disableKey(config.keyId);
    await expectCode(vault.unseal(blob, seedContext), 'VAULT_ACCESS_DENIED');
    kms.enableKey(config.keyId);

    kms.denyAccessKey('AKIATESTVAULTDENIED1');
    const denied = createAwsKmsVault(config, {
      credentials: { accessKeyId: 'AKIATESTVAULTDENIED1', secretAccessKey: 'x' },
    });
    await expectCode(denied.unseal(blob, seedContext), 'VAULT_ACCESS_DENIED');
    await Promise.all([vault.close(), denied.close()]);
  });

  describe('Nitro recipient path', () => {
    it('unseals through CiphertextForRecipient: KMS never returns the plaintext in the clear', async () => {
      const seed = randomBytes(32);
      const blob = await remote.seal(seed, seedContext);
      const before = kms.requests.length;
      expect(Buffer.from(await remote.unseal(blob, seedContext, recipient))).toEqual(seed);
      expect(kms.requests.slice(before).map((request) => request.operation)).toEqual(['Decrypt']);
      await expectCode(remote.unseal(blob, otherWallet, recipient), 'VAULT_CONTEXT_MISMATCH');
    });

    it('generates a data key for the recipient that decrypts to the same key later', async () => {
      const { plaintextKey, encryptedKey } = await remote.generateDataKey(seedContext, recipient);
      expect(plaintextKey).toHaveLength(32);
      expect(Buffer.from(await remote.decryptDataKey(encryptedKey, seedContext, recipient))).toEqual(
        Buffer.from(plaintextKey),
      );
      expect(Buffer.from(await remote.decryptDataKey(encryptedKey, seedContext))).toEqual(
        Buffer.from(plaintextKey),
      );
      await expectCode(remote.decryptDataKey(encryptedKey, otherWallet), 'VAULT_CORRUPT');
    });

    it('refuses a recipient ciphertext tampered on the way, even where CBC padding survives', async () => {
      const blob = await remote.seal(randomBytes(32), seedContext);
      // Flip one bit in the first content block: CBC garbles plaintext without a padding error.
      kms.tamperRecipientOutput((cms) => {
        const copy = Buffer.from(cms);
        const content = copy.indexOf(
          Buffer.from('a080', 'hex'),
          copy.indexOf(Buffer.from('060960864801650304012a', 'hex')),
        );
        copy[content + 4] = (copy[content + 4] ?? 0) ^ 0x01;
        return copy;
      });
      try {
        await expectCode(remote.unseal(blob, seedContext, recipient), 'VAULT_CORRUPT');
      } finally {
        kms.tamperRecipientOutput(undefined);
      }
      const stranger = {
        ...recipient,
        privateKey: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      };
      await expectCode(remote.unseal(blob, seedContext, stranger), 'VAULT_CORRUPT');
    });
  });
});
