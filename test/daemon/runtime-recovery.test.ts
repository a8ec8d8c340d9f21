/**
 * Recovery: the enclave's state directory wiped (journal, counters, development CA: all but its vault
 * key) and the process killed. The daemon's supervisor starts it again and hands it what it stores:
 * sealed agent keys, the newest sealed checkpoint, and the chain's spending limits. Same agent keys,
 * L2 counters never below what the chain shows spent, transfers go on, an `enclave.recovered` audit
 * entry; and a policy older than the one the checkpoint proves is refused, even when the host rolled
 * its own database back. Real Squads program on the localnet throughout.
 */
import { mkdtempSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PolicyBundle } from '../../src/core/policy.ts';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import { CHECKPOINT_CONTEXT, type CheckpointBody } from '../../src/enclave/checkpoint.ts';
import { localVaultWithKey } from '../../src/keys/vault/local-vault.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { readSpendingLimitsOf } from '../../src/squads/read-wallet.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { enclaveVerdict } from '../owner-acts/helpers.ts';
import { OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  SOL,
  startLocalnetFor,
  type TestOwner,
  waitForTransfer,
} from '../transfers/harness.ts';

interface Daemon {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly localnet: Localnet;
  readonly dataDir: string;
  close(): Promise<void>;
}

const startDaemon = async (): Promise<Daemon> => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-recovery-'));
  const localnet = await startLocalnetFor(dataDir);
  const config = loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_PORT: '0', WAIAAS_RPC_URL: localnet.rpcUrl });
  const store = await openStore({ sqlitePath: config.sqlitePath });
  const runtime = await startRuntime({
    config: { ...config, network: 'localnet' },
    store,
    rpcUrl: localnet.rpcUrl,
    logger: createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent'),
    // No periodic checkpoint during the test: the newest checkpoint is the one the owner acts wrote.
    enclave: { checkpointIntervalMs: 3_600_000, supervisor: { backoff: { initialMs: 50 } } },
    services: { transfers: { pollIntervalMs: 200 } },
  });
  const app = await buildDaemonApp(runtime);
  await app.ready();
  return {
    runtime,
    app,
    store,
    localnet,
    dataDir,
    async close() {
      await app.close();
      await runtime.close();
      await store.close();
      await localnet.close();
    },
  };
};

/** Deletes everything the enclave keeps but its vault key, then kills it; resolves once it is back up. */
const wipeAndKill = async (daemon: Daemon) => {
  const enclaveDir = join(daemon.dataDir, 'enclave');
  const restartsBefore = daemon.runtime.enclave.status().restarts;
  unlinkSync(join(enclaveDir, 'journal'));
  unlinkSync(join(enclaveDir, 'state-key.sealed'));
  rmSync(join(enclaveDir, 'dev-attestation'), { recursive: true });
  process.kill(daemon.runtime.enclave.status().pid!, 'SIGKILL');
  await expect
    .poll(() => daemon.runtime.enclave.status(), { timeout: 60_000, interval: 100 })
    .toMatchObject({ state: 'up', restarts: restartsBefore + 1 });
};

const auditOf = async (daemon: Daemon, kind: string, walletId: string) =>
  (
    await daemon.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('kind', '=', kind)
      .where('wallet_id', '=', walletId)
      .orderBy('sequence')
      .execute()
  ).map((row) => JSON.parse(row.details) as Record<string, unknown>);

/** The wallet's stored checkpoint, opened with the enclave's own key (which only a test may read). */
const storedCheckpoint = async (daemon: Daemon, walletId: string): Promise<CheckpointBody> => {
  const row = await daemon.store.db
    .selectFrom('enclave_checkpoints')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .executeTakeFirstOrThrow();
  const vault = localVaultWithKey(new Uint8Array(readFileSync(join(daemon.dataDir, 'enclave', 'vault.key'))));
  const plaintext = await vault.unseal(Buffer.from(row.sealed, 'base64'), CHECKPOINT_CONTEXT(walletId));
  return JSON.parse(Buffer.from(plaintext).toString('utf8')) as CheckpointBody;
};

const send = async (daemon: Daemon, token: string, walletId: string, amount: bigint) => {
  const sent = await daemon.app.inject({
    method: 'POST',
    url: `/v1/wallets/${walletId}/transfers`,
    headers: { authorization: `Bearer ${token}` },
    payload: { to: newRecipient(), amount: String(amount) },
  });
  expect(sent.statusCode, sent.body).toBeLessThan(300);
  return waitForTransfer(daemon.app, token, sent.json().id, (body) =>
    ['confirmed', 'failed', 'refused'].includes(body.status),
  );
};

describeWithSquads('recovery of a wiped enclave', () => {
  let daemon: Daemon;
  let owner: TestOwner;

  beforeAll(async () => {
    daemon = await startDaemon();
    owner = await createOwner(daemon.app, daemon.store);
  }, 120_000);

  afterAll(async () => {
    await daemon?.close();
  });

  it('same agent keys, counters not below the chain, transfers go on, and the audit log says so', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({
        daily: (3n * SOL) / 10n,
        perTransaction: (2n * SOL) / 10n,
        notifyMax: (2n * SOL) / 10n,
        delayMax: (2n * SOL) / 10n,
      }),
      2n * SOL,
    );
    for (let index = 0; index < 2; index++)
      expect((await send(daemon, session.token, wallet.id, SOL / 10n)).status).toBe('confirmed');
    const keysBefore = (await daemon.runtime.enclave.client.status()).wallets.find(
      (entry) => entry.walletId === wallet.id,
    )?.agentKeys;
    expect(keysBefore).toEqual([wallet.agentPublicKey]);
    // What the chain shows spent in the limit's period: 0.2 SOL; the newest checkpoint (written when
    // the wallet was created) knows of none of it.
    const [limit] = await readSpendingLimitsOf(
      daemon.runtime.chain.connection,
      new PublicKey(wallet.multisig),
      ['SOL'],
    );
    expect(limit!.amount - limit!.remainingAmount).toBe((2n * SOL) / 10n);
    expect((await storedCheckpoint(daemon, wallet.id)).spend['SOL'] ?? []).toEqual([]);

    await wipeAndKill(daemon);

    const after = (await daemon.runtime.enclave.client.status()).wallets.find(
      (entry) => entry.walletId === wallet.id,
    );
    expect(after).toMatchObject({ agentKeys: keysBefore, policyVersion: 1, halted: false });
    expect((await daemon.runtime.enclave.client.usage(wallet.id)).spent['SOL']).toBe(
      String((2n * SOL) / 10n),
    );
    expect(await auditOf(daemon, 'enclave.recovered', wallet.id)).toEqual([
      expect.objectContaining({
        restoredFrom: 'checkpoint',
        raisedToChain: { SOL: String((2n * SOL) / 10n) },
        keysLoaded: 1,
        error: null,
      }),
    ]);
    // L2 counts the chain's 0.2 SOL: 0.15 more would pass 0.3 a day, and the enclave itself refuses it
    // (asked directly, as a compromised daemon would).
    const wallets = { id: wallet.id, multisig: wallet.multisig };
    expect(
      await enclaveVerdict(
        daemon,
        wallets,
        wallet.agentPublicKey,
        (15n * SOL) / 100n,
        Keypair.generate().publicKey,
      ),
    ).toBe('POLICY_DAILY_LIMIT@enclave');
    // What is left goes through, end to end.
    expect((await send(daemon, session.token, wallet.id, SOL / 10n)).status).toBe('confirmed');
    expect((await daemon.runtime.enclave.client.usage(wallet.id)).spent['SOL']).toBe(
      String((3n * SOL) / 10n),
    );
  }, 180_000);

  it('a wiped enclave refuses a policy older than its checkpoint proves, even from a rolled-back database', async () => {
    const { wallet } = await createWalletSession(daemon, owner, policy(), SOL);
    const v1 = JSON.parse(
      (
        await daemon.store.db
          .selectFrom('wallets')
          .select('policy_bundle')
          .where('id', '=', wallet.id)
          .executeTakeFirstOrThrow()
      ).policy_bundle,
    ) as PolicyBundle;
    const changed = await daemon.app.inject({
      method: 'PUT',
      url: `/v1/wallets/${wallet.id}/policy`,
      headers: { authorization: `Bearer ${owner.token}`, 'x-owner-unlock': OWNER_PASSPHRASE },
      payload: { policy: { ...policy({ maxPerHour: 7 }), version: 2 } },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    // The owner act's checkpoint (written at once) proves version 2.
    await expect
      .poll(async () => (await storedCheckpoint(daemon, wallet.id)).policy)
      .toMatchObject({
        policy: { version: 2 },
      });
    // A host that rolls its database back to version 1 and wipes the enclave…
    await daemon.store.db
      .updateTable('wallets')
      .set({ policy_bundle: JSON.stringify(v1), policy_version: 1n })
      .where('id', '=', wallet.id)
      .execute();
    await wipeAndKill(daemon);
    // …gets version 2 back from the checkpoint, and version 1 refused.
    const held = (await daemon.runtime.enclave.client.status()).wallets.find(
      (entry) => entry.walletId === wallet.id,
    );
    expect(held?.policyVersion).toBe(2);
    await expect(daemon.runtime.enclave.client.setPolicy(v1)).rejects.toMatchObject({
      code: 'POLICY_VERSION_NOT_NEWER',
      layer: 'enclave',
    });
  }, 180_000);
});
