/**
 * The multisig lock on the request path, with the real Squads program: while another replica holds
 * the wallet's multisig (here one that died holding it, its lease never renewed), an approval request
 * waits until its deadline and is answered 503 MULTISIG_BUSY, retryable, leaving no transfer behind;
 * once the dead replica's lease runs out the same request is proposed and waits for the owner.
 */
import { expect, it, vi } from 'vitest';
import { readMultisigLease, takeMultisigLease } from '../../src/store/multisig-locks.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
} from './harness.ts';

const DEAD_LEASE_MS = 3_000;

describeWithSquads('a wallet whose multisig another replica holds', () => {
  it('an approval request past its wait is 503 MULTISIG_BUSY with nothing kept; after the dead lease runs out it goes through', async () => {
    const daemon = await startTransferDaemon({ multisigLocks: { waitMs: 500 } });
    try {
      const owner = await createOwner(daemon.app, daemon.store);
      const { wallet, session } = await createWalletSession(
        daemon,
        owner,
        policy({
          perTransaction: SOL,
          daily: 10n * SOL,
          instantMax: SOL / 100n,
          notifyMax: SOL / 50n,
          delayMax: SOL / 20n,
        }),
        5n * SOL,
      );
      const diedAt = Date.now();
      expect(
        await takeMultisigLease(daemon.store.db, wallet.id, 'rep_dead:1:x', diedAt, diedAt + DEAD_LEASE_MS),
      ).toBe(true);
      const body = { to: newRecipient(), amount: String(SOL / 10n) };

      const refused = await postTransfer(daemon.app, session.token, wallet.id, body);
      expect(refused.statusCode).toBe(503);
      expect(refused.json()).toMatchObject({ code: 'MULTISIG_BUSY', retryable: true });
      expect(await daemon.store.db.selectFrom('transfers').select('id').execute()).toEqual([]);

      // The dead replica never renews: its lease ends on its own, and the request then goes through.
      let proposed = refused;
      await vi.waitFor(
        async () => {
          proposed = await postTransfer(daemon.app, session.token, wallet.id, body);
          expect(proposed.statusCode).toBe(202);
        },
        { timeout: DEAD_LEASE_MS + 10_000, interval: 100 },
      );
      expect(Date.now()).toBeGreaterThan(diedAt + DEAD_LEASE_MS);
      expect(proposed.json()).toMatchObject({ status: 'pending_approval', transactionIndex: '1' });
      expect(await readMultisigLease(daemon.store.db, wallet.id)).toBeUndefined();
    } finally {
      await daemon.close();
    }
  });
});
