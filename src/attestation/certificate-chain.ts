import { X509Certificate } from 'node:crypto';
import { attestationInvalid } from './failure.ts';
import { sha256Hex } from './nitro-root.ts';

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serialNumber: string;
  /** ISO 8601. */
  readonly validFrom: string;
  readonly validTo: string;
  /** SHA-256 of the DER encoding, lowercase hex. */
  readonly sha256: string;
}

interface Validity {
  readonly notBefore: number;
  readonly notAfter: number;
}

const oneLine = (name: string): string => name.split('\n').join(', ');

const validityOf = (certificate: X509Certificate, position: string): Validity => {
  const notBefore = Date.parse(certificate.validFrom);
  const notAfter = Date.parse(certificate.validTo);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) {
    throw attestationInvalid('BAD_CERTIFICATE', `certificate ${position} has an unreadable validity period`, {
      position,
    });
  }
  return { notBefore, notAfter };
};

export const summarizeCertificate = (certificate: X509Certificate): CertificateSummary => {
  const { notBefore, notAfter } = validityOf(certificate, 'summary');
  return {
    subject: oneLine(certificate.subject),
    issuer: oneLine(certificate.issuer),
    serialNumber: certificate.serialNumber.toLowerCase(),
    validFrom: new Date(notBefore).toISOString(),
    validTo: new Date(notAfter).toISOString(),
    sha256: sha256Hex(certificate.raw),
  };
};

export const parseCertificate = (der: Uint8Array, position: string): X509Certificate => {
  try {
    return new X509Certificate(der);
  } catch {
    throw attestationInvalid('BAD_CERTIFICATE', `certificate ${position} is not X.509 DER`, { position });
  }
};

const signedBy = (subject: X509Certificate, issuer: X509Certificate): boolean => {
  try {
    return subject.checkIssued(issuer) && subject.verify(issuer.publicKey);
  } catch {
    return false;
  }
};

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/**
 * Checks leaf ← cabundle (root first) ← pinned root: signatures, issuer names, CA basic constraints
 * on every issuer and validity at `at`. Deliberately not the strict RFC 5280 profile: real Nitro
 * chains carry no AKI/SKI on the leaf and instance certificates.
 */
export const verifyCertificateChain = (params: {
  readonly leaf: X509Certificate;
  readonly cabundle: readonly Uint8Array[];
  readonly root: X509Certificate;
  /** Milliseconds since the epoch. */
  readonly at: number;
}): void => {
  const { leaf, cabundle, root, at } = params;
  const bundle = cabundle.map((der, index) => parseCertificate(der, `cabundle[${index}]`));
  const first = bundle[0];
  if (first === undefined || !sameBytes(first.raw, root.raw)) {
    throw attestationInvalid('ROOT_MISMATCH', "the cabundle's first certificate is not the pinned root", {
      expectedRootSha256: sha256Hex(root.raw),
      actualRootSha256: first === undefined ? null : sha256Hex(first.raw),
    });
  }
  const path = [...bundle, leaf];
  const positionOf = (index: number) => (index === path.length - 1 ? 'leaf' : `cabundle[${index}]`);

  for (let index = 1; index < path.length; index++) {
    const issuer = path[index - 1]!;
    if (issuer.ca !== true) {
      throw attestationInvalid('CHAIN_UNTRUSTED', `certificate ${positionOf(index - 1)} is not a CA`, {
        position: positionOf(index - 1),
      });
    }
    if (!signedBy(path[index]!, issuer)) {
      throw attestationInvalid(
        'CHAIN_UNTRUSTED',
        `certificate ${positionOf(index)} is not signed by ${positionOf(index - 1)}`,
        { position: positionOf(index) },
      );
    }
  }
  path.forEach((certificate, index) => {
    const { notBefore, notAfter } = validityOf(certificate, positionOf(index));
    // notAfter has one-second resolution and is inclusive (RFC 5280 §4.1.2.5).
    if (at >= notAfter + 1000) {
      throw attestationInvalid('CERT_EXPIRED', `certificate ${positionOf(index)} expired`, {
        position: positionOf(index),
        validTo: new Date(notAfter).toISOString(),
        at: new Date(at).toISOString(),
      });
    }
    if (at < notBefore) {
      throw attestationInvalid('CERT_NOT_YET_VALID', `certificate ${positionOf(index)} is not valid yet`, {
        position: positionOf(index),
        validFrom: new Date(notBefore).toISOString(),
        at: new Date(at).toISOString(),
      });
    }
  });
};
