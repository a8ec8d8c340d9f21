import { generateKeyPairSync } from 'node:crypto';
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
import { loadNsmDriver, NSM_IOCTL_RAW } from '../../src/enclave/attestation/nsm-driver.ts';

/** The addon is an optional dependency: where its build failed, its tests say so once and do not run. */
const nsmAddon = loadNsmDriver('/dev/nsm');
const nsmAddonBuilt = nsmAddon.driver !== undefined;
if (!nsmAddonBuilt) console.warn(`SKIPPED: NSM addon tests: ${nsmAddon.reason}`);

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

  it.skipIf(!nsmAddonBuilt)(
    'reports a device that is not an NSM as ENCLAVE_UNAVAILABLE with the errno the addon met',
    async () => {
      // /dev/null opens, but answers the NSM ioctl with ENOTTY: the addon really issued it.
      const provider = await createNitroAttestationProvider({ devicePath: '/dev/null' });
      await expect(provider.attest({ nonce: Uint8Array.of(1) })).rejects.toMatchObject({
        code: 'ENCLAVE_UNAVAILABLE',
        message: expect.stringContaining('the NSM request failed (ENOTTY)'),
        details: { devicePath: '/dev/null', errno: 'ENOTTY' },
      });
    },
  );

  it('says which addon is missing when the device exists but nothing drives it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'waiaas-nsm-'));
    try {
      const device = path.join(dir, 'nsm');
      writeFileSync(device, '');
      const driver = loadNsmDriver(device);
      if (driver.driver !== undefined) {
        // Built here: the addon opens the file and the ioctl fails, never a crash.
        const provider = await createNitroAttestationProvider({ devicePath: device });
        await expect(provider.attest()).rejects.toMatchObject({ code: 'ENCLAVE_UNAVAILABLE' });
      } else {
        await expect(createNitroAttestationProvider({ devicePath: device })).rejects.toMatchObject({
          code: 'ENCLAVE_UNAVAILABLE',
          message: expect.stringContaining('waiaas-nsm'),
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the NSM addon (native/nsm)', () => {
  it.skipIf(!nsmAddonBuilt)(
    'loads, and reports a missing /dev/nsm as ENOENT without touching anything else',
    () => {
      const loaded = loadNsmDriver('/dev/nsm');
      expect(loaded.driver?.ioctlNumber).toBe(NSM_IOCTL_RAW);
      expect(NSM_IOCTL_RAW).toBe(0xc0200a00);
      expect(() => loaded.driver!.request(encodeNsmAttestationRequest({}))).toThrow(
        expect.objectContaining({ code: 'ENOENT', message: expect.stringContaining('open failed') }),
      );
    },
  );

  it.skipIf(!nsmAddonBuilt)('refuses an empty or oversized request before any system call', () => {
    const { driver } = loadNsmDriver('/dev/null');
    expect(() => driver!.request(new Uint8Array(0))).toThrow(expect.objectContaining({ code: 'EMSGSIZE' }));
    expect(() => driver!.request(new Uint8Array(0x1001))).toThrow(
      expect.objectContaining({ code: 'EMSGSIZE' }),
    );
  });
});

describe('NSM request and response encoding', () => {
  it('puts the RSA public key of a KMS Recipient in the request, within the NSM size', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const spki = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
    const request = encodeNsmAttestationRequest({ publicKey: spki, nonce: new Uint8Array(32) });
    expect(request.length).toBeLessThan(0x1000);
    const body = (
      new Decoder({ mapsAsObjects: false, useRecords: false }).decode(request) as Map<string, unknown>
    ).get('Attestation') as Map<string, unknown>;
    expect(Buffer.from(body.get('public_key') as Uint8Array).equals(Buffer.from(spki))).toBe(true);
    expect(body.get('user_data')).toBeNull();
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
