/**
 * The enclave's second layer for x402 (DESIGN.md §11), attacked as a compromised daemon would: messages
 * straight to the enclave over its socket, what it signs executed on LiteSVM with the real Squads v4
 * program. The shapes: a vault payment (spendingLimitUse + memo, the facilitator as fee payer), a float
 * fill (spendingLimitUse to the agent's own key), a float payment (TransferChecked from the agent's
 * token account + memo) and the sweep back to the vault, which alone survives a freeze.
 */
import type { Server } from 'node:net';
import { join } from 'node:path';
import { createTransferCheckedInstruction, getAssociatedTokenAddressSync } from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  type VersionedTransaction,
} from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import type { PolicyDocument } from '../../src/core/policy.ts';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { listenUnix } from '../../src/enclave/server.ts';
import { MEMO_PROGRAM } from '../../src/solana/inspect/programs.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';
import { createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';
import { type HarnessWallet, L2Harness } from './helpers/l2-harness.ts';

const NOON = Date.UTC(2025, 0, 15, 12);
const TOKEN = 1_000_000n; // 6 decimals

const expectRefused = async (call: Promise<unknown>, code: string, reason?: string) => {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}${reason ? `/${reason}` : ''}`).toBeDefined();
  if (!isWaiaasError(error)) throw error;
  expect(error.code, JSON.stringify(error.details)).toBe(code);
  if (reason !== undefined) expect(error.details['reason']).toBe(reason);
  expect(error.layer).toBe('enclave');
  return error;
};

const memo = (text = 'a1b2c3d4e5f60718293a4b5c6d7e8f90') =>
  new TransactionInstruction({
    programId: new PublicKey(MEMO_PROGRAM.base58),
    keys: [],
    data: Buffer.from(text),
  });
const budget = (units = 200_000, microLamports = 1) => [
  ComputeBudgetProgram.setComputeUnitLimit({ units }),
  ComputeBudgetProgram.setComputeUnitPrice({ microLamports }),
];

describeWithSquads('enclave L2 for x402 payments and the agent float', () => {
  let now = NOON;
  let server: Server;
  let client: EnclaveClient;
  let h: L2Harness;
  const facilitator = Keypair.generate();
  const payee = Keypair.generate().publicKey;
  const stranger = Keypair.generate().publicKey;

  beforeAll(async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => now });
    const socketPath = join(tempDir(), 'enclave.sock');
    server = await listenUnix(enclave, socketPath);
    client = new EnclaveClient({ socketPath });
    h = new L2Harness(squadsBinaryPath!, client);
    h.chain.airdrop(facilitator.publicKey, 10_000_000_000n);
  });

  afterAll(async () => {
    client?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  /** A wallet whose token allows x402 to `payee` (5 tokens a payment) and a float of 20 tokens. */
  const x402Wallet = async (overrides: { daily?: bigint; payees?: string[] } = {}) => {
    const mint = Keypair.generate();
    const asset = mint.publicKey.toBase58();
    const policy: PolicyDocument = solPolicy({ recipients: { mode: 'any' } });
    policy.assets[asset] = {
      perTransaction: String(80n * TOKEN),
      daily: String(overrides.daily ?? 200n * TOKEN),
      tiers: {
        instantMax: String(10n * TOKEN),
        notifyMax: String(50n * TOKEN),
        delayMax: String(50n * TOKEN),
        delaySeconds: 600,
      },
      x402: { perPayment: String(5n * TOKEN), payees: overrides.payees ?? [payee.toBase58()] },
      float: { max: String(20n * TOKEN) },
    };
    const wallet = await h.wallet(policy);
    h.chain.createMint(mint, wallet.chain.vault, 1_000n * TOKEN, [payee, stranger, wallet.agent]);
    return { wallet, mint: mint.publicKey, asset };
  };

  const ata = (mint: PublicKey, owner: PublicKey) => getAssociatedTokenAddressSync(mint, owner, true);

  /** The facilitator pays the fee, as x402 asks; the enclave's signature is added for the agent. */
  const signAndSettle = async (
    wallet: HarnessWallet,
    transaction: VersionedTransaction,
    requestId: string,
  ) => {
    const signed = await client.sign(wallet.walletId, transaction.message.serialize(), { requestId });
    const sent = h.chain.send(
      transaction,
      [facilitator],
      [{ publicKey: wallet.agent, signature: signed.signature }],
    );
    return { signed, sent };
  };

  const vaultPayment = (wallet: HarnessWallet, asset: string, amount: bigint, to = payee, extra = [memo()]) =>
    h.chain.message(
      [...budget(), h.spendingLimitUse(wallet, amount, to, asset, 6), ...extra],
      facilitator.publicKey,
    );

  const floatPayment = (
    wallet: HarnessWallet,
    mint: PublicKey,
    amount: bigint,
    to = payee,
    extra = [memo()],
  ) =>
    h.chain.message(
      [
        ...budget(20_000),
        createTransferCheckedInstruction(
          ata(mint, wallet.agent),
          mint,
          ata(mint, to),
          wallet.agent,
          amount,
          6,
        ),
        ...extra,
      ],
      facilitator.publicKey,
    );

  describe('from the vault: spendingLimitUse + memo, the facilitator as fee payer', () => {
    it('is signed, moves exactly the price to the payee and counts against daily', async () => {
      const { wallet, mint, asset } = await x402Wallet();
      const before = h.chain.tokenBalance(ata(mint, payee));
      const { signed, sent } = await signAndSettle(wallet, vaultPayment(wallet, asset, 3n * TOKEN), 'v-1');
      expect(sent, JSON.stringify(sent)).toMatchObject({ ok: true });
      expect(signed.transfer).toMatchObject({ asset, amount: 3n * TOKEN, route: 'spending-limit' });
      expect(h.chain.tokenBalance(ata(mint, payee)) - before).toBe(3n * TOKEN);
      expect((await client.usage(wallet.walletId)).spent[asset]).toBe(String(3n * TOKEN));
    });

    it('refuses a payee outside x402.payees, a price above perPayment, and an asset without x402', async () => {
      const { wallet, asset } = await x402Wallet();
      await expectRefused(
        client.sign(wallet.walletId, vaultPayment(wallet, asset, TOKEN, stranger).message.serialize(), {
          requestId: 'v-payee',
        }),
        'RECIPIENT_NOT_ALLOWED',
      );
      await expectRefused(
        client.sign(wallet.walletId, vaultPayment(wallet, asset, 6n * TOKEN).message.serialize(), {
          requestId: 'v-cap',
        }),
        'POLICY_X402_PER_PAYMENT',
      );
      // A SOL spendingLimitUse with a memo is an x402 payment too, and SOL has no x402 limits.
      const sol = h.chain.message(
        [...budget(), h.spendingLimitUse(wallet, 1_000n, payee), memo()],
        facilitator.publicKey,
      );
      await expectRefused(
        client.sign(wallet.walletId, sol.message.serialize(), { requestId: 'v-sol' }),
        'X402_NOT_ENABLED',
      );
      expect((await client.usage(wallet.walletId)).spent[asset]).toBe('0');
    });

    it('refuses what is beyond the daily budget by its own count', async () => {
      const { wallet, asset } = await x402Wallet({ daily: 60n * TOKEN });
      for (let index = 0; index < 12; index++) {
        const { sent } = await signAndSettle(wallet, vaultPayment(wallet, asset, 5n * TOKEN), `d-${index}`);
        expect(sent.ok).toBe(true);
      }
      await expectRefused(
        client.sign(wallet.walletId, vaultPayment(wallet, asset, TOKEN).message.serialize(), {
          requestId: 'd-x',
        }),
        'POLICY_DAILY_LIMIT',
      );
    });

    it('refuses an extra instruction, a second memo, a memo with accounts, an uncapped budget and signing as fee payer', async () => {
      const { wallet, asset } = await x402Wallet();
      const sign = (transaction: VersionedTransaction, requestId: string) =>
        client.sign(wallet.walletId, transaction.message.serialize(), { requestId });
      const drain = SystemProgram.transfer({
        fromPubkey: facilitator.publicKey,
        toPubkey: stranger,
        lamports: 1_000_000,
      });
      await expectRefused(
        sign(vaultPayment(wallet, asset, TOKEN, payee, [memo(), drain]), 'x-extra'),
        'ENCLAVE_REFUSED',
        'UNKNOWN_PROGRAM',
      );
      await expectRefused(
        sign(vaultPayment(wallet, asset, TOKEN, payee, [memo(), memo('again')]), 'x-memos'),
        'ENCLAVE_REFUSED',
        'DUPLICATE_INSTRUCTION',
      );
      const signerMemo = new TransactionInstruction({
        programId: new PublicKey(MEMO_PROGRAM.base58),
        keys: [{ pubkey: wallet.agent, isSigner: true, isWritable: false }],
        data: Buffer.from('x'),
      });
      await expectRefused(
        sign(vaultPayment(wallet, asset, TOKEN, payee, [signerMemo]), 'x-memo-accounts'),
        'ENCLAVE_REFUSED',
        'MALFORMED_INSTRUCTION',
      );
      const pricey = h.chain.message(
        [...budget(200_000, 6_000_000), h.spendingLimitUse(wallet, TOKEN, payee, asset, 6), memo()],
        facilitator.publicKey,
      );
      await expectRefused(sign(pricey, 'x-price'), 'ENCLAVE_REFUSED', 'COMPUTE_BUDGET_TOO_HIGH');
      const greedy = h.chain.message(
        [...budget(500_000), h.spendingLimitUse(wallet, TOKEN, payee, asset, 6), memo()],
        facilitator.publicKey,
      );
      await expectRefused(sign(greedy, 'x-limit'), 'ENCLAVE_REFUSED', 'COMPUTE_BUDGET_TOO_HIGH');
      const agentPays = h.chain.message(
        [...budget(), h.spendingLimitUse(wallet, TOKEN, payee, asset, 6), memo()],
        wallet.agent,
      );
      await expectRefused(sign(agentPays, 'x-fee'), 'ENCLAVE_REFUSED', 'AGENT_IS_FEE_PAYER');
      expect((await client.usage(wallet.walletId)).spent[asset]).toBe('0');
    });
  });

  describe('the float: filled through the limit, paid out by TransferChecked, swept back after a freeze', () => {
    it('fills up to float.max per window, counted against daily; pays a payee; refuses the rest', async () => {
      const { wallet, mint, asset } = await x402Wallet();
      const float = ata(mint, wallet.agent);
      const fill = (amount: bigint) =>
        h.chain.message([h.spendingLimitUse(wallet, amount, wallet.agent, asset, 6)]);
      const filled = await h.signAndSend(wallet, fill(15n * TOKEN), 'fill-1');
      expect(filled.sent.ok).toBe(true);
      expect(h.chain.tokenBalance(float)).toBe(15n * TOKEN);
      expect((await client.usage(wallet.walletId)).spent[asset]).toBe(String(15n * TOKEN));
      await expectRefused(
        client.sign(wallet.walletId, fill(6n * TOKEN).message.serialize(), { requestId: 'fill-2' }),
        'POLICY_FLOAT_MAX',
      );

      const before = h.chain.tokenBalance(ata(mint, payee));
      const { signed, sent } = await signAndSettle(wallet, floatPayment(wallet, mint, 4n * TOKEN), 'fp-1');
      expect(sent.ok).toBe(true);
      expect(signed.transfer).toMatchObject({ asset, amount: 4n * TOKEN });
      expect(h.chain.tokenBalance(ata(mint, payee)) - before).toBe(4n * TOKEN);
      expect(h.chain.tokenBalance(float)).toBe(11n * TOKEN);
      // Already counted when it went into the float: daily is not charged twice.
      expect((await client.usage(wallet.walletId)).spent[asset]).toBe(String(15n * TOKEN));

      await expectRefused(
        client.sign(wallet.walletId, floatPayment(wallet, mint, TOKEN, stranger).message.serialize(), {
          requestId: 'fp-payee',
        }),
        'RECIPIENT_NOT_ALLOWED',
      );
      await expectRefused(
        client.sign(wallet.walletId, floatPayment(wallet, mint, 6n * TOKEN).message.serialize(), {
          requestId: 'fp-cap',
        }),
        'POLICY_X402_PER_PAYMENT',
      );
      // The agent's tokens anywhere but its float's associated account are not the float.
      const other = h.chain.message(
        [
          createTransferCheckedInstruction(
            ata(mint, stranger),
            mint,
            ata(mint, payee),
            wallet.agent,
            TOKEN,
            6,
          ),
          memo(),
        ],
        facilitator.publicKey,
      );
      await expectRefused(
        client.sign(wallet.walletId, other.message.serialize(), { requestId: 'fp-source' }),
        'ENCLAVE_REFUSED',
        'FOREIGN_SOURCE',
      );
      await expectRefused(
        client.sign(
          wallet.walletId,
          floatPayment(wallet, mint, TOKEN, payee, [
            memo(),
            SystemProgram.transfer({ fromPubkey: facilitator.publicKey, toPubkey: stranger, lamports: 1 }),
          ]).message.serialize(),
          { requestId: 'fp-extra' },
        ),
        'ENCLAVE_REFUSED',
        'UNKNOWN_PROGRAM',
      );
    });

    it('after a freeze (the owner-signed policy with no assets) signs neither path, only the sweep to the vault', async () => {
      const { wallet, mint, asset } = await x402Wallet();
      const float = ata(mint, wallet.agent);
      expect(
        (
          await h.signAndSend(
            wallet,
            h.chain.message([h.spendingLimitUse(wallet, 10n * TOKEN, wallet.agent, asset, 6)]),
            'f-fill',
          )
        ).sent.ok,
      ).toBe(true);

      const frozen: PolicyDocument = { ...wallet.policy, version: 2, assets: {} };
      await client.setPolicy(await h.owner.signPolicy(wallet.walletId, frozen));
      // The frozen policy names no asset, so no spending limit is this wallet's to use any more.
      await expectRefused(
        client.sign(wallet.walletId, vaultPayment(wallet, asset, TOKEN).message.serialize(), {
          requestId: 'f-v',
        }),
        'ENCLAVE_REFUSED',
        'WRONG_SPENDING_LIMIT',
      );
      await expectRefused(
        client.sign(wallet.walletId, floatPayment(wallet, mint, TOKEN).message.serialize(), {
          requestId: 'f-p',
        }),
        'ASSET_NOT_ALLOWED',
      );
      // Only to the vault's own token account; a memo would make it a payment.
      const vaultAccount = ata(mint, wallet.chain.vault);
      const sweep = (extra: TransactionInstruction[] = []) =>
        h.chain.message([
          createTransferCheckedInstruction(float, mint, vaultAccount, wallet.agent, 10n * TOKEN, 6),
          ...extra,
        ]);
      await expectRefused(
        client.sign(wallet.walletId, sweep([memo()]).message.serialize(), { requestId: 'f-s-memo' }),
        'ENCLAVE_REFUSED',
        'UNSUPPORTED_INSTRUCTION',
      );
      const before = h.chain.tokenBalance(vaultAccount);
      const swept = await h.signAndSend(wallet, sweep(), 'f-sweep');
      expect(swept.sent.ok).toBe(true);
      expect(h.chain.tokenBalance(float)).toBe(0n);
      expect(h.chain.tokenBalance(vaultAccount) - before).toBe(10n * TOKEN);
    });
  });

  it('the enclave clock is its own: a restart of the window lets the float take float.max again', async () => {
    const { wallet, asset } = await x402Wallet();
    const fill = (amount: bigint) =>
      h.chain.message([h.spendingLimitUse(wallet, amount, wallet.agent, asset, 6)]);
    expect((await h.signAndSend(wallet, fill(20n * TOKEN), 'w-1')).sent.ok).toBe(true);
    await expectRefused(
      client.sign(wallet.walletId, fill(TOKEN).message.serialize(), { requestId: 'w-2' }),
      'POLICY_FLOAT_MAX',
    );
    now += (86_400 + 600 + 300) * 1000;
    h.chain.setNow(h.chain.nowSeconds() + 86_401);
    expect((await h.signAndSend(wallet, fill(TOKEN), 'w-3')).sent.ok).toBe(true);
  });
});
