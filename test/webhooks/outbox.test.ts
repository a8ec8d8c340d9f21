import { describe, expect, it } from 'vitest';
import {
  enqueueEvent,
  generateWebhookSecret,
  sealWebhookSecret,
  webhookSecretKey,
} from '../../src/daemon/notifier/index.ts';
import type { Store } from '../../src/store/index.ts';
import { insertWebhook } from '../../src/store/webhooks.ts';
import { seedOwner } from '../audit/fixtures.ts';
import { forEachEngine } from '../support/databases.ts';

const key = webhookSecretKey('daemon secret');

const subscribe = (store: Store, ownerId: string, events: string[] | null) => {
  const id = `whk_${Math.random().toString(36).slice(2)}`;
  return insertWebhook(store.db, {
    id,
    ownerId,
    url: 'https://example.com/hook',
    events,
    secretSealed: sealWebhookSecret(key, id, generateWebhookSecret()),
  });
};

const outbox = (store: Store) =>
  store.db
    .selectFrom('webhook_outbox')
    .select(['event_id', 'webhook_id', 'type', 'body', 'status'])
    .execute();

forEachEngine((engine, { makeStore }) => {
  describe(`webhook outbox (${engine})`, () => {
    it("records one delivery per subscribed webhook of the wallet's owner, in the caller's transaction", async () => {
      const store = await makeStore();
      const alice = await seedOwner(store, 'Alice');
      const bob = await seedOwner(store, 'Bob');
      const everything = await subscribe(store, alice.ownerId, null);
      const freezesOnly = await subscribe(store, alice.ownerId, ['wallet.frozen']);
      await subscribe(store, bob.ownerId, null);

      const confirmed = await store.writeTransaction((trx) =>
        enqueueEvent(trx, {
          type: 'transfer.confirmed',
          walletId: alice.walletId,
          data: { transferId: 'tr_1', amount: 5n, sessionToken: alice.sessionToken },
        }),
      );
      expect(confirmed.deliveries).toBe(1);
      const frozen = await store.writeTransaction((trx) =>
        enqueueEvent(trx, { type: 'wallet.frozen', walletId: alice.walletId, data: {} }),
      );
      expect(frozen.deliveries).toBe(2);

      const rows = await outbox(store);
      expect(rows.map((row) => [row.event_id, row.webhook_id]).sort()).toEqual(
        [
          [confirmed.eventId, everything.id],
          [frozen.eventId, everything.id],
          [frozen.eventId, freezesOnly.id],
        ].sort(),
      );
      const body = JSON.parse(rows.find((row) => row.event_id === confirmed.eventId)!.body);
      expect(body).toEqual({
        id: confirmed.eventId,
        type: 'transfer.confirmed',
        createdAt: expect.any(String),
        walletId: alice.walletId,
        data: { transferId: 'tr_1', amount: '5' },
      });
      expect(JSON.stringify(rows)).not.toContain(alice.sessionToken);
    });

    it('records nothing when the transaction that produced the event rolls back', async () => {
      const store = await makeStore();
      const alice = await seedOwner(store);
      await subscribe(store, alice.ownerId, null);
      await expect(
        store.writeTransaction(async (trx) => {
          await enqueueEvent(trx, { type: 'transfer.confirmed', walletId: alice.walletId, data: {} });
          throw new Error('the transfer was not stored after all');
        }),
      ).rejects.toThrow();
      expect(await outbox(store)).toEqual([]);
    });
  });
});
