/**
 * TEST STAND-IN helpers for the KMS `Recipient` path (Nitro): they build what real KMS returns, so
 * our decrypting side can be tested without AWS and without Nitro hardware.
 *
 * - `buildRecipientCms` produces CMS EnvelopedData laid out like KMS's CiphertextForRecipient:
 *   BER with indefinite lengths on the outer structures, EnvelopedData v2, one KeyTransRecipientInfo
 *   v2 with a subjectKeyIdentifier, RSAES-OAEP (SHA-256, MGF1-SHA-256) with explicit parameters,
 *   AES-256-CBC content whose encrypted bytes sit in a constructed [0] split into OCTET STRING pieces.
 * - `buildUnsignedAttestationDocument` produces a COSE_Sign1-shaped CBOR document carrying a
 *   `public_key`. It is NOT signed and NOT a real attestation: verifying attestation documents is
 *   tested elsewhere against real Nitro documents.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createPublicKey,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import * as asn1js from 'asn1js';
import { decode, Encoder } from 'cbor-x';

const OID = {
  sha1: '1.3.14.3.2.26',
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
};

export interface RecipientCmsOptions {
  /** Size of each encrypted-content OCTET STRING piece. */
  chunkSize?: number;
  /** Indefinite lengths on ContentInfo, EnvelopedData and EncryptedContentInfo, as KMS sends them. */
  indefinite?: boolean;
  contentKey?: Uint8Array;
  iv?: Uint8Array;
  /** The hash named in the OAEP parameters (encryption always uses SHA-256), to test parameter checks. */
  declaredOaepHash?: 'sha256' | 'sha1';
}

const indefinite = (on: boolean) => ({ lenBlock: { isIndefiniteForm: on } });
const hashAlgorithm = (hash: 'sha256' | 'sha1' = 'sha256') =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID[hash] }), new asn1js.Null()] });

export const buildRecipientCms = (
  plaintext: Uint8Array,
  recipientSpki: Uint8Array,
  options: RecipientCmsOptions = {},
): Uint8Array => {
  const open = options.indefinite ?? true;
  const chunkSize = options.chunkSize ?? 1024;
  const contentKey = options.contentKey ?? randomBytes(32);
  const iv = options.iv ?? randomBytes(16);
  const publicKey = createPublicKey({ key: Buffer.from(recipientSpki), format: 'der', type: 'spki' });
  const encryptedKey = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    contentKey,
  );
  const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
  const encrypted = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const pieces: asn1js.OctetString[] = [];
  for (let offset = 0; offset < encrypted.length; offset += chunkSize) {
    pieces.push(new asn1js.OctetString({ valueHex: encrypted.subarray(offset, offset + chunkSize) }));
  }

  const oaepParams = new asn1js.Sequence({
    value: [
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [hashAlgorithm(options.declaredOaepHash)],
      }),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 1 },
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: OID.mgf1 }),
              hashAlgorithm(options.declaredOaepHash),
            ],
          }),
        ],
      }),
    ],
  });
  const keyTransport = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 2 }),
      new asn1js.Primitive({
        idBlock: { tagClass: 3, tagNumber: 0 },
        valueHex: createHash('sha256').update(recipientSpki).digest(),
      }),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: OID.rsaesOaep }), oaepParams] }),
      new asn1js.OctetString({ valueHex: encryptedKey }),
    ],
  });
  const encryptedContentInfo = new asn1js.Sequence({
    ...indefinite(open),
    value: [
      new asn1js.ObjectIdentifier({ value: OID.data }),
      new asn1js.Sequence({
        value: [
          new asn1js.ObjectIdentifier({ value: OID.aes256Cbc }),
          new asn1js.OctetString({ valueHex: iv }),
        ],
      }),
      new asn1js.Constructed({ idBlock: { tagClass: 3, tagNumber: 0 }, ...indefinite(true), value: pieces }),
    ],
  });
  const envelopedData = new asn1js.Sequence({
    ...indefinite(open),
    value: [
      new asn1js.Integer({ value: 2 }),
      new asn1js.Set({ value: [keyTransport] }),
      encryptedContentInfo,
    ],
  });
  const contentInfo = new asn1js.Sequence({
    ...indefinite(open),
    value: [
      new asn1js.ObjectIdentifier({ value: OID.envelopedData }),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        ...indefinite(open),
        value: [envelopedData],
      }),
    ],
  });
  return new Uint8Array(contentInfo.toBER(false));
};

const cbor = new Encoder({ useRecords: false, mapsAsObjects: false, tagUint8Array: false });

/** An unsigned, COSE_Sign1-shaped attestation document carrying `publicKey` (DER SPKI). Not a real attestation. */
export const buildUnsignedAttestationDocument = (publicKey: Uint8Array, nonce?: Uint8Array): Uint8Array => {
  const pcrs = new Map<number, Uint8Array>();
  for (let index = 0; index < 16; index++) pcrs.set(index, new Uint8Array(48));
  const payload = new Map<string, unknown>([
    ['module_id', 'test-stand-in-enclave'],
    ['digest', 'SHA384'],
    ['timestamp', Date.now()],
    ['pcrs', pcrs],
    ['certificate', new Uint8Array()],
    ['cabundle', []],
    ['public_key', publicKey],
    ['user_data', null],
    ['nonce', nonce ?? null],
  ]);
  const protectedHeader = cbor.encode(new Map([[1, -35]]));
  return new Uint8Array(cbor.encode([protectedHeader, new Map(), cbor.encode(payload), new Uint8Array(96)]));
};

/** Reads `public_key` out of a COSE_Sign1 attestation document WITHOUT verifying anything about it. */
export const unverifiedAttestationPublicKey = (document: Uint8Array): Uint8Array | undefined => {
  try {
    const outer = decode(document) as unknown;
    if (!Array.isArray(outer) || outer.length !== 4 || !(outer[2] instanceof Uint8Array)) return undefined;
    const payload = decode(outer[2]) as unknown;
    const key =
      payload instanceof Map
        ? payload.get('public_key')
        : (payload as Record<string, unknown> | null)?.public_key;
    return key instanceof Uint8Array ? key : undefined;
  } catch {
    return undefined;
  }
};
