/**
 * Taking a wallet over from an enclave instance that is gone. Three daemons share one database and one
 * localnet; A creates the wallet (served by A's instance) and stops, which marks its instance gone. B holds
 * another enclave vault key: it cannot open the wallet's sealed seed, so its takeover fails with a clear
 * 503 and the wallet stays assigned where it was (no wallet handed to an instance that cannot sign).
 * C shares A's vault key: it takes the wallet over, recovers it and sends.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Localnet } from '../../src/localnet/index.ts';
import type { Store } from '../../src/store/index.ts';
import { bearer, createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { forEachEngine } from '../support/databases.ts';
import { replicaDataDir } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { fund, newRecipient, SOL, startLocalnetFor } from '../transfers/harness.ts';

describeWithSquads('taking a wallet over from a gone enclave instance', () => {
  let localnet: Localnet;
  beforeAll(async () => {
    localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-takeover-localnet-')));
  });
  afterAll(async () => {
    await localnet?.close();
  });

  forEachEngine(
    (_engine, { makeDatabase }) => {
      const running: TestDaemon[] = [];
      afterAll(async () => {
        for (const daemon of running.splice(0).reverse()) await daemon.close();
      });

      it('a replica that cannot open the seed leaves the wallet where it was; one that can takes it over and sends', async () => {
        const database = await makeDatabase();
        const env = { WAIAAS_ENCLAVE_INSTANCE_STALE_MS: '1000' };
        const a = await startTestDaemon({ localnet, store: () => database.open(), env });
        const { wallet, session } = await createOwnerWalletSession(a.app, a.runtime.store);
        await fund(a, wallet.vault, SOL);
        const store: Store = await database.open();
        const servedBy = async () =>
          (
            await store.db
              .selectFrom('wallet_assignments')
              .select('instance_id')
              .where('wallet_id', '=', wallet.id)
              .executeTakeFirstOrThrow()
          ).instance_id;
        const aInstance = await servedBy();
        // A stops on purpose: its instance is marked gone at once (no waiting for its heartbeat to age).
        await a.close();
        const retired = await store.db
          .selectFrom('enclave_instances')
          .select('heartbeat_at')
          .where('id', '=', aInstance)
          .executeTakeFirstOrThrow();
        expect(retired.heartbeat_at).toBe(0n);

        const replica = async (shareVaultKey: boolean) => {
          const dir = replicaDataDir(a.dataDir, { vaultKey: shareVaultKey });
          const daemon = await startTestDaemon({ localnet, dataDir: dir, store: () => database.open(), env });
          running.push(daemon);
          return daemon;
        };
        const send = (daemon: TestDaemon) =>
          daemon.app.inject({
            method: 'POST',
            url: `/v1/wallets/${wallet.id}/transfers`,
            headers: bearer(session.token),
            payload: { to: newRecipient(), amount: String(SOL / 100n) },
          });

        const b = await replica(false);
        const refused = await send(b);
        expect(refused.statusCode).toBe(503);
        expect(refused.json()).toMatchObject({ code: 'ENCLAVE_UNAVAILABLE' });
        expect(await servedBy()).toBe(aInstance);

        const c = await replica(true);
        const sent = await send(c);
        expect(sent.statusCode, sent.body).toBe(200);
        expect(sent.json()).toMatchObject({ status: 'confirmed' });
        expect(await servedBy()).toBe(c.runtime.signers.instanceId);
        await store.close();
      });
    },
    ['postgres'],
  );
});
