import { decodeCborItem, isBytes, isCborTag } from './cbor.ts';
import { attestationInvalid } from './failure.ts';

/** COSE algorithm id of ECDSA with SHA-384 on P-384 (RFC 9053). */
export const COSE_ALG_ES384 = -35;
const COSE_HEADER_ALG = 1;
const COSE_SIGN1_TAG = 18;
const ES384_SIGNATURE_BYTES = 96;

export interface CoseSign1 {
  /** The protected header exactly as signed (a bstr holding a CBOR map). */
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  /** Raw r||s. */
  readonly signature: Uint8Array;
}

const badCose = (explanation: string) => attestationInvalid('BAD_COSE', explanation);

/** Parses an untagged (or tag 18) COSE_Sign1 and accepts only the ES384 protected header `{1: -35}`. */
export const parseCoseSign1 = (bytes: Uint8Array): CoseSign1 => {
  let item: unknown;
  try {
    item = decodeCborItem(bytes);
  } catch {
    throw badCose('not a CBOR item');
  }
  if (isCborTag(item, COSE_SIGN1_TAG)) item = item.value;
  if (!Array.isArray(item) || item.length !== 4) throw badCose('not a COSE_Sign1 array of four items');
  const [protectedHeader, unprotectedHeader, payload, signature] = item as unknown[];
  if (!isBytes(protectedHeader)) throw badCose('protected header is not a byte string');
  if (!(unprotectedHeader instanceof Map)) throw badCose('unprotected header is not a map');
  if (!isBytes(payload)) throw badCose('payload is not a byte string (detached payloads are not supported)');
  if (!isBytes(signature)) throw badCose('signature is not a byte string');

  let header: unknown;
  try {
    header = decodeCborItem(protectedHeader);
  } catch {
    throw badCose('protected header is not CBOR');
  }
  if (!(header instanceof Map)) throw badCose('protected header is not a map');
  // Only ES384, and no other protected parameter: a 'crit' or anything we do not understand is refused.
  if (header.size !== 1 || header.get(COSE_HEADER_ALG) !== COSE_ALG_ES384) {
    throw attestationInvalid('UNSUPPORTED_ALG', 'the protected header must be exactly {1: -35} (ES384)', {
      alg: typeof header.get(COSE_HEADER_ALG) === 'number' ? header.get(COSE_HEADER_ALG) : null,
    });
  }
  if (signature.length !== ES384_SIGNATURE_BYTES) {
    throw attestationInvalid('BAD_SIGNATURE', 'an ES384 signature is 96 bytes (r||s)', {
      length: signature.length,
    });
  }
  return { protectedHeader, payload, signature };
};
