/**
 * The multisig lock on both engines, with two lock owners on one database as two replicas would be
 * (on SQLite: two connections to one file): work never overlaps, a waiting replica is handed the
 * lease rather than starved by another's own queue, a live holder keeps its lease past
 * its length by renewing it, a dead holder's lease is taken over once it runs out, and a waiter past
 * its deadline fails with MULTISIG_BUSY instead of hanging (both behind another replica and behind
 * its own process).
 */
import { expect, it, vi } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { MultisigLocks } from '../../src/daemon/locks/multisig-locks.ts';
import { readMultisigLease, takeMultisigLease } from '../../src/store/multisig-locks.ts';
import { forEachEngine } from '../support/databases.ts';

const busyCode = (error: unknown) => (isWaiaasError(error) ? [error.code, error.status] : [String(error)]);

forEachEngine((_engine, { makeDatabase }) => {
  const twoReplicas = async (options = {}) => {
    const database = await makeDatabase();
    const [a, b] = [await database.open(), await database.open()];
    return {
      store: a,
      first: new MultisigLocks(a, 'rep_a:1:x', undefined, options),
      second: new MultisigLocks(b, 'rep_b:2:y', undefined, options),
    };
  };

  it('two replicas never run work on one wallet at the same time, and every request gets its turn', async () => {
    const { store, first, second } = await twoReplicas();
    let active = 0;
    let most = 0;
    const order: number[] = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        (index % 2 === 0 ? first : second).run('wal_shared', async () => {
          active += 1;
          most = Math.max(most, active);
          // A database round trip inside the work: the lease is this runner's while it runs.
          expect((await readMultisigLease(store.db, 'wal_shared'))?.holder).toBe(
            index % 2 === 0 ? 'rep_a:1:x' : 'rep_b:2:y',
          );
          order.push(index);
          active -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
    expect(order.sort((x, y) => x - y)).toEqual(Array.from({ length: 20 }, (_, index) => index));
    // Released: nobody holds it afterwards.
    expect(await readMultisigLease(store.db, 'wal_shared')).toBeUndefined();
  });

  it('other wallets are not held up by a busy one', async () => {
    const { first, second } = await twoReplicas({ waitMs: 2_000 });
    let releaseBusy!: () => void;
    const busy = first.run('wal_busy', () => new Promise<void>((resolve) => (releaseBusy = resolve)));
    await expect(second.run('wal_other', async () => 'done')).resolves.toBe('done');
    releaseBusy();
    await busy;
  });

  it('a replica with a steady queue of its own hands the lease to a waiting replica instead of keeping it', async () => {
    const { store, first, second } = await twoReplicas({ waitMs: 10_000 });
    const order: string[] = [];
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => (firstStarted = resolve));
    const queue = Array.from({ length: 10 }, (_, index) =>
      first.run('wal_fair', async () => {
        if (index === 0) {
          firstStarted();
          // The first job ends only once the other replica has asked for the lease.
          await vi.waitFor(
            async () => expect((await readMultisigLease(store.db, 'wal_fair'))?.wantedBy).toBe('rep_b:2:y'),
            { timeout: 5_000, interval: 10 },
          );
        }
        order.push(`first:${index}`);
      }),
    );
    await started;
    await second.run('wal_fair', async () => {
      order.push('second');
    });
    await Promise.all(queue);
    // Without the hand-over the first replica would take the lease again for each of its own ten.
    expect(order.indexOf('second')).toBeLessThan(4);
  });

  it('a live holder keeps its lease past the lease length by renewing it', async () => {
    const { store, first, second } = await twoReplicas({ leaseMs: 150, waitMs: 5_000 });
    const events: string[] = [];
    let started!: () => void;
    const holding = new Promise<void>((resolve) => (started = resolve));
    const long = first.run('wal_renew', async () => {
      events.push('first:start');
      const taken = (await readMultisigLease(store.db, 'wal_renew'))!.untilMs;
      started();
      // Held until the lease was renewed past four lease lengths, the other replica waiting all along.
      await vi.waitFor(
        async () =>
          expect((await readMultisigLease(store.db, 'wal_renew'))!.untilMs).toBeGreaterThan(taken + 600),
        { timeout: 5_000, interval: 20 },
      );
      events.push('first:end');
    });
    await holding;
    await second.run('wal_renew', async () => {
      events.push('second:start');
    });
    await long;
    expect(events).toEqual(['first:start', 'first:end', 'second:start']);
  });

  it('a lease whose holder died is taken over once it runs out', async () => {
    const { store, second } = await twoReplicas({ waitMs: 5_000 });
    const diedAt = Date.now();
    // What a killed replica leaves: its lease, never renewed again.
    expect(await takeMultisigLease(store.db, 'wal_dead', 'rep_dead:9:z', diedAt, diedAt + 400)).toBe(true);
    const tookAt = await second.run('wal_dead', async () => {
      expect((await readMultisigLease(store.db, 'wal_dead'))?.holder).toBe('rep_b:2:y');
      return Date.now();
    });
    expect(tookAt).toBeGreaterThanOrEqual(diedAt + 400);
  });

  it('a waiter behind another replica past its deadline gets MULTISIG_BUSY (503), not a hang', async () => {
    const { store, second } = await twoReplicas({ waitMs: 300 });
    const nowMs = Date.now();
    expect(await takeMultisigLease(store.db, 'wal_held', 'rep_alive:3:w', nowMs, nowMs + 60_000)).toBe(true);
    let ran = false;
    const failure = await second
      .run('wal_held', async () => {
        ran = true;
      })
      .catch((error: unknown) => error);
    expect(busyCode(failure)).toEqual(['MULTISIG_BUSY', 503]);
    expect(ran).toBe(false);
    expect(Date.now() - nowMs).toBeLessThan(5_000);
    // The live holder still has it.
    expect((await readMultisigLease(store.db, 'wal_held'))?.holder).toBe('rep_alive:3:w');
  });

  it('a waiter behind its own process past its deadline gets MULTISIG_BUSY; the wallet is free again once the holder is done', async () => {
    const { first } = await twoReplicas({ waitMs: 300 });
    let releaseHolder!: () => void;
    const events: string[] = [];
    const holder = first.run('wal_local', async () => {
      events.push('holder');
      await new Promise<void>((resolve) => (releaseHolder = resolve));
    });
    const timedOut = first.run('wal_local', async () => {
      events.push('never');
    });
    expect(busyCode(await timedOut.catch((error: unknown) => error))).toEqual(['MULTISIG_BUSY', 503]);
    releaseHolder();
    await holder;
    await expect(first.run('wal_local', async () => 'after')).resolves.toBe('after');
    expect(events).toEqual(['holder']);
  });
});
