import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { objectIdentifier, octetString, time, unsignedInteger } from '../../src/enclave/attestation/der.ts';
import { issueCertificate } from '../../src/enclave/attestation/x509.ts';

const p384 = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('DER pieces', () => {
  it('encode known values', () => {
    expect(hex(objectIdentifier('1.2.840.10045.4.3.3'))).toBe('06082a8648ce3d040303');
    expect(hex(unsignedInteger(Uint8Array.of(0x80)))).toBe('02020080');
    expect(hex(unsignedInteger(Uint8Array.of(0, 0, 5)))).toBe('020105');
    expect(hex(octetString(new Uint8Array(200))).slice(0, 8)).toBe('0481c800');
    expect(hex(octetString(new Uint8Array(300))).slice(0, 8)).toBe('0482012c');
    expect(
      Buffer.from(time(new Date('2049-12-31T23:59:59Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('491231235959Z');
    expect(
      Buffer.from(time(new Date('2050-01-01T00:00:00Z')))
        .toString('latin1')
        .slice(2),
    ).toBe('20500101000000Z');
  });
});

describe('issueCertificate', () => {
  it('writes a root and a leaf that node:crypto parses and verifies as a chain', () => {
    const rootKeys = p384();
    const leafKeys = p384();
    const notBefore = new Date('2024-01-01T00:00:00Z');
    const rootDer = issueCertificate({
      organization: 'Test',
      subjectCommonName: 'test-root',
      issuerCommonName: 'test-root',
      subjectKey: rootKeys.publicKey,
      issuerKey: rootKeys.privateKey,
      notBefore,
      notAfter: new Date('2060-01-01T00:00:00Z'),
      isCa: true,
    });
    const leafDer = issueCertificate({
      organization: 'Test',
      subjectCommonName: 'test-leaf',
      issuerCommonName: 'test-root',
      subjectKey: leafKeys.privateKey,
      issuerKey: rootKeys.privateKey,
      notBefore,
      notAfter: new Date('2030-06-01T12:00:00Z'),
      isCa: false,
    });
    const root = new X509Certificate(rootDer);
    const leaf = new X509Certificate(leafDer);
    expect(root.subject).toBe('O=Test\nCN=test-root');
    expect(root.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(root.verify(rootKeys.publicKey)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.verify(leafKeys.publicKey)).toBe(false);
    expect(leaf.checkPrivateKey(leafKeys.privateKey)).toBe(true);
    expect(new Date(root.validTo).toISOString()).toBe('2060-01-01T00:00:00.000Z');
    expect(new Date(leaf.validFrom).toISOString()).toBe('2024-01-01T00:00:00.000Z');
    expect(leaf.serialNumber).not.toBe(root.serialNumber);
    expect(Number.parseInt(leaf.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(Buffer.from(leaf.raw)).toEqual(Buffer.from(leafDer));
  });
});
