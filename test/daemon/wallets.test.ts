import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readWallet } from '../../src/squads/index.ts';
import {
  bearer,
  createOwnerWalletSession,
  OWNER_PASSPHRASE,
  operatorToken,
  starterPolicy,
} from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

describeWithSquads('wallets through the API', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('creates a controlled Squads multisig with the agent spending limit, and its deposit address is the vault', async () => {
    const { owner, wallet, session } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const state = await readWallet(daemon.runtime.chain.connection, new PublicKey(wallet.multisig));
    expect(state.multisig.threshold).toBe(2);
    expect(state.multisig.configAuthority.toBase58()).toBe(owner.publicKey);
    const members = Object.fromEntries(
      state.multisig.members.map((member) => [member.key.toBase58(), member.mask]),
    );
    expect(members).toEqual({ [owner.publicKey]: 7, [wallet.agentPublicKey]: 3 });
    expect(state.spendingLimits).toHaveLength(1);
    expect(state.spendingLimits[0]).toMatchObject({ amount: 5_000_000_000n });
    // The owner too, for owner acts' vault-to-vault carry of a day's spending (budget-carry.ts).
    expect(state.spendingLimits[0]!.members.map((key) => key.toBase58()).sort()).toEqual(
      [wallet.agentPublicKey, owner.publicKey].sort(),
    );
    // The fee payer gets the rent of closed approval requests back.
    expect(state.multisig.rentCollector?.equals(daemon.runtime.feePayer.publicKey)).toBe(true);

    for (const token of [owner.token, session.token]) {
      const deposit = await daemon.app.inject({
        method: 'GET',
        url: `/v1/wallets/${wallet.id}/deposit-address`,
        headers: bearer(token),
      });
      expect(deposit.json()).toEqual({ address: wallet.vault });
    }
  });

  it('refuses to create a wallet without the owner passphrase, or with a wrong one, and writes nothing', async () => {
    const { owner } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    for (const headers of [
      bearer(owner.token),
      bearer(owner.token, { 'x-owner-unlock': 'wrong passphrase!!' }),
    ]) {
      const response = await daemon.app.inject({
        method: 'POST',
        url: '/v1/wallets',
        headers,
        payload: { name: 'Second', policy: starterPolicy() },
      });
      expect(response.statusCode).toBe(401);
      expect(['OWNER_UNLOCK_REQUIRED', 'KEYSTORE_WRONG_PASSPHRASE', 'OWNER_UNLOCK_INVALID']).toContain(
        response.json().code,
      );
    }
    const list = await daemon.app.inject({ method: 'GET', url: '/v1/wallets', headers: bearer(owner.token) });
    expect(list.json().items).toHaveLength(1);
  });

  it('refuses a bad policy with VALIDATION_FAILED before touching the chain', async () => {
    const { owner } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const response = await daemon.app.inject({
      method: 'POST',
      url: '/v1/wallets',
      headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
      payload: {
        name: 'Bad',
        policy: starterPolicy({ version: 0, assets: { SOL: { perTransaction: '-1' } } }),
      },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
  });

  it('an agent cannot see the wallet of another session, and no token sees nothing', async () => {
    const first = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const second = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const foreign = await daemon.app.inject({
      method: 'GET',
      url: `/v1/wallets/${second.wallet.id}/deposit-address`,
      headers: bearer(first.session.token),
    });
    expect(foreign.statusCode).toBe(404);
    const ownerCross = await daemon.app.inject({
      method: 'GET',
      url: `/v1/wallets/${second.wallet.id}`,
      headers: bearer(first.owner.token),
    });
    expect(ownerCross.statusCode).toBe(404);
    const anonymous = await daemon.app.inject({
      method: 'GET',
      url: `/v1/wallets/${first.wallet.id}/deposit-address`,
    });
    expect(anonymous.statusCode).toBe(401);
    const operator = await operatorToken(daemon.runtime.store);
    const wrongRole = await daemon.app.inject({
      method: 'POST',
      url: '/v1/wallets',
      headers: bearer(operator),
      payload: {},
    });
    expect(wrongRole.statusCode).toBe(403);
  });

  it('a revoked session is refused at once', async () => {
    const { owner, wallet, session } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const revoke = await daemon.app.inject({
      method: 'DELETE',
      url: `/v1/sessions/${session.id}`,
      headers: bearer(owner.token),
    });
    expect(revoke.statusCode).toBe(204);
    const after = await daemon.app.inject({
      method: 'GET',
      url: `/v1/wallets/${wallet.id}/deposit-address`,
      headers: bearer(session.token),
    });
    expect(after.statusCode).toBe(401);
    expect(after.json().code).toBe('SESSION_REVOKED');
  });
});
