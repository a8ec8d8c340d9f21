/**
 * Budget continuity through the daemon's owner acts (HTTP API, localnet with the real Squads program,
 * the enclave as its own process): after part of the day is spent, freeze + resume, a rotation, a
 * tightening and a raise each leave the chain's limit with `daily in force − spent this period` (the
 * raise: plus what was raised), and the server's window (L1) no looser than the chain.
 * test/squads/budget-continuity.test.ts proves the mechanism and the attacker bound with raw keys.
 */
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readSpendingLimits } from '../../src/squads/index.ts';
import { bearer, createOwnerWalletSession, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { call, fundVault, SOL } from './helpers.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

const solPolicy = (version: number, daily: bigint) =>
  starterPolicy({
    version,
    assets: {
      SOL: {
        perTransaction: String(daily),
        daily: String(daily),
        tiers: {
          instantMax: String(daily),
          notifyMax: String(daily),
          delayMax: String(daily),
          delaySeconds: 0,
        },
      },
    },
  });

describeWithSquads('budget continuity through the owner acts', () => {
  let daemon: TestDaemon;
  let setup: Setup;
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    daemon = await startTestDaemon();
    setup = await createOwnerWalletSession(daemon.app, daemon.runtime.store, solPolicy(1, SOL));
    await fundVault(daemon, setup.wallet.vault, 5n * SOL);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const spend = async (amount: bigint) =>
    daemon.app.inject({
      method: 'POST',
      url: `/v1/wallets/${setup.wallet.id}/transfers`,
      headers: bearer(setup.session.token),
      payload: { to: recipient, amount: amount.toString() },
    });
  const act = async (path: string, body: unknown = {}, method: 'POST' | 'PUT' = 'POST') => {
    const answer = await call(daemon, {
      method,
      url: `/v1/wallets/${setup.wallet.id}/${path}`,
      token: setup.owner.token,
      body,
    });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  /** The chain's remaining amount and the server's (L1), as GET …/usage reports them. */
  const remaining = async () => {
    const usage = await call(daemon, {
      method: 'GET',
      url: `/v1/wallets/${setup.wallet.id}/usage`,
      token: setup.owner.token,
      unlock: null,
    });
    const sol = usage.body.assets.find((asset: { asset: string }) => asset.asset === 'SOL');
    return { chain: BigInt(sol.chain.remaining), server: BigInt(sol.server.remaining) };
  };

  it('0.6 of 1 SOL spent: freeze + resume leaves 0.4, not a fresh day', async () => {
    expect((await spend(600_000_000n)).json().status).toBe('confirmed');
    await act('freeze');
    await act('resume');
    expect(await remaining()).toEqual({ chain: 400_000_000n, server: 400_000_000n });
    const over = await spend(400_000_001n);
    expect([over.statusCode, over.json().code, over.json().layer]).toEqual([
      403,
      'POLICY_DAILY_LIMIT',
      'server',
    ]);
  });

  it('a rotation: the new key gets what was left, 0.3 after another 0.1', async () => {
    expect((await spend(100_000_000n)).json().status).toBe('confirmed');
    const rotated = await act('rotate-agent-key');
    expect(await remaining()).toEqual({ chain: 300_000_000n, server: 300_000_000n });
    const [limit] = await readSpendingLimits(
      daemon.runtime.chain.connection,
      new PublicKey(setup.wallet.multisig),
    );
    expect(limit?.members.map(String)).toContain(rotated.agentPublicKey);
  });

  it('tightening to 0.8 leaves 0.1; raising to 1.5 adds exactly the 0.7 raised', async () => {
    const tightened = await act('policy', { policy: solPolicy(10, 800_000_000n) }, 'PUT');
    expect(tightened.chain.status).toBe('done');
    expect(await remaining()).toEqual({ chain: 100_000_000n, server: 100_000_000n });
    await act('policy', { policy: solPolicy(11, 1_500_000_000n) }, 'PUT');
    expect(await remaining()).toEqual({ chain: 800_000_000n, server: 800_000_000n });
    const over = await spend(800_000_001n);
    expect([over.statusCode, over.json().code]).toEqual([403, 'POLICY_DAILY_LIMIT']);
    expect((await spend(800_000_000n)).json().status).toBe('confirmed');
    expect(await remaining()).toEqual({ chain: 0n, server: 0n });
  });

  it('the acts recorded what each period had spent, for the next act to carry', async () => {
    const acts = await daemon.runtime.store.db
      .selectFrom('owner_acts')
      .select(['kind', 'detail'])
      .where('wallet_id', '=', setup.wallet.id)
      .orderBy('created_at')
      .execute();
    const periods = acts.map((row) => ({
      kind: row.kind,
      spent: ((JSON.parse(row.detail).periods ?? []) as { spent: string }[]).map((period) => period.spent),
    }));
    expect(periods).toEqual([
      { kind: 'freeze', spent: ['600000000'] },
      { kind: 'resume', spent: ['600000000'] },
      { kind: 'rotate_agent_key', spent: ['700000000'] },
      { kind: 'policy', spent: ['700000000'] },
      { kind: 'policy', spent: ['700000000'] },
    ]);
  });
});
