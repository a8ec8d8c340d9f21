import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual } from 'node:crypto';
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
  sealedBlobKind,
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
/** Sealed by KMS Encrypt directly up to this size; larger data is sealed under a data key (envelope). */
export const MAX_SEALED_PLAINTEXT_BYTES = KMS_MAX_PLAINTEXT_BYTES - INNER_DIGEST_BYTES;
/** What the envelope path seals at most (checkpoints of wallets with many assets stay far below). */
export const MAX_ENVELOPE_PLAINTEXT_BYTES = 16 * 1024 * 1024;
const DATA_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

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

  /** KMS Encrypt of plaintext ‖ inner digest (see innerDigest), under the context. */
  const encrypt = async (header: Buffer, plaintext: Uint8Array, context: VaultContext) => {
    const framed = Buffer.concat([plaintext, innerDigest(header, plaintext)]);
    try {
      const { CiphertextBlob } = await client.send(
        new EncryptCommand({ KeyId: config.keyId, Plaintext: framed, EncryptionContext: { ...context } }),
      );
      if (CiphertextBlob === undefined) throw vaultCorrupt('KMS returned no ciphertext');
      return CiphertextBlob;
    } catch (error) {
      throw mapAwsError(error, VAULT_AWS_ERRORS, 'Encrypt');
    } finally {
      framed.fill(0);
    }
  };

  const decryptFramed = async (
    header: Buffer,
    body: Uint8Array,
    context: VaultContext,
    recipient: VaultRecipient | undefined,
  ) => {
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
  };

  /**
   * Envelope: a random data key sealed by KMS Encrypt like any small plaintext (so the same key
   * policy gates it: Decrypt only with the enclave's attestation), and the data under it with
   * AES-256-GCM, the header as additional data. Body: u16 BE length ‖ sealed key ‖ nonce ‖ ciphertext ‖ tag.
   */
  const sealEnvelope = async (plaintext: Uint8Array, context: VaultContext) => {
    const header = sealedHeader('aws-kms-envelope', context);
    const dataKey = randomBytes(DATA_KEY_BYTES);
    try {
      const sealedKey = await encrypt(header, dataKey, context);
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', dataKey, nonce);
      cipher.setAAD(header);
      const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
      const length = Buffer.alloc(2);
      length.writeUInt16BE(sealedKey.length);
      return new Uint8Array(Buffer.concat([header, length, sealedKey, nonce, body, cipher.getAuthTag()]));
    } finally {
      dataKey.fill(0);
    }
  };

  const unsealEnvelope = async (
    blob: Uint8Array,
    context: VaultContext,
    recipient: VaultRecipient | undefined,
  ) => {
    const { header, body } = openSealedBlob(blob, 'aws-kms-envelope', context);
    if (body.length < 2) throw vaultCorrupt('truncated');
    const keyLength = body.readUInt16BE(0);
    const keyEnd = 2 + keyLength;
    if (body.length < keyEnd + NONCE_BYTES + TAG_BYTES) throw vaultCorrupt('truncated');
    const dataKey = await decryptFramed(header, body.subarray(2, keyEnd), context, recipient);
    try {
      if (dataKey.length !== DATA_KEY_BYTES) throw vaultCorrupt('data key is not 32 bytes');
      const decipher = createDecipheriv('aes-256-gcm', dataKey, body.subarray(keyEnd, keyEnd + NONCE_BYTES));
      decipher.setAAD(header);
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      const head = decipher.update(body.subarray(keyEnd + NONCE_BYTES, body.length - TAG_BYTES));
      try {
        decipher.final();
      } catch {
        head.fill(0);
        throw vaultCorrupt('authentication failed');
      }
      const plaintext = new Uint8Array(head);
      head.fill(0);
      return plaintext;
    } finally {
      dataKey.fill(0);
    }
  };

  return {
    kind: 'aws-kms',
    async seal(plaintext, context) {
      if (plaintext.length === 0 || plaintext.length > MAX_ENVELOPE_PLAINTEXT_BYTES) {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: `The KMS vault seals 1 to ${MAX_ENVELOPE_PLAINTEXT_BYTES} bytes`,
          details: { bytes: plaintext.length },
        });
      }
      if (plaintext.length > MAX_SEALED_PLAINTEXT_BYTES) return sealEnvelope(plaintext, context);
      const header = sealedHeader('aws-kms', context);
      return new Uint8Array(Buffer.concat([header, await encrypt(header, plaintext, context)]));
    },
    async unseal(blob, context, recipient) {
      if (sealedBlobKind(blob) === 'aws-kms-envelope') return unsealEnvelope(blob, context, recipient);
      const { header, body } = openSealedBlob(blob, 'aws-kms', context);
      return decryptFramed(header, body, context, recipient);
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
