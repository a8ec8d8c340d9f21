import { createHash, timingSafeEqual } from 'node:crypto';
import {
  CreateKeyCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  type KMSClient,
  type RecipientInfo,
} from '@aws-sdk/client-kms';
import { WaiaasError } from '../../core/errors.ts';
import { mapAwsError, VAULT_AWS_ERRORS } from '../aws/aws-errors.ts';
import { type AwsConnection, type AwsDeps, createKmsClient } from '../aws/connection.ts';
import { decryptCiphertextForRecipient } from './recipient-cms.ts';
import {
  assertVaultContext,
  openSealedBlob,
  sealedHeader,
  type VaultContext,
  vaultCorrupt,
} from './sealed-blob.ts';
import type { KeyVault, VaultRecipient } from './types.ts';

export interface AwsKmsVaultConfig extends AwsConnection {
  kind: 'aws-kms';
  /** A SYMMETRIC_DEFAULT / ENCRYPT_DECRYPT key. */
  keyId: string;
}

const KMS_MAX_PLAINTEXT_BYTES = 4096;
const INNER_DIGEST_BYTES = 32;
export const MAX_SEALED_PLAINTEXT_BYTES = KMS_MAX_PLAINTEXT_BYTES - INNER_DIGEST_BYTES;

// Appended to what KMS encrypts. On the recipient path the plaintext comes back under AES-CBC, which
// has no integrity; an attacker who flips ciphertext bits cannot fix up this digest of an unknown value.
const innerDigest = (header: Buffer, plaintext: Uint8Array) =>
  createHash('sha256').update('waiaas-vault-inner').update(header).update(plaintext).digest();

const recipientInfo = (recipient: VaultRecipient): RecipientInfo => ({
  KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256',
  AttestationDocument: recipient.attestationDocument,
});

/** Plaintext from a Decrypt or GenerateDataKey answer, through the enclave's private key when attested. */
const plaintextOf = (
  answer: { Plaintext?: Uint8Array; CiphertextForRecipient?: Uint8Array },
  recipient: VaultRecipient | undefined,
): Uint8Array => {
  if (recipient === undefined) {
    if (answer.Plaintext === undefined) throw vaultCorrupt('KMS returned no plaintext');
    return answer.Plaintext;
  }
  if (answer.CiphertextForRecipient === undefined)
    throw vaultCorrupt('KMS returned no CiphertextForRecipient');
  return decryptCiphertextForRecipient(answer.CiphertextForRecipient, recipient.privateKey);
};

export interface AwsKmsVault extends KeyVault {
  /** A fresh AES-256 data key: its plaintext (for the caller only) and its KMS-encrypted form to store. */
  generateDataKey(
    context: VaultContext,
    recipient?: VaultRecipient,
  ): Promise<{ plaintextKey: Uint8Array; encryptedKey: Uint8Array }>;
  /** Decrypts a data key made by `generateDataKey`. */
  decryptDataKey(
    encryptedKey: Uint8Array,
    context: VaultContext,
    recipient?: VaultRecipient,
  ): Promise<Uint8Array>;
}

export const createAwsKmsVault = (config: AwsKmsVaultConfig, deps: AwsDeps = {}): AwsKmsVault => {
  const client: KMSClient = createKmsClient(config, deps.credentials);

  const decrypt = async (blob: Uint8Array, context: VaultContext, recipient: VaultRecipient | undefined) => {
    try {
      return plaintextOf(
        await client.send(
          new DecryptCommand({
            CiphertextBlob: blob,
            KeyId: config.keyId,
            EncryptionContext: { ...context },
            ...(recipient === undefined ? {} : { Recipient: recipientInfo(recipient) }),
          }),
        ),
        recipient,
      );
    } catch (error) {
      throw mapAwsError(error, VAULT_AWS_ERRORS, 'Decrypt');
    }
  };

  return {
    kind: 'aws-kms',
    async seal(plaintext, context) {
      if (plaintext.length === 0 || plaintext.length > MAX_SEALED_PLAINTEXT_BYTES) {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: `The KMS vault seals 1 to ${MAX_SEALED_PLAINTEXT_BYTES} bytes`,
          details: { bytes: plaintext.length },
        });
      }
      const header = sealedHeader('aws-kms', context);
      const framed = Buffer.concat([plaintext, innerDigest(header, plaintext)]);
      try {
        const { CiphertextBlob } = await client.send(
          new EncryptCommand({ KeyId: config.keyId, Plaintext: framed, EncryptionContext: { ...context } }),
        );
        if (CiphertextBlob === undefined) throw vaultCorrupt('KMS returned no ciphertext');
        return new Uint8Array(Buffer.concat([header, CiphertextBlob]));
      } catch (error) {
        throw mapAwsError(error, VAULT_AWS_ERRORS, 'Encrypt');
      } finally {
        framed.fill(0);
      }
    },
    async unseal(blob, context, recipient) {
      const { header, body } = openSealedBlob(blob, 'aws-kms', context);
      const framed = await decrypt(body, context, recipient);
      try {
        if (framed.length <= INNER_DIGEST_BYTES) throw vaultCorrupt('truncated');
        const plaintext = framed.slice(0, framed.length - INNER_DIGEST_BYTES);
        const digest = framed.subarray(framed.length - INNER_DIGEST_BYTES);
        if (!timingSafeEqual(innerDigest(header, plaintext), digest)) {
          plaintext.fill(0);
          throw vaultCorrupt('inner digest mismatch');
        }
        return plaintext;
      } finally {
        framed.fill(0);
      }
    },
    async generateDataKey(context, recipient) {
      assertVaultContext(context);
      try {
        const answer = await client.send(
          new GenerateDataKeyCommand({
            KeyId: config.keyId,
            KeySpec: 'AES_256',
            EncryptionContext: { ...context },
            ...(recipient === undefined ? {} : { Recipient: recipientInfo(recipient) }),
          }),
        );
        if (answer.CiphertextBlob === undefined) throw vaultCorrupt('KMS returned no ciphertext');
        const plaintextKey = plaintextOf(answer, recipient);
        if (plaintextKey.length !== 32) throw vaultCorrupt('data key is not 32 bytes');
        return { plaintextKey, encryptedKey: answer.CiphertextBlob };
      } catch (error) {
        throw mapAwsError(error, VAULT_AWS_ERRORS, 'GenerateDataKey');
      }
    },
    async decryptDataKey(encryptedKey, context, recipient) {
      assertVaultContext(context);
      return decrypt(encryptedKey, context, recipient);
    },
    async close() {
      client.destroy();
    },
  };
};

/** Creates a symmetric KMS key for the vault and returns the config to store. */
export const provisionAwsKmsVault = async (
  connection: AwsConnection,
  deps: AwsDeps = {},
): Promise<AwsKmsVaultConfig> => {
  const client = createKmsClient(connection, deps.credentials);
  try {
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({
        KeySpec: 'SYMMETRIC_DEFAULT',
        KeyUsage: 'ENCRYPT_DECRYPT',
        Description: 'WAIaaS vault key',
      }),
    );
    const keyId = KeyMetadata?.Arn ?? KeyMetadata?.KeyId;
    if (keyId === undefined)
      throw new WaiaasError('VAULT_UNAVAILABLE', { details: { operation: 'CreateKey' } });
    return { ...connection, kind: 'aws-kms', keyId };
  } catch (error) {
    throw mapAwsError(error, VAULT_AWS_ERRORS, 'CreateKey');
  } finally {
    client.destroy();
  }
};
