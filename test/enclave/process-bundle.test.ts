/**
 * The enclave as the supervisor runs it by default: plain node on a bundle built from this repository's
 * enclave sources and cached. The bundle is rebuilt when its sources change and whenever the cached
 * file does not check out, and a bundle of other sources cannot pass the daemon's PCR0 check.
 */
import { createHash, randomBytes, verify } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it, vi } from 'vitest';
import { verifyAttestation } from '../../src/attestation/index.ts';
import { isWaiaasError } from '../../src/core/errors.ts';
import type { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { ENCLAVE_NODE_FLAGS, EnclaveSupervisor } from '../../src/daemon/enclave-supervisor.ts';
import { DEV_ROOT_FILE } from '../../src/enclave/attestation/index.ts';
import {
  codeBundleOf,
  type EnclaveSourceFile,
  enclaveCodeBundle,
  enclaveSourceFiles,
} from '../../src/enclave/code-bundle.ts';
import { checkEnclaveBundle, ensureEnclaveBundle } from '../../src/enclave/process-bundle.ts';
import { publicKeyObject } from '../../src/keys/ed25519.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
import { createOwner, solPolicy, tempDir } from './helpers/fixtures.ts';

const owner = createOwner();
const alice = Keypair.generate().publicKey;
const sha384Hex = (bytes: Uint8Array) => createHash('sha384').update(bytes).digest('hex');

/** The sources with one file changed, as after an edit: same files, one more line in one of them. */
const editedSources = (): EnclaveSourceFile[] =>
  enclaveSourceFiles().map((file) =>
    file.path === 'enclave/refusal.ts'
      ? { ...file, content: Buffer.concat([file.content, Buffer.from('\n// edited\n')]) }
      : file,
  );

/** What the daemon checks before it uses an enclave (src/daemon/runtime): PCR0 of the sources it has. */
const daemonVerify = (stateDir: string) => async (client: EnclaveClient) => {
  const nonce = randomBytes(32);
  const { document } = await client.attest({ nonce });
  verifyAttestation(document, {
    root: readFileSync(join(stateDir, 'dev-attestation', DEV_ROOT_FILE), 'utf8'),
    expectedNonce: nonce,
    pcrs: { 0: [sha384Hex(enclaveCodeBundle())] },
  });
};

const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe('the enclave bundle cache', () => {
  it('is used again while the sources are the same, and rebuilt when they change', async () => {
    const cacheDir = join(tempDir(), 'cache');
    const first = await ensureEnclaveBundle({ cacheDir });
    expect(first.built).toBe(true);
    expect(first.header.codeSha384).toBe(sha384Hex(enclaveCodeBundle()));
    const again = await ensureEnclaveBundle({ cacheDir });
    expect(again).toMatchObject({ path: first.path, built: false });

    const edited = editedSources();
    const rebuilt = await ensureEnclaveBundle({ cacheDir, sources: edited });
    expect(rebuilt.built).toBe(true);
    expect(rebuilt.path).not.toBe(first.path);
    expect(rebuilt.header.codeSha384).not.toBe(first.header.codeSha384);
    // The bundle carries the measurement of exactly the sources it was built from, edit included.
    expect(readFileSync(rebuilt.path, 'utf8')).toContain(rebuilt.header.codeSha384);
    expect(rebuilt.header.codeSha384).toBe(sha384Hex(codeBundleOf(edited)));
  }, 60_000);

  it('never uses a tampered, stale or altered-input file: it builds the bundle again', async () => {
    const cacheDir = join(tempDir(), 'cache');
    const genuine = await ensureEnclaveBundle({ cacheDir });
    const genuineBytes = readFileSync(genuine.path);
    const expected = { key: genuine.header.key, codeSha256: genuine.header.codeSha256 };

    // Tampered: one byte of code changed after it was written.
    const tampered = Buffer.from(genuineBytes);
    const at = tampered.length - 10;
    tampered[at] = tampered[at]! ^ 0x01;
    writeFileSync(genuine.path, tampered);
    expect(checkEnclaveBundle(genuine.path, expected)).toEqual({ problem: 'body altered' });
    const afterTamper = await ensureEnclaveBundle({ cacheDir });
    expect(afterTamper.built).toBe(true);
    expect(readFileSync(genuine.path).equals(genuineBytes)).toBe(true);

    // Stale: a bundle of other sources put in its place.
    const other = await ensureEnclaveBundle({ cacheDir: join(tempDir(), 'other'), sources: editedSources() });
    writeFileSync(genuine.path, readFileSync(other.path));
    expect(checkEnclaveBundle(genuine.path, expected)).toEqual({ problem: 'built from other sources' });
    expect((await ensureEnclaveBundle({ cacheDir })).built).toBe(true);

    // An input outside the measured sources (the CLI entry, node_modules) no longer as recorded.
    const header = JSON.stringify(genuine.header);
    const changedInputs = header.replace(genuine.header.inputsSha256, '0'.repeat(64));
    writeFileSync(genuine.path, Buffer.from(genuineBytes.toString('utf8').replace(header, changedInputs)));
    expect(checkEnclaveBundle(genuine.path, expected)).toEqual({ problem: 'inputs changed' });
    expect((await ensureEnclaveBundle({ cacheDir })).built).toBe(true);
    expect(checkEnclaveBundle(genuine.path, expected)).toHaveProperty('header');
  }, 60_000);

  it('refuses a cache directory others can write to, or a symlink in its place', async () => {
    const dir = tempDir();
    const open = join(dir, 'open');
    mkdirSync(open, { mode: 0o700 });
    chmodSync(open, 0o777);
    const refusal = await ensureEnclaveBundle({ cacheDir: open }).catch((error: unknown) => error);
    expect(isWaiaasError(refusal, 'CONFIG_INVALID')).toBe(true);
    const target = join(dir, 'target');
    mkdirSync(target, { mode: 0o700 });
    symlinkSync(target, join(dir, 'link'));
    const viaLink = await ensureEnclaveBundle({ cacheDir: join(dir, 'link') }).catch(
      (error: unknown) => error,
    );
    expect(isWaiaasError(viaLink, 'CONFIG_INVALID')).toBe(true);
  });
});

describe('the bundled enclave process', () => {
  it('runs on plain node, passes the daemon’s PCR0 check and signs', async () => {
    const dir = tempDir();
    const stateDir = join(dir, 'state');
    // Others may write here: refused, and the bundle is built in the state dir instead.
    const unsafeCache = join(dir, 'unsafe-cache');
    mkdirSync(unsafeCache);
    chmodSync(unsafeCache, 0o777);
    const log: string[] = [];
    const supervisor = new EnclaveSupervisor({
      socketPath: join(dir, 'enclave.sock'),
      stateDir,
      attestation: 'dev',
      bundleCacheDir: unsafeCache,
      sealedKeys: async () => [],
      verify: daemonVerify(stateDir),
      log: (line) => log.push(line),
    });
    try {
      await supervisor.start();
      const argv = commandLine(supervisor.status().pid!);
      expect(argv.some((arg) => arg.includes('tsx'))).toBe(false);
      expect(argv).toEqual(expect.arrayContaining([...ENCLAVE_NODE_FLAGS]));
      expect(argv.find((arg) => arg.endsWith('.mjs'))).toContain(join(stateDir, 'code-cache'));
      expect(log.some((line) => line.includes(unsafeCache))).toBe(true);

      const client = supervisor.client;
      const multisigPda = Keypair.generate().publicKey;
      const sealed = await client.createAgentKey('bundled', owner.publicKey, multisigPda.toBase58());
      await client.setPolicy(
        await owner.signPolicy(
          'bundled',
          solPolicy({ recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } }),
        ),
      );
      const message = new VersionedTransaction(
        new TransactionMessage({
          payerKey: Keypair.generate().publicKey,
          recentBlockhash: Keypair.generate().publicKey.toBase58(),
          instructions: [
            multisig.instructions.spendingLimitUse({
              multisigPda,
              member: new PublicKey(sealed.publicKey),
              spendingLimit: new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')),
              vaultIndex: 0,
              amount: 50_000_000,
              decimals: 9,
              destination: alice,
            }),
          ],
        }).compileToV0Message(),
      ).message.serialize();
      const signed = await client.sign('bundled', message, { requestId: 'r-1' });
      expect(signed).toMatchObject({ publicKey: sealed.publicKey, tier: 'instant' });
      const agentKey = publicKeyObject(new PublicKey(sealed.publicKey).toBytes());
      expect(verify(null, message, agentKey, signed.signature)).toBe(true);
      expect((await client.usage('bundled')).spent['SOL']).toBe('50000000');
    } finally {
      await supervisor.stop();
    }
  }, 60_000);

  it('built from other sources, it never comes up: its PCR0 is not the daemon’s', async () => {
    const dir = tempDir();
    const stateDir = join(dir, 'state');
    const stale = await ensureEnclaveBundle({ cacheDir: join(dir, 'stale'), sources: editedSources() });
    const refusals: unknown[] = [];
    const supervisor = new EnclaveSupervisor({
      socketPath: join(dir, 'enclave.sock'),
      stateDir,
      attestation: 'dev',
      command: [process.execPath, ...ENCLAVE_NODE_FLAGS, stale.path],
      sealedKeys: async () => [],
      verify: async (client) => {
        try {
          await daemonVerify(stateDir)(client);
        } catch (error) {
          refusals.push(error);
          throw error;
        }
      },
      backoff: { initialMs: 50, maxMs: 200 },
    });
    try {
      void supervisor.start().catch(() => undefined);
      await vi.waitFor(() => expect(supervisor.status().restarts).toBeGreaterThan(0), { timeout: 20_000 });
      expect(supervisor.status().state).not.toBe('up');
      expect(refusals.length).toBeGreaterThan(0);
      for (const refusal of refusals) {
        expect(isWaiaasError(refusal, 'ATTESTATION_INVALID')).toBe(true);
        expect((refusal as { details: { reason: string } }).details.reason).toBe('PCR_NOT_ALLOWED');
      }
    } finally {
      await supervisor.stop();
    }
  }, 60_000);
});
