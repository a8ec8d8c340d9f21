import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/attestation.ts';
import { createDevAttestationProvider } from '../../src/enclave/attestation/index.ts';
import { awsRootPemFile, repoRoot, vectors } from './fixtures.ts';

const runCli = async (...args: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = await run(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
};

const valid = vectors.betaValid.file;
const debug = vectors.betaDebug.file;
let workDir: string;
let devDocumentFile: string;
let devRootFile: string;

beforeAll(async () => {
  workDir = mkdtempSync(path.join(tmpdir(), 'waiaas-attestation-cli-'));
  const dev = await createDevAttestationProvider({
    dir: path.join(workDir, 'ca'),
    codeBundle: Buffer.from('cli'),
  });
  devDocumentFile = path.join(workDir, 'dev.cbor');
  writeFileSync(devDocumentFile, await dev.attest({ nonce: Buffer.from('cafe', 'hex') }));
  devRootFile = path.join(workDir, 'dev-root.pem');
  writeFileSync(devRootFile, dev.rootCertificatePem);
});
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('waiaas attestation verify', () => {
  it('prints a JSON summary and exits 0 when the document verifies', async () => {
    const { code, stdout, stderr } = await runCli('verify', valid, '--at', 'doc');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({
      verified: true,
      moduleId: 'i-020b6af9246d90e92-enc0183d09086c24190',
      timestamp: vectors.betaValid.timestamp,
      time: '2022-10-13T08:58:02.136Z',
      digest: 'SHA384',
      debug: false,
      publicKey: null,
      userData: null,
      chainLength: 5,
    });
    expect(summary.nonce).toHaveLength(512);
    expect(summary.pcrs['0']).toMatch(/^f4d48b81/);
  });

  it('reads a base64 document as well as raw CBOR', async () => {
    const file = path.join(workDir, 'valid.b64');
    writeFileSync(file, `${vectors.betaValid.bytes.toString('base64').replace(/(.{76})/g, '$1\n')}\n`);
    const { code, stdout } = await runCli('verify', file, '--at', 'doc');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).timestamp).toBe(vectors.betaValid.timestamp);
  });

  it('exits 1 with the reason on stderr when the document does not verify', async () => {
    const now = await runCli('verify', valid);
    expect(now.code).toBe(1);
    expect(now.stdout).toBe('');
    expect(JSON.parse(now.stderr)).toMatchObject({
      verified: false,
      code: 'ATTESTATION_INVALID',
      reason: 'CERT_EXPIRED',
    });

    const debugged = await runCli('verify', debug, '--at', 'doc');
    expect(debugged.code).toBe(1);
    expect(JSON.parse(debugged.stderr).reason).toBe('DEBUG_MODE');
    expect((await runCli('verify', debug, '--at', 'doc', '--allow-debug')).code).toBe(0);
  });

  it('checks at an ISO time inside the leaf lifetime', async () => {
    expect((await runCli('verify', valid, '--at', '2022-10-13T09:30:00Z')).code).toBe(0);
    const later = await runCli('verify', valid, '--at', '2022-10-13T13:00:00Z');
    expect(later.code).toBe(1);
    expect(JSON.parse(later.stderr).reason).toBe('CERT_EXPIRED');
  });

  it('enforces --pcr0, --pcr and --nonce', async () => {
    const summary = JSON.parse((await runCli('verify', valid, '--at', 'doc')).stdout);
    const pcr0 = summary.pcrs['0'] as string;
    expect((await runCli('verify', valid, '--at', 'doc', '--pcr0', pcr0)).code).toBe(0);
    expect(
      (await runCli('verify', valid, '--at', 'doc', '--pcr0', 'ab'.repeat(48), '--pcr0', pcr0)).code,
    ).toBe(0);
    const wrongPcr = await runCli('verify', valid, '--at', 'doc', '--pcr0', 'ab'.repeat(48));
    expect(wrongPcr.code).toBe(1);
    expect(JSON.parse(wrongPcr.stderr)).toMatchObject({ reason: 'PCR_NOT_ALLOWED', details: { pcr: 0 } });
    expect((await runCli('verify', valid, '--at', 'doc', '--pcr', `8=${summary.pcrs['8']}`)).code).toBe(0);
    expect((await runCli('verify', valid, '--at', 'doc', '--pcr', `8=${pcr0}`)).code).toBe(1);

    expect((await runCli('verify', valid, '--at', 'doc', '--nonce', summary.nonce)).code).toBe(0);
    const wrongNonce = await runCli('verify', valid, '--at', 'doc', '--nonce', 'cafe');
    expect(wrongNonce.code).toBe(1);
    expect(JSON.parse(wrongNonce.stderr).reason).toBe('NONCE_MISMATCH');
  });

  it('accepts a dev document only with --root naming the dev root', async () => {
    const pinned = await runCli('verify', devDocumentFile, '--root', devRootFile, '--nonce', 'cafe');
    expect(pinned.code).toBe(0);
    expect(JSON.parse(pinned.stdout).moduleId).toMatch(/^waiaas-dev-/);
    const aws = await runCli('verify', devDocumentFile);
    expect(aws.code).toBe(1);
    expect(JSON.parse(aws.stderr).reason).toBe('ROOT_MISMATCH');
    expect((await runCli('verify', devDocumentFile, '--root', awsRootPemFile)).code).toBe(1);
  });

  it.each([
    [[]],
    [['frobnicate']],
    [['verify']],
    [['verify', valid, 'extra']],
    [['verify', valid, '--unknown']],
    [['verify', valid, '--at', 'yesterday-ish']],
    [['verify', valid, '--pcr0', 'xyz']],
    [['verify', valid, '--pcr', '0:abcd']],
    [['verify', valid, '--nonce', 'abc']],
    [['verify', path.join(repoRoot, 'no-such-file.cbor')]],
    [['verify', valid, '--root', valid]],
  ])('exits 2 on a usage error: %j', async (args) => {
    const { code, stdout, stderr } = await runCli(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage: waiaas attestation verify FILE');
  });
});

describe('the waiaas binary', () => {
  it('runs attestation verify as a real process with the right exit codes', async () => {
    const exec = promisify(execFile);
    const bin = path.join(repoRoot, 'bin/waiaas.mjs');
    const ok = await exec(process.execPath, [bin, 'attestation', 'verify', valid, '--at', 'doc'], {
      cwd: repoRoot,
    });
    expect(JSON.parse(ok.stdout).verified).toBe(true);
    const refused = await exec(process.execPath, [bin, 'attestation', 'verify', debug, '--at', 'doc'], {
      cwd: repoRoot,
    }).catch((error: { code: number; stderr: string }) => error);
    expect(refused).toMatchObject({ code: 1 });
    expect(JSON.parse((refused as { stderr: string }).stderr).reason).toBe('DEBUG_MODE');
  });
});
