/**
 * Wrong owner second factors back off per owner, across replicas: three wrong factors are answered
 * as wrong; then every attempt is refused (429 OWNER_UNLOCK_THROTTLED, Retry-After) without being
 * checked until the wait is over; the wait doubles from 30 s to the 15-minute lockout window and never
 * grows past it; every wrong factor is audited; the right factor after the wait works and clears the
 * count. Real keystores (argon2id at test cost), real databases, and a whole daemon over HTTP.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { OwnerKeys } from '../../src/daemon/runtime/owner-keys.ts';
import { UNLOCK_LOCKOUT_MS } from '../../src/daemon/runtime/unlock-throttle.ts';
import { provisionLocalOwnerKey } from '../../src/keys/index.ts';
import { insertOwner, type Owner, type Store } from '../../src/store/index.ts';
import { bearer, createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { forEachEngine } from '../support/databases.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const RIGHT = 'the right passphrase';
const WRONG = 'a wrong passphrase';
const message = new TextEncoder().encode('owner act');

const clock = (start = Date.now()) => {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
};

async function makeOwner(store: Store): Promise<Owner> {
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-throttle-'));
  const { config, publicKey } = await provisionLocalOwnerKey(
    { keystorePath: join(dir, 'owner.json'), passphrase: RIGHT },
    { insecureKdfForTests: true },
  );
  return insertOwner(store.db, {
    id: `own_${Math.random().toString(36).slice(2)}`,
    name: 'Owner',
    signer: config,
    publicKey,
    tokenHash: `hash-${Math.random()}`,
  });
}

/** The code of what signing with `unlock` ends in ('OK' when it signs). */
const attempt = async (keys: OwnerKeys, owner: Owner, unlock: string): Promise<string> => {
  try {
    await keys.of(owner).withUnlock(unlock, (signer) => signer.sign(message));
    return 'OK';
  } catch (error) {
    return isWaiaasError(error) ? error.code : String(error);
  }
};

const retryAfterOf = async (keys: OwnerKeys, owner: Owner): Promise<number> => {
  const error = await keys
    .of(owner)
    .withUnlock(WRONG, async () => undefined)
    .catch((caught: unknown) => caught);
  if (!isWaiaasError(error, 'OWNER_UNLOCK_THROTTLED')) throw new Error(`not throttled: ${String(error)}`);
  return error.details.retryAfterSeconds as number;
};

const unlockAudit = (store: Store, ownerId: string) =>
  store.db
    .selectFrom('audit_log')
    .select(['kind', 'actor_role', 'actor_id', 'details'])
    .where('kind', '=', 'owner.unlock_failed')
    .where('owner_id', '=', ownerId)
    .orderBy('sequence')
    .execute();

forEachEngine((engine, { makeDatabase }) => {
  describe(`the owner unlock throttle (${engine})`, () => {
    it('after three wrong factors every replica refuses the owner until the wait is over; then the right one works', async () => {
      const database = await makeDatabase();
      const [storeA, storeB] = [await database.open(), await database.open()];
      const time = clock();
      const replicaA = new OwnerKeys({ store: storeA, now: time.now });
      const replicaB = new OwnerKeys({ store: storeB, now: time.now });
      const owner = await makeOwner(storeA);

      expect([
        await attempt(replicaA, owner, WRONG),
        await attempt(replicaB, owner, WRONG),
        await attempt(replicaA, owner, WRONG),
      ]).toEqual(['KEYSTORE_WRONG_PASSPHRASE', 'KEYSTORE_WRONG_PASSPHRASE', 'KEYSTORE_WRONG_PASSPHRASE']);
      // The other replica knows it from the database: even the right factor waits (it is not checked).
      expect(await attempt(replicaB, owner, RIGHT)).toBe('OWNER_UNLOCK_THROTTLED');
      expect(await retryAfterOf(replicaB, owner)).toBe(30);
      time.advance(20_000);
      expect(await retryAfterOf(replicaA, owner)).toBe(10);
      // The owner act's early check (before any state changes) refuses it on the replica that saw it.
      expect(() => replicaA.assertNotThrottled(owner)).toThrow(/try again in 10 s/);

      const audit = await unlockAudit(storeA, owner.id);
      expect(audit.map((entry) => [entry.actor_role, entry.actor_id, JSON.parse(entry.details)])).toEqual([
        ['owner', owner.id, { code: 'KEYSTORE_WRONG_PASSPHRASE', attempts: 1 }],
        ['owner', owner.id, { code: 'KEYSTORE_WRONG_PASSPHRASE', attempts: 2 }],
        [
          'owner',
          owner.id,
          {
            code: 'KEYSTORE_WRONG_PASSPHRASE',
            attempts: 3,
            retryAfterSeconds: 30,
            lockedUntil: expect.any(String),
          },
        ],
      ]);

      time.advance(10_001);
      expect(await attempt(replicaB, owner, RIGHT)).toBe('OK');
      // The count starts again: three more wrong factors before the next wait.
      expect(await storeA.db.selectFrom('owner_unlock_throttle').selectAll().execute()).toEqual([]);
      expect(await attempt(replicaA, owner, WRONG)).toBe('KEYSTORE_WRONG_PASSPHRASE');
      expect(await attempt(replicaA, owner, WRONG)).toBe('KEYSTORE_WRONG_PASSPHRASE');
      await replicaA.close();
      await replicaB.close();
    });

    it('the wait grows from 30 s to the 15-minute lockout and no further; refused attempts do not lengthen it', async () => {
      const store = await (await makeDatabase()).open();
      const time = clock();
      const keys = new OwnerKeys({ store, now: time.now });
      const owner = await makeOwner(store);
      for (let n = 0; n < 3; n++) await attempt(keys, owner, WRONG);
      const waits: number[] = [];
      for (let n = 0; n < 8; n++) {
        const wait = await retryAfterOf(keys, owner);
        // Hammering during the wait changes nothing.
        for (let k = 0; k < 5; k++) expect(await retryAfterOf(keys, owner)).toBe(wait);
        waits.push(wait);
        time.advance(wait * 1000);
        expect(await attempt(keys, owner, WRONG)).toBe('KEYSTORE_WRONG_PASSPHRASE');
      }
      expect(waits).toEqual([30, 60, 120, 240, 480, 900, 900, 900]);
      expect(Math.max(...waits) * 1000).toBe(UNLOCK_LOCKOUT_MS);
      // Only the wrong factors that were checked are audited: 3 + 8.
      expect(await unlockAudit(store, owner.id)).toHaveLength(11);

      // After the lockout window, the right factor works.
      time.advance(UNLOCK_LOCKOUT_MS);
      expect(await attempt(keys, owner, RIGHT)).toBe('OK');
      await keys.close();
    });

    it('a burst of parallel guesses is counted as it arrives: three are checked, the rest refused unchecked', async () => {
      const store = await (await makeDatabase()).open();
      const keys = new OwnerKeys({ store });
      const owner = await makeOwner(store);
      const answers = await Promise.all(Array.from({ length: 10 }, () => attempt(keys, owner, WRONG)));
      expect(answers.filter((code) => code === 'KEYSTORE_WRONG_PASSPHRASE')).toHaveLength(3);
      expect(answers.filter((code) => code === 'OWNER_UNLOCK_THROTTLED')).toHaveLength(7);
      await keys.close();
    });

    it('neither a missing factor nor an open unlock window is counted; a day without attempts forgets them', async () => {
      const store = await (await makeDatabase()).open();
      const time = clock();
      const keys = new OwnerKeys({ store, now: time.now });
      const owner = await makeOwner(store);
      for (let n = 0; n < 5; n++) expect(await attempt(keys, owner, '')).toBe('OWNER_UNLOCK_REQUIRED');
      await attempt(keys, owner, WRONG);
      await attempt(keys, owner, WRONG);
      time.advance(24 * 3_600_000);
      await attempt(keys, owner, WRONG);
      // Forgotten: this third wrong factor in a row counts as the first, so no wait follows it.
      expect(await attempt(keys, owner, WRONG)).toBe('KEYSTORE_WRONG_PASSPHRASE');
      await keys.close();
    });
  });
});

describeWithSquads('the owner unlock throttle over HTTP', () => {
  let daemon: TestDaemon;
  let offsetMs = 0;

  beforeAll(async () => {
    daemon = await startTestDaemon();
    daemon.runtime.ownerKeys.throttle?.setClock(() => Date.now() + offsetMs);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('answers 429 with Retry-After across owner-key acts, audits it, changes nothing, and lets the right factor through after the wait', async () => {
    const { app, runtime } = daemon;
    const { owner, wallet } = await createOwnerWalletSession(app, runtime.store);
    const act = (method: 'POST' | 'PUT', url: string, unlock: string, payload: Record<string, unknown>) =>
      app.inject({ method, url, headers: bearer(owner.token, { 'x-owner-unlock': unlock }), payload });
    const createWallet = (unlock: string) =>
      act('POST', '/v1/wallets', unlock, { name: 'Second', policy: starterPolicy() });

    const wrong = [
      await createWallet(WRONG),
      await act('PUT', `/v1/wallets/${wallet.id}/policy`, WRONG, { policy: starterPolicy({ version: 2 }) }),
      await act('POST', `/v1/wallets/${wallet.id}/withdraw`, WRONG, {
        to: wallet.agentPublicKey,
        amount: '1000',
      }),
    ];
    expect(wrong.map((response) => [response.statusCode, response.json().code])).toEqual([
      [401, 'KEYSTORE_WRONG_PASSPHRASE'],
      [401, 'KEYSTORE_WRONG_PASSPHRASE'],
      [401, 'KEYSTORE_WRONG_PASSPHRASE'],
    ]);

    // The kill switch's owner-key part too: refused before the server block, so nothing changes.
    const freeze = await act('POST', `/v1/wallets/${wallet.id}/freeze`, OWNER_PASSPHRASE, {});
    expect(freeze.statusCode).toBe(429);
    // 30 s from the third wrong factor, less the time the calls took.
    const retryAfter = Number(freeze.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(20);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(freeze.json()).toMatchObject({
      code: 'OWNER_UNLOCK_THROTTLED',
      status: 429,
      details: { retryAfterSeconds: retryAfter },
    });
    const right = await createWallet(OWNER_PASSPHRASE);
    expect(right.statusCode).toBe(429);
    expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(20);
    const walletRow = await runtime.store.db
      .selectFrom('wallets')
      .select('status')
      .where('id', '=', wallet.id)
      .executeTakeFirstOrThrow();
    expect(walletRow.status).toBe('active');

    const audit = await runtime.store.db
      .selectFrom('audit_log')
      .select(['kind', 'details'])
      .where('kind', 'in', ['owner.unlock_failed', 'auth.failure'])
      .execute();
    expect(audit.filter((entry) => entry.kind === 'owner.unlock_failed')).toHaveLength(3);
    expect(
      audit.filter(
        (entry) =>
          entry.kind === 'auth.failure' && JSON.parse(entry.details).code === 'OWNER_UNLOCK_THROTTLED',
      ),
    ).toHaveLength(2);

    offsetMs = 31_000;
    const after = await createWallet(OWNER_PASSPHRASE);
    expect(after.statusCode).toBe(201);
  });
});
