/**
 * Nitro mode end to end, as far as this machine allows. The daemon runs with
 * `enclave_isolation = "nitro"`: it does not start the enclave, it attaches to one through its
 * socat bridge, checks its attestation against the pinned root and PCR0, hands it AWS credentials and
 * restores it from the database. The enclave runs as its own process with its baked-in arguments
 * (`--vault aws-kms`, the seal key), seals with KMS Encrypt and unseals with KMS Decrypt + Recipient
 * against the KMS stand-in, which enforces the seal key policy `waiaas kms-policy seal` prints.
 *
 * Stand-ins, named: the development attestation provider for the NSM (its root pinned in the KMS
 * stand-in and in the daemon, where real KMS and the daemon pin the AWS Nitro root), TCP for the
 * vsock hop (test/enclave/vsock-bridge.test.ts runs real vsock where the kernel has loopback), the
 * KMS stand-in for KMS. Real: the daemon, the enclave code, the protocol, socat, the Squads program.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import { loadOrCreateDevCa } from '../../src/enclave/attestation/dev-ca.ts';
import { enclaveCodeBundle } from '../../src/enclave/code-bundle.ts';
import { socatCommand, unixConnectAddress, unixListenAddress } from '../../src/enclave/vsock-bridge.ts';
import { sealKeyPolicy } from '../../src/keys/aws/key-policies.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  type Bridge,
  type EnclaveProcess,
  socatInstalled,
  startEnclaveProcess,
  startSocat,
} from '../enclave/helpers/enclave-process.ts';
import { BASE_CREDENTIALS } from '../keys/support.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startLocalnetFor,
  waitForTransfer,
} from '../transfers/harness.ts';

const ACCOUNT = '111122223333';
const PARENT_ROLE = `arn:aws:iam::${ACCOUNT}:role/waiaas-parent`;
/** The image measurement: what this checkout's enclave code attests (dev PCR0 = SHA-384 of its code). */
const PCR0 = createHash('sha384').update(enclaveCodeBundle()).digest('hex');

const freeTcpPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const describeNitro = socatInstalled()
  ? describeWithSquads
  : (name: string, suite: () => void) => {
      console.warn(`SKIPPED: ${name}: socat is not installed`);
      describe.skip(name, suite);
    };

describeNitro('nitro mode: the daemon attached to a KMS-sealing enclave over its bridge', () => {
  let kms: TestKms;
  let localnet: Localnet;
  let store: Store;
  let runtime: Runtime;
  let app: FastifyInstance;
  let enclave: EnclaveProcess;
  let enclaveSide: Bridge;
  let sealKeyArn: string;
  const instanceDir = mkdtempSync(join(tmpdir(), 'waiaas-nitro-enclave-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-nitro-daemon-'));
  const enclaveSocket = join(instanceDir, 'enclave.sock');

  /** What the image's entry point runs: the arguments are part of the measured image on Nitro. */
  const startEnclave = () =>
    startEnclaveProcess([
      '--socket',
      enclaveSocket,
      '--state-dir',
      instanceDir,
      '--attestation',
      'dev',
      '--vault',
      'aws-kms',
      '--kms-key-id',
      sealKeyArn,
      '--kms-region',
      kms.region,
      '--kms-endpoint',
      kms.endpoint,
    ]);

  beforeAll(async () => {
    // The attestation root both the KMS stand-in and the daemon pin (on Nitro: the AWS root).
    const root = await loadOrCreateDevCa(join(instanceDir, 'dev-attestation'));
    kms = await startTestKms({ accountId: ACCOUNT, attestationRoot: root.rootCertificatePem });
    kms.setPrincipal(BASE_CREDENTIALS.accessKeyId, PARENT_ROLE);
    const keyId = kms.createKey('SYMMETRIC_DEFAULT');
    sealKeyArn = kms.arnOf(keyId);
    kms.setKeyPolicyDocument(
      keyId,
      sealKeyPolicy({ accountId: ACCOUNT, parentRoleArn: PARENT_ROLE, imageSha384: PCR0 }),
    );

    enclave = await startEnclave();
    expect(enclave.ready).toMatchObject({ vault: 'aws-kms', seedProtection: 'kms-attested' });
    const port = await freeTcpPort();
    // Inside the "enclave": the vsock port bridged to its socket (TCP stands in for vsock here).
    enclaveSide = startSocat(
      socatCommand(`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, unixConnectAddress(enclaveSocket)),
    );

    localnet = await startLocalnetFor(dataDir);
    const config = loadConfig({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: '0',
      WAIAAS_RPC_URL: localnet.rpcUrl,
      WAIAAS_ENCLAVE_ISOLATION: 'nitro',
      WAIAAS_ENCLAVE_PCR0: PCR0,
      WAIAAS_ENCLAVE_KMS_REGION: kms.region,
      WAIAAS_ENCLAVE_ATTESTATION_ROOT: join(instanceDir, 'dev-attestation', 'dev-attestation-root.pem'),
    });
    mkdirSync(join(dataDir, 'enclave'), { recursive: true, mode: 0o700 });
    store = await openStore({ sqlitePath: config.sqlitePath });
    runtime = await startRuntime({
      config: { ...config, network: 'localnet' },
      store,
      rpcUrl: localnet.rpcUrl,
      logger: createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent'),
      awsCredentials: async () => BASE_CREDENTIALS,
      enclave: {
        checkpointIntervalMs: 3_600_000,
        supervisor: {
          // On the parent: the daemon's socket bridged to the enclave (TCP standing in for VSOCK-CONNECT).
          bridge: socatCommand(
            unixListenAddress(join(dataDir, 'enclave', 'enclave.sock')),
            `TCP-CONNECT:127.0.0.1:${port}`,
          ),
          backoff: { initialMs: 50, maxMs: 500 },
        },
      },
      services: { transfers: { pollIntervalMs: 200 } },
    });
    app = await buildDaemonApp(runtime);
    await app.ready();
  }, 180_000);

  afterAll(async () => {
    await app?.close();
    await runtime?.close();
    await store?.close();
    await localnet?.close();
    await enclaveSide?.stop();
    await enclave?.kill();
    await kms?.close();
  });

  it('attaches, names its mode and seal plainly, seals with KMS; an enclave restarted with nothing recovers every key', async () => {
    const health = (await app.inject({ method: 'GET', url: '/v1/health' })).json();
    // The enclave here is a process with development attestation: health says so, and that KMS
    // answers its unseal requests only because its attested image is the pinned one.
    expect(health.enclave).toMatchObject({
      state: 'up',
      isolation: 'process',
      seedProtection: 'kms-attested',
    });
    expect(runtime.enclave.mode).toBe('attach');

    const owner = await createOwner(app, store);
    const { wallet, session } = await createWalletSession({ app, runtime }, owner, policy(), 2n * SOL);
    const send = async () => {
      const sent = await postTransfer(app, session.token, wallet.id, {
        to: newRecipient(),
        amount: String(SOL / 10n),
      });
      expect(sent.statusCode, sent.body).toBeLessThan(300);
      return (
        await waitForTransfer(app, session.token, sent.json().id, (body) =>
          ['confirmed', 'failed'].includes(body.status),
        )
      ).status;
    };
    expect(await send()).toBe('confirmed');
    // Sealed by KMS Encrypt, under a context naming the wallet.
    expect(
      kms.requests.filter((request) => request.operation === 'Encrypt' && request.outcome === 'ok').length,
    ).toBeGreaterThan(0);

    // The Nitro enclave is terminated and started again: nothing of its state survives (its
    // journal is in memory; on Nitro it has no disk at all).
    const restarts = runtime.enclave.status().restarts;
    await enclave.kill();
    await expect.poll(() => runtime.enclave.status().state, { timeout: 30_000 }).not.toBe('up');
    enclave = await startEnclave();
    await expect
      .poll(() => runtime.enclave.status(), { timeout: 60_000, interval: 100 })
      .toMatchObject({ state: 'up', restarts: restarts + 1 });

    // Every agent key came back through KMS Decrypt with the enclave as Recipient, pinned image only.
    const held = (await runtime.enclave.client.status()).wallets.find(
      (entry) => entry.walletId === wallet.id,
    );
    expect(held).toMatchObject({ agentKeys: [wallet.agentPublicKey], policyVersion: 1 });
    const unsealed = kms.requests.filter(
      (request) => request.operation === 'Decrypt' && request.outcome === 'ok',
    );
    expect(unsealed.length).toBeGreaterThan(0);
    expect(new Set(unsealed.map((request) => request.recipientImageSha384))).toEqual(new Set([PCR0]));
    expect((await runtime.enclave.client.usage(wallet.id)).spent['SOL']).toBe(String(SOL / 10n));
    const recovered = await store.db
      .selectFrom('audit_log')
      .select('details')
      .where('kind', '=', 'enclave.recovered')
      .where('wallet_id', '=', wallet.id)
      .execute();
    expect(recovered.map((row) => JSON.parse(row.details).restoredFrom)).toEqual(['checkpoint']);
    expect(await send()).toBe('confirmed');
  }, 240_000);
});
