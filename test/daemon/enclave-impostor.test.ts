/**
 * A replica uses another replica's enclave instance only after its attestation verified. Attack: the
 * wallet's assignment is pointed (by whoever can write the database) at an "instance" that runs other
 * code — it even holds the deployment's channel key and has a development CA of its own, registered
 * with it. The replica's attestation check refuses it (its code measurement is not this checkout's):
 * the transfer is answered 503, nothing is signed, and the impostor never sees a sign request or a
 * policy, only the handshake and the attestation request.
 */
import { mkdtempSync } from 'node:fs';
import type { Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { enclaveChannelKey } from '../../src/daemon/runtime/daemon-secret.ts';
import { createDevAttestationProvider } from '../../src/enclave/attestation/index.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { Op } from '../../src/enclave/protocol.ts';
import { closeServer, listenUnix } from '../../src/enclave/server.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { registerEnclaveInstance } from '../../src/store/index.ts';
import { createTestVault } from '../enclave/helpers/fixtures.ts';
import { bearer, createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { forEachEngine } from '../support/databases.ts';
import { replicaDataDir } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { fund, newRecipient, SOL, startLocalnetFor } from '../transfers/harness.ts';

describeWithSquads('an impostor enclave instance', () => {
  let localnet: Localnet;
  beforeAll(async () => {
    localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-impostor-localnet-')));
  });
  afterAll(async () => {
    await localnet?.close();
  });

  forEachEngine(
    (_engine, { makeDatabase }) => {
      const running: TestDaemon[] = [];
      let impostor: Server | undefined;
      afterAll(async () => {
        if (impostor) await closeServer(impostor);
        for (const daemon of running.splice(0).reverse()) await daemon.close();
      });

      it('is never used: a wallet pointed at it is refused with 503, and it sees no sign request', async () => {
        const database = await makeDatabase();
        const a = await startTestDaemon({ localnet, store: () => database.open() });
        running.push(a);
        const { wallet, session } = await createOwnerWalletSession(a.app, a.runtime.store);
        await fund(a, wallet.vault, SOL);

        // The impostor: other code, its own development CA, and the deployment's channel key.
        const dir = mkdtempSync(join(tmpdir(), 'waiaas-impostor-'));
        const attestation = await createDevAttestationProvider({
          dir: join(dir, 'dev-attestation'),
          codeBundle: Buffer.from('an enclave that signs whatever it is asked'),
        });
        const kinds: number[] = [];
        impostor = await listenUnix(
          AgentEnclave.create({ vault: (await createTestVault(dir)).vault, attestation }),
          join(dir, 'enclave.sock'),
          { channelKey: enclaveChannelKey(a.runtime.daemonSecret), onRequest: (kind) => kinds.push(kind) },
        );
        const store = a.runtime.store;
        await registerEnclaveInstance(
          store.db,
          {
            id: 'enc_impostor',
            endpoint: join(dir, 'enclave.sock'),
            attestationRoot: attestation.rootCertificatePem,
          },
          Date.now(),
        );
        await store.db
          .updateTable('wallet_assignments')
          .set({ instance_id: 'enc_impostor' })
          .where('wallet_id', '=', wallet.id)
          .execute();

        // A replica that has not served the wallet yet reads the assignment and tries the impostor.
        // B is a replica of the same deployment (A's keys): the channel opens, the attestation decides.
        const b = await startTestDaemon({
          localnet,
          store: () => database.open(),
          dataDir: replicaDataDir(a.dataDir, { vaultKey: false }),
        });
        running.push(b);
        const balanceBefore = await b.runtime.chain.connection.getBalance(new PublicKey(wallet.vault));
        const refused = await b.app.inject({
          method: 'POST',
          url: `/v1/wallets/${wallet.id}/transfers`,
          headers: bearer(session.token),
          payload: { to: newRecipient(), amount: String(SOL / 100n) },
        });
        expect(refused.statusCode).toBe(503);
        expect(refused.json()).toMatchObject({
          code: 'ENCLAVE_UNAVAILABLE',
          details: {
            reason: 'remote instance not verified',
            instance: 'enc_impostor',
            cause: 'ATTESTATION_INVALID',
          },
        });
        expect(kinds.length).toBeGreaterThan(0);
        expect(kinds.every((kind) => kind === Op.HELLO || kind === Op.ATTEST)).toBe(true);
        expect(await b.runtime.chain.connection.getBalance(new PublicKey(wallet.vault))).toBe(balanceBefore);
      });
    },
    ['postgres'],
  );
});
