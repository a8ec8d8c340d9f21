/**
 * The enclave's second policy layer, attacked the way a compromised daemon would: requests go
 * straight to the enclave over its socket, with transactions built from the real Squads SDK, and
 * what it signs is executed on LiteSVM with the real Squads v4 program.
 */

import type { Server } from 'node:net';
import { join } from 'node:path';
import { createTransferCheckedInstruction } from '@solana/spl-token';
import {
  AddressLookupTableAccount,
  Keypair,
  PublicKey,
  SystemProgram,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { listenUnix } from '../../src/enclave/server.ts';
import { spendingLimitCreateKey } from '../../src/solana/inspect/pda.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';
import { type HarnessWallet, L2Harness } from './helpers/l2-harness.ts';

const so = squadsBinaryPath;
const NOON = Date.UTC(2025, 0, 15, 12); // a Wednesday

const expectRefused = async (call: Promise<unknown>, code: string, reason?: string) => {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected ${code}${reason ? `/${reason}` : ''}`).toBeDefined();
  if (!isWaiaasError(error)) throw error;
  expect(error.code).toBe(code);
  if (reason !== undefined) expect(error.details['reason']).toBe(reason);
  if (code !== 'VALIDATION_FAILED') expect(error.layer ?? 'enclave').toBe('enclave');
  return error;
};

describeWithSquads('enclave L2 over its socket', () => {
  let now = NOON;
  let enclave: AgentEnclave;
  let server: Server;
  let client: EnclaveClient;
  let h: L2Harness;
  const alice = Keypair.generate().publicKey;
  const mallory = Keypair.generate().publicKey;
  const allowlist = () => solPolicy({ recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } });

  beforeAll(async () => {
    const { vault } = await createTestVault();
    enclave = AgentEnclave.create({ vault, now: () => now });
    const socketPath = join(tempDir(), 'enclave.sock');
    server = await listenUnix(enclave, socketPath);
    client = new EnclaveClient({ socketPath });
    h = new L2Harness(so!, client);
  });

  afterAll(async () => {
    client?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const signOnly = (
    wallet: HarnessWallet,
    instructions: TransactionInstruction[],
    requestId = `r-${Math.random()}`,
  ) => client.sign(wallet.walletId, h.chain.message(instructions).message.serialize(), { requestId });

  describe('allowed shapes: the amount counted is what the chain moves', () => {
    it('SOL spendingLimitUse, v0 and legacy messages', async () => {
      const wallet = await h.wallet(allowlist());
      for (const legacy of [false, true]) {
        const before = h.chain.balance(wallet.chain.vault);
        const tx = h.chain.message([h.spendingLimitUse(wallet, 70_000_000n, alice)], undefined, legacy);
        const { signed, sent } = await h.signAndSend(wallet, tx, `sol-${legacy}`);
        expect(sent.ok).toBe(true);
        expect(signed.tier).toBe('instant');
        expect(signed.transfer).toMatchObject({
          asset: 'SOL',
          route: 'spending-limit',
          recipient: alice.toBase58(),
        });
        expect(before - h.chain.balance(wallet.chain.vault)).toBe(signed.transfer!.amount);
      }
      expect((await client.usage(wallet.walletId)).spent['SOL']).toBe('140000000');
    });

    it('an approval-tier vault transaction: signed, not counted against daily, moves exactly what was counted', async () => {
      const wallet = await h.wallet(allowlist());
      const instructions = h.proposal(wallet, 1n, [h.vaultTransfer(wallet, alice, 1_700_000_000n)]);
      const { signed, sent } = await h.signAndSend(wallet, h.chain.message(instructions), 'approval-1');
      expect(sent.ok).toBe(true);
      expect(signed.tier).toBe('approval');
      expect((await client.usage(wallet.walletId)).spent['SOL']).toBe('0');
      const before = h.chain.balance(wallet.chain.vault);
      const executed = await h.chain.approveAndExecute(wallet.chain, 1n);
      expect(executed.ok).toBe(true);
      expect(before - h.chain.balance(wallet.chain.vault)).toBe(signed.transfer!.amount);
    });

    it('SPL spendingLimitUse and an SPL transferChecked vault transaction', async () => {
      const mint = Keypair.generate();
      const policy = allowlist();
      policy.assets[mint.publicKey.toBase58()] = {
        perTransaction: '80000000',
        daily: '200000000',
        tiers: { instantMax: '10000000', notifyMax: '50000000', delayMax: '50000000', delaySeconds: 600 },
      };
      const wallet = await h.wallet(policy);
      h.chain.createMint(mint, wallet.chain.vault, 1_000_000_000n, [alice]);
      const vaultAta = h.ata(mint.publicKey, wallet.chain.vault);
      const asset = mint.publicKey.toBase58();

      const tx = h.chain.message([h.spendingLimitUse(wallet, 9_000_000n, alice, asset, 6)]);
      const { signed, sent } = await h.signAndSend(wallet, tx, 'spl-1');
      expect(sent.ok).toBe(true);
      expect(signed.transfer).toMatchObject({ asset, amount: 9_000_000n, recipient: alice.toBase58() });
      expect(h.chain.tokenBalance(h.ata(mint.publicKey, alice))).toBe(9_000_000n);

      const inner = createTransferCheckedInstruction(
        vaultAta,
        mint.publicKey,
        h.ata(mint.publicKey, alice),
        wallet.chain.vault,
        70_000_000n,
        6,
      );
      const proposal = await h.signAndSend(wallet, h.chain.message(h.proposal(wallet, 1n, [inner])), 'spl-2');
      expect(proposal.sent.ok).toBe(true);
      expect(proposal.signed.transfer).toMatchObject({
        asset,
        amount: 70_000_000n,
        recipient: alice.toBase58(),
      });
      const before = h.chain.tokenBalance(vaultAta);
      expect((await h.chain.approveAndExecute(wallet.chain, 1n)).ok).toBe(true);
      expect(before - h.chain.tokenBalance(vaultAta)).toBe(70_000_000n);
    });

    it('signs the identical bytes again without counting them twice (a retried call)', async () => {
      const wallet = await h.wallet(allowlist());
      const message = h.chain.message([h.spendingLimitUse(wallet, 10_000_000n, alice)]).message.serialize();
      const first = await client.sign(wallet.walletId, message, { requestId: 'retry' });
      const second = await client.sign(wallet.walletId, message, { requestId: 'retry' });
      expect(second.repeated).toBe(true);
      expect(Buffer.from(second.signature).equals(Buffer.from(first.signature))).toBe(true);
      expect((await client.usage(wallet.walletId)).spent['SOL']).toBe('10000000');
    });
  });

  it('follows a policy change whose on-chain limit is replaced at the same address in one transaction', async () => {
    const wallet = await h.wallet(allowlist());
    const v2 = { ...allowlist(), version: 2 };
    v2.assets['SOL'] = { ...v2.assets['SOL']!, daily: '1500000000' };
    const spendingLimit = wallet.chain.spendingLimits.get('SOL')!;
    const replace = [
      multisig.instructions.multisigRemoveSpendingLimit({
        multisigPda: wallet.chain.multisig,
        configAuthority: h.chain.owner.publicKey,
        spendingLimit,
        rentCollector: h.chain.feePayer.publicKey,
      }),
      multisig.instructions.multisigAddSpendingLimit({
        multisigPda: wallet.chain.multisig,
        configAuthority: h.chain.owner.publicKey,
        spendingLimit,
        rentPayer: h.chain.feePayer.publicKey,
        createKey: new PublicKey(spendingLimitCreateKey(wallet.chain.multisig.toBytes(), 'SOL')),
        vaultIndex: 0,
        mint: PublicKey.default,
        amount: 1_500_000_000n,
        period: multisig.types.Period.Day,
        members: [wallet.agent],
        destinations: [alice],
      }),
    ];
    expect(h.chain.sendInstructions(replace, [h.chain.owner]).ok).toBe(true);
    await client.setPolicy(await h.owner.signPolicy(wallet.walletId, v2));
    for (const amount of [500_000_000n, 500_000_000n, 499_999_999n, 1n]) {
      const { sent } = await h.signAndSend(
        wallet,
        h.chain.message([h.spendingLimitUse(wallet, amount, alice)]),
        `v2-${amount}`,
      );
      expect(sent.ok).toBe(true);
    }
    await expectRefused(signOnly(wallet, [h.spendingLimitUse(wallet, 1n, alice)]), 'POLICY_DAILY_LIMIT');
  });

  describe('refused when sent straight to the enclave', () => {
    it('over the per-transaction cap, by spending limit or by proposal', async () => {
      const wallet = await h.wallet(allowlist());
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 2_000_000_001n, alice)]),
        'POLICY_PER_TX_LIMIT',
      );
      await expectRefused(
        signOnly(wallet, h.proposal(wallet, 1n, [h.vaultTransfer(wallet, alice, 2_000_000_001n)])),
        'POLICY_PER_TX_LIMIT',
      );
    });

    it('over the daily cap across several requests, while each fits on its own', async () => {
      const wallet = await h.wallet(allowlist());
      for (let index = 0; index < 10; index++) {
        const tx = h.chain.message([h.spendingLimitUse(wallet, 500_000_000n, alice)]);
        const { signed, sent } = await h.signAndSend(wallet, tx, `daily-${index}`);
        expect(signed.tier).toBe('notify');
        expect(sent.ok).toBe(true);
      }
      const refusal = await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 1n, alice)]),
        'POLICY_DAILY_LIMIT',
      );
      expect(refusal.details['remaining']).toBe('0');
    });

    it('a destination outside the allowlist', async () => {
      const wallet = await h.wallet(allowlist());
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 1_000n, mallory)]),
        'RECIPIENT_NOT_ALLOWED',
      );
      await expectRefused(
        signOnly(wallet, h.proposal(wallet, 1n, [h.vaultTransfer(wallet, mallory, 1_000n)])),
        'RECIPIENT_NOT_ALLOWED',
      );
    });

    it('an instruction of another program next to an allowed one', async () => {
      const wallet = await h.wallet(allowlist());
      const drain = SystemProgram.transfer({
        fromPubkey: h.chain.feePayer.publicKey,
        toPubkey: mallory,
        lamports: 1,
      });
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 1_000n, alice), drain]),
        'ENCLAVE_REFUSED',
        'UNKNOWN_PROGRAM',
      );
      const memo = new TransactionInstruction({
        programId: Keypair.generate().publicKey,
        keys: [{ pubkey: wallet.agent, isSigner: true, isWritable: false }],
        data: Buffer.from('hi'),
      });
      await expectRefused(signOnly(wallet, [memo]), 'ENCLAVE_REFUSED', 'UNKNOWN_PROGRAM');
      const otherSquads = multisig.instructions.proposalCancel({
        multisigPda: wallet.chain.multisig,
        transactionIndex: 1n,
        member: wallet.agent,
      });
      await expectRefused(signOnly(wallet, [otherSquads]), 'ENCLAVE_REFUSED', 'UNSUPPORTED_INSTRUCTION');
    });

    it('a transfer hidden in the vault message', async () => {
      const wallet = await h.wallet(allowlist());
      const pay = h.vaultTransfer(wallet, alice, 1_000n);
      const extra = h.vaultTransfer(wallet, mallory, 5_000_000_000n);
      await expectRefused(
        signOnly(wallet, h.proposal(wallet, 1n, [pay, extra])),
        'ENCLAVE_REFUSED',
        'HIDDEN_TRANSFER',
      );
      const fromOther = h.vaultTransfer(wallet, alice, 1_000n, Keypair.generate().publicKey);
      await expectRefused(
        signOnly(wallet, h.proposal(wallet, 1n, [fromOther])),
        'ENCLAVE_REFUSED',
        'FOREIGN_SOURCE',
      );
      const createAccount = SystemProgram.createAccount({
        fromPubkey: wallet.chain.vault,
        newAccountPubkey: wallet.chain.vault,
        lamports: 1,
        space: 0,
        programId: SystemProgram.programId,
      });
      await expectRefused(
        signOnly(wallet, h.proposal(wallet, 1n, [pay, createAccount])),
        'ENCLAVE_REFUSED',
        'HIDDEN_TRANSFER',
      );
      await expectRefused(signOnly(wallet, h.proposal(wallet, 1n, [])), 'ENCLAVE_REFUSED', 'NO_TRANSFER');
    });

    it('a policy signed by a stranger, or claiming the owner but signed by a stranger', async () => {
      const wallet = await h.wallet(allowlist());
      const stranger = createOwner();
      const loose = { ...allowlist(), version: 9, recipients: { mode: 'any' as const } };
      await expectRefused(
        client.setPolicy(await stranger.signPolicy(wallet.walletId, loose)),
        'POLICY_SIGNATURE_INVALID',
      );
      const forged = await stranger.signPolicy(wallet.walletId, loose);
      await expectRefused(
        client.setPolicy({ ...forged, ownerPublicKey: h.owner.publicKey }),
        'POLICY_SIGNATURE_INVALID',
      );
      // The owner's bundle for another wallet does not apply here either.
      const otherWallet = await h.owner.signPolicy('another-wallet', loose);
      await expectRefused(
        client.setPolicy({ ...otherWallet, walletId: wallet.walletId }),
        'POLICY_SIGNATURE_INVALID',
      );
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 1_000n, mallory)]),
        'RECIPIENT_NOT_ALLOWED',
      );
    });

    it('an old policy version replayed, and a different policy under the current version', async () => {
      const wallet = await h.wallet(allowlist());
      const v2 = { ...allowlist(), version: 2 };
      expect(await client.setPolicy(await h.owner.signPolicy(wallet.walletId, v2))).toMatchObject({
        version: 2,
      });
      const oldLoose = { ...allowlist(), version: 1, recipients: { mode: 'any' as const } };
      await expectRefused(
        client.setPolicy(await h.owner.signPolicy(wallet.walletId, oldLoose)),
        'POLICY_VERSION_NOT_NEWER',
      );
      const sameVersion = { ...v2, recipients: { mode: 'any' as const } };
      await expectRefused(
        client.setPolicy(await h.owner.signPolicy(wallet.walletId, sameVersion)),
        'POLICY_VERSION_NOT_NEWER',
      );
      expect(await client.setPolicy(await h.owner.signPolicy(wallet.walletId, v2))).toMatchObject({
        unchanged: true,
      });
    });

    it('a delay-tier transfer before delaySeconds since the enclave first saw its request id', async () => {
      const wallet = await h.wallet(allowlist());
      const build = (amount: bigint) => h.chain.message([h.spendingLimitUse(wallet, amount, alice)]);
      const started = now;
      try {
        const early = await expectRefused(
          h.signAndSend(wallet, build(800_000_000n), 'delayed-1'),
          'DELAY_NOT_ELAPSED',
        );
        expect(early.details['executeAfter']).toBe(new Date(started + 900_000).toISOString());
        now = started + 899_999;
        await expectRefused(h.signAndSend(wallet, build(800_000_000n), 'delayed-1'), 'DELAY_NOT_ELAPSED');
        // The same id cannot be reused for another transfer once the clock runs.
        now = started + 900_000;
        await expectRefused(
          h.signAndSend(wallet, build(900_000_000n), 'delayed-1'),
          'ENCLAVE_REFUSED',
          'REQUEST_ID_MISMATCH',
        );
        const { signed, sent } = await h.signAndSend(wallet, build(800_000_000n), 'delayed-1');
        expect(signed.tier).toBe('delay');
        expect(sent.ok).toBe(true);
        // A new id starts its own delay.
        await expectRefused(h.signAndSend(wallet, build(800_000_000n), 'delayed-2'), 'DELAY_NOT_ELAPSED');
      } finally {
        now = started;
      }
    });

    it('the agent as fee payer', async () => {
      const wallet = await h.wallet(allowlist());
      const tx = h.chain.message([h.spendingLimitUse(wallet, 1_000n, alice)], wallet.agent);
      await expectRefused(
        client.sign(wallet.walletId, tx.message.serialize(), { requestId: 'fee' }),
        'ENCLAVE_REFUSED',
        'AGENT_IS_FEE_PAYER',
      );
    });

    it('the agent paying rent for a proposal', async () => {
      const wallet = await h.wallet(allowlist());
      const instructions = h.proposal(wallet, 1n, [h.vaultTransfer(wallet, alice, 1_000n)], wallet.agent);
      await expectRefused(signOnly(wallet, instructions), 'ENCLAVE_REFUSED', 'AGENT_PAYS_RENT');
    });

    it('another wallet’s multisig or spending limit', async () => {
      const wallet = await h.wallet(allowlist());
      const other = await h.wallet(allowlist());
      // Other's instruction, but listed as this wallet's request: this wallet's key is not its member.
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(other, 1_000n, alice)]),
        'ENCLAVE_REFUSED',
        'AGENT_NOT_SIGNER',
      );
      const crossed = multisig.instructions.spendingLimitUse({
        multisigPda: other.chain.multisig,
        member: wallet.agent,
        spendingLimit: wallet.chain.spendingLimits.get('SOL')!,
        vaultIndex: 0,
        amount: 1_000,
        decimals: 9,
        destination: alice,
      });
      await expectRefused(signOnly(wallet, [crossed]), 'ENCLAVE_REFUSED', 'WRONG_MULTISIG');
      const foreignLimit = multisig.instructions.spendingLimitUse({
        multisigPda: wallet.chain.multisig,
        member: wallet.agent,
        spendingLimit: other.chain.spendingLimits.get('SOL')!,
        vaultIndex: 0,
        amount: 1_000,
        decimals: 9,
        destination: alice,
      });
      await expectRefused(signOnly(wallet, [foreignLimit]), 'ENCLAVE_REFUSED', 'WRONG_SPENDING_LIMIT');
    });

    it('an approval-sized amount through the spending limit', async () => {
      const wallet = await h.wallet(allowlist());
      await expectRefused(
        signOnly(wallet, [h.spendingLimitUse(wallet, 1_500_000_000n, alice)]),
        'ENCLAVE_REFUSED',
        'APPROVAL_REQUIRED',
      );
    });

    it('outside hours and over the rate', async () => {
      const office = await h.wallet({ ...allowlist(), hours: { utc: [9, 17], days: [1, 2, 3, 4, 5] } });
      const saved = now;
      now = Date.UTC(2025, 0, 15, 20);
      await expectRefused(signOnly(office, [h.spendingLimitUse(office, 1_000n, alice)]), 'OUTSIDE_HOURS');
      now = saved;
      const slow = await h.wallet({ ...allowlist(), rate: { maxPerHour: 3 } });
      for (let index = 0; index < 3; index++)
        await signOnly(slow, [h.spendingLimitUse(slow, 1_000n + BigInt(index), alice)]);
      await expectRefused(signOnly(slow, [h.spendingLimitUse(slow, 2_000n, alice)]), 'POLICY_RATE_LIMIT');
    });

    it('address lookup tables and unknown wallets', async () => {
      const wallet = await h.wallet(allowlist());
      const table = new AddressLookupTableAccount({
        key: Keypair.generate().publicKey,
        state: {
          deactivationSlot: 2n ** 64n - 1n,
          lastExtendedSlot: 0,
          lastExtendedSlotStartIndex: 0,
          addresses: [alice],
        },
      });
      const message = new TransactionMessage({
        payerKey: h.chain.feePayer.publicKey,
        recentBlockhash: h.chain.svm.latestBlockhash(),
        instructions: [h.spendingLimitUse(wallet, 1_000n, alice)],
      }).compileToV0Message([table]);
      expect(message.addressTableLookups.length).toBe(1);
      await expectRefused(
        client.sign(wallet.walletId, new VersionedTransaction(message).message.serialize(), {
          requestId: 'alt',
        }),
        'ENCLAVE_REFUSED',
        'ADDRESS_LOOKUP_UNSUPPORTED',
      );
      await expectRefused(
        signOnly({ ...wallet, walletId: 'nobody' }, [h.spendingLimitUse(wallet, 1n, alice)]),
        'ENCLAVE_REFUSED',
        'UNKNOWN_WALLET',
      );
    });
  });
});
