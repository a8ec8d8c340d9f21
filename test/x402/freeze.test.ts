/**
 * After the owner's kill switch no x402 payment is signed on either path: the server refuses (the
 * wallet is frozen), the enclave refuses on its own (asked directly, as a compromised daemon would:
 * the frozen policy names no asset, so neither the vault's spending limit nor the float may be used),
 * and the chain no longer holds the wallet's spending limit. The float's tokens, which belong to the
 * Agent Key, go back to the vault with the owner's sweep, the one thing the enclave still signs.
 */
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { buildFloatPayment, buildVaultPayment } from '../../src/daemon/x402/build.ts';
import { spendingLimitAddress, type TokenAsset } from '../../src/squads/index.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  PRICE,
  pay,
  startX402World,
  TOKEN,
  tokenBalance,
  type X402World,
  x402Policy,
  x402Wallet,
} from './harness.ts';

describeWithSquads('x402 after a freeze', () => {
  let world: X402World;
  beforeAll(async () => {
    world = await startX402World();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('signs no payment on either path, and the owner sweeps the float back', async () => {
    const { wallet, session } = await x402Wallet(world, x402Policy(world.mint, world.payee));
    const agent = new PublicKey(wallet.agentPublicKey);
    // Before: both paths pay, and the float keeps 2.5 tokens.
    for (const url of [`${world.smart.url}/report`, `${world.plain.url}/report`]) {
      const before = await pay(world, session.token, wallet.id, { url, maxAmount: String(PRICE) });
      expect(before.statusCode, before.body).toBe(200);
    }
    expect(await tokenBalance(world, agent)).toBe(4n * TOKEN - PRICE);

    const frozen = await world.app.inject({
      method: 'POST',
      url: `/v1/wallets/${wallet.id}/freeze`,
      headers: bearer(world.owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    });
    expect(frozen.statusCode, frozen.body).toBe(200);
    expect(frozen.json()).toMatchObject({ enclave: { status: 'done' }, chain: { status: 'done' } });
    const payeeBefore = await tokenBalance(world, world.payee);

    // L1: the server pays nothing.
    for (const url of [`${world.smart.url}/report`, `${world.plain.url}/report`]) {
      const refused = await pay(world, session.token, wallet.id, { url, maxAmount: String(PRICE) });
      expect(refused.statusCode).toBe(403);
      expect(refused.json()).toMatchObject({ code: 'WALLET_FROZEN', layer: 'server' });
    }

    // L2: the enclave, asked directly, signs neither a vault payment nor a float payment.
    const token: TokenAsset = { mint: world.mint, decimals: 6 };
    const common = {
      token,
      amount: PRICE,
      payTo: world.payee,
      memo: 'after-freeze',
      blockhash: await world.runtime.chain.recentBlockhash(),
    };
    const attempts = [
      buildVaultPayment({
        ...common,
        multisig: new PublicKey(wallet.multisig),
        agent,
        feePayer: world.smart.feePayer.publicKey,
      }),
      buildFloatPayment({ ...common, agent, feePayer: world.plain.feePayer.publicKey }),
    ];
    const refusals = await Promise.all(
      attempts.map((built, index) =>
        world.runtime.enclave
          .use((client) => client.sign(wallet.id, built.message, { requestId: `frozen-${index}` }))
          .then(
            () => undefined,
            (error: unknown) => error,
          ),
      ),
    );
    expect(
      refusals.map((error) => isWaiaasError(error) && [error.code, error.layer, error.details['reason']]),
    ).toEqual([
      ['ENCLAVE_REFUSED', 'enclave', 'WRONG_SPENDING_LIMIT'],
      ['ASSET_NOT_ALLOWED', 'enclave', undefined],
    ]);

    // L3: the spending limit is gone from the chain.
    expect(
      await world.connection.getAccountInfo(spendingLimitAddress(new PublicKey(wallet.multisig), world.mint)),
    ).toBeNull();
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore);

    // The sweep: the float's 2.5 tokens back in the vault, frozen as the wallet is.
    const vaultBefore = await tokenBalance(world, wallet.vault);
    const swept = await world.app.inject({
      method: 'POST',
      url: `/v1/wallets/${wallet.id}/float/sweep`,
      headers: bearer(world.owner.token),
    });
    expect(swept.statusCode, swept.body).toBe(200);
    expect(swept.json().swept).toEqual([
      expect.objectContaining({ amount: String(4n * TOKEN - PRICE), status: 'confirmed' }),
    ]);
    expect(await tokenBalance(world, agent)).toBe(0n);
    expect(await tokenBalance(world, wallet.vault)).toBe(vaultBefore + 4n * TOKEN - PRICE);
  });
});
