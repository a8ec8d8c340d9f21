import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { enclaveChannelKey, loadDaemonSecret } from '../../src/daemon/runtime/daemon-secret.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import type { Store } from '../../src/store/index.ts';
import { forEachEngine } from '../support/databases.ts';
import { directSignVerdict } from '../support/direct-sign.ts';
import { freePortPair, processesMentioning, type RunningCommand } from '../support/processes.ts';
import { type HttpAnswer, httpCall, replicaDataDir, startReplica } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { newRecipient, policy, SOL, startLocalnetFor } from '../transfers/harness.ts';

type Answer = HttpAnswer;

const OWNER_PASSPHRASE = 'two replicas owner passphrase';
const MASTER_TOKEN = 'waiaas-two-replicas-operator-token';
const STALE_MS = 3_000;

describeWithSquads('replicas and enclave instances', () => {
  forEachEngine(
    (_engine, { makeDatabase }) => {
      const running: RunningCommand[] = [];
      let localnet: Localnet;
      let store: Store;
      let connection: Connection;
      let aDir: string;
      let bDir: string;
      let a: string;
      let b: string;
      let ownerToken: string;

      const startIn = (dataDir: string, env: NodeJS.ProcessEnv) =>
        startReplica(running, { ...env, WAIAAS_DATA_DIR: dataDir });
      const call = (base: string, method: string, path: string, token: string, body?: unknown) =>
        httpCall(base, method, path, token, body, { 'x-owner-unlock': OWNER_PASSPHRASE });

      const createWallet = async (base: string, document: ReturnType<typeof policy>, lamports: bigint) => {
        const wallet = await call(base, 'POST', '/v1/wallets', ownerToken, {
          name: 'Shared',
          policy: document,
        });
        expect(wallet.httpStatus, JSON.stringify(wallet.body)).toBe(201);
        const id = String(wallet.body.id);
        const session = await call(base, 'POST', `/v1/wallets/${id}/sessions`, ownerToken, {
          ttlSeconds: 3600,
        });
        expect(session.httpStatus).toBe(201);
        await connection.confirmTransaction(
          await connection.requestAirdrop(new PublicKey(String(wallet.body.vault)), Number(lamports)),
        );
        return {
          id,
          vault: String(wallet.body.vault),
          multisig: String(wallet.body.multisig),
          agent: String(wallet.body.agentPublicKey),
          token: String(session.body.token),
        };
      };
      type Wallet = Awaited<ReturnType<typeof createWallet>>;

      const send = (base: string, wallet: Wallet, amount: bigint, to = newRecipient()) =>
        call(base, 'POST', `/v1/wallets/${wallet.id}/transfers`, wallet.token, {
          to,
          amount: String(amount),
        });

      const servedBy = async (walletId: string) =>
        (
          await store.db
            .selectFrom('wallet_assignments')
            .select('instance_id')
            .where('wallet_id', '=', walletId)
            .executeTakeFirst()
        )?.instance_id;

      const instanceOf = async (instanceId: string) =>
        store.db
          .selectFrom('enclave_instances')
          .selectAll()
          .where('id', '=', instanceId)
          .executeTakeFirstOrThrow();

      /** A client of an instance with the deployment's channel key: what any replica (or a compromised one) holds. */
      const instanceClient = async (instanceId: string) =>
        new EnclaveClient({
          socketPath: (await instanceOf(instanceId)).endpoint,
          channelKey: enclaveChannelKey(loadDaemonSecret(aDir)),
        });

      /** The serving instance's own verdict on a 0.03 SOL spending-limit transfer, asked directly. */
      const enclaveVerdict = async (wallet: Wallet) => {
        const client = await instanceClient((await servedBy(wallet.id))!);
        try {
          const { blockhash } = await connection.getLatestBlockhash();
          return await directSignVerdict(client, wallet, (3n * SOL) / 100n, blockhash);
        } finally {
          client.close();
        }
      };

      /**
       * After a burst of 0.01 SOL sends: every answer is a confirmation or a clear retryable 503, no
       * signature twice, and the vault moved exactly what was confirmed. Returns how many confirmed.
       */
      const expectNothingSignedTwiceOrLost = async (
        wallet: Wallet,
        vaultBefore: bigint,
        answers: Answer[],
      ) => {
        const confirmed = answers.filter((answer) => answer.body.status === 'confirmed');
        const signatures = confirmed.map((answer) => String(answer.body.signature));
        expect(new Set(signatures).size).toBe(signatures.length);
        for (const answer of answers)
          if (answer.body.status !== 'confirmed')
            expect(answer.httpStatus, JSON.stringify(answer.body)).toBe(503);
        const moved = vaultBefore - BigInt(await connection.getBalance(new PublicKey(wallet.vault)));
        expect(moved).toBe(BigInt(confirmed.length) * (SOL / 100n));
        return confirmed.length;
      };

      beforeAll(async () => {
        const database = await makeDatabase();
        store = await database.open();
        localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-replicas-localnet-')));
        connection = new Connection(localnet.rpcUrl, 'confirmed');
        const common = {
          WAIAAS_DB_URL: database.url,
          WAIAAS_RPC_URL: localnet.rpcUrl,
          WAIAAS_MASTER_TOKEN: MASTER_TOKEN,
          WAIAAS_LOG_LEVEL: 'warn',
          WAIAAS_ENCLAVE_INSTANCE_STALE_MS: String(STALE_MS),
          // These tests exhaust budgets and kill a replica on purpose: the monitor would rightly freeze.
          WAIAAS_MONITOR_REFUSALS: '0',
          WAIAAS_MONITOR_VELOCITY_PERCENT: '0',
          WAIAAS_MONITOR_ENCLAVE_RESTARTS: '0',
        };
        aDir = mkdtempSync(join(tmpdir(), 'waiaas-replica-a-'));
        a = await startIn(aDir, { ...common, WAIAAS_PORT: String(await freePortPair()) });
        const owner = await call(a, 'POST', '/v1/owners', MASTER_TOKEN, {
          name: 'Owner',
          signer: { kind: 'local', passphrase: OWNER_PASSPHRASE },
        });
        expect(owner.httpStatus).toBe(201);
        ownerToken = String(owner.body.token);
        // B shares A's keys (daemon secret, fee payer) and the enclave vault key: one deployment.
        bDir = replicaDataDir(aDir);
        b = await startIn(bDir, { ...common, WAIAAS_PORT: String(await freePortPair()) });
      }, 240_000);

      afterAll(async () => {
        await Promise.all(running.map((command) => command.stop()));
        await store?.close();
        await localnet?.close();
      });

      let shared: Wallet;

      it('a wallet created through A after B started sends through B, signed by the instance that serves it', async () => {
        shared = await createWallet(a, policy(), 5n * SOL);
        const instance = await servedBy(shared.id);
        expect(instance).toMatch(/^enc_/);
        const sent = await send(b, shared, SOL / 100n);
        expect(sent.httpStatus, JSON.stringify(sent.body)).toBe(200);
        expect(sent.body).toMatchObject({ status: 'confirmed' });
        // Still served by A's instance: B routed to it rather than taking it over.
        expect(await servedBy(shared.id)).toBe(instance);
        const instances = await store.db.selectFrom('enclave_instances').select('id').execute();
        expect(instances.map((row) => row.id).sort()).toHaveLength(2);
      });

      it('a freeze through A is refused through B at the server and at the enclave', async () => {
        const frozen = await call(a, 'POST', `/v1/wallets/${shared.id}/freeze`, ownerToken);
        expect(frozen.httpStatus, JSON.stringify(frozen.body)).toBe(200);
        expect(frozen.body).toMatchObject({ status: 'frozen', enclave: { status: 'done' } });
        const refused = await send(b, shared, SOL / 100n);
        expect(refused.httpStatus).toBe(403);
        expect(refused.body).toMatchObject({ code: 'WALLET_FROZEN', layer: 'server' });
        // The owner's freeze is an owner-signed policy with no asset left: the enclave signs no spend.
        expect(await enclaveVerdict(shared)).toMatch(
          /^ENCLAVE_REFUSED@enclave\/(ASSET_NOT_ALLOWED|[A-Z_]+)$/,
        );
      });

      it('a policy change through B is in force through A at the server and at the enclave', async () => {
        const resumed = await call(b, 'POST', `/v1/wallets/${shared.id}/resume`, ownerToken, {});
        expect(resumed.httpStatus, JSON.stringify(resumed.body)).toBe(200);
        expect(await enclaveVerdict(shared)).toBe('signed');
        const current = (await call(b, 'GET', `/v1/wallets/${shared.id}/policy`, ownerToken)).body as {
          policy: { version: number };
        };
        const cent = SOL / 100n;
        const tighter = {
          ...policy({
            perTransaction: 2n * cent,
            instantMax: cent,
            notifyMax: 2n * cent,
            delayMax: 2n * cent,
          }),
          version: current.policy.version + 1,
        };
        const changed = await call(b, 'PUT', `/v1/wallets/${shared.id}/policy`, ownerToken, {
          policy: tighter,
        });
        expect(changed.httpStatus, JSON.stringify(changed.body)).toBe(200);
        expect(changed.body).toMatchObject({ enclave: { status: 'done' } });
        const refused = await send(a, shared, (3n * SOL) / 100n);
        expect(refused.body).toMatchObject({ code: 'POLICY_PER_TX_LIMIT', layer: 'server' });
        expect(await enclaveVerdict(shared)).toBe('POLICY_PER_TX_LIMIT@enclave');
        const within = await send(a, shared, SOL / 100n);
        expect(within.body).toMatchObject({ status: 'confirmed' });
      });

      it('200 concurrent 0.1 SOL requests over A and B against 1 SOL a day: exactly 10, and the instances count 1 SOL together', async () => {
        const capped = await createWallet(
          b,
          policy({ perTransaction: SOL, daily: SOL, instantMax: SOL / 10n, notifyMax: SOL, delayMax: SOL }),
          5n * SOL,
        );
        const vaultBefore = BigInt(await connection.getBalance(new PublicKey(capped.vault)));
        const to = newRecipient();
        const answers = await Promise.all(
          Array.from({ length: 200 }, (_, index) => send(index % 2 === 0 ? a : b, capped, SOL / 10n, to)),
        );
        const confirmed = answers.filter((answer) => answer.body.status === 'confirmed');
        expect(confirmed).toHaveLength(10);
        expect(answers.filter((answer) => answer.body.code === 'POLICY_DAILY_LIMIT')).toHaveLength(190);
        expect(vaultBefore - BigInt(await connection.getBalance(new PublicKey(capped.vault)))).toBe(SOL);

        // Each instance's own count of the wallet's spends: one holds it all, the other never saw it.
        let counted = 0n;
        for (const { id } of await store.db.selectFrom('enclave_instances').select('id').execute()) {
          const client = await instanceClient(id);
          try {
            counted += BigInt((await client.usage(capped.id)).spent.SOL ?? '0');
          } catch (error) {
            expect(error).toMatchObject({ code: 'ENCLAVE_REFUSED', details: { reason: 'UNKNOWN_WALLET' } });
          } finally {
            client.close();
          }
        }
        expect(counted).toBe(SOL);
      });

      it('an enclave instance killed (SIGKILL) in the middle of a burst over A and B: restarted from its own journal, the burst finishes, nothing signed twice', async () => {
        const wallet = await createWallet(b, policy({ daily: 5n * SOL }), 5n * SOL);
        const served = await servedBy(wallet.id);
        const vaultBefore = BigInt(await connection.getBalance(new PublicKey(wallet.vault)));
        const answers: Answer[] = [];
        const wave = async () =>
          answers.push(...(await Promise.all([a, b, a, b].map((base) => send(base, wallet, SOL / 100n)))));
        await wave();
        const enclaves = processesMentioning(join(bDir, 'enclave'));
        expect(enclaves).toHaveLength(1);
        const pid = Number(enclaves[0]!.trim().split(/\s+/)[0]);
        const midBurst = wave();
        process.kill(pid, 'SIGKILL');
        await midBurst;
        await expect
          .poll(
            async () => {
              await wave();
              return answers.slice(-4).map((answer) => answer.body.status);
            },
            { timeout: 60_000, interval: 200 },
          )
          .toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
        // B's supervisor brought the same instance back: the wallet did not have to move.
        expect(await servedBy(wallet.id)).toBe(served);
        await expectNothingSignedTwiceOrLost(wallet, vaultBefore, answers);
      });

      it('replica A killed in the middle of a burst: its wallet moves to B’s instance and the burst finishes through B, nothing signed twice', async () => {
        const wallet = await createWallet(a, policy({ daily: 5n * SOL }), 5n * SOL);
        const aInstance = await servedBy(wallet.id);
        const vaultBefore = BigInt(await connection.getBalance(new PublicKey(wallet.vault)));
        const answers: Answer[] = [];
        const wave = async () =>
          answers.push(...(await Promise.all([1, 2, 3, 4].map(() => send(b, wallet, SOL / 100n)))));
        await wave();
        await wave();
        // A and its enclave instance go at once (the enclave shuts down when its parent is gone).
        const aReplica = running[0]!;
        const killed = aReplica.stop('SIGKILL');
        await wave();
        await killed;
        await expect
          .poll(() => processesMentioning(join(aDir, 'enclave')).length, { timeout: 15_000, interval: 100 })
          .toBe(0);
        // The burst goes on through B; once A's heartbeat is stale, B's instance takes the wallet over.
        await expect
          .poll(
            async () => {
              await wave();
              return answers.at(-1)?.body.status;
            },
            { timeout: 60_000, interval: 200 },
          )
          .toBe('confirmed');
        await wave();
        const bInstance = await servedBy(wallet.id);
        expect(bInstance).not.toBe(aInstance);
        expect(bInstance).toMatch(/^enc_/);

        expect(await expectNothingSignedTwiceOrLost(wallet, vaultBefore, answers)).toBeGreaterThanOrEqual(12);
      });
    },
    ['postgres'],
  );
});
