/**
 * Two daemon processes (`waiaas start` twice, as the README runs replicas) on one PostgreSQL and one
 * localnet with the real Squads program:
 * - 20 approval requests for one wallet sent through both at once: each replica's proposal takes the
 *   multisig's next transaction index, and the multisig lock in the database (not in either process)
 *   orders them, so all 20 end pending_approval with 20 distinct indexes and none fails;
 * - one token's rate limit is ONE limit across both: of 2N requests sprayed over them exactly N get
 *   through, and the next is 429 RATE_LIMITED whichever replica it reaches.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Localnet } from '../../src/localnet/index.ts';
import { readMultisig } from '../../src/squads/index.ts';
import type { Store } from '../../src/store/store.ts';
import { forEachEngine } from '../support/databases.ts';
import { freePortPair, type RunningCommand } from '../support/processes.ts';
import { httpCall, replicaDataDir, startReplica } from '../support/replicas.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { newRecipient, policy, SOL, startLocalnetFor } from './harness.ts';

const APPROVALS = 20;
const RATE_LIMIT_PER_TOKEN = 40;
const PASSPHRASE = 'two replicas owner passphrase';
const MASTER_TOKEN = 'waiaas-two-replicas-operator-token';

/** 0.1 SOL is above delayMax: every request goes to the owner for approval. */
const approvalPolicy = () => ({
  ...policy({
    perTransaction: SOL,
    daily: 10n * SOL,
    instantMax: SOL / 100n,
    notifyMax: SOL / 50n,
    delayMax: SOL / 20n,
    maxPerHour: 1_000,
  }),
  fees: { dailyLamports: String(SOL), maxOpenApprovals: 100 },
});

const call = httpCall;

describeWithSquads('two replicas on one PostgreSQL', () => {
  forEachEngine(
    (_engine, { makeDatabase }) => {
      const running: RunningCommand[] = [];
      let localnet: Localnet | undefined;
      let store: Store;
      let first: string;
      let second: string;
      let ownerToken: string;
      let walletId: string;
      let multisig: PublicKey;
      let sessionToken: string;

      const startDaemon = (env: NodeJS.ProcessEnv) => startReplica(running, env);

      beforeAll(async () => {
        const database = await makeDatabase();
        store = await database.open();
        localnet = await startLocalnetFor(mkdtempSync(join(tmpdir(), 'waiaas-replicas-localnet-')));
        const common = {
          WAIAAS_DB_URL: database.url,
          WAIAAS_RPC_URL: localnet.rpcUrl,
          WAIAAS_MASTER_TOKEN: MASTER_TOKEN,
          WAIAAS_LOG_LEVEL: 'warn',
          WAIAAS_RATE_LIMIT_PER_TOKEN: String(RATE_LIMIT_PER_TOKEN),
        };
        const firstDir = mkdtempSync(join(tmpdir(), 'waiaas-replica-a-'));
        first = await startDaemon({
          ...common,
          WAIAAS_DATA_DIR: firstDir,
          WAIAAS_PORT: String(await freePortPair()),
        });

        const owner = await call(first, 'POST', '/v1/owners', MASTER_TOKEN, {
          name: 'Owner',
          signer: { kind: 'local', passphrase: PASSPHRASE },
        });
        expect(owner.httpStatus).toBe(201);
        ownerToken = String(owner.body.token);
        const wallet = await call(
          first,
          'POST',
          '/v1/wallets',
          ownerToken,
          { name: 'Shared', policy: approvalPolicy() },
          { 'x-owner-unlock': PASSPHRASE },
        );
        expect(wallet.httpStatus).toBe(201);
        walletId = String(wallet.body.id);
        multisig = new PublicKey(String(wallet.body.multisig));
        const session = await call(first, 'POST', `/v1/wallets/${walletId}/sessions`, ownerToken, {
          ttlSeconds: 3600,
        });
        expect(session.httpStatus).toBe(201);
        sessionToken = String(session.body.token);
        const connection = new Connection(localnet.rpcUrl, 'confirmed');
        await connection.confirmTransaction(
          await connection.requestAirdrop(new PublicKey(String(wallet.body.vault)), Number(5n * SOL)),
        );

        // The second replica shares the first's keys (fee payer) and its enclave's vault key.
        const secondDir = replicaDataDir(firstDir);
        second = await startDaemon({
          ...common,
          WAIAAS_DATA_DIR: secondDir,
          WAIAAS_PORT: String(await freePortPair()),
        });
      }, 240_000);

      afterAll(async () => {
        await Promise.all(running.map((command) => command.stop()));
        await localnet?.close();
      });

      it('20 approval requests through A and B at once: 20 pending approvals with 20 distinct Squads indexes, none failed', async () => {
        const indexBefore = (await readMultisig(new Connection(localnet!.rpcUrl, 'confirmed'), multisig))
          .transactionIndex;
        const to = newRecipient();
        const answers = await Promise.all(
          Array.from({ length: APPROVALS }, (_, index) =>
            call(
              index % 2 === 0 ? first : second,
              'POST',
              `/v1/wallets/${walletId}/transfers`,
              sessionToken,
              {
                to,
                amount: String(SOL / 10n),
              },
            ),
          ),
        );
        expect(answers.map((answer) => answer.httpStatus)).toEqual(Array(APPROVALS).fill(202));
        const ids = answers.map((answer) => String(answer.body.id));

        // Each answer came once its proposal landed; the rows say so for all 20 whichever replica wrote them.
        const rows = await store.db
          .selectFrom('transfers')
          .select(['id', 'status', 'transaction_index'])
          .where('id', 'in', ids)
          .execute();
        expect(rows.map((row) => row.status)).toEqual(Array(APPROVALS).fill('pending_approval'));
        const indexes = rows.map((row) => BigInt(row.transaction_index ?? -1n));
        expect(new Set(indexes.map(String)).size).toBe(APPROVALS);
        expect([...indexes].sort((a, b) => (a < b ? -1 : 1))).toEqual(
          Array.from({ length: APPROVALS }, (_, n) => indexBefore + 1n + BigInt(n)),
        );
        // And the chain agrees: the multisig took exactly 20 new indexes.
        const after = await readMultisig(new Connection(localnet!.rpcUrl, 'confirmed'), multisig);
        expect(after.transactionIndex).toBe(indexBefore + BigInt(APPROVALS));
        // Nothing is left holding the wallet.
        expect(
          await store.db.selectFrom('multisig_locks').selectAll().where('wallet_id', '=', walletId).execute(),
        ).toEqual([]);
      });

      it('one token, limit N, over both replicas: exactly N requests get through, the next is 429 on A and on B', async () => {
        // A token of its own, so the requests above do not count.
        const session = await call(second, 'POST', `/v1/wallets/${walletId}/sessions`, ownerToken, {
          ttlSeconds: 3600,
        });
        expect(session.httpStatus).toBe(201);
        const token = String(session.body.token);
        const answers = await Promise.all(
          Array.from({ length: 2 * RATE_LIMIT_PER_TOKEN }, (_, index) =>
            call(index % 2 === 0 ? first : second, 'GET', '/v1/session', token),
          ),
        );
        const codes = answers.map((answer) => answer.httpStatus);
        expect(codes.filter((code) => code === 200)).toHaveLength(RATE_LIMIT_PER_TOKEN);
        expect(codes.filter((code) => code === 429)).toHaveLength(RATE_LIMIT_PER_TOKEN);
        for (const base of [first, second]) {
          const next = await call(base, 'GET', '/v1/session', token);
          expect(next.httpStatus).toBe(429);
          expect(next.body).toMatchObject({ code: 'RATE_LIMITED', details: { scope: 'token' } });
        }
      });
    },
    ['postgres'],
  );
});
