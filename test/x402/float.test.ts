/**
 * x402 through the agent float (DESIGN.md §11), for a facilitator with smart-wallet verification off
 * (the maintainers' static path: one top-level TransferChecked signed by the payer). The float is
 * filled from the vault by spendingLimitUse, counted against the daily budget at all three layers and
 * capped by float.max; the payment out of it is not counted again. The seller either says so in its
 * requirements (the float pays at once) or not (the vault's payment is declined by verification, then
 * the float pays). The owner sweeps the float back to the vault in one act.
 */
import { PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  PRICE,
  pay,
  remainingOnChain,
  startX402World,
  TOKEN,
  tokenBalance,
  usageOf,
  type X402World,
  x402Policy,
  x402Wallet,
} from './harness.ts';

describeWithSquads('x402 payments through the float, smart-wallet verification off', () => {
  let world: X402World;
  beforeAll(async () => {
    world = await startX402World();
  });
  afterAll(async () => {
    await world?.close();
  });

  const tokenUsage = async (token: string, walletId: string) =>
    (await usageOf(world, token, walletId)).assets.find(
      (entry: { asset: string }) => entry.asset === world.mint.toBase58(),
    );
  const transfer = async (token: string, id: string) =>
    (await world.app.inject({ method: 'GET', url: `/v1/transfers/${id}`, headers: bearer(token) })).json();

  it('fills the float through the limit (counted at every layer), pays from it, and caps what goes in', async () => {
    const { wallet, session } = await x402Wallet(world, x402Policy(world.mint, world.payee));
    const agent = new PublicKey(wallet.agentPublicKey);
    const payeeBefore = await tokenBalance(world, world.payee);
    const remainingBefore = await remainingOnChain(world, wallet.multisig);

    const first = await pay(world, session.token, wallet.id, {
      url: `${world.plain.url}/report`,
      maxAmount: String(2n * TOKEN),
    });
    expect(first.statusCode, first.body).toBe(200);
    const result = first.json();
    expect(result).toMatchObject({ paid: true, status: 200 });
    expect(JSON.parse(result.body).resource).toBe('/report');
    // Filled to float.max (4 tokens) from the vault, then paid 1.5 from the float.
    expect(result.payment).toMatchObject({
      path: 'float',
      amount: PRICE.toString(),
      fill: { amount: String(4n * TOKEN) },
    });
    expect(result.payment.declined).toBeUndefined();
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + PRICE);
    expect(await tokenBalance(world, agent)).toBe(4n * TOKEN - PRICE);
    expect(remainingBefore - (await remainingOnChain(world, wallet.multisig))).toBe(4n * TOKEN);
    expect(world.plain.settled.at(-1)).toMatchObject({
      success: true,
      transaction: result.payment.transaction,
    });
    const usage = await tokenUsage(session.token, wallet.id);
    expect([usage.server.spent, usage.enclave.spent, usage.chain.spent]).toEqual([
      String(4n * TOKEN),
      String(4n * TOKEN),
      String(4n * TOKEN),
    ]);
    expect(await transfer(session.token, result.payment.fill.transferId)).toMatchObject({
      kind: 'float_fill',
      status: 'confirmed',
      to: agent.toBase58(),
    });
    expect(await transfer(session.token, result.payment.transferId)).toMatchObject({
      kind: 'x402',
      status: 'confirmed',
      to: world.payee.toBase58(),
    });

    // The float holds enough: no fill, nothing more from the vault or the budget.
    const second = (
      await pay(world, session.token, wallet.id, {
        url: `${world.plain.url}/report`,
        maxAmount: String(PRICE),
      })
    ).json();
    expect(second.payment).toMatchObject({ path: 'float' });
    expect(second.payment.fill).toBeUndefined();
    expect(await tokenBalance(world, agent)).toBe(4n * TOKEN - 2n * PRICE);
    expect(remainingBefore - (await remainingOnChain(world, wallet.multisig))).toBe(4n * TOKEN);

    // The float lacks 0.5; but 4 tokens already went in this window, the most float.max lets in.
    const third = await pay(world, session.token, wallet.id, {
      url: `${world.plain.url}/report`,
      maxAmount: String(PRICE),
    });
    expect(third.statusCode).toBe(403);
    expect(third.json()).toMatchObject({ code: 'POLICY_FLOAT_MAX', layer: 'server' });
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + 2n * PRICE);
    expect(remainingBefore - (await remainingOnChain(world, wallet.multisig))).toBe(4n * TOKEN);

    // The owner sweeps it back; the agent may not.
    const forbidden = await world.app.inject({
      method: 'POST',
      url: `/v1/wallets/${wallet.id}/float/sweep`,
      headers: bearer(session.token),
    });
    expect(forbidden.statusCode).toBe(403);
    const vaultBefore = await tokenBalance(world, wallet.vault);
    const swept = await world.app.inject({
      method: 'POST',
      url: `/v1/wallets/${wallet.id}/float/sweep`,
      headers: bearer(world.owner.token),
    });
    expect(swept.statusCode, swept.body).toBe(200);
    expect(swept.json().swept).toEqual([
      expect.objectContaining({ mint: world.mint.toBase58(), amount: String(TOKEN), status: 'confirmed' }),
    ]);
    expect(await tokenBalance(world, agent)).toBe(0n);
    expect(await tokenBalance(world, wallet.vault)).toBe(vaultBefore + TOKEN);
  });

  it('a seller that says nothing: verification declines the vault’s payment, the float pays', async () => {
    const { wallet, session } = await x402Wallet(world, x402Policy(world.mint, world.payee));
    const payeeBefore = await tokenBalance(world, world.payee);
    const remainingBefore = await remainingOnChain(world, wallet.multisig);
    const response = await pay(world, session.token, wallet.id, {
      url: `${world.plain.url}/unhinted`,
      maxAmount: String(TOKEN),
    });
    expect(response.statusCode, response.body).toBe(200);
    const { payment } = response.json();
    expect(payment).toMatchObject({
      path: 'float',
      amount: String(TOKEN),
      fill: { amount: String(4n * TOKEN) },
    });
    expect(payment.declined.reason).toBe('invalid_exact_svm_payload_no_transfer_instruction');
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + TOKEN);
    // On chain only the fill moved. The declined payment was signed and is held by the seller's
    // facilitator until its blockhash expires: the server and the enclave keep it counted.
    expect(remainingBefore - (await remainingOnChain(world, wallet.multisig))).toBe(4n * TOKEN);
    expect(await transfer(session.token, payment.declined.transferId)).toMatchObject({
      kind: 'x402',
      status: 'failed',
      error: { code: 'X402_PAYMENT_FAILED' },
    });
    const usage = await tokenUsage(session.token, wallet.id);
    expect([usage.server.spent, usage.enclave.spent, usage.chain.spent]).toEqual([
      String(5n * TOKEN),
      String(5n * TOKEN),
      String(4n * TOKEN),
    ]);
  });

  it('an asset without a float cannot pay such a seller, and nothing is signed', async () => {
    const policy = x402Policy(world.mint, world.payee);
    delete (policy.assets[world.mint.toBase58()] as { float?: unknown }).float;
    const { wallet, session } = await x402Wallet(world, policy);
    const response = await pay(world, session.token, wallet.id, {
      url: `${world.plain.url}/report`,
      maxAmount: String(PRICE),
    });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({ code: 'FLOAT_NOT_ENABLED', layer: 'server' });
    expect((await tokenUsage(session.token, wallet.id)).enclave.spent).toBe('0');
  });
});
