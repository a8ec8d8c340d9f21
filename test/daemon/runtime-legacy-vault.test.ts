/**
 * Upgrading a data directory of the version where the daemon held the enclave's vault
 * (`keys/enclave-vault.keystore`, opened with the daemon secret). On its first start the daemon
 * hands the enclave that keystore's passphrase once, on stdin; the enclave re-seals every agent seed
 * (and its journal's state key) under its own key; the daemon stores the new blobs and deletes the
 * old keystore. Same agent keys, same counters, transfers go on, and from then on nothing the daemon
 * holds opens a seed.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import {
  agentSeedContext,
  openAgentKey,
  resealAgentKey,
  type SealedAgentKey,
} from '../../src/enclave/agent-keys.ts';
import { localVaultWithKey, openLocalVault, provisionLocalVault } from '../../src/keys/vault/local-vault.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
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

interface Daemon {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly store: Store;
  close(): Promise<void>;
}

describeWithSquads('migrating the vault the daemon used to hold', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-legacy-vault-'));
  const legacyKeystore = join(dataDir, 'keys', 'enclave-vault.keystore');
  let localnet: Localnet;
  let daemon: Daemon;

  const startDaemon = async (): Promise<Daemon> => {
    const config = loadConfig({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: '0',
      WAIAAS_RPC_URL: localnet.rpcUrl,
    });
    const store = await openStore({ sqlitePath: config.sqlitePath });
    const runtime = await startRuntime({
      config: { ...config, network: 'localnet' },
      store,
      rpcUrl: localnet.rpcUrl,
      logger: createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent'),
      services: { transfers: { pollIntervalMs: 200 } },
    });
    const app = await buildDaemonApp(runtime);
    await app.ready();
    return {
      runtime,
      app,
      store,
      async close() {
        await app.close();
        await runtime.close();
        await store.close();
      },
    };
  };

  const send = async (token: string, walletId: string) => {
    const sent = await postTransfer(daemon.app, token, walletId, {
      to: newRecipient(),
      amount: String(SOL / 20n),
    });
    expect(sent.statusCode, sent.body).toBeLessThan(300);
    return (
      await waitForTransfer(daemon.app, token, sent.json().id, (body) =>
        ['confirmed', 'failed'].includes(body.status),
      )
    ).status;
  };

  beforeAll(async () => {
    localnet = await startLocalnetFor(dataDir);
  }, 60_000);

  afterAll(async () => {
    await daemon?.close();
    await localnet?.close();
  });

  it('re-seals every agent key under the enclave’s own key and deletes the daemon’s old vault', async () => {
    daemon = await startDaemon();
    const owner = await createOwner(daemon.app, daemon.store);
    const { wallet, session } = await createWalletSession(daemon, owner, policy(), SOL);
    expect(await send(session.token, wallet.id)).toBe('confirmed');
    await daemon.close();

    // The data directory as the earlier version left it: the seeds and the journal's state key sealed
    // by a keystore in keys/ that the daemon secret opens, no key of the enclave's own, no checkpoints.
    const enclaveDir = join(dataDir, 'enclave');
    const ownKey = localVaultWithKey(new Uint8Array(readFileSync(join(enclaveDir, 'vault.key'))));
    const daemonSecret = readFileSync(join(dataDir, 'keys', 'daemon.passphrase'), 'utf8').trim();
    await provisionLocalVault(
      { keystorePath: legacyKeystore, passphrase: daemonSecret },
      { insecureKdfForTests: true },
    );
    const legacy = await openLocalVault({ kind: 'local', keystorePath: legacyKeystore }, daemonSecret);
    const store = await openStore({ sqlitePath: join(dataDir, 'waiaas.sqlite') });
    for (const row of await store.db.selectFrom('agent_keys').selectAll().execute()) {
      const resealed = await resealAgentKey(JSON.parse(row.sealed) as SealedAgentKey, ownKey, legacy);
      await store.db
        .updateTable('agent_keys')
        .set({ sealed: JSON.stringify(resealed) })
        .where('public_key', '=', row.public_key)
        .execute();
    }
    await store.db.deleteFrom('enclave_checkpoints').execute();
    await store.close();
    const stateKeyPath = join(enclaveDir, 'state-key.sealed');
    const stateKey = await ownKey.unseal(readFileSync(stateKeyPath), { purpose: 'enclave-state-key' });
    writeFileSync(stateKeyPath, await legacy.seal(stateKey, { purpose: 'enclave-state-key' }));
    rmSync(join(enclaveDir, 'vault.key'));

    daemon = await startDaemon();
    expect(existsSync(legacyKeystore)).toBe(false);
    expect(existsSync(join(enclaveDir, 'vault.key'))).toBe(true);
    const held = (await daemon.runtime.enclave.client.status()).wallets.find(
      (entry) => entry.walletId === wallet.id,
    );
    expect(held).toMatchObject({ agentKeys: [wallet.agentPublicKey], policyVersion: 1 });
    // The journal came through too (its state key re-sealed): the counters are the same.
    expect((await daemon.runtime.enclave.client.usage(wallet.id)).spent['SOL']).toBe(String(SOL / 20n));
    const migrated = await daemon.store.db
      .selectFrom('audit_log')
      .select('details')
      .where('kind', '=', 'enclave.vault-migrated')
      .execute();
    expect(migrated.map((row) => JSON.parse(row.details))).toEqual([
      { resealed: 1, failed: [], legacyKeystore: 'deleted' },
    ]);
    // The stored seed now opens with the enclave's key only.
    const newKey = localVaultWithKey(new Uint8Array(readFileSync(join(enclaveDir, 'vault.key'))));
    const [row] = await daemon.store.db.selectFrom('agent_keys').selectAll().execute();
    const record = JSON.parse(row!.sealed) as SealedAgentKey;
    expect((await openAgentKey(record, newKey)).publicKeyBase58).toBe(wallet.agentPublicKey);
    await expect(
      legacy.unseal(Buffer.from(record.sealedSeed, 'base64'), agentSeedContext(record)),
    ).rejects.toMatchObject({
      code: 'VAULT_CORRUPT',
    });
    expect(await send(session.token, wallet.id)).toBe('confirmed');
  }, 240_000);
});
