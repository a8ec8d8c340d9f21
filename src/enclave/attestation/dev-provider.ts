import { createHash, randomBytes } from 'node:crypto';
import { WaiaasError } from '../../core/errors.ts';
import { loadOrCreateDevCa } from './dev-ca.ts';
import { signAttestationDocument } from './document.ts';
import {
  ATTESTATION_FIELD_MAX_BYTES,
  type AttestationProvider,
  type AttestationRequest,
} from './provider.ts';

export type DevAttestationProviderOptions = {
  /** Where the development CA lives (created on first run). */
  readonly dir: string;
  /** Clock, for tests. */
  readonly now?: () => number;
} & (
  | {
      /** The enclave's code bundle; PCR0 is its SHA-384. */
      readonly codeBundle: Uint8Array;
    }
  | {
      /**
       * The SHA-384 of the code bundle, measured when the running code was built from it (the bundled
       * enclave process carries it, so it reports what it runs, not what is on disk now).
       */
      readonly codeSha384: Uint8Array;
    }
);

export interface DevAttestationProvider extends AttestationProvider {
  readonly kind: 'dev';
  readonly moduleId: string;
  /** The root a host must pin to accept these documents (never the AWS root). */
  readonly rootCertificatePem: string;
  readonly pcrs: readonly Uint8Array[];
}

export const DEV_MODULE_ID_PREFIX = 'waiaas-dev-';
const PCR_COUNT = 16;

const sha384 = (bytes: Uint8Array | string): Uint8Array =>
  new Uint8Array(createHash('sha384').update(bytes).digest());

/**
 * PCRs of a development document. PCR0 measures the code bundle as on Nitro (where it measures the
 * enclave image). Nitro's PCR1 (kernel and boot ramfs) and PCR2 (application) have no counterpart
 * here, so they hold the SHA-384 of fixed labels: non-zero, so a dev document never reads as a
 * Nitro debug-mode one (PCR0-2 all zero), and never equal to a real measurement. The rest are zero.
 */
export const devPcrs = (codeBundle: Uint8Array): Uint8Array[] => devPcrsOfMeasurement(sha384(codeBundle));

/** The same PCRs from PCR0 itself (48 bytes). */
export const devPcrsOfMeasurement = (pcr0: Uint8Array): Uint8Array[] => {
  if (pcr0.length !== 48) throw new RangeError('PCR0 is a 48-byte SHA-384');
  const pcrs: Uint8Array[] = Array.from({ length: PCR_COUNT }, () => new Uint8Array(48));
  pcrs[0] = new Uint8Array(pcr0);
  pcrs[1] = sha384('waiaas-dev-attestation/pcr1');
  pcrs[2] = sha384('waiaas-dev-attestation/pcr2');
  return pcrs;
};

const optionalField = (value: Uint8Array | undefined, field: string): Uint8Array | null => {
  if (value === undefined) return null;
  if (!(value instanceof Uint8Array) || value.length > ATTESTATION_FIELD_MAX_BYTES) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `Attestation ${field} must be at most ${ATTESTATION_FIELD_MAX_BYTES} bytes`,
      details: { field },
    });
  }
  return new Uint8Array(value);
};

/**
 * A provider for development machines: documents in the Nitro format, signed by a development CA
 * whose root the host must pin explicitly. `module_id` starts with `waiaas-dev-`.
 */
export const createDevAttestationProvider = async (
  options: DevAttestationProviderOptions,
): Promise<DevAttestationProvider> => {
  const now = options.now ?? Date.now;
  const authority = await loadOrCreateDevCa(options.dir, now());
  const moduleId = `${DEV_MODULE_ID_PREFIX}${randomBytes(8).toString('hex')}`;
  const pcrs =
    'codeSha384' in options ? devPcrsOfMeasurement(options.codeSha384) : devPcrs(options.codeBundle);
  return {
    kind: 'dev',
    moduleId,
    rootCertificatePem: authority.rootCertificatePem,
    pcrs,
    attest: async (request: AttestationRequest = {}) =>
      signAttestationDocument(
        {
          moduleId,
          timestamp: now(),
          pcrs,
          certificate: authority.leafCertificate,
          cabundle: [authority.rootCertificate],
          publicKey: optionalField(request.publicKey, 'public_key'),
          userData: optionalField(request.userData, 'user_data'),
          nonce: optionalField(request.nonce, 'nonce'),
        },
        authority.leafKey,
      ),
  };
};
