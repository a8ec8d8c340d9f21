import { type KeyObject, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { WaiaasError } from '../../src/core/errors.ts';
import { type CborValue, encodeCbor } from '../../src/enclave/attestation/cbor-encode.ts';
import type { AttestationDocumentFields } from '../../src/enclave/attestation/document.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Real Nitro documents, copied unmodified into the repository (see their README). */
export const nitroTestdata = path.resolve(repoRoot, 'test/attestation/fixtures/nitro');

export interface NitroVector {
  readonly name: string;
  readonly file: string;
  readonly bytes: Buffer;
  readonly timestamp: number;
  readonly debug: boolean;
}

const vector = (name: string, timestamp: number, debug: boolean): NitroVector => {
  const file = path.join(nitroTestdata, `${name}.cbor`);
  return { name, file, bytes: readFileSync(file), timestamp, debug };
};

/** The real Nitro documents (see their README); never modified, only copied in memory. */
export const vectors = {
  betaValid: vector('evervault-beta-valid', 1665651482136, false),
  betaDebug: vector('evervault-beta-debug', 1665582606081, true),
  gaValid: vector('evervault-ga-valid', 1695049410860, true),
} as const;
export const allVectors: readonly NitroVector[] = Object.values(vectors);

export const awsRootPemFile = path.join(nitroTestdata, 'aws-nitro-enclaves-root-g1.pem');

/** Runs `action` and returns the `details.reason` of the ATTESTATION_INVALID it must throw. */
export const failureReason = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(WaiaasError);
    expect((error as WaiaasError).code).toBe('ATTESTATION_INVALID');
    return String((error as WaiaasError).details['reason']);
  }
  throw new Error('expected the attestation to be refused, but it verified');
};

export const flipped = (bytes: Uint8Array, offset: number, mask = 0x01): Buffer => {
  const copy = Buffer.from(bytes);
  copy[offset] = copy[offset]! ^ mask;
  return copy;
};

/** Offsets of `count` positions spread evenly over [start, end), both ends included. */
export const spread = (start: number, end: number, count: number): number[] => {
  const span = end - start;
  if (span <= count) return Array.from({ length: span }, (_, i) => start + i);
  return Array.from({ length: count }, (_, i) => start + Math.floor((i * (span - 1)) / (count - 1)));
};

/** COSE_Sign1-ES384-signs an arbitrary payload map, for documents the providers would never write. */
export const signPayload = (payload: Map<string, CborValue>, key: KeyObject): Uint8Array => {
  const protectedHeader = encodeCbor(new Map([[1, -35]]));
  const body = encodeCbor(payload);
  const sigStructure = encodeCbor(['Signature1', protectedHeader, new Uint8Array(0), body]);
  const signature = sign('sha384', sigStructure, { key, dsaEncoding: 'ieee-p1363' });
  return encodeCbor([protectedHeader, new Map(), body, signature]);
};

/** The payload map of a document, in the order the NSM writes it, with some fields overridden. */
export const payloadMap = (
  fields: AttestationDocumentFields,
  overrides: Record<string, CborValue> = {},
): Map<string, CborValue> => {
  const map = new Map<string, CborValue>([
    ['module_id', fields.moduleId],
    ['digest', 'SHA384'],
    ['timestamp', fields.timestamp],
    ['pcrs', new Map(fields.pcrs.map((value, index) => [index, value]))],
    ['certificate', fields.certificate],
    ['cabundle', fields.cabundle],
    ['public_key', fields.publicKey],
    ['user_data', fields.userData],
    ['nonce', fields.nonce],
  ]);
  for (const [key, value] of Object.entries(overrides)) map.set(key, value);
  return map;
};
