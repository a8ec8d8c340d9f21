import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Decoder } from 'cbor-x';
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../src/enclave/attestation/cbor-encode.ts';
import {
  createNitroAttestationProvider,
  decodeNsmAttestationResponse,
  encodeNsmAttestationRequest,
} from '../../src/enclave/attestation/nitro-provider.ts';

describe('nitro attestation provider', () => {
  it('fails clearly with ENCLAVE_UNAVAILABLE where /dev/nsm is missing', async () => {
    await expect(createNitroAttestationProvider({ devicePath: '/nonexistent/nsm' })).rejects.toMatchObject({
      code: 'ENCLAVE_UNAVAILABLE',
      status: 503,
      message: expect.stringMatching(/^Nitro Security Module not available: \/nonexistent\/nsm missing/),
    });
    // This machine is no Nitro Enclave: the default device is absent too.
    await expect(createNitroAttestationProvider()).rejects.toMatchObject({
      code: 'ENCLAVE_UNAVAILABLE',
      message: expect.stringContaining('/dev/nsm missing'),
    });
  });

  it('fails clearly when the device exists but no native addon drives it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'waiaas-nsm-'));
    try {
      const device = path.join(dir, 'nsm');
      writeFileSync(device, '');
      await expect(createNitroAttestationProvider({ devicePath: device })).rejects.toMatchObject({
        code: 'ENCLAVE_UNAVAILABLE',
        message: expect.stringContaining('no native NSM addon'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('encodes the NSM Attestation request and decodes its answers', () => {
    const request = encodeNsmAttestationRequest({ nonce: Uint8Array.of(1, 2), userData: Uint8Array.of(3) });
    const decoded = new Decoder({ mapsAsObjects: false, useRecords: false }).decode(request) as Map<
      string,
      unknown
    >;
    const body = decoded.get('Attestation') as Map<string, unknown>;
    expect([...body.keys()]).toEqual(['user_data', 'nonce', 'public_key']);
    expect(Buffer.from(body.get('nonce') as Uint8Array)).toEqual(Buffer.of(1, 2));
    expect(body.get('public_key')).toBeNull();

    const document = Uint8Array.of(0x84, 1, 2, 3);
    const answer = encodeCbor(new Map([['Attestation', new Map([['document', document]])]]));
    expect(decodeNsmAttestationResponse(answer)).toEqual(document);
    expect(() => decodeNsmAttestationResponse(encodeCbor(new Map([['Error', 'InvalidArgument']])))).toThrow(
      expect.objectContaining({
        code: 'ENCLAVE_UNAVAILABLE',
        message: expect.stringContaining('InvalidArgument'),
      }),
    );
    expect(() => decodeNsmAttestationResponse(Uint8Array.of(0xff))).toThrow(
      expect.objectContaining({ code: 'ENCLAVE_UNAVAILABLE' }),
    );
  });
});
