import { decodeCborItem, isBytes } from './cbor.ts';
import { attestationInvalid } from './failure.ts';

/** Limits from the NSM attestation document specification (aws-nitro-enclaves-nsm-api). */
export const ATTESTATION_LIMITS = {
  moduleIdMaxLength: 255,
  certificateMaxBytes: 1024,
  cabundleMaxEntries: 16,
  optionalFieldMaxBytes: 1024,
  minPcrs: 16,
  maxPcrs: 32,
  pcrLengths: [32, 48, 64] as readonly number[],
} as const;

/** The payload of an attestation document, decoded and bounded but not yet trusted. */
export interface AttestationPayload {
  readonly moduleId: string;
  readonly digest: 'SHA384';
  /** Milliseconds since the epoch (UTC). */
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The leaf certificate, DER. */
  readonly certificate: Uint8Array;
  /** Root first, then intermediates, DER. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

const malformed = (field: string, explanation: string) =>
  attestationInvalid('MALFORMED_PAYLOAD', `${field} ${explanation}`, { field });

const boundedBytes = (value: unknown, field: string, maxBytes: number): Uint8Array => {
  if (!isBytes(value)) throw malformed(field, 'is not a byte string');
  if (value.length < 1 || value.length > maxBytes) throw malformed(field, `must be 1 to ${maxBytes} bytes`);
  // A copy, so the result never aliases the caller's buffer.
  return new Uint8Array(value);
};

const optionalBytes = (value: unknown, field: string): Uint8Array | null => {
  if (value === null || value === undefined) return null;
  if (!isBytes(value)) throw malformed(field, 'is neither a byte string nor null');
  if (value.length > ATTESTATION_LIMITS.optionalFieldMaxBytes) {
    throw malformed(field, `exceeds ${ATTESTATION_LIMITS.optionalFieldMaxBytes} bytes`);
  }
  return new Uint8Array(value);
};

const parseTimestamp = (value: unknown): number => {
  const asNumber = typeof value === 'bigint' ? Number(value) : value;
  if (typeof asNumber !== 'number' || !Number.isSafeInteger(asNumber) || asNumber <= 0) {
    throw malformed('timestamp', 'is not a positive integer of milliseconds');
  }
  return asNumber;
};

const parsePcrs = (value: unknown): Map<number, Uint8Array> => {
  if (!(value instanceof Map)) throw malformed('pcrs', 'is not a map');
  const { minPcrs, maxPcrs, pcrLengths } = ATTESTATION_LIMITS;
  if (value.size < minPcrs || value.size > maxPcrs)
    throw malformed('pcrs', `must hold ${minPcrs} to ${maxPcrs} entries`);
  const pcrs = new Map<number, Uint8Array>();
  for (const [index, measurement] of value as Map<unknown, unknown>) {
    // Distinct keys all below the count means exactly PCR0..PCR(n-1), so PCR0-2 are always there.
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= value.size) {
      throw malformed('pcrs', `must be indexed 0..${value.size - 1}`);
    }
    if (!isBytes(measurement) || !pcrLengths.includes(measurement.length)) {
      throw malformed('pcrs', `entry ${index} is not a 32, 48 or 64 byte string`);
    }
    pcrs.set(index, new Uint8Array(measurement));
  }
  return pcrs;
};

const parseCabundle = (value: unknown): Uint8Array[] => {
  if (!Array.isArray(value)) throw malformed('cabundle', 'is not an array');
  if (value.length < 1 || value.length > ATTESTATION_LIMITS.cabundleMaxEntries) {
    throw malformed('cabundle', `must hold 1 to ${ATTESTATION_LIMITS.cabundleMaxEntries} certificates`);
  }
  return value.map((entry, position) =>
    boundedBytes(entry, `cabundle[${position}]`, ATTESTATION_LIMITS.certificateMaxBytes),
  );
};

/** Decodes the signed payload (a CBOR map with text keys) and enforces the field types and bounds. */
export const parseAttestationPayload = (payload: Uint8Array): AttestationPayload => {
  let map: unknown;
  try {
    map = decodeCborItem(payload);
  } catch {
    throw attestationInvalid('MALFORMED_PAYLOAD', 'payload is not CBOR');
  }
  if (!(map instanceof Map)) throw attestationInvalid('MALFORMED_PAYLOAD', 'payload is not a map');
  const field = (name: string): unknown => (map as Map<unknown, unknown>).get(name);

  const moduleId = field('module_id');
  if (
    typeof moduleId !== 'string' ||
    moduleId.length < 1 ||
    moduleId.length > ATTESTATION_LIMITS.moduleIdMaxLength
  ) {
    throw malformed('module_id', `is not a text of 1 to ${ATTESTATION_LIMITS.moduleIdMaxLength} characters`);
  }
  const digest = field('digest');
  if (typeof digest !== 'string') throw malformed('digest', 'is not a text');
  if (digest !== 'SHA384') {
    throw attestationInvalid('UNSUPPORTED_DIGEST', 'only SHA384 PCR digests are accepted', {
      digest: digest.slice(0, 16),
    });
  }
  return {
    moduleId,
    digest,
    timestamp: parseTimestamp(field('timestamp')),
    pcrs: parsePcrs(field('pcrs')),
    certificate: boundedBytes(field('certificate'), 'certificate', ATTESTATION_LIMITS.certificateMaxBytes),
    cabundle: parseCabundle(field('cabundle')),
    publicKey: optionalBytes(field('public_key'), 'public_key'),
    userData: optionalBytes(field('user_data'), 'user_data'),
    nonce: optionalBytes(field('nonce'), 'nonce'),
  };
};
