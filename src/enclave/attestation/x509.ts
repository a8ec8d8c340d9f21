import { createPublicKey, type KeyObject, randomBytes, sign } from 'node:crypto';
import {
  bitString,
  boolean,
  explicit,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha384: '1.2.840.10045.4.3.3',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
} as const;

export interface CertificateRequest {
  readonly subjectCommonName: string;
  readonly issuerCommonName: string;
  readonly organization: string;
  /** The subject's key (P-384); only its public part is used. */
  readonly subjectKey: KeyObject;
  /** The issuer's private key (P-384); the subject's own for a self-signed root. */
  readonly issuerKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly isCa: boolean;
}

const name = (organization: string, commonName: string): Uint8Array =>
  sequence(
    set(sequence(objectIdentifier(OID.organization), utf8String(organization))),
    set(sequence(objectIdentifier(OID.commonName), utf8String(commonName))),
  );

const extension = (oid: string, value: Uint8Array): Uint8Array =>
  sequence(objectIdentifier(oid), boolean(true), octetString(value));

// keyUsage bits: digitalSignature (0) for a leaf; keyCertSign (5) and cRLSign (6) for a CA.
const keyUsage = (isCa: boolean): Uint8Array =>
  isCa ? bitString(Uint8Array.of(0x06), 1) : bitString(Uint8Array.of(0x80), 7);

/**
 * A minimal X.509 v3 certificate, DER, signed ecdsa-with-SHA384: serial, names (O and CN), validity,
 * SPKI, and the critical basicConstraints and keyUsage extensions. Enough for node:crypto and
 * OpenSSL to build and check the chain; no AKI/SKI, like the Nitro leaf.
 */
export const issueCertificate = (request: CertificateRequest): Uint8Array => {
  const signatureAlgorithm = sequence(objectIdentifier(OID.ecdsaWithSha384));
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive and at most 20 octets (RFC 5280 §4.1.2.2)
  const subjectPublicKey =
    request.subjectKey.type === 'private' ? createPublicKey(request.subjectKey) : request.subjectKey;
  const spki = subjectPublicKey.export({ type: 'spki', format: 'der' });
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    signatureAlgorithm,
    name(request.organization, request.issuerCommonName),
    sequence(time(request.notBefore), time(request.notAfter)),
    name(request.organization, request.subjectCommonName),
    spki,
    explicit(
      3,
      sequence(
        extension(OID.basicConstraints, request.isCa ? sequence(boolean(true)) : sequence()),
        extension(OID.keyUsage, keyUsage(request.isCa)),
      ),
    ),
  );
  const signature = sign('sha384', tbs, request.issuerKey); // DER ECDSA-Sig-Value, as X.509 wants
  return sequence(tbs, signatureAlgorithm, bitString(signature));
};
