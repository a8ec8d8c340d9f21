import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/attestation/index.ts';
import { WaiaasError } from '../../src/core/errors.ts';
import type { CborValue } from '../../src/enclave/attestation/cbor-encode.ts';
import { type DevCertificateAuthority, loadOrCreateDevCa } from '../../src/enclave/attestation/dev-ca.ts';
import {
  type AttestationDocumentFields,
  signAttestationDocument,
} from '../../src/enclave/attestation/document.ts';
import {
  createDevAttestationProvider,
  DEV_CA_FILE,
  DEV_ROOT_FILE,
  type DevAttestationProvider,
} from '../../src/enclave/attestation/index.ts';
import { issueCertificate } from '../../src/enclave/attestation/x509.ts';
import { failureReason, payloadMap, signPayload } from './fixtures.ts';

const codeBundle = Buffer.from('export const enclave = "v1";\n');
const sha384 = (bytes: Uint8Array | string) => createHash('sha384').update(bytes).digest('hex');
const HOUR = 3_600_000;

let workDir: string;
let caDir: string;
let provider: DevAttestationProvider;
let authority: DevCertificateAuthority;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'waiaas-attestation-'));
  caDir = path.join(workDir, 'ca');
  provider = await createDevAttestationProvider({ dir: caDir, codeBundle });
  authority = await loadOrCreateDevCa(caDir);
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

const p384 = () => generateKeyPairSync('ec', { namedCurve: 'P-384' });

/** Fields of a well-formed development document, to be altered one at a time by the tests below. */
const baseFields = (): AttestationDocumentFields => ({
  moduleId: 'waiaas-dev-test',
  timestamp: Date.now(),
  pcrs: provider.pcrs,
  certificate: authority.leafCertificate,
  cabundle: [authority.rootCertificate],
  publicKey: null,
  userData: null,
  nonce: null,
});

describe('dev attestation provider', () => {
  it('produces documents that verify against the dev root, with what was asked bound in', async () => {
    const nonce = Buffer.from('challenge-1');
    const userData = createHash('sha256').update('agent keys and policy hashes').digest();
    const publicKey = Buffer.alloc(32, 7);
    const document = await provider.attest({ nonce, userData, publicKey });
    const result = verifyAttestation(document, { root: provider.rootCertificatePem, expectedNonce: nonce });
    expect(result.moduleId).toMatch(/^waiaas-dev-[0-9a-f]{16}$/);
    expect(result.moduleId).toBe(provider.moduleId);
    expect(result.debug).toBe(false);
    expect(Buffer.from(result.userData!)).toEqual(userData);
    expect(Buffer.from(result.publicKey!)).toEqual(publicKey);
    expect(Math.abs(result.timestamp - Date.now())).toBeLessThan(60_000);
    expect(result.pcrs[0]).toBe(sha384(codeBundle));
    expect(result.pcrs[1]).toBe(sha384('waiaas-dev-attestation/pcr1'));
    expect(result.pcrs[2]).toBe(sha384('waiaas-dev-attestation/pcr2'));
    expect(Object.values(result.pcrs).slice(3)).toEqual(Array(13).fill('00'.repeat(48)));
    expect(result.certificate.issuer).toContain('CN=waiaas-dev-root');
    expect(result.chainLength).toBe(2);
  });

  it('is refused against the AWS root, which is the default', async () => {
    const document = await provider.attest();
    expect(failureReason(() => verifyAttestation(document))).toBe('ROOT_MISMATCH');
  });

  it('pins PCR0 to the code bundle: another bundle is refused by the allowlist', async () => {
    const document = await provider.attest();
    const root = provider.rootCertificatePem;
    expect(verifyAttestation(document, { root, pcrs: { 0: [sha384(codeBundle)] } }).pcrs[0]).toBe(
      sha384(codeBundle),
    );
    expect(failureReason(() => verifyAttestation(document, { root, pcrs: { 0: ['00'.repeat(48)] } }))).toBe(
      'PCR_NOT_ALLOWED',
    );
    const other = await createDevAttestationProvider({ dir: caDir, codeBundle: Buffer.from('tampered') });
    const otherDocument = await other.attest();
    expect(
      failureReason(() => verifyAttestation(otherDocument, { root, pcrs: { 0: [sha384(codeBundle)] } })),
    ).toBe('PCR_NOT_ALLOWED');
  });

  it('keeps its CA across restarts, with the keys file private', async () => {
    const again = await createDevAttestationProvider({ dir: caDir, codeBundle });
    expect(again.rootCertificatePem).toBe(provider.rootCertificatePem);
    expect(again.moduleId).not.toBe(provider.moduleId);
    expect(statSync(path.join(caDir, DEV_CA_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(caDir, DEV_ROOT_FILE), 'utf8')).toBe(provider.rootCertificatePem);
    const keys = readFileSync(path.join(caDir, DEV_CA_FILE), 'utf8');
    expect(keys).toContain('PRIVATE KEY');
    expect(readFileSync(path.join(caDir, DEV_ROOT_FILE), 'utf8')).not.toContain('PRIVATE KEY');
    verifyAttestation(await again.attest(), { root: provider.rootCertificatePem });
  });

  it('documents of another dev CA are refused by this root', async () => {
    const stranger = await createDevAttestationProvider({ dir: path.join(workDir, 'stranger'), codeBundle });
    expect(stranger.rootCertificatePem).not.toBe(provider.rootCertificatePem);
    const document = await stranger.attest();
    expect(failureReason(() => verifyAttestation(document, { root: provider.rootCertificatePem }))).toBe(
      'ROOT_MISMATCH',
    );
  });

  it('refuses to use a keys file other users can read', async () => {
    const dir = path.join(workDir, 'loose');
    await createDevAttestationProvider({ dir, codeBundle });
    chmodSync(path.join(dir, DEV_CA_FILE), 0o644);
    await expect(createDevAttestationProvider({ dir, codeBundle })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      details: { key: 'attestation.dev.dir' },
    });
  });

  it('refuses a damaged keys file instead of replacing it', async () => {
    const dir = path.join(workDir, 'damaged');
    await createDevAttestationProvider({ dir, codeBundle });
    const file = path.join(dir, DEV_CA_FILE);
    const stored = JSON.parse(readFileSync(file, 'utf8'));
    const strangerCa = await loadOrCreateDevCa(path.join(workDir, 'stranger'));
    stored.rootCertificate = strangerCa.rootCertificatePem;
    writeFileSync(file, JSON.stringify(stored), { mode: 0o600 });
    await expect(createDevAttestationProvider({ dir, codeBundle })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    writeFileSync(file, 'not json', { mode: 0o600 });
    await expect(createDevAttestationProvider({ dir, codeBundle })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('bounds the bound fields at 1024 bytes', async () => {
    await expect(provider.attest({ userData: Buffer.alloc(1025) })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    const document = await provider.attest({ userData: Buffer.alloc(1024, 1), nonce: Buffer.alloc(1024, 2) });
    expect(verifyAttestation(document, { root: provider.rootCertificatePem }).userData).toHaveLength(1024);
  });
});

describe('chain and signature attacks, with correctly encoded documents', () => {
  const root = () => provider.rootCertificatePem;

  it('a document signed by a key other than the leaf certificate is refused', () => {
    const document = signAttestationDocument(baseFields(), p384().privateKey);
    expect(failureReason(() => verifyAttestation(document, { root: root() }))).toBe('BAD_SIGNATURE');
  });

  it('a self-made leaf presented with the pinned root in the cabundle is refused', () => {
    const attacker = p384();
    const leaf = issueCertificate({
      organization: 'attacker',
      subjectCommonName: 'waiaas-dev-enclave-fake',
      issuerCommonName: 'waiaas-dev-root',
      subjectKey: attacker.publicKey,
      issuerKey: attacker.privateKey,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      isCa: false,
    });
    const document = signAttestationDocument({ ...baseFields(), certificate: leaf }, attacker.privateKey);
    expect(failureReason(() => verifyAttestation(document, { root: root() }))).toBe('CHAIN_UNTRUSTED');
  });

  it('a leaf issued by a non-CA certificate is refused even when that one chains to the root', () => {
    // The dev leaf (CA:FALSE) "issues" a second leaf; the document then has cabundle [root, devLeaf].
    const rootKeys = JSON.parse(readFileSync(path.join(caDir, DEV_CA_FILE), 'utf8'));
    const devLeafKey = createPrivateKey(rootKeys.leafPrivateKey);
    const devLeafSubject = new X509Certificate(authority.leafCertificate).subject.split('\n');
    const attacker = p384();
    const leaf = issueCertificate({
      organization: 'WAIaaS development attestation (not a Nitro Enclave)',
      subjectCommonName: 'sub-leaf',
      issuerCommonName: devLeafSubject.find((part) => part.startsWith('CN='))!.slice(3),
      subjectKey: attacker.publicKey,
      issuerKey: devLeafKey,
      notBefore: new Date(Date.now() - HOUR),
      notAfter: new Date(Date.now() + HOUR),
      isCa: false,
    });
    const document = signAttestationDocument(
      {
        ...baseFields(),
        certificate: leaf,
        cabundle: [authority.rootCertificate, authority.leafCertificate],
      },
      attacker.privateKey,
    );
    expect(() => verifyAttestation(document, { root: root() })).toThrow(
      expect.objectContaining({ details: { reason: 'CHAIN_UNTRUSTED', position: 'cabundle[1]' } }),
    );
  });

  it('an expired or not yet valid leaf is refused at that time', () => {
    const document = signAttestationDocument(baseFields(), authority.leafKey);
    expect(
      failureReason(() =>
        verifyAttestation(document, { root: root(), at: Date.now() + 11 * 365 * 24 * HOUR }),
      ),
    ).toBe('CERT_EXPIRED');
    expect(
      failureReason(() => verifyAttestation(document, { root: root(), at: Date.now() - 2 * HOUR })),
    ).toBe('CERT_NOT_YET_VALID');
  });

  it('a debug-mode document (PCR0-2 zero) is refused unless debug is allowed', () => {
    const pcrs = Array.from({ length: 16 }, () => new Uint8Array(48));
    const document = signAttestationDocument({ ...baseFields(), pcrs }, authority.leafKey);
    expect(failureReason(() => verifyAttestation(document, { root: root() }))).toBe('DEBUG_MODE');
    expect(verifyAttestation(document, { root: root(), allowDebug: true }).debug).toBe(true);
  });

  it('malformed fields under a valid signature are refused with a reason', () => {
    const key = authority.leafKey;
    const fields = baseFields();
    const refused = (overrides: Record<string, CborValue>) =>
      failureReason(() =>
        verifyAttestation(signPayload(payloadMap(fields, overrides), key), { root: root() }),
      );
    // Unaltered, the hand-built payload verifies: each refusal below comes from its one override.
    expect(verifyAttestation(signPayload(payloadMap(fields), key), { root: root() }).moduleId).toBe(
      fields.moduleId,
    );
    expect(refused({ digest: 'SHA256' })).toBe('UNSUPPORTED_DIGEST');
    expect(refused({ user_data: new Uint8Array(1025) })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ nonce: 'text' })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ public_key: 42 })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ module_id: '' })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ timestamp: -5 })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ pcrs: new Map(fields.pcrs.slice(0, 15).map((value, index) => [index, value])) })).toBe(
      'MALFORMED_PAYLOAD',
    );
    expect(refused({ pcrs: new Map(fields.pcrs.map((value, index) => [index + 1, value])) })).toBe(
      'MALFORMED_PAYLOAD',
    );
    expect(refused({ pcrs: new Map(fields.pcrs.map((value, index) => [index, value.subarray(1)])) })).toBe(
      'MALFORMED_PAYLOAD',
    );
    expect(refused({ cabundle: [] })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ certificate: new Uint8Array(1025) })).toBe('MALFORMED_PAYLOAD');
    expect(refused({ certificate: new Uint8Array(100) })).toBe('BAD_CERTIFICATE');
  });
});

it('attest refuses a field that is not bytes with a WaiaasError', async () => {
  await expect(provider.attest({ nonce: 'x' as unknown as Uint8Array })).rejects.toBeInstanceOf(WaiaasError);
});
