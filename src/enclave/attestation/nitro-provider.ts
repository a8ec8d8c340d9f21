import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { Decoder } from 'cbor-x';
import { WaiaasError } from '../../core/errors.ts';
import { encodeCbor } from './cbor-encode.ts';
import { loadNsmDriver } from './nsm-driver.ts';
import {
  ATTESTATION_FIELD_MAX_BYTES,
  type AttestationProvider,
  type AttestationRequest,
} from './provider.ts';

/**
 * The one thing Node cannot do by itself: a raw NSM request. A native addon implementing this opens
 * `/dev/nsm` (O_RDWR) and issues `ioctl(fd, NSM_IOCTL_RAW, &msg)` where
 * `NSM_IOCTL_RAW = _IOWR(0x0A, 0, struct nsm_raw)` and `struct nsm_raw { struct { u64 addr, len }
 * request, response; }`: request up to 0x1000 bytes of CBOR, a response buffer of 0x3000 bytes; it
 * returns the response bytes (`len` as the driver updated it). Everything else, encoding the
 * request and decoding the reply, is done here.
 */
export interface NsmDriver {
  request(cbor: Uint8Array): Uint8Array | Promise<Uint8Array>;
}

export interface NitroAttestationProviderOptions {
  readonly devicePath?: string;
  /** Default: the native addon in native/nsm (nsm-driver.ts). */
  readonly driver?: NsmDriver;
}

export const NSM_DEVICE_PATH = '/dev/nsm';
const NSM_REQUEST_MAX_SIZE = 0x1000;

const unavailable = (why: string, details: Record<string, unknown> = {}) =>
  new WaiaasError('ENCLAVE_UNAVAILABLE', {
    message: `Nitro Security Module not available: ${why}`,
    details: { provider: 'nitro', ...details },
  });

const field = (value: Uint8Array | undefined, name: string): Uint8Array | null => {
  if (value === undefined) return null;
  if (!(value instanceof Uint8Array) || value.length > ATTESTATION_FIELD_MAX_BYTES) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `Attestation ${name} must be at most ${ATTESTATION_FIELD_MAX_BYTES} bytes`,
      details: { field: name },
    });
  }
  return value;
};

/** The NSM API's `Request::Attestation`, CBOR as serde writes it: `{"Attestation": {…}}`. */
export const encodeNsmAttestationRequest = (request: AttestationRequest): Uint8Array =>
  encodeCbor(
    new Map([
      [
        'Attestation',
        new Map([
          ['user_data', field(request.userData, 'user_data')],
          ['nonce', field(request.nonce, 'nonce')],
          ['public_key', field(request.publicKey, 'public_key')],
        ]),
      ],
    ]),
  );

/** Reads `{"Attestation": {"document": bstr}}`, or turns `{"Error": "…"}` into ENCLAVE_UNAVAILABLE. */
export const decodeNsmAttestationResponse = (response: Uint8Array): Uint8Array => {
  let decoded: unknown;
  try {
    decoded = new Decoder({ mapsAsObjects: false, useRecords: false }).decode(response);
  } catch {
    throw unavailable('the NSM answered with something that is not CBOR');
  }
  if (decoded instanceof Map) {
    const attestation: unknown = decoded.get('Attestation');
    const document: unknown = attestation instanceof Map ? attestation.get('document') : undefined;
    if (document instanceof Uint8Array) return new Uint8Array(document);
    const error: unknown = decoded.get('Error');
    if (typeof error === 'string') throw unavailable(`the NSM refused the request (${error.slice(0, 64)})`);
  } else if (typeof decoded === 'string') {
    // Unit variants of the error enum may arrive as a bare text.
    throw unavailable(`the NSM refused the request (${decoded.slice(0, 64)})`);
  }
  throw unavailable('the NSM answer holds no attestation document');
};

/**
 * Attestation by the Nitro Security Module, through the native addon (nsm-driver.ts). Fails with
 * ENCLAVE_UNAVAILABLE outside a Nitro Enclave (no /dev/nsm), and where the addon is not built.
 */
export const createNitroAttestationProvider = async (
  options: NitroAttestationProviderOptions = {},
): Promise<AttestationProvider> => {
  const devicePath = options.devicePath ?? NSM_DEVICE_PATH;
  try {
    await access(devicePath, constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw unavailable(
      code === 'ENOENT'
        ? `${devicePath} missing (not running inside a Nitro Enclave); use the dev provider for development`
        : `${devicePath} not accessible (${code ?? 'error'})`,
      { devicePath },
    );
  }
  let driver = options.driver;
  if (driver === undefined) {
    const loaded = loadNsmDriver(devicePath);
    if (loaded.driver === undefined) {
      throw unavailable(
        `${devicePath} is present but no native NSM addon drives it: ${loaded.reason}; Node cannot issue the NSM ioctl without one`,
        { devicePath },
      );
    }
    driver = loaded.driver;
  }
  return {
    kind: 'nitro',
    attest: async (request: AttestationRequest = {}) => {
      const cbor = encodeNsmAttestationRequest(request);
      if (cbor.length > NSM_REQUEST_MAX_SIZE) throw unavailable('the request exceeds the NSM request size');
      let response: Uint8Array;
      try {
        response = await driver.request(cbor);
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw unavailable(`the NSM request failed${typeof code === 'string' ? ` (${code})` : ''}`, {
          devicePath,
          ...(typeof code === 'string' ? { errno: code } : {}),
        });
      }
      return decodeNsmAttestationResponse(response);
    },
  };
};
