import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Decoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import {
  AWS_NITRO_ROOT_G1_PEM,
  AWS_NITRO_ROOT_G1_SHA256,
  MAX_ATTESTATION_DOCUMENT_BYTES,
  verifyAttestation,
} from '../../src/attestation/index.ts';
import { WaiaasError } from '../../src/core/errors.ts';
import { encodeCbor } from '../../src/enclave/attestation/cbor-encode.ts';
import { allVectors, awsRootPemFile, failureReason, flipped, spread, vectors } from './fixtures.ts';

const atOwnTime = { at: 'document', allowDebug: true } as const;

/** Byte ranges of the signed parts inside one serialized document. */
const regionsOf = (bytes: Buffer) => {
  const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
  const [, , payload] = decoder.decode(bytes) as [Buffer, unknown, Buffer, Buffer];
  const fields = decoder.decode(payload) as Map<string, unknown>;
  const locate = (part: Uint8Array) => {
    const start = bytes.indexOf(part);
    expect(start).toBeGreaterThan(0);
    return { start, end: start + part.length };
  };
  return {
    payload: locate(payload),
    leaf: locate(fields.get('certificate') as Buffer),
    cabundle: (fields.get('cabundle') as Buffer[]).map(locate),
    signature: { start: bytes.length - 96, end: bytes.length },
  };
};

describe('the real Nitro vectors', () => {
  it.each(allVectors)('$name verifies at its own timestamp with the AWS root', (vector) => {
    const result = verifyAttestation(vector.bytes, atOwnTime);
    expect(result.timestamp).toBe(vector.timestamp);
    expect(result.checkedAt).toBe(vector.timestamp);
    expect(result.debug).toBe(vector.debug);
    expect(result.digest).toBe('SHA384');
    expect(Object.keys(result.pcrs)).toHaveLength(16);
    expect(result.moduleId).toMatch(/^i-[0-9a-f]+-enc[0-9a-f]+$/);
    expect(result.chainLength).toBe(5);
    expect(result.root.sha256).toBe(AWS_NITRO_ROOT_G1_SHA256);
    expect(result.certificate.subject).toContain(result.moduleId);
  });

  it('returns the fields each document carries', () => {
    const valid = verifyAttestation(vectors.betaValid.bytes, atOwnTime);
    expect(valid.publicKey).toBeNull();
    expect(valid.userData).toBeNull();
    expect(valid.nonce).toHaveLength(256);
    expect(valid.pcrs[0]).toMatch(/^f4d48b81a460c991/);

    const debug = verifyAttestation(vectors.betaDebug.bytes, atOwnTime);
    expect(debug.publicKey).toHaveLength(19);
    expect(Buffer.from(debug.userData!).toString()).toBe('hello, world!');
    expect(debug.nonce).toBeNull();

    const ga = verifyAttestation(vectors.gaValid.bytes, atOwnTime);
    expect(ga.userData).toHaveLength(91);
    expect(ga.nonce).toHaveLength(256);
  });

  it('accepts a production document without allowing debug, and refuses the debug ones', () => {
    expect(verifyAttestation(vectors.betaValid.bytes, { at: 'document' }).debug).toBe(false);
    expect(failureReason(() => verifyAttestation(vectors.betaDebug.bytes, { at: 'document' }))).toBe(
      'DEBUG_MODE',
    );
    expect(failureReason(() => verifyAttestation(vectors.gaValid.bytes, { at: 'document' }))).toBe(
      'DEBUG_MODE',
    );
  });

  it.each(allVectors)('$name fails on expiry when checked now', (vector) => {
    expect(failureReason(() => verifyAttestation(vector.bytes, { allowDebug: true }))).toBe('CERT_EXPIRED');
    expect(failureReason(() => verifyAttestation(vector.bytes, { allowDebug: true, at: new Date() }))).toBe(
      'CERT_EXPIRED',
    );
  });

  it('checks validity at a given time: inside the leaf lifetime passes, before or after fails', () => {
    const { bytes, timestamp } = vectors.betaValid;
    expect(verifyAttestation(bytes, { at: timestamp + 60_000 }).checkedAt).toBe(timestamp + 60_000);
    expect(failureReason(() => verifyAttestation(bytes, { at: timestamp + 4 * 3_600_000 }))).toBe(
      'CERT_EXPIRED',
    );
    expect(failureReason(() => verifyAttestation(bytes, { at: timestamp - 3_600_000 }))).toBe(
      'CERT_NOT_YET_VALID',
    );
  });

  it('also accepts the COSE_Sign1 wrapped in tag 18', () => {
    const tagged = Buffer.concat([Buffer.of(0xd2), vectors.betaValid.bytes]);
    expect(verifyAttestation(tagged, { at: 'document' }).moduleId).toBe(
      verifyAttestation(vectors.betaValid.bytes, { at: 'document' }).moduleId,
    );
  });
});

describe('tampering with a real vector', () => {
  it.each(allVectors)('$name: flipping bytes of the signature, payload, leaf or cabundle fails', (vector) => {
    const regions = regionsOf(vector.bytes);
    const positions = [
      ...spread(regions.signature.start, regions.signature.end, 96),
      ...spread(regions.payload.start, regions.payload.end, 48),
      ...spread(regions.leaf.start, regions.leaf.end, 32),
      ...regions.cabundle.flatMap((cert) => spread(cert.start, cert.end, 16)),
    ];
    for (const offset of positions) {
      const reason = failureReason(() => verifyAttestation(flipped(vector.bytes, offset), atOwnTime));
      expect(['BAD_SIGNATURE', 'MALFORMED_PAYLOAD', 'BAD_CERTIFICATE', 'UNSUPPORTED_ALG']).toContain(reason);
    }
    // The untouched copy still verifies, so the failures above come from the flips alone.
    expect(verifyAttestation(vector.bytes, atOwnTime).timestamp).toBe(vector.timestamp);
  });

  it('refuses a truncated document, trailing bytes and an oversized input', () => {
    const { bytes } = vectors.betaValid;
    expect(failureReason(() => verifyAttestation(bytes.subarray(0, bytes.length - 1), atOwnTime))).toBe(
      'BAD_COSE',
    );
    expect(failureReason(() => verifyAttestation(Buffer.concat([bytes, Buffer.of(0)]), atOwnTime))).toBe(
      'BAD_COSE',
    );
    const huge = Buffer.alloc(MAX_ATTESTATION_DOCUMENT_BYTES + 1, 0x84);
    expect(failureReason(() => verifyAttestation(huge, atOwnTime))).toBe('DOCUMENT_TOO_LARGE');
  });

  it('refuses a protected header other than ES384, before looking at the signature', () => {
    const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
    const [, , payload, signature] = decoder.decode(vectors.betaValid.bytes) as Uint8Array[];
    const es256 = encodeCbor([encodeCbor(new Map([[1, -7]])), new Map(), payload!, signature!]);
    expect(failureReason(() => verifyAttestation(es256, atOwnTime))).toBe('UNSUPPORTED_ALG');
    const withCrit = encodeCbor([
      encodeCbor(
        new Map<number, number | number[]>([
          [1, -35],
          [2, [99]],
        ]),
      ),
      new Map(),
      payload!,
      signature!,
    ]);
    expect(failureReason(() => verifyAttestation(withCrit, atOwnTime))).toBe('UNSUPPORTED_ALG');
    const shortSignature = encodeCbor([
      encodeCbor(new Map([[1, -35]])),
      new Map(),
      payload!,
      signature!.subarray(1),
    ]);
    expect(failureReason(() => verifyAttestation(shortSignature, atOwnTime))).toBe('BAD_SIGNATURE');
  });
});

describe('policy checks on a real vector', () => {
  const { bytes } = vectors.betaValid;
  const pcr0 = verifyAttestation(bytes, { at: 'document' }).pcrs[0]!;
  const nonce = verifyAttestation(bytes, { at: 'document' }).nonce!;

  it('matches the expected nonce and refuses any other', () => {
    expect(verifyAttestation(bytes, { at: 'document', expectedNonce: nonce }).nonce).toEqual(nonce);
    expect(
      failureReason(() => verifyAttestation(bytes, { at: 'document', expectedNonce: flipped(nonce, 0) })),
    ).toBe('NONCE_MISMATCH');
    expect(
      failureReason(() => verifyAttestation(bytes, { at: 'document', expectedNonce: nonce.subarray(1) })),
    ).toBe('NONCE_MISMATCH');
    // A document without a nonce never satisfies an expected one.
    expect(
      failureReason(() =>
        verifyAttestation(vectors.betaDebug.bytes, { ...atOwnTime, expectedNonce: Buffer.alloc(0) }),
      ),
    ).toBe('NONCE_MISMATCH');
  });

  it('accepts PCRs on the allowlist and refuses others', () => {
    expect(verifyAttestation(bytes, { at: 'document', pcrs: { 0: [pcr0] } }).pcrs[0]).toBe(pcr0);
    expect(
      verifyAttestation(bytes, { at: 'document', pcrs: { 0: ['00'.repeat(48), pcr0.toUpperCase()] } })
        .pcrs[0],
    ).toBe(pcr0);
    expect(
      failureReason(() => verifyAttestation(bytes, { at: 'document', pcrs: { 0: ['ab'.repeat(48)] } })),
    ).toBe('PCR_NOT_ALLOWED');
    expect(
      failureReason(() => verifyAttestation(bytes, { at: 'document', pcrs: { 0: [pcr0], 8: [] } })),
    ).toBe('PCR_NOT_ALLOWED');
    expect(failureReason(() => verifyAttestation(bytes, { at: 'document', pcrs: { 20: [pcr0] } }))).toBe(
      'PCR_NOT_ALLOWED',
    );
  });

  it('pins the root: another root, or the right root with a wrong fingerprint, is refused', () => {
    const rootPem = readFileSync(awsRootPemFile, 'utf8');
    expect(
      verifyAttestation(bytes, { at: 'document', root: rootPem, rootSha256: AWS_NITRO_ROOT_G1_SHA256 }).debug,
    ).toBe(false);
    expect(
      failureReason(() =>
        verifyAttestation(bytes, { at: 'document', root: rootPem, rootSha256: '00'.repeat(32) }),
      ),
    ).toBe('ROOT_MISMATCH');
    // The intermediate is a valid CA of this chain, but it is not the pinned root.
    const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });
    const payload = decoder.decode(decoder.decode(bytes)[2]) as Map<string, Buffer[]>;
    const intermediate = payload.get('cabundle')![1]!;
    expect(failureReason(() => verifyAttestation(bytes, { at: 'document', root: intermediate }))).toBe(
      'ROOT_MISMATCH',
    );
  });

  it('reports unusable options as VALIDATION_FAILED', () => {
    const optionError = (options: Parameters<typeof verifyAttestation>[1]) => {
      try {
        verifyAttestation(bytes, options);
      } catch (error) {
        expect(error).toBeInstanceOf(WaiaasError);
        return (error as WaiaasError).code;
      }
      return 'verified';
    };
    expect(optionError({ root: 'not a certificate' })).toBe('VALIDATION_FAILED');
    expect(optionError({ at: Number.NaN })).toBe('VALIDATION_FAILED');
    expect(optionError({ pcrs: { 0: ['xyz'] } })).toBe('VALIDATION_FAILED');
  });
});

describe('the embedded AWS root', () => {
  it('is the published certificate with the published fingerprint', () => {
    const published = readFileSync(awsRootPemFile, 'utf8');
    expect(AWS_NITRO_ROOT_G1_PEM.trim()).toBe(published.trim());
    const der = Buffer.from(published.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    expect(createHash('sha256').update(der).digest('hex')).toBe(AWS_NITRO_ROOT_G1_SHA256);
  });
});
