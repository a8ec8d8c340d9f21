import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateToken } from '../../src/core/tokens.ts';
import {
  type AuditInput,
  appendAudit,
  entryHash,
  GENESIS_HASH,
  verifyAuditChain,
} from '../../src/daemon/audit/index.ts';
import type { Store } from '../../src/store/index.ts';
import { forEachEngine } from '../support/databases.ts';

const input = (n: number): AuditInput => ({
  kind: n % 2 === 0 ? 'transfer.confirmed' : 'transfer.received',
  actor: { role: 'agent', id: `ses_${n}` },
  walletId: 'wal_1',
  subject: `tr_${n}`,
  details: { amount: BigInt(1000 + n), to: 'Recipient111111111111111111111111111111111' },
});

const appendMany = async (store: Store, count: number) => {
  for (let n = 1; n <= count; n++) await store.writeTransaction((trx) => appendAudit(trx, input(n)));
};

const rows = (store: Store) => store.db.selectFrom('audit_log').selectAll().orderBy('sequence').execute();

/** Direct edits, as someone with write access to the database would make them. */
const tamper = {
  kind: (store: Store, seq: number) =>
    sql`update audit_log set kind = 'transfer.failed' where sequence = ${seq}`.execute(store.db),
  at: (store: Store, seq: number) =>
    sql`update audit_log set at = at + 1 where sequence = ${seq}`.execute(store.db),
  actor_role: (store: Store, seq: number) =>
    sql`update audit_log set actor_role = 'owner' where sequence = ${seq}`.execute(store.db),
  actor_id: (store: Store, seq: number) =>
    sql`update audit_log set actor_id = 'ses_other' where sequence = ${seq}`.execute(store.db),
  owner_id: (store: Store, seq: number) =>
    sql`update audit_log set owner_id = 'own_x' where sequence = ${seq}`.execute(store.db),
  wallet_id: (store: Store, seq: number) =>
    sql`update audit_log set wallet_id = 'wal_2' where sequence = ${seq}`.execute(store.db),
  subject: (store: Store, seq: number) =>
    sql`update audit_log set subject = null where sequence = ${seq}`.execute(store.db),
  details: (store: Store, seq: number) =>
    sql`update audit_log set details = replace(details, '100', '900') where sequence = ${seq}`.execute(
      store.db,
    ),
  'details whitespace': (store: Store, seq: number) =>
    sql`update audit_log set details = replace(details, ':', ': ') where sequence = ${seq}`.execute(store.db),
  prev_hash: (store: Store, seq: number) =>
    sql`update audit_log set prev_hash = ${'f'.repeat(64)} where sequence = ${seq}`.execute(store.db),
  hash: (store: Store, seq: number) =>
    sql`update audit_log set hash = ${'e'.repeat(64)} where sequence = ${seq}`.execute(store.db),
} as const;

forEachEngine((engine, { makeStore, makeDatabase }) => {
  describe(`audit chain (${engine})`, () => {
    let shared: Store | undefined;
    beforeAll(async () => {
      shared = await makeStore();
    });
    /** The suite's store, emptied: a fresh chain without a fresh database per test. */
    const freshChain = async (): Promise<Store> => {
      const store = shared!;
      await store.db.deleteFrom('audit_log').execute();
      await store.db.updateTable('audit_head').set({ sequence: 0n, hash: GENESIS_HASH }).execute();
      return store;
    };

    it('chains each entry to the one before and verifies intact', async () => {
      const store = await freshChain();
      await appendMany(store, 5);
      const chain = await rows(store);
      expect(chain.map((row) => row.sequence)).toEqual([1n, 2n, 3n, 4n, 5n]);
      for (const [index, row] of chain.entries()) {
        expect(row.prev_hash).toBe(index === 0 ? '0'.repeat(64) : chain[index - 1]!.hash);
        expect(row.hash).toBe(entryHash(row.prev_hash, row));
      }
      expect(JSON.parse(chain[0]!.details)).toEqual({
        amount: '1001',
        to: 'Recipient111111111111111111111111111111111',
      });
      expect(await verifyAuditChain(store.db)).toEqual({
        ok: true,
        entries: 5,
        head: { sequence: 5, hash: chain[4]!.hash },
      });
    });

    it('verifies an empty chain', async () => {
      const store = await freshChain();
      expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true, entries: 0, head: { sequence: 0 } });
    });

    for (const [field, edit] of Object.entries(tamper)) {
      it(`detects an edit of ${field} and names the edited entry`, async () => {
        const store = await freshChain();
        await appendMany(store, 5);
        await edit(store, 3);
        const result = await verifyAuditChain(store.db);
        expect(result.ok).toBe(false);
        expect(result.firstBroken?.sequence).toBe(3);
        expect(result.entries).toBe(2);
      });
    }

    it('detects an edited entry whose hash was recomputed, at the next entry', async () => {
      const store = await freshChain();
      await appendMany(store, 5);
      const third = (await rows(store))[2]!;
      const forged = { ...third, details: third.details.replace('1003', '9003') };
      await store.db
        .updateTable('audit_log')
        .set({ details: forged.details, hash: entryHash(third.prev_hash, forged) })
        .where('sequence', '=', 3n)
        .execute();
      expect((await verifyAuditChain(store.db)).firstBroken).toEqual({
        sequence: 4,
        reason: expect.stringContaining('does not chain from entry 3'),
      });
    });

    for (const [where, sequence] of [
      ['first', 1],
      ['middle', 3],
      ['last', 5],
    ] as const) {
      it(`detects the deletion of the ${where} entry and names it`, async () => {
        const store = await freshChain();
        await appendMany(store, 5);
        await store.db.deleteFrom('audit_log').where('sequence', '=', BigInt(sequence)).execute();
        const result = await verifyAuditChain(store.db);
        expect(result.ok).toBe(false);
        expect(result.firstBroken).toEqual({ sequence, reason: expect.stringContaining('missing') });
      });
    }

    it('detects a renumbered entry (a deletion hidden by closing the gap)', async () => {
      const store = await freshChain();
      await appendMany(store, 5);
      await store.db.deleteFrom('audit_log').where('sequence', '=', 3n).execute();
      for (const sequence of [4, 5]) {
        await sql`update audit_log set sequence = ${sequence - 1} where sequence = ${sequence}`.execute(
          store.db,
        );
      }
      await sql`update audit_head set sequence = 4`.execute(store.db);
      expect((await verifyAuditChain(store.db)).firstBroken?.sequence).toBe(3);
    });

    it('keeps no entry for an act whose transaction rolled back, and the chain continues intact', async () => {
      const store = await freshChain();
      await appendMany(store, 2);
      await expect(
        store.writeTransaction(async (trx) => {
          await appendAudit(trx, input(3));
          throw new Error('the act failed after the entry was appended');
        }),
      ).rejects.toThrow('the act failed');
      await store.writeTransaction((trx) => appendAudit(trx, input(4)));
      expect((await rows(store)).map((row) => [row.sequence, row.subject])).toEqual([
        [1n, 'tr_1'],
        [2n, 'tr_2'],
        [3n, 'tr_4'],
      ]);
      expect(await verifyAuditChain(store.db)).toMatchObject({ ok: true, entries: 3 });
    });

    it('never writes a secret, even when a caller hands one over', async () => {
      const store = await freshChain();
      const token = generateToken('waiaas_ses_');
      await store.writeTransaction((trx) =>
        appendAudit(trx, {
          kind: 'session.created',
          actor: { role: 'owner', id: 'own_1' },
          walletId: 'wal_1',
          subject: token,
          details: { token, passphrase: 'correct horse battery', label: 'ok', memo: `see ${token}` },
        }),
      );
      const [row] = await rows(store);
      const stored = JSON.stringify(row, (_key, value) =>
        typeof value === 'bigint' ? String(value) : value,
      );
      expect(stored).not.toContain(token);
      expect(stored).not.toContain('correct horse');
      expect(JSON.parse(row!.details)).toEqual({ label: 'ok', memo: '[redacted]' });
      expect(row!.owner_id).toBe('own_1');
    });

    it('serialises appends from two replicas on one database into one gapless chain', async () => {
      const database = await makeDatabase();
      const [first, second] = [await database.open(), await database.open()];
      await Promise.all(
        Array.from({ length: 40 }, (_, n) =>
          (n % 2 === 0 ? first : second).writeTransaction((trx) => appendAudit(trx, input(n + 1))),
        ),
      );
      const chain = await rows(first);
      expect(chain.map((row) => Number(row.sequence))).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
      expect(new Set(chain.map((row) => row.subject)).size).toBe(40);
      expect(await verifyAuditChain(second.db)).toMatchObject({ ok: true, entries: 40 });
    });
  });
});
