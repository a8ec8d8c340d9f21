import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type AttestationFailureReason, verifyAttestation } from '../../src/attestation/index.ts';
import { WaiaasError } from '../../src/core/errors.ts';
import type { CborValue } from '../../src/enclave/attestation/cbor-encode.ts';
import { type DevCertificateAuthority, loadOrCreateDevCa } from '../../src/enclave/attestation/dev-ca.ts';
import {
  createDevAttestationProvider,
  type DevAttestationProvider,
} from '../../src/enclave/attestation/index.ts';
import { allVectors, payloadMap, signPayload } from './fixtures.ts';

const REASONS: readonly AttestationFailureReason[] = [
  'DOCUMENT_TOO_LARGE',
  'BAD_COSE',
  'UNSUPPORTED_ALG',
  'MALFORMED_PAYLOAD',
  'UNSUPPORTED_DIGEST',
  'BAD_CERTIFICATE',
  'BAD_SIGNATURE',
  'ROOT_MISMATCH',
  'CHAIN_UNTRUSTED',
  'CERT_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEBUG_MODE',
  'PCR_NOT_ALLOWED',
  'NONCE_MISMATCH',
];

/** mulberry32: a seeded generator, so every run tries the same inputs and a failure reproduces. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const random = seeded(0x5eed);
const int = (below: number) => Math.floor(random() * below);
const randomBytes = (length: number) => Uint8Array.from({ length }, () => int(256));

const mutateOnce = (original: Uint8Array): Uint8Array => {
  const bytes = Buffer.from(original);
  switch (int(6)) {
    case 0: {
      for (let n = 1 + int(8); n > 0; n--) {
        const at = int(bytes.length);
        bytes[at] = bytes[at]! ^ (1 + int(255));
      }
      return bytes;
    }
    case 1: {
      const at = int(bytes.length);
      return Buffer.concat([bytes.subarray(0, at), randomBytes(1 + int(16)), bytes.subarray(at)]);
    }
    case 2: {
      const at = int(bytes.length);
      return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + int(64))]);
    }
    case 3:
      return bytes.subarray(0, int(bytes.length));
    case 4: {
      // Rewrite a length or type byte into another CBOR head.
      const at = int(bytes.length);
      bytes[at] = [0x18, 0x19, 0x1a, 0x1b, 0x59, 0x5a, 0x5b, 0x7f, 0x9f, 0xbf, 0xd8, 0xf6, 0xff][int(13)]!;
      return bytes;
    }
    default: {
      const at = int(bytes.length);
      const chunk = bytes.subarray(int(bytes.length));
      return Buffer.concat([bytes.subarray(0, at), chunk.subarray(0, 200)]);
    }
  }
};

/** A mutation that really changes the bytes (rewriting a byte can write the value it already had). */
const mutate = (original: Uint8Array): Uint8Array => {
  for (;;) {
    const mutated = mutateOnce(original);
    if (Buffer.compare(mutated, original) !== 0) return mutated;
  }
};

const randomCbor = (depth = 0): CborValue => {
  switch (int(depth > 2 ? 4 : 7)) {
    case 0:
      return null;
    case 1:
      return int(2) ? int(2 ** 31) : -int(2 ** 31);
    case 2:
      return 'x'.repeat(int(300));
    case 3:
      return randomBytes([0, 1, 19, 32, 47, 48, 49, 64, 96, 1024, 1025, 2000][int(12)]!);
    case 4:
      return Array.from({ length: int(20) }, () => randomCbor(depth + 1));
    case 5:
      return new Map(
        Array.from({ length: int(20) }, (_, i) => [int(2) ? i : `k${i}`, randomCbor(depth + 1)]),
      );
    default:
      return new Map([[int(40), randomCbor(depth + 1)]]);
  }
};

const hostileInputs: Uint8Array[] = [
  new Uint8Array(0),
  Uint8Array.of(0x84),
  Buffer.alloc(15_000, 0x81), // nesting deep enough to overflow a naive recursive decoder
  Buffer.concat([
    Buffer.of(0x84, 0x41, 0x00, 0xa0),
    Buffer.of(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  ]),
  Buffer.of(0x9b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00), // an array claiming 2^32 items
  Buffer.from('d81b826652656745787068286128292b292b24', 'hex'), // tag 27 "generic object" RegExp
  Buffer.from('d81c81d81d00', 'hex'), // shared-reference tags
  Buffer.from('84440a01382240f6f6', 'hex'),
];

let devDir: string;
let dev: DevAttestationProvider;
let devCa: DevCertificateAuthority;
let devDocument: Uint8Array;

beforeAll(async () => {
  devDir = mkdtempSync(path.join(tmpdir(), 'waiaas-fuzz-'));
  dev = await createDevAttestationProvider({ dir: devDir, codeBundle: Buffer.from('fuzz') });
  devCa = await loadOrCreateDevCa(devDir);
  devDocument = await dev.attest({ nonce: Buffer.from('n'), userData: Buffer.from('u') });
});
afterAll(() => rmSync(devDir, { recursive: true, force: true }));

const outcome = (input: Uint8Array, root?: string): 'verified' | AttestationFailureReason => {
  try {
    verifyAttestation(input, { at: 'document', allowDebug: true, ...(root === undefined ? {} : { root }) });
    return 'verified';
  } catch (error) {
    // The property under test: nothing but a WaiaasError ATTESTATION_INVALID with a known reason escapes.
    if (!(error instanceof WaiaasError) || error.code !== 'ATTESTATION_INVALID') throw error;
    const reason = error.details['reason'] as AttestationFailureReason;
    expect(REASONS).toContain(reason);
    return reason;
  }
};

it('2,000 random and mutated inputs never throw anything but ATTESTATION_INVALID, and no mutation verifies', () => {
  const seen = new Map<string, number>();
  const count = (key: string) => seen.set(key, (seen.get(key) ?? 0) + 1);

  for (const input of hostileInputs) count(outcome(input));
  for (let i = 0; i < 300; i++) count(outcome(randomBytes(int(5000))));
  for (let i = 0; i < 300; i++) count(outcome(Buffer.concat([Buffer.of(0x84), randomBytes(int(2000))])));
  for (let i = 0; i < 800; i++) {
    const vector = allVectors[i % allVectors.length]!;
    const result = outcome(mutate(vector.bytes));
    expect(result).not.toBe('verified');
    count(result);
  }
  for (let i = 0; i < 400; i++) {
    const result = outcome(mutate(devDocument), dev.rootCertificatePem);
    expect(result).not.toBe('verified');
    count(result);
  }
  // Well-signed documents whose fields are replaced by arbitrary CBOR reach every payload check;
  // some replacements are legitimately valid, so only the error type is asserted for them.
  const names = [
    'module_id',
    'digest',
    'timestamp',
    'pcrs',
    'certificate',
    'cabundle',
    'public_key',
    'user_data',
  ];
  const base = {
    moduleId: 'waiaas-dev-fuzz',
    timestamp: Date.now(),
    pcrs: dev.pcrs,
    certificate: devCa.leafCertificate,
    cabundle: [devCa.rootCertificate],
    publicKey: null,
    userData: null,
    nonce: null,
  };
  for (let i = 0; i < 200; i++) {
    const document = signPayload(
      payloadMap(base, { [names[i % names.length]!]: randomCbor() }),
      devCa.leafKey,
    );
    count(outcome(document, dev.rootCertificatePem));
  }
  const total = [...seen.values()].reduce((sum, n) => sum + n, 0);
  expect(total).toBeGreaterThanOrEqual(2000);
  // The inputs reached past the envelope into the payload, signature and chain checks.
  for (const reason of ['BAD_COSE', 'MALFORMED_PAYLOAD', 'BAD_SIGNATURE'])
    expect(seen.get(reason)).toBeGreaterThan(0);
});
