/**
 * The fee payer cannot be drained (localnet, real Squads program, the enclave as its own process):
 * every approval request locks about 0.005 SOL of the fee payer's rent until its vault transaction and
 * proposal are closed. Rejected with the second factor, they are closed at once; expired, at the
 * owner's next act. So 20 requests rejected or expired leave the fee payer's balance where it was,
 * less the fees of the transactions it paid, to the lamport. Open requests are bounded, and what the
 * fee payer spends for a wallet (request rent, recipients' new token accounts) is capped per day by
 * the policy.
 */
import {
  createMint,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMultisig, readPendingTransfer } from '../../src/squads/index.ts';
import { feeCounts } from '../../src/store/fee-spends.ts';
import { findTransfer } from '../../src/store/transfers.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  balanceOf,
  createOwner,
  createWalletSession,
  fund,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TestWalletSession,
  type TransferDaemon,
} from './harness.ts';

/** Lamports per signature on the localnet, as on mainnet; the pipeline sets no priority fee. */
const FEE_PER_SIGNATURE = 5_000n;

describeWithSquads('approval requests and the fee payer', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;
  let offsetMs = 0;

  beforeAll(async () => {
    daemon = await startTransferDaemon({ transfers: { now: () => Date.now() + offsetMs } });
    owner = await createOwner(daemon.app, daemon.store);
  });
  afterEach(() => {
    offsetMs = 0;
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const connection = () => daemon.runtime.chain.connection;
  const feePayer = () => daemon.runtime.feePayer.publicKey;
  const ownerCall = (method: 'POST' | 'PUT', url: string, payload?: unknown) =>
    daemon.app.inject({
      method,
      url,
      headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  /** An approval-tier request (over delayMax, within perTransaction), pending the owner once proposed. */
  const request = async (setup: TestWalletSession, extra = 0n) => {
    const answer = await postTransfer(daemon.app, setup.session.token, setup.wallet.id, {
      to: newRecipient(),
      amount: String(SOL + 1n + extra),
    });
    return answer;
  };
  const openOnChain = async (setup: TestWalletSession, transferId: string) => {
    const record = await findTransfer(daemon.store.db, transferId);
    const pending = await readPendingTransfer(
      connection(),
      new PublicKey(setup.wallet.multisig),
      record!.transactionIndex!,
    );
    return pending.vaultTransaction !== null || pending.proposal !== null;
  };
  /** The newest transaction the fee payer took part in: where the measured window starts. */
  const newestFeePayerSignature = async () =>
    (await connection().getSignaturesForAddress(feePayer(), { limit: 1 }, 'confirmed'))[0]?.signature;
  /** Every transaction the fee payer paid for since `until`, with its fee and signature count. */
  const paidSince = async (until: string | undefined) => {
    const signatures = await connection().getSignaturesForAddress(
      feePayer(),
      { limit: 1000, ...(until ? { until } : {}) },
      'confirmed',
    );
    const paid: { fee: bigint; signatures: number }[] = [];
    for (const { signature } of signatures) {
      const transaction = await connection().getTransaction(signature, {
        commitment: 'confirmed',
        maxSupportedTransactionVersion: 0,
      });
      const payer = transaction?.transaction.message.staticAccountKeys[0];
      if (!transaction?.meta || !payer?.equals(feePayer())) continue;
      paid.push({
        fee: BigInt(transaction.meta.fee),
        signatures: transaction.transaction.signatures.length,
      });
    }
    return paid;
  };

  it('20 approval requests, 10 rejected and 10 expired, leave the fee payer where it was, less fees', async () => {
    const setup = await createWalletSession(
      daemon,
      owner,
      {
        ...policy({ approvalTimeoutSeconds: 60 }),
        fees: { dailyLamports: String(SOL / 5n), maxOpenApprovals: 10 },
      },
      3n * SOL,
    );
    const multisig = new PublicKey(setup.wallet.multisig);
    expect((await readMultisig(connection(), multisig)).rentCollector?.equals(feePayer())).toBe(true);
    const until = await newestFeePayerSignature();
    const before = await balanceOf(daemon, feePayer().toBase58());

    // Ten requests, all proposed on chain and waiting for the owner; an eleventh is refused.
    const first: string[] = [];
    for (let index = 0; index < 10; index++) {
      const answer = await request(setup, BigInt(index));
      expect([answer.statusCode, answer.json().status]).toEqual([202, 'pending_approval']);
      first.push(answer.json().id);
    }
    const locked = before - (await balanceOf(daemon, feePayer().toBase58()));
    // Each request locks the rent of its two accounts (5,158,440 lamports with its fees, DESIGN §8).
    expect(locked).toBeGreaterThan(10n * 5_000_000n);
    const eleventh = await request(setup, 11n);
    expect([eleventh.statusCode, eleventh.json().code, eleventh.json().layer]).toEqual([
      403,
      'TOO_MANY_OPEN_APPROVALS',
      'server',
    ]);

    // Rejected with the second factor: voted down and closed on chain at once.
    for (const id of first) {
      const rejected = await ownerCall('POST', `/v1/transfers/${id}/reject`);
      expect([rejected.statusCode, rejected.json().status]).toEqual([200, 'rejected']);
      expect(await openOnChain(setup, id)).toBe(false);
    }
    expect((await feeCounts(daemon.store.db, setup.wallet.id, 0n)).openApprovals).toBe(0);

    // Ten more, left to expire: still open on chain (only a voter can reject them)…
    const second: string[] = [];
    for (let index = 0; index < 10; index++) {
      const answer = await request(setup, 20n + BigInt(index));
      expect(answer.json().status).toBe('pending_approval');
      second.push(answer.json().id);
    }
    offsetMs = 61_000;
    await daemon.transfers.runWorkersOnce();
    for (const id of second) {
      expect((await findTransfer(daemon.store.db, id))?.status).toBe('expired');
      expect(await openOnChain(setup, id)).toBe(true);
    }
    expect((await feeCounts(daemon.store.db, setup.wallet.id, 0n)).openApprovals).toBe(10);
    // …until the owner's next act (here a policy change) rejects and closes them.
    const changed = await ownerCall('PUT', `/v1/wallets/${setup.wallet.id}/policy`, {
      policy: {
        ...policy({ approvalTimeoutSeconds: 60 }),
        version: 2,
        fees: { dailyLamports: String(SOL / 5n) },
      },
    });
    expect(changed.statusCode).toBe(200);
    for (const id of second) expect(await openOnChain(setup, id)).toBe(false);
    expect((await feeCounts(daemon.store.db, setup.wallet.id, 0n)).openApprovals).toBe(0);

    const after = await balanceOf(daemon, feePayer().toBase58());
    const paid = await paidSince(until);
    const fees = paid.reduce((sum, transaction) => sum + transaction.fee, 0n);
    // No priority fees: every fee is 5,000 lamports per signature.
    expect(fees).toBe(
      FEE_PER_SIGNATURE * BigInt(paid.reduce((sum, transaction) => sum + transaction.signatures, 0)),
    );
    // 20 proposals (fee payer + agent), 10 reject-and-close, and the owner's closing transactions.
    expect(paid.length).toBeGreaterThanOrEqual(31);
    expect(before - after).toBe(fees);
  });

  it('a freeze cancels the open requests; stale after it, their proposals are closed with no rejection', async () => {
    const setup = await createWalletSession(daemon, owner, policy(), 3n * SOL);
    const ids: string[] = [];
    for (let index = 0; index < 2; index++) {
      const answer = await request(setup, BigInt(index));
      expect(answer.json().status).toBe('pending_approval');
      ids.push(answer.json().id);
    }
    const frozen = await ownerCall('POST', `/v1/wallets/${setup.wallet.id}/freeze`);
    expect(frozen.statusCode).toBe(200);
    const state = await readMultisig(connection(), new PublicKey(setup.wallet.multisig));
    for (const id of ids) {
      const record = await findTransfer(daemon.store.db, id);
      expect(record?.status).toBe('cancelled');
      expect(record!.transactionIndex! <= state.staleTransactionIndex).toBe(true);
      expect(await openOnChain(setup, id)).toBe(false);
    }
    expect((await feeCounts(daemon.store.db, setup.wallet.id, 0n)).openApprovals).toBe(0);
  });

  describe('what the fee payer spends for a wallet is capped per day by its policy', () => {
    it('approval requests past fees.dailyLamports are refused with FEE_BUDGET_EXCEEDED', async () => {
      const setup = await createWalletSession(
        daemon,
        owner,
        { ...policy(), fees: { dailyLamports: '10000000' } },
        3n * SOL,
      );
      const first = await request(setup);
      expect(first.json().status).toBe('pending_approval');
      const second = await request(setup, 1n);
      expect([second.statusCode, second.json().code, second.json().layer]).toEqual([
        403,
        'FEE_BUDGET_EXCEEDED',
        'server',
      ]);
      expect(second.json().details).toMatchObject({ dailyLamports: '10000000' });
      // Nothing was reserved or proposed for it.
      const { transactionIndex } = await readMultisig(connection(), new PublicKey(setup.wallet.multisig));
      expect(transactionIndex).toBe(1n);
    });

    it('recipients’ new token accounts count against it; a recipient that has one costs nothing', async () => {
      const authority = Keypair.generate();
      await fund(daemon, authority.publicKey.toBase58(), 2n * SOL);
      const mint = await createMint(connection(), authority, authority.publicKey, null, 6);
      const tokenLimits = {
        perTransaction: '5000000',
        daily: '50000000',
        tiers: { instantMax: '5000000', notifyMax: '5000000', delayMax: '5000000', delaySeconds: 0 },
      };
      const rent = BigInt(await connection().getMinimumBalanceForRentExemption(165));
      const setup = await createWalletSession(
        daemon,
        owner,
        {
          ...policy({ extraAssets: { [mint.toBase58()]: tokenLimits } }),
          // Room for one new token account, not two.
          fees: { dailyLamports: String(rent + rent / 2n) },
        },
        SOL,
      );
      const vaultAccount = await getOrCreateAssociatedTokenAccount(
        connection(),
        authority,
        mint,
        new PublicKey(setup.wallet.vault),
        true,
      );
      await mintTo(connection(), authority, mint, vaultAccount.address, authority, 100_000_000n);
      const pay = (to: string) =>
        postTransfer(daemon.app, setup.session.token, setup.wallet.id, {
          to,
          amount: '1000000',
          mint: mint.toBase58(),
        });
      const payerBefore = await balanceOf(daemon, feePayer().toBase58());
      const known = newRecipient();
      expect((await pay(known)).json().status).toBe('confirmed');
      // The fee payer created it: its rent left the fee payer for good.
      expect(payerBefore - (await balanceOf(daemon, feePayer().toBase58()))).toBeGreaterThanOrEqual(rent);
      const stranger = newRecipient();
      const refused = await pay(stranger);
      expect([refused.statusCode, refused.json().code, refused.json().layer]).toEqual([
        403,
        'FEE_BUDGET_EXCEEDED',
        'server',
      ]);
      expect(
        await connection().getAccountInfo(getAssociatedTokenAddressSync(mint, new PublicKey(stranger))),
      ).toBeNull();
      expect((await pay(known)).json().status).toBe('confirmed');
    });
  });
});
