import { constants, createDecipheriv, type KeyObject, privateDecrypt } from 'node:crypto';
import * as asn1js from 'asn1js';
import {
  AlgorithmIdentifier,
  ContentInfo,
  EnvelopedData,
  KeyTransRecipientInfo,
  RSAESOAEPParams,
} from 'pkijs';
import { vaultCorrupt } from './sealed-blob.ts';

const OID = {
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

const AES_256_KEY_BYTES = 32;
const AES_BLOCK_BYTES = 16;

const viewOf = (block: { valueBlock: { valueHexView: Uint8Array } }) => block.valueBlock.valueHexView;

/** OAEP parameters, when present, must name SHA-256 for both the hash and MGF1 (what we ask KMS for). */
const assertOaepSha256 = (algorithm: AlgorithmIdentifier) => {
  if (algorithm.algorithmId !== OID.rsaesOaep) throw vaultCorrupt('key transport is not RSA-OAEP');
  if (algorithm.algorithmParams === undefined) return;
  const params = new RSAESOAEPParams({ schema: algorithm.algorithmParams });
  const mgfHash =
    params.maskGenAlgorithm.algorithmParams === undefined
      ? undefined
      : new AlgorithmIdentifier({ schema: params.maskGenAlgorithm.algorithmParams }).algorithmId;
  if (
    params.hashAlgorithm.algorithmId !== OID.sha256 ||
    params.maskGenAlgorithm.algorithmId !== OID.mgf1 ||
    mgfHash !== OID.sha256
  ) {
    throw vaultCorrupt('RSA-OAEP parameters are not SHA-256');
  }
};

const parseEnvelope = (cms: Uint8Array) => {
  const asn1 = asn1js.fromBER(cms);
  if (asn1.offset === -1 || asn1.offset !== cms.byteLength) throw vaultCorrupt('not BER');
  const info = new ContentInfo({ schema: asn1.result });
  if (info.contentType !== OID.envelopedData) throw vaultCorrupt('not EnvelopedData');
  const enveloped = new EnvelopedData({ schema: info.content });
  const [recipient, ...others] = enveloped.recipientInfos;
  if (recipient === undefined || others.length > 0 || !(recipient.value instanceof KeyTransRecipientInfo)) {
    throw vaultCorrupt('expected exactly one KeyTransRecipientInfo');
  }
  return { enveloped, transport: recipient.value };
};

/**
 * Decrypts a KMS `CiphertextForRecipient`: CMS EnvelopedData (RFC 5652) with one
 * KeyTransRecipientInfo (RSAES-OAEP, SHA-256) carrying an AES-256-CBC content key. KMS encodes it
 * in BER with indefinite lengths and may split the encrypted content across several OCTET STRINGs;
 * asn1js reads both and pkijs joins the pieces. Any damage is VAULT_CORRUPT. CBC has no integrity of
 * its own: callers that seal through the vault also check an inner digest of the plaintext.
 */
export const decryptCiphertextForRecipient = (cms: Uint8Array, privateKey: KeyObject): Uint8Array => {
  let parsed: ReturnType<typeof parseEnvelope>;
  try {
    parsed = parseEnvelope(cms);
  } catch (error) {
    if (error instanceof Error && error.name === 'WaiaasError') throw error;
    throw vaultCorrupt('malformed EnvelopedData');
  }
  const { enveloped, transport } = parsed;
  assertOaepSha256(transport.keyEncryptionAlgorithm);
  const content = enveloped.encryptedContentInfo;
  if (content.contentEncryptionAlgorithm.algorithmId !== OID.aes256Cbc)
    throw vaultCorrupt('content is not AES-256-CBC');
  const ivBlock = content.contentEncryptionAlgorithm.algorithmParams;
  if (!(ivBlock instanceof asn1js.OctetString) || viewOf(ivBlock).length !== AES_BLOCK_BYTES) {
    throw vaultCorrupt('bad IV');
  }
  const ciphertext = new Uint8Array(content.getEncryptedContent());
  if (ciphertext.length === 0 || ciphertext.length % AES_BLOCK_BYTES !== 0)
    throw vaultCorrupt('bad content length');

  let contentKey: Buffer;
  try {
    contentKey = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      viewOf(transport.encryptedKey),
    );
  } catch {
    throw vaultCorrupt('content key does not decrypt with this private key');
  }
  try {
    if (contentKey.length !== AES_256_KEY_BYTES) throw vaultCorrupt('content key is not AES-256');
    const decipher = createDecipheriv('aes-256-cbc', contentKey, viewOf(ivBlock));
    const head = decipher.update(ciphertext);
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      head.fill(0);
      throw vaultCorrupt('bad padding');
    }
    const plaintext = new Uint8Array(head.length + tail.length);
    plaintext.set(head);
    plaintext.set(tail, head.length);
    head.fill(0);
    tail.fill(0);
    return plaintext;
  } finally {
    contentKey.fill(0);
  }
};
