import { type KeyObject, sign } from 'node:crypto';
import { encodeCbor } from './cbor-encode.ts';

/** The payload of a Nitro-format attestation document (field order as the NSM writes it). */
export interface AttestationDocumentFields {
  readonly moduleId: string;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  /** PCR0, PCR1, … in order; SHA-384 measurements (48 bytes). */
  readonly pcrs: readonly Uint8Array[];
  /** The leaf certificate, DER; its key signs the document. */
  readonly certificate: Uint8Array;
  /** Root first, then intermediates, DER. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

const COSE_ALG_ES384 = -35;

/** Encodes the payload and signs it as an untagged COSE_Sign1 with ES384, as the Nitro NSM does. */
export const signAttestationDocument = (
  fields: AttestationDocumentFields,
  leafKey: KeyObject,
): Uint8Array => {
  const payload = encodeCbor(
    new Map<string, Parameters<typeof encodeCbor>[0]>([
      ['module_id', fields.moduleId],
      ['digest', 'SHA384'],
      ['timestamp', fields.timestamp],
      ['pcrs', new Map(fields.pcrs.map((value, index) => [index, value]))],
      ['certificate', fields.certificate],
      ['cabundle', fields.cabundle],
      ['public_key', fields.publicKey],
      ['user_data', fields.userData],
      ['nonce', fields.nonce],
    ]),
  );
  const protectedHeader = encodeCbor(new Map([[1, COSE_ALG_ES384]]));
  const sigStructure = encodeCbor(['Signature1', protectedHeader, new Uint8Array(0), payload]);
  const signature = sign('sha384', sigStructure, { key: leafKey, dsaEncoding: 'ieee-p1363' });
  return encodeCbor([protectedHeader, new Map(), payload, signature]);
};
