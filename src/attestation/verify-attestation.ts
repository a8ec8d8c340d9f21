import { verify as verifySignature, type X509Certificate } from 'node:crypto';
import { WaiaasError } from '../core/errors.ts';
import { type AttestationPayload, parseAttestationPayload } from './attestation-document.ts';
import { coseSign1SigStructure } from './cbor.ts';
import {
  type CertificateSummary,
  parseCertificate,
  summarizeCertificate,
  verifyCertificateChain,
} from './certificate-chain.ts';
import { parseCoseSign1 } from './cose-sign1.ts';
import { attestationInvalid } from './failure.ts';
import { awsNitroRoot, sha256Hex } from './nitro-root.ts';

/** Larger than any real document (about 4.5 KiB) yet small enough to bound parsing work. */
export const MAX_ATTESTATION_DOCUMENT_BYTES = 16 * 1024;

/** PCR index → the measurements (hex) accepted for it. An index listed with no value accepts nothing. */
export type PcrAllowlist = Readonly<Record<number, readonly string[]>>;

export interface VerifyAttestationOptions {
  /** The pinned root, PEM or DER. Default: the AWS Nitro Enclaves root G1. */
  readonly root?: string | Uint8Array;
  /** Optional SHA-256 (hex) the given root's DER must have. */
  readonly rootSha256?: string;
  /** When to check validity: a time, or 'document' for the document's own timestamp. Default: now. */
  readonly at?: Date | number | 'document';
  /** Accept debug-mode enclaves (PCR0, 1 and 2 all zero). Never in production. */
  readonly allowDebug?: boolean;
  readonly pcrs?: PcrAllowlist;
  /** When given, the document must carry exactly this nonce. */
  readonly expectedNonce?: Uint8Array;
}

export interface VerifiedAttestation {
  readonly moduleId: string;
  /** Milliseconds since the epoch, as the enclave's NSM reported it. */
  readonly timestamp: number;
  readonly digest: 'SHA384';
  /** PCR index → lowercase hex. */
  readonly pcrs: Readonly<Record<number, string>>;
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
  /** PCR0, 1 and 2 all zero: the enclave runs in debug mode and its memory is readable by the host. */
  readonly debug: boolean;
  readonly certificate: CertificateSummary;
  readonly root: CertificateSummary;
  /** Certificates checked, root and leaf included. */
  readonly chainLength: number;
  /** The time (ms) the validity periods were checked at. */
  readonly checkedAt: number;
}

const HEX = /^(?:[0-9a-f]{2})*$/;

const invalidOption = (field: string, explanation: string) =>
  new WaiaasError('VALIDATION_FAILED', {
    message: `Invalid attestation option ${field}: ${explanation}`,
    details: { field },
  });

interface Policy {
  readonly root: X509Certificate;
  readonly at: number | 'document';
  readonly allowDebug: boolean;
  readonly pcrs: ReadonlyMap<number, ReadonlySet<string>>;
  readonly expectedNonce: Uint8Array | undefined;
}

const resolveRoot = (
  root: string | Uint8Array | undefined,
  rootSha256: string | undefined,
): X509Certificate => {
  const certificate = root === undefined ? awsNitroRoot() : parseRootOption(root);
  if (rootSha256 !== undefined && sha256Hex(certificate.raw) !== rootSha256.toLowerCase()) {
    throw attestationInvalid('ROOT_MISMATCH', 'the configured root does not match its pinned fingerprint');
  }
  return certificate;
};

const parseRootOption = (root: string | Uint8Array): X509Certificate => {
  if (typeof root !== 'string' && !(root instanceof Uint8Array))
    throw invalidOption('root', 'not PEM or DER');
  try {
    return parseCertificate(typeof root === 'string' ? Buffer.from(root) : root, 'root');
  } catch {
    throw invalidOption('root', 'not an X.509 certificate');
  }
};

const resolveTime = (at: VerifyAttestationOptions['at']): number | 'document' => {
  if (at === undefined) return Date.now();
  if (at === 'document') return at;
  const time = at instanceof Date ? at.getTime() : at;
  if (typeof time !== 'number' || !Number.isFinite(time)) throw invalidOption('at', 'not a valid time');
  return time;
};

const resolvePcrs = (allowlist: PcrAllowlist | undefined): Map<number, Set<string>> => {
  const resolved = new Map<number, Set<string>>();
  for (const [key, values] of Object.entries(allowlist ?? {})) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || !Array.isArray(values)) {
      throw invalidOption('pcrs', `entry ${key} is not an index with a list of hex values`);
    }
    const normalized = values.map((value: unknown) => (typeof value === 'string' ? value.toLowerCase() : ''));
    if (normalized.some((value) => value === '' || !HEX.test(value))) {
      throw invalidOption('pcrs', `PCR${index} lists a value that is not hex`);
    }
    resolved.set(index, new Set(normalized));
  }
  return resolved;
};

const resolvePolicy = (options: VerifyAttestationOptions): Policy => {
  if (options.expectedNonce !== undefined && !(options.expectedNonce instanceof Uint8Array)) {
    throw invalidOption('expectedNonce', 'not bytes');
  }
  return {
    root: resolveRoot(options.root, options.rootSha256),
    at: resolveTime(options.at),
    allowDebug: options.allowDebug === true,
    pcrs: resolvePcrs(options.pcrs),
    expectedNonce: options.expectedNonce,
  };
};

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const isAllZero = (bytes: Uint8Array | undefined): boolean => bytes?.every((b) => b === 0) === true;
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

const leafCertificate = (payload: AttestationPayload): X509Certificate => {
  const leaf = parseCertificate(payload.certificate, 'leaf');
  const key = leaf.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'secp384r1') {
    throw attestationInvalid('UNSUPPORTED_ALG', 'the leaf certificate does not hold a P-384 key');
  }
  return leaf;
};

const checkSignature = (
  leaf: X509Certificate,
  protectedHeader: Uint8Array,
  payload: Uint8Array,
  signature: Uint8Array,
) => {
  let valid = false;
  try {
    valid = verifySignature(
      'sha384',
      coseSign1SigStructure(protectedHeader, payload),
      { key: leaf.publicKey, dsaEncoding: 'ieee-p1363' },
      signature,
    );
  } catch {
    valid = false;
  }
  if (!valid)
    throw attestationInvalid('BAD_SIGNATURE', 'the COSE signature does not match the leaf certificate');
};

const checkPcrs = (
  pcrs: ReadonlyMap<number, Uint8Array>,
  allowlist: ReadonlyMap<number, ReadonlySet<string>>,
) => {
  for (const [index, allowed] of allowlist) {
    const measured = pcrs.get(index);
    if (measured === undefined || !allowed.has(toHex(measured))) {
      throw attestationInvalid('PCR_NOT_ALLOWED', `PCR${index} is not an allowed measurement`, {
        pcr: index,
        actual: measured === undefined ? null : toHex(measured),
      });
    }
  }
};

const verifyOrThrow = (document: Uint8Array, options: VerifyAttestationOptions): VerifiedAttestation => {
  const policy = resolvePolicy(options);
  if (!(document instanceof Uint8Array)) throw attestationInvalid('BAD_COSE', 'the document is not bytes');
  if (document.length > MAX_ATTESTATION_DOCUMENT_BYTES) {
    throw attestationInvalid(
      'DOCUMENT_TOO_LARGE',
      `documents over ${MAX_ATTESTATION_DOCUMENT_BYTES} bytes are refused`,
      {
        length: document.length,
      },
    );
  }
  const cose = parseCoseSign1(document);
  const payload = parseAttestationPayload(cose.payload);
  const leaf = leafCertificate(payload);
  checkSignature(leaf, cose.protectedHeader, cose.payload, cose.signature);

  const checkedAt = policy.at === 'document' ? payload.timestamp : policy.at;
  verifyCertificateChain({ leaf, cabundle: payload.cabundle, root: policy.root, at: checkedAt });

  const debug = [0, 1, 2].every((index) => isAllZero(payload.pcrs.get(index)));
  if (debug && !policy.allowDebug) {
    throw attestationInvalid('DEBUG_MODE', 'the enclave runs in debug mode (PCR0, 1 and 2 are zero)');
  }
  checkPcrs(payload.pcrs, policy.pcrs);
  if (
    policy.expectedNonce !== undefined &&
    (payload.nonce === null || !sameBytes(payload.nonce, policy.expectedNonce))
  ) {
    throw attestationInvalid('NONCE_MISMATCH', 'the document does not carry the expected nonce', {
      present: payload.nonce !== null,
    });
  }
  return {
    moduleId: payload.moduleId,
    timestamp: payload.timestamp,
    digest: payload.digest,
    pcrs: Object.fromEntries([...payload.pcrs].map(([index, value]) => [index, toHex(value)])),
    publicKey: payload.publicKey,
    userData: payload.userData,
    nonce: payload.nonce,
    debug,
    certificate: summarizeCertificate(leaf),
    root: summarizeCertificate(policy.root),
    chainLength: payload.cabundle.length + 1,
    checkedAt,
  };
};

/**
 * Verifies a Nitro-format attestation document (COSE_Sign1, ES384) and returns what it attests.
 * Throws only `WaiaasError`: `ATTESTATION_INVALID` with `details.reason` for a document that does
 * not verify, `VALIDATION_FAILED` for unusable options.
 */
export const verifyAttestation = (
  document: Uint8Array,
  options: VerifyAttestationOptions = {},
): VerifiedAttestation => {
  try {
    return verifyOrThrow(document, options);
  } catch (error) {
    if (error instanceof WaiaasError) throw error;
    // Nothing but our own checks should throw; if a library surprises us, fail closed all the same.
    throw attestationInvalid('MALFORMED_PAYLOAD', 'the document could not be processed');
  }
};
