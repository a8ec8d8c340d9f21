import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/core/tokens.ts';
import { appendAudit, registerAuthFailureAudit } from '../../src/daemon/audit/index.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { auditRoutes } from '../../src/daemon/routes/audit.ts';
import type { Store } from '../../src/store/index.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';
import { buildRoutesApp, type SeededOwner, seedOperator, seedOwner } from './fixtures.ts';

interface Entry {
  sequence: string;
  kind: string;
  actor: { role: string; id?: string };
  walletId: string | null;
  ownerId: string | null;
  subject: string | null;
  details: Record<string, unknown>;
}

forEachEngine((engine, { makeStore }) => {
  describe(`audit API (${engine})`, () => {
    let store: Store;
    let app: FastifyInstance;
    let alice: SeededOwner;
    let bob: SeededOwner;
    let operator: string;

    const get = (url: string, token?: string) =>
      app.inject({ method: 'GET', url, headers: token === undefined ? {} : bearer(token) });
    const entries = async (token: string, query = ''): Promise<Entry[]> => {
      const response = await get(`/v1/audit?limit=200${query}`, token);
      expect(response.statusCode).toBe(200);
      return response.json().items;
    };
    const lastEntry = async () => (await entries(operator))[0]!;

    beforeAll(async () => {
      store = await makeStore();
      alice = await seedOwner(store, 'Alice');
      bob = await seedOwner(store, 'Bob');
      operator = await seedOperator(store);
      app = await buildRoutesApp(
        store,
        [auditRoutes({ store, principals: new PrincipalCache(store) })],
        (root) => registerAuthFailureAudit(root, store),
      );
      await store.writeTransaction(async (trx) => {
        await appendAudit(trx, {
          kind: 'owner.created',
          actor: { role: 'operator' },
          ownerId: alice.ownerId,
        });
        await appendAudit(trx, { kind: 'owner.created', actor: { role: 'operator' }, ownerId: bob.ownerId });
        await appendAudit(trx, {
          kind: 'wallet.created',
          actor: { role: 'owner', id: alice.ownerId },
          walletId: alice.walletId,
        });
        await appendAudit(trx, {
          kind: 'wallet.created',
          actor: { role: 'owner', id: bob.ownerId },
          walletId: bob.walletId,
        });
        for (let n = 0; n < 5; n++) {
          await appendAudit(trx, {
            kind: 'transfer.confirmed',
            actor: { role: 'agent', id: alice.sessionId },
            walletId: alice.walletId,
            subject: `tr_${n}`,
            details: { amount: 10n * BigInt(n + 1) },
          });
        }
        await appendAudit(trx, {
          kind: 'owner.freeze',
          actor: { role: 'owner', id: bob.ownerId },
          walletId: bob.walletId,
        });
      });
    });
    afterAll(async () => {
      await app?.close();
    });

    it('shows an owner only the entries about them and their wallets; the operator sees all', async () => {
      const seenByAlice = await entries(alice.ownerToken);
      expect(seenByAlice.map((entry) => entry.kind)).toEqual([
        ...Array(5).fill('transfer.confirmed'),
        'wallet.created',
        'owner.created',
      ]);
      expect(
        seenByAlice.every((entry) => entry.ownerId === alice.ownerId || entry.walletId === alice.walletId),
      ).toBe(true);
      expect(seenByAlice[0]).toMatchObject({
        sequence: '9',
        actor: { role: 'agent', id: alice.sessionId },
        subject: 'tr_4',
        details: { amount: '50' },
      });
      const seenByBob = await entries(bob.ownerToken);
      expect(seenByBob.map((entry) => entry.kind)).toEqual([
        'owner.freeze',
        'wallet.created',
        'owner.created',
      ]);
      expect((await entries(operator)).length).toBeGreaterThanOrEqual(10);
    });

    it('pages with a cursor, newest first, each entry once', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response = await get(`/v1/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`, alice.ownerToken);
        const body = response.json() as { items: Entry[]; nextCursor: string | null };
        expect(body.items.length).toBeLessThanOrEqual(3);
        seen.push(...body.items.map((entry) => entry.sequence));
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(pages).toBe(3);
      expect(seen).toEqual((await entries(alice.ownerToken)).map((entry) => entry.sequence));
    });

    it("filters by wallet and kind, and hides another owner's wallet", async () => {
      expect(
        (await entries(alice.ownerToken, `&walletId=${alice.walletId}&kind=wallet.created`)).map(
          (e) => e.kind,
        ),
      ).toEqual(['wallet.created']);
      expect((await get(`/v1/audit?walletId=${bob.walletId}`, alice.ownerToken)).statusCode).toBe(404);
      expect((await entries(operator, `&walletId=${bob.walletId}`)).map((e) => e.kind)).toEqual([
        'owner.freeze',
        'wallet.created',
      ]);
      expect((await get('/v1/audit?kind=not.a.kind', operator)).statusCode).toBe(400);
      expect((await get('/v1/audit?cursor=abc', operator)).statusCode).toBe(400);
    });

    it('refuses agents and anonymous callers, and audits each refusal without the token', async () => {
      const agent = await get('/v1/audit', alice.sessionToken);
      expect(agent.statusCode).toBe(403);
      expect(await lastEntry()).toMatchObject({
        kind: 'auth.failure',
        details: { code: 'FORBIDDEN', method: 'GET', route: '/v1/audit', bearer: 'session', ip: '127.0.0.1' },
      });

      expect((await get('/v1/audit/verify')).statusCode).toBe(401);
      expect(await lastEntry()).toMatchObject({
        kind: 'auth.failure',
        actor: { role: 'anonymous' },
        details: { code: 'UNAUTHORIZED', route: '/v1/audit/verify', bearer: 'none' },
      });

      const forged = generateToken('waiaas_own_');
      expect((await get('/v1/audit', forged)).statusCode).toBe(401);
      const entry = await lastEntry();
      expect(entry).toMatchObject({
        kind: 'auth.failure',
        details: { code: 'UNAUTHORIZED', bearer: 'owner' },
      });
      const table = await sql<{
        text: string;
      }>`select details || coalesce(subject, '') as text from audit_log`.execute(store.db);
      expect(table.rows.some((row) => row.text.includes(forged))).toBe(false);
    });

    it('does not count an unknown route or a bad query as an auth failure', async () => {
      const before = (await lastEntry()).sequence;
      expect((await get('/v1/nothing-here', operator)).statusCode).toBe(404);
      expect((await get('/v1/audit?limit=0', operator)).statusCode).toBe(400);
      expect((await lastEntry()).sequence).toBe(before);
    });

    it('verifies the chain for owners and the operator, and names the first broken entry after an edit', async () => {
      for (const token of [alice.ownerToken, operator]) {
        const response = await get('/v1/audit/verify', token);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({ ok: true });
      }
      await sql`update audit_log set details = '{"amount":"1"}' where sequence = 6`.execute(store.db);
      const broken = await get('/v1/audit/verify', operator);
      expect(broken.json()).toMatchObject({
        ok: false,
        entries: 5,
        firstBroken: { sequence: 6, reason: expect.stringContaining('edited') },
      });
    });
  });
});
