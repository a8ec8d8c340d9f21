/**
 * The principal cache: an authenticated request is served from memory while the revocation epoch
 * stands, and a revocation takes effect on the very next request through any replica. Two daemons
 * (each its own store, runtime, enclave and cache) share one database: on PostgreSQL one schema, on
 * SQLite one file.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateToken, hashToken } from '../../src/core/tokens.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { insertSession } from '../../src/store/index.ts';
import { bearer, createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { forEachEngine } from '../support/databases.ts';
import { replicaDataDir } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { startLocalnetFor } from '../transfers/harness.ts';

describeWithSquads('principal cache across replicas', () => {
  let localnet: Localnet;
  beforeAll(async () => {
    localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-principals-localnet-')));
  });
  afterAll(async () => {
    await localnet?.close();
  });

  forEachEngine((_engine, { makeDatabase }) => {
    const running: TestDaemon[] = [];
    afterAll(async () => {
      for (const daemon of running.splice(0).reverse()) await daemon.close();
    });

    /** Two replicas: the second shares the first's keys (daemon secret, fee payer) and enclave vault key. */
    const twoDaemons = async () => {
      const database = await makeDatabase();
      const first = await startTestDaemon({ localnet, store: () => database.open() });
      running.push(first);
      const created = await createOwnerWalletSession(first.app, first.runtime.store);
      const secondDir = replicaDataDir(first.dataDir);
      const second = await startTestDaemon({ localnet, dataDir: secondDir, store: () => database.open() });
      running.push(second);
      return { first, second, ...created };
    };

    const listTransfers = (daemon: TestDaemon, token: string, walletId: string) =>
      daemon.app.inject({ method: 'GET', url: `/v1/wallets/${walletId}/transfers`, headers: bearer(token) });

    it('a session revoked through one daemon is refused on the next request through the other', async () => {
      const { first, second, owner, wallet, session } = await twoDaemons();
      const cache = second.runtime.services.principals;

      // Cached on the second daemon: the second request is served without resolving the token again.
      expect((await listTransfers(second, session.token, wallet.id)).statusCode).toBe(200);
      const before = { ...cache.stats };
      expect((await listTransfers(second, session.token, wallet.id)).statusCode).toBe(200);
      expect(cache.stats.hits).toBe(before.hits + 1);
      expect(cache.stats.misses).toBe(before.misses);

      const revoked = await first.app.inject({
        method: 'DELETE',
        url: `/v1/sessions/${session.id}`,
        headers: bearer(owner.token),
      });
      expect(revoked.statusCode).toBe(204);

      const next = await listTransfers(second, session.token, wallet.id);
      expect(next.statusCode).toBe(401);
      expect(next.json()).toMatchObject({ code: 'SESSION_REVOKED' });
      expect((await listTransfers(first, session.token, wallet.id)).json()).toMatchObject({
        code: 'SESSION_REVOKED',
      });
      // Everyone else keeps working: only what the epoch covered is looked up again.
      expect((await listTransfers(second, owner.token, wallet.id)).statusCode).toBe(200);
    });

    it('a cached session still expires on time, and a deleted one is gone at once', async () => {
      const { first, second, wallet } = await twoDaemons();
      const store = first.runtime.store;
      const token = generateToken('waiaas_ses_');
      const expiresAt = BigInt(Date.now() + 60_000);
      await insertSession(store.db, {
        id: 'ses_short',
        walletId: wallet.id,
        tokenHash: hashToken(token),
        label: null,
        expiresAt,
      });
      const cache = second.runtime.services.principals;
      expect((await cache.resolve(token)).role).toBe('agent');
      await expect(cache.resolve(token, Number(expiresAt))).rejects.toMatchObject({
        code: 'SESSION_EXPIRED',
      });

      expect((await cache.resolve(token)).role).toBe('agent');
      await store.db.deleteFrom('sessions').where('id', '=', 'ses_short').execute();
      await expect(cache.resolve(token)).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    });
  });
});
