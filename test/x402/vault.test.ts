/**
 * x402 from the vault (DESIGN.md §11): a seller and facilitator from the protocol maintainers'
 * packages on this machine, smart-wallet verification on, verify and settle against the localnet
 * running the real Squads program. The agent pays through the API and through MCP; the payment is a
 * spendingLimitUse the facilitator verifies by simulation, and the chain's own limit bounds it.
 * Refusals at the server (L1) and, with the server bypassed, at the enclave (L2).
 */
import { PublicKey, SystemProgram } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { buildVaultPayment } from '../../src/daemon/x402/build.ts';
import { AgentWallet } from '../../src/mcp/agent-wallet.ts';
import { createHandlers } from '../../src/mcp/handlers.ts';
import { createClient } from '../../src/sdk/index.ts';
import type { TokenAsset } from '../../src/squads/index.ts';
import { bearer } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import type { TestWalletSession } from '../transfers/harness.ts';
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

describeWithSquads('x402 payments from the vault, smart-wallet verification on', () => {
  let world: X402World;
  let setup: TestWalletSession;
  const usageOfToken = async () =>
    (await usageOf(world, setup.session.token, setup.wallet.id)).assets.find(
      (entry: { asset: string }) => entry.asset === world.mint.toBase58(),
    );

  beforeAll(async () => {
    world = await startX402World();
    setup = await x402Wallet(world, x402Policy(world.mint, world.payee));
  });
  afterAll(async () => {
    await world?.close();
  });

  it('the agent pays through the API: gets the resource, the payee gains exactly the price, the chain’s limit drops by it', async () => {
    const payeeBefore = await tokenBalance(world, world.payee);
    const remainingBefore = await remainingOnChain(world, setup.wallet.multisig);
    const response = await pay(world, setup.session.token, setup.wallet.id, {
      url: `${world.smart.url}/report?topic=solana`,
      maxAmount: String(2n * TOKEN),
    });
    expect(response.statusCode, response.body).toBe(200);
    const result = response.json();
    expect(result).toMatchObject({ paid: true, status: 200, bodyEncoding: 'utf8' });
    expect(JSON.parse(result.body)).toEqual({ resource: '/report', content: 'the contents of /report' });
    expect(result.payment).toMatchObject({
      path: 'vault',
      asset: world.mint.toBase58(),
      amount: PRICE.toString(),
      payTo: world.payee.toBase58(),
      network: world.network,
    });
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + PRICE);
    expect(remainingBefore - (await remainingOnChain(world, setup.wallet.multisig))).toBe(PRICE);
    // The facilitator settled exactly what the daemon reports, and the seller served once.
    expect(world.smart.settled.at(-1)).toMatchObject({
      success: true,
      transaction: result.payment.transaction,
    });
    expect(world.smart.served).toEqual(['/report']);

    // Recorded like a transfer: kind x402, confirmed with the settled signature, counted at every layer.
    const record = (
      await world.app.inject({
        method: 'GET',
        url: `/v1/transfers/${result.payment.transferId}`,
        headers: bearer(setup.session.token),
      })
    ).json();
    expect(record).toMatchObject({
      kind: 'x402',
      status: 'confirmed',
      amount: PRICE.toString(),
      to: world.payee.toBase58(),
      signature: result.payment.transaction,
    });
    const usage = await usageOfToken();
    expect(usage.server.spent).toBe(PRICE.toString());
    expect(usage.enclave.spent).toBe(PRICE.toString());
    expect(usage.chain.spent).toBe(PRICE.toString());
    await expect
      .poll(async () =>
        (
          await world.store.db
            .selectFrom('audit_log')
            .select('kind')
            .where('subject', '=', result.payment.transferId)
            .execute()
        ).map((row) => row.kind),
      )
      .toContain('transfer.confirmed');
  });

  it('the agent pays through MCP (pay_for_url over the SDK): the same payment, the same limits', async () => {
    const handlers = createHandlers(
      new AgentWallet(createClient({ url: world.url, token: setup.session.token }), setup.wallet.id),
    );
    const tools = await handlers.listTools();
    const tool = tools.find((entry) => entry.name === 'pay_for_url');
    expect(tool?.description).toContain('at most 5 token');
    expect(tool?.description).toContain(world.payee.toBase58());
    const payeeBefore = await tokenBalance(world, world.payee);
    const remainingBefore = await remainingOnChain(world, setup.wallet.multisig);
    const result = await handlers.callTool('pay_for_url', {
      url: `${world.smart.url}/report`,
      max_amount: '1.5',
    });
    expect(result.isError, result.content[0]?.text).toBeFalsy();
    expect(result.content[0]!.text).toContain('Paid 1.5 token');
    expect(result.content[0]!.text).toContain('the contents of /report');
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + PRICE);
    expect(remainingBefore - (await remainingOnChain(world, setup.wallet.multisig))).toBe(PRICE);

    const refused = await handlers.callTool('pay_for_url', {
      url: `${world.smart.url}/premium`,
      max_amount: '10',
    });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toContain('POLICY_X402_PER_PAYMENT');
  });

  it('a free URL is fetched and nothing is paid; a redirect is answered, not followed', async () => {
    const free = (
      await pay(world, setup.session.token, setup.wallet.id, {
        url: `${world.smart.url}/free`,
        maxAmount: '1',
      })
    ).json();
    expect(free).toMatchObject({ paid: false, status: 200, body: 'free for all' });
    const moved = (
      await pay(world, setup.session.token, setup.wallet.id, {
        url: `${world.smart.url}/moved`,
        maxAmount: '1',
      })
    ).json();
    expect(moved).toMatchObject({ paid: false, status: 302 });
  });

  it('fetches nothing the operator did not allow: the same seller by another name is refused', async () => {
    const byName = world.smart.url.replace('127.0.0.1', 'localhost');
    const served = world.smart.served.length;
    for (const url of [
      `${byName}/report`,
      'http://127.0.0.1:1/report',
      'http://169.254.169.254/latest/meta-data',
    ]) {
      const response = await pay(world, setup.session.token, setup.wallet.id, { url, maxAmount: '1' });
      expect([url, response.statusCode, response.json().code]).toEqual([url, 403, 'X402_URL_NOT_ALLOWED']);
    }
    expect(world.smart.served.length).toBe(served);
  });

  describe('refusals', () => {
    it('L1: a payee not allowed, a price above the per-payment cap, a price above maxAmount; nothing moves', async () => {
      const strangerBefore = await tokenBalance(world, world.stranger);
      const remainingBefore = await remainingOnChain(world, setup.wallet.multisig);
      const payee = await pay(world, setup.session.token, setup.wallet.id, {
        url: `${world.smart.url}/elsewhere`,
        maxAmount: String(5n * TOKEN),
      });
      expect(payee.statusCode).toBe(403);
      expect(payee.json()).toMatchObject({ code: 'RECIPIENT_NOT_ALLOWED', layer: 'server' });
      const cap = await pay(world, setup.session.token, setup.wallet.id, {
        url: `${world.smart.url}/premium`,
        maxAmount: String(10n * TOKEN),
      });
      expect(cap.statusCode).toBe(403);
      expect(cap.json()).toMatchObject({ code: 'POLICY_X402_PER_PAYMENT', layer: 'server' });
      const max = await pay(world, setup.session.token, setup.wallet.id, {
        url: `${world.smart.url}/report`,
        maxAmount: String(PRICE - 1n),
      });
      expect(max.statusCode).toBe(422);
      expect(max.json()).toMatchObject({ code: 'X402_PRICE_ABOVE_MAX' });
      expect(await tokenBalance(world, world.stranger)).toBe(strangerBefore);
      expect(await remainingOnChain(world, setup.wallet.multisig)).toBe(remainingBefore);
      expect(world.smart.served.filter((path) => path !== '/report')).toEqual([]);
      // Policy refusals are audited like a transfer's.
      const refusals = await world.store.db
        .selectFrom('audit_log')
        .select('details')
        .where('kind', '=', 'transfer.refused')
        .where('wallet_id', '=', setup.wallet.id)
        .execute();
      expect(refusals.map((row) => JSON.parse(row.details))).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ kind: 'x402', code: 'RECIPIENT_NOT_ALLOWED', layer: 'server' }),
          expect.objectContaining({ kind: 'x402', code: 'POLICY_X402_PER_PAYMENT', layer: 'server' }),
        ]),
      );
    });

    describe('L2, the server bypassed: the daemon’s own enclave asked directly', () => {
      const sign = async (instructions: { payTo: PublicKey; amount: bigint; extra?: boolean }) => {
        const agent = new PublicKey(setup.wallet.agentPublicKey);
        const token: TokenAsset = { mint: world.mint, decimals: 6 };
        const built = buildVaultPayment({
          multisig: new PublicKey(setup.wallet.multisig),
          agent,
          token,
          amount: instructions.amount,
          payTo: instructions.payTo,
          feePayer: world.smart.feePayer.publicKey,
          memo: 'l2-probe',
          blockhash: await world.runtime.chain.recentBlockhash(),
        });
        let message = built.message;
        if (instructions.extra) {
          const { TransactionMessage, VersionedMessage } = await import('@solana/web3.js');
          const decompiled = TransactionMessage.decompile(VersionedMessage.deserialize(message));
          decompiled.instructions.push(
            SystemProgram.transfer({
              fromPubkey: world.smart.feePayer.publicKey,
              toPubkey: world.stranger,
              lamports: 1_000,
            }),
          );
          message = decompiled.compileToV0Message().serialize();
        }
        return world.runtime.enclave
          .use((client) => client.sign(setup.wallet.id, message, { requestId: `probe-${Math.random()}` }))
          .then(
            () => undefined,
            (error: unknown) => error,
          );
      };

      it('refuses a payee not allowed, a price above the cap, and a transaction with an extra instruction', async () => {
        const payee = await sign({ payTo: world.stranger, amount: TOKEN });
        expect(isWaiaasError(payee) && [payee.code, payee.layer]).toEqual([
          'RECIPIENT_NOT_ALLOWED',
          'enclave',
        ]);
        const cap = await sign({ payTo: world.payee, amount: 6n * TOKEN });
        expect(isWaiaasError(cap) && [cap.code, cap.layer]).toEqual(['POLICY_X402_PER_PAYMENT', 'enclave']);
        const extra = await sign({ payTo: world.payee, amount: TOKEN, extra: true });
        expect(isWaiaasError(extra) && [extra.code, extra.layer, extra.details['reason']]).toEqual([
          'ENCLAVE_REFUSED',
          'enclave',
          'UNKNOWN_PROGRAM',
        ]);
        // And a well-formed payment is signed (the probe above is not refusing everything).
        expect(await sign({ payTo: world.payee, amount: TOKEN })).toBeUndefined();
      });
    });
  });
});
