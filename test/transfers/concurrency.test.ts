/**
 * Spend accounting under concurrency: 200 concurrent requests of 0.1 SOL (instant) against a 1 SOL
 * daily cap confirm exactly 10, and the vault moves exactly 1 SOL. On SQLite with one daemon, and on
 * PostgreSQL with two daemon processes (`waiaas start` twice) sharing the database, the localnet, the
 * vault that seals agent keys and the fee payer, the requests sprayed across both.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, expect, it } from 'vitest';
import type { Localnet } from '../../src/localnet/index.ts';
import { forEachEngine } from '../support/databases.ts';
import { freePortPair, type RunningCommand } from '../support/processes.ts';
import { httpCall, replicaDataDir, startReplica } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  balanceOf,
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startLocalnetFor,
  startTransferDaemon,
} from './harness.ts';

const REQUESTS = 200;
const capPolicy = () =>
  policy({
    perTransaction: SOL,
    daily: SOL,
    instantMax: SOL / 10n,
    notifyMax: SOL,
    delayMax: SOL,
    maxPerHour: 1_000,
  });

interface Answer {
  httpStatus: number;
  body: { status?: string; code?: string; layer?: string; [key: string]: unknown };
}

const tally = (answers: Answer[]) => ({
  confirmed: answers.filter((answer) => answer.httpStatus === 200 && answer.body.status === 'confirmed')
    .length,
  refusedByDailyCap: answers.filter(
    (answer) =>
      answer.httpStatus === 403 &&
      answer.body.code === 'POLICY_DAILY_LIMIT' &&
      answer.body.layer === 'server',
  ).length,
});

describeWithSquads('spend accounting under concurrency', () => {
  it('SQLite, one daemon: 200 concurrent 0.1 SOL requests against 1 SOL a day confirm exactly 10', async () => {
    const daemon = await startTransferDaemon();
    try {
      const owner = await createOwner(daemon.app, daemon.store);
      const { wallet, session } = await createWalletSession(daemon, owner, capPolicy(), 5n * SOL);
      const vaultBefore = await balanceOf(daemon, wallet.vault);
      const to = newRecipient();
      const answers = await Promise.all(
        Array.from({ length: REQUESTS }, async () => {
          const response = await postTransfer(daemon.app, session.token, wallet.id, {
            to,
            amount: String(SOL / 10n),
          });
          return { httpStatus: response.statusCode, body: response.json() };
        }),
      );
      expect(tally(answers)).toEqual({ confirmed: 10, refusedByDailyCap: REQUESTS - 10 });
      expect(vaultBefore - (await balanceOf(daemon, wallet.vault))).toBe(SOL);
      expect(await balanceOf(daemon, to)).toBe(SOL);
    } finally {
      await daemon.close();
    }
  });

  forEachEngine(
    (_engine, { makeDatabase }) => {
      const running: RunningCommand[] = [];
      let localnet: Localnet | undefined;
      afterAll(async () => {
        await Promise.all(running.map((command) => command.stop()));
        await localnet?.close();
      });

      const startDaemon = (env: NodeJS.ProcessEnv) => startReplica(running, env);

      it('PostgreSQL, two daemon processes on one database: 200 concurrent requests confirm exactly 10', async () => {
        const database = await makeDatabase();
        localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-shared-localnet-')));
        const masterToken = 'waiaas-two-daemons-operator-token';
        const common = {
          WAIAAS_DB_URL: database.url,
          WAIAAS_RPC_URL: localnet.rpcUrl,
          WAIAAS_MASTER_TOKEN: masterToken,
          WAIAAS_LOG_LEVEL: 'warn',
          // This test exhausts the budget on purpose: the monitor would rightly freeze the wallet.
          WAIAAS_MONITOR_REFUSALS: '0',
          WAIAAS_MONITOR_VELOCITY_PERCENT: '0',
        };
        const firstDir = mkdtempSync(join(tmpdir(), 'waiaas-replica-a-'));
        const first = await startDaemon({
          ...common,
          WAIAAS_DATA_DIR: firstDir,
          WAIAAS_PORT: String(await freePortPair()),
        });

        const call = httpCall;
        const owner = await call(first, 'POST', '/v1/owners', masterToken, {
          name: 'Owner',
          signer: { kind: 'local', passphrase: 'two daemons owner passphrase' },
        });
        expect(owner.httpStatus).toBe(201);
        const wallet = await call(
          first,
          'POST',
          '/v1/wallets',
          String(owner.body.token),
          { name: 'Shared', policy: capPolicy() },
          { 'x-owner-unlock': 'two daemons owner passphrase' },
        );
        expect(wallet.httpStatus).toBe(201);
        const session = await call(
          first,
          'POST',
          `/v1/wallets/${wallet.body.id}/sessions`,
          String(owner.body.token),
          {
            ttlSeconds: 3600,
          },
        );
        expect(session.httpStatus).toBe(201);
        const connection = new Connection(localnet.rpcUrl, 'confirmed');
        await connection.confirmTransaction(
          await connection.requestAirdrop(new PublicKey(String(wallet.body.vault)), Number(5n * SOL)),
        );

        // The second replica shares the first's keys: its fee payer, and its enclave's vault key (the
        // enclave's own, in its state directory: replicas' enclaves must open the same sealed seeds).
        const secondDir = replicaDataDir(firstDir);
        const second = await startDaemon({
          ...common,
          WAIAAS_DATA_DIR: secondDir,
          WAIAAS_PORT: String(await freePortPair()),
        });

        const vaultBefore = BigInt(await connection.getBalance(new PublicKey(String(wallet.body.vault))));
        const to = newRecipient();
        const answers = await Promise.all(
          Array.from({ length: REQUESTS }, (_, index) =>
            call(
              index % 2 === 0 ? first : second,
              'POST',
              `/v1/wallets/${wallet.body.id}/transfers`,
              String(session.body.token),
              {
                to,
                amount: String(SOL / 10n),
              },
            ),
          ),
        );
        const servedBy = (base: string) =>
          answers.filter(
            (answer, index) => (index % 2 === 0 ? first : second) === base && answer.httpStatus < 500,
          );
        expect(servedBy(first).length).toBe(REQUESTS / 2);
        expect(servedBy(second).length).toBe(REQUESTS / 2);
        expect(tally(answers)).toEqual({
          confirmed: 10,
          refusedByDailyCap: REQUESTS - 10,
        });
        const vaultAfter = BigInt(await connection.getBalance(new PublicKey(String(wallet.body.vault))));
        expect(vaultBefore - vaultAfter).toBe(SOL);
        expect(BigInt(await connection.getBalance(new PublicKey(to)))).toBe(SOL);
      });
    },
    ['postgres'],
  );
});
