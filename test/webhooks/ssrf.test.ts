/**
 * Webhooks cannot reach inside. Every spelling of a loopback, private, link-local, CGNAT, metadata,
 * unspecified, multicast, reserved or IPv4-embedding address is refused at registration with
 * WEBHOOK_URL_FORBIDDEN and nothing is stored; a name that resolves there is refused too; a name that
 * resolves somewhere public at registration and inside at delivery fails the delivery without any
 * connection; an allowed host (by name, IP or CIDR) is delivered to, on the address that was checked.
 *
 * DNS: nothing outside this machine may be asked, so names other than localhost are answered by a
 * resolver written here (it stands in for DNS, and counts its calls); `localhost` goes to the system.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/daemon/logger.ts';
import { enqueueEvent, type ResolvedAddress, type ResolveHost } from '../../src/daemon/notifier/index.ts';
import { PrincipalCache } from '../../src/daemon/principal-cache.ts';
import { webhookRoutes } from '../../src/daemon/routes/webhooks.ts';
import type { Store } from '../../src/store/index.ts';
import { buildRoutesApp, type SeededOwner, seedOwner } from '../audit/fixtures.ts';
import { bearer } from '../support/api.ts';
import { forEachEngine } from '../support/databases.ts';
import { type Receiver, startReceiver, waitFor } from './receiver.ts';

const daemonSecret = { value: 'daemon secret for ssrf tests' };
const PUBLIC = '93.184.216.34';

/** The "DNS" of these tests: fixed answers per name, changeable per test, and a call log. */
const answers = new Map<string, ResolvedAddress[]>();
const asked: string[] = [];
const v4 = (address: string): ResolvedAddress => ({ address, family: 4 });
const v6 = (address: string): ResolvedAddress => ({ address, family: 6 });
const testResolver: ResolveHost = async (hostname) => {
  asked.push(hostname);
  const answer = answers.get(hostname);
  if (answer === undefined) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
  return answer;
};

const resetAnswers = () => {
  answers.clear();
  answers.set('rebind.test', [v4('10.1.2.3')]);
  answers.set('mixed.test', [v4(PUBLIC), v4('127.0.0.1')]);
  answers.set('metadata-alias.test', [v4('169.254.169.254')]);
  answers.set('mapped.test', [v6('::ffff:127.0.0.1')]);
  answers.set('v6-loopback.test', [v6('::1')]);
  answers.set('ula.test', [v6('fd00:ec2::254')]);
  answers.set('public.test', [v4(PUBLIC)]);
};

/** Each URL, and the range the refusal names (undefined: refused by name, before any lookup). */
const BATTERY: [string, string | undefined][] = [
  ['http://127.0.0.1/hook', 'loopback'],
  ['http://2130706433/hook', 'loopback'],
  ['http://0x7f000001/hook', 'loopback'],
  ['http://0177.0.0.1/hook', 'loopback'],
  ['http://127.1/hook', 'loopback'],
  ['http://127.0.0.1.:8080/hook', 'loopback'],
  ['http://[::1]/hook', 'loopback'],
  ['http://[::ffff:127.0.0.1]/hook', 'ipv4Mapped'],
  ['http://[::ffff:7f00:1]/hook', 'ipv4Mapped'],
  ['http://[0:0:0:0:0:ffff:7f00:1]/hook', 'ipv4Mapped'],
  ['http://[::127.0.0.1]/hook', 'ipv4Compatible'],
  ['http://[64:ff9b::7f00:1]/hook', 'rfc6052'],
  ['http://[64:ff9b:1::a00:1]/hook', 'rfc6052'],
  ['http://[2002:7f00:1::]/hook', '6to4'],
  ['http://[2001::1]/hook', 'teredo'],
  ['http://0.0.0.0/hook', 'unspecified'],
  ['http://0/hook', 'unspecified'],
  ['http://[::]/hook', 'unspecified'],
  ['http://10.0.0.1/hook', 'private'],
  ['http://172.16.5.4/hook', 'private'],
  ['http://172.31.255.255/hook', 'private'],
  ['http://192.168.1.1/hook', 'private'],
  ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
  ['http://0xa9fea9fe/latest/meta-data/', 'linkLocal'],
  ['http://2852039166/latest/meta-data/', 'linkLocal'],
  ['http://[::ffff:a9fe:a9fe]/latest/meta-data/', 'ipv4Mapped'],
  ['http://[fd00:ec2::254]/latest/meta-data/', 'uniqueLocal'],
  ['http://[fc00::1]/hook', 'uniqueLocal'],
  ['http://[fe80::1]/hook', 'linkLocal'],
  ['http://100.64.0.1/hook', 'carrierGradeNat'],
  ['http://224.0.0.1/hook', 'multicast'],
  ['http://[ff02::1]/hook', 'multicast'],
  ['http://255.255.255.255/hook', 'broadcast'],
  ['http://240.0.0.1/hook', 'reserved'],
  ['http://192.0.2.10/hook', 'reserved'],
  ['http://[2001:db8::1]/hook', 'reserved'],
  ['https://localhost/hook', undefined],
  ['http://localhost./hook', undefined],
  ['http://LOCALHOST:8080/hook', undefined],
  ['http://api.localhost/hook', undefined],
  ['http://metadata.google.internal/computeMetadata/v1/', undefined],
  ['http://metadata.google.internal./computeMetadata/v1/', undefined],
  ['http://printer.local/hook', undefined],
  ['http://rebind.test/hook', 'private'],
  ['http://mixed.test/hook', 'loopback'],
  ['http://metadata-alias.test/hook', 'linkLocal'],
  ['http://mapped.test/hook', 'ipv4Mapped'],
  ['http://v6-loopback.test/hook', 'loopback'],
  ['http://ula.test/hook', 'uniqueLocal'],
];

forEachEngine((engine, { makeStore }) => {
  describe(`webhook destinations (${engine})`, () => {
    const cleanups: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      resetAnswers();
      asked.length = 0;
    });

    async function setUp(allowHosts: string[], delivery = false) {
      resetAnswers();
      const store = await makeStore();
      const owner = await seedOwner(store);
      const app = await buildRoutesApp(store, [
        webhookRoutes(
          {
            store,
            principals: new PrincipalCache(store),
            logger: createLogger('silent'),
            daemonSecret,
            config: { webhookAllowHosts: allowHosts },
          },
          {
            resolve: testResolver,
            delivery: delivery ? { pollMs: 20, timeoutMs: 2000, backoffBaseMs: 60, maxAttempts: 2 } : false,
          },
        ),
      ]);
      cleanups.push(() => app.close());
      return { store, owner, app };
    }

    const create = (app: FastifyInstance, owner: SeededOwner, url: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: bearer(owner.ownerToken),
        payload: { url },
      });

    const emit = (store: Store, owner: SeededOwner) =>
      store.writeTransaction((trx) =>
        enqueueEvent(trx, { type: 'wallet.frozen', walletId: owner.walletId, data: { by: 'test' } }),
      );

    const deliveries = async (app: FastifyInstance, owner: SeededOwner, webhookId: string) =>
      (
        await app.inject({
          method: 'GET',
          url: `/v1/webhooks/${webhookId}/deliveries`,
          headers: bearer(owner.ownerToken),
        })
      ).json().items as { status: string; attempts: number; lastError: string | null }[];

    it('refuses every spelling of an inside address with WEBHOOK_URL_FORBIDDEN, and stores nothing', async () => {
      const { store, owner, app } = await setUp([]);
      const wrong: string[] = [];
      for (const [url, range] of BATTERY) {
        const response = await create(app, owner, url);
        const body = response.json();
        const ok =
          response.statusCode === 422 &&
          body.code === 'WEBHOOK_URL_FORBIDDEN' &&
          (range === undefined ? body.details.range === undefined : body.details.range === range);
        if (!ok) wrong.push(`${url}: ${response.statusCode} ${response.body}`);
      }
      expect(wrong).toEqual([]);
      expect(await store.db.selectFrom('webhooks').selectAll().execute()).toEqual([]);
      // Refused by name before any lookup: localhost and internal names never reach the resolver.
      expect(asked.filter((name) => /localhost|internal|local$/.test(name))).toEqual([]);
    });

    it('refuses a name that does not resolve, and accepts one that resolves to a public address', async () => {
      const { app, owner } = await setUp([]);
      const unknown = await create(app, owner, 'https://nowhere.test/hook');
      expect(unknown.statusCode).toBe(422);
      expect(unknown.json()).toMatchObject({
        code: 'WEBHOOK_URL_FORBIDDEN',
        details: { host: 'nowhere.test', reason: 'ENOTFOUND' },
      });
      expect((await create(app, owner, 'https://public.test/hook')).statusCode).toBe(201);
      expect((await create(app, owner, `https://${PUBLIC}/hook`)).statusCode).toBe(201);
    });

    it('an operator-allowed host works: by IP, by CIDR and by name, delivered to the address checked', async () => {
      const receiver: Receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const port = new URL(receiver.url).port;
      const { store, owner, app } = await setUp(['127.0.0.0/8', 'receiver.test'], true);
      answers.set('receiver.test', [v4('127.0.0.1')]);

      for (const url of [
        receiver.url,
        `http://2130706433:${port}/hooks`,
        `http://receiver.test:${port}/hooks`,
      ]) {
        const created = await create(app, owner, url);
        expect([url, created.statusCode]).toEqual([url, 201]);
        receiver.secret = created.json().secret;
        const { eventId } = await emit(store, owner);
        await waitFor(() => receiver.processed.find((event) => event.id === eventId));
        await app.inject({
          method: 'DELETE',
          url: `/v1/webhooks/${created.json().id}`,
          headers: bearer(owner.ownerToken),
        });
      }
      // Allowed by name: not looked up at registration; the one delivery resolved it once, and the
      // connection went to that answer, not to DNS (which knows no receiver.test).
      expect(receiver.requests.map((request) => request.signatureValid)).toEqual([true, true, true]);
      expect(asked.filter((name) => name === 'receiver.test')).toEqual(['receiver.test']);
    });

    it('a name that turns inside after registration fails at delivery, without connecting, and says why', async () => {
      const receiver = await startReceiver();
      cleanups.push(() => receiver.close());
      const port = new URL(receiver.url).port;
      const { store, owner, app } = await setUp([], true);
      answers.set('flip.test', [v4(PUBLIC)]);
      const created = await create(app, owner, `http://flip.test:${port}/hooks`);
      expect(created.statusCode).toBe(201);
      receiver.secret = created.json().secret;

      // DNS rebinding: the same name now answers the receiver's loopback address.
      answers.set('flip.test', [v4('127.0.0.1')]);
      await emit(store, owner);
      const [delivery] = await waitFor(async () => {
        const items = await deliveries(app, owner, created.json().id);
        return items[0]?.status === 'failed' ? items : undefined;
      });
      expect(delivery).toMatchObject({ status: 'failed', attempts: 2 });
      expect(delivery!.lastError).toContain('WEBHOOK_URL_FORBIDDEN');
      expect(delivery!.lastError).toContain('127.0.0.1');
      expect(receiver.requests).toEqual([]);
    });
  });
});
