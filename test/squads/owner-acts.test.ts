import { Keypair, type PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WaiaasError } from '../../src/core/errors.ts';
import type { SpendingLimitSpec, TokenAsset, TransferAsset } from '../../src/squads/assets.ts';
import { compileTransaction } from '../../src/squads/compile.ts';
import { chainRejection } from '../../src/squads/errors.ts';
import { buildFreeze } from '../../src/squads/owner-acts/freeze.ts';
import { buildReplaceLimits } from '../../src/squads/owner-acts/replace-limits.ts';
import { buildResume } from '../../src/squads/owner-acts/resume.ts';
import { buildRotateAgent } from '../../src/squads/owner-acts/rotate-agent.ts';
import { buildWithdraw, resolveWithdrawAmount } from '../../src/squads/owner-acts/withdraw.ts';
import { spendingLimitAddress, vaultAddress, withdrawLimitAddress } from '../../src/squads/pdas.ts';
import { readMultisig, readSpendingLimits, readWallet } from '../../src/squads/read-wallet.ts';
import { buildAgentTransfer } from '../../src/squads/spending-limit-use.ts';
import { buildVaultTransferProposal } from '../../src/squads/vault-transfer-proposal.ts';
import { type SendResult, type SquadsSvm, squadsSvmOrSkip } from '../support/svm.ts';
import {
  chainBudget,
  createMint,
  createTestWallet,
  mintTo,
  sendAsOwner,
  sendAsOwnerOk,
  type TestWallet,
  tokenBalance,
} from './wallet-fixture.ts';

const chain = squadsSvmOrSkip();
const SOL = 1_000_000_000n;

const refusal = (result: SendResult): WaiaasError => {
  if (result.ok) throw new Error('expected the chain to refuse the transaction');
  return chainRejection(result.err, result.logs);
};
const keys = (list: readonly { toBase58(): string }[]) => list.map((key) => key.toBase58()).sort();

describe.skipIf(chain === null)('owner acts as config authority', () => {
  const svm = chain as SquadsSvm;
  const recipient = Keypair.generate().publicKey;
  const mintAuthority = Keypair.generate();
  let token: TokenAsset;
  let limits: SpendingLimitSpec[];

  const current = async (wallet: TestWallet) => ({
    multisig: await readMultisig(svm, wallet.multisig),
    spendingLimits: await readSpendingLimits(svm, wallet.multisig),
  });
  const envelope = (wallet: TestWallet) => ({
    owner: wallet.owner.publicKey,
    feePayer: wallet.payer.publicKey,
    recentBlockhash: svm.blockhash(),
    budget: chainBudget(svm, wallet.vault, [token]),
  });
  const spend = (wallet: TestWallet, agent: Keypair, asset: TransferAsset, amount: bigint) =>
    svm.send(
      buildAgentTransfer({
        multisig: wallet.multisig,
        agent: agent.publicKey,
        feePayer: wallet.payer.publicKey,
        asset,
        amount,
        destination: recipient,
        recentBlockhash: svm.blockhash(),
      }),
      [wallet.payer, agent],
    );
  const freeze = async (wallet: TestWallet) =>
    sendAsOwnerOk(wallet, buildFreeze({ ...envelope(wallet), current: await current(wallet) })!, [
      wallet.payer,
    ]);

  beforeAll(() => {
    svm.airdrop(mintAuthority.publicKey, 10n * SOL);
    token = createMint(svm, mintAuthority, 6);
    mintTo(svm, mintAuthority, token, recipient, 0n);
    limits = [
      { asset: 'SOL', amount: SOL, destinations: [] },
      { asset: token.mint, amount: 1_000_000n, destinations: [] },
    ];
  });

  const newWallet = async () => {
    const wallet = await createTestWallet(svm, limits, 10n * SOL);
    mintTo(svm, mintAuthority, token, wallet.vault, 100_000_000n);
    return wallet;
  };

  describe('freeze', () => {
    it('in one transaction: the agent is no member, no spending limit remains, threshold 1; the agent cannot spend', async () => {
      const wallet = await newWallet();
      expect(spend(wallet, wallet.agent, 'SOL', 100_000_000n).ok).toBe(true);
      const tx = buildFreeze({ ...envelope(wallet), current: await current(wallet) });
      expect(tx).not.toBeNull();
      await sendAsOwnerOk(wallet, tx!, [wallet.payer]);

      const state = await readWallet(svm, wallet.multisig);
      expect(keys(state.multisig.members.map((m) => m.key))).toEqual([wallet.owner.publicKey.toBase58()]);
      expect(state.multisig.threshold).toBe(1);
      expect(state.spendingLimits).toEqual([]);

      const vaultBefore = svm.balance(wallet.vault);
      const sol = refusal(spend(wallet, wallet.agent, 'SOL', 1n));
      expect(sol.details).toMatchObject({ programError: 'AccountNotInitialized' });
      expect(refusal(spend(wallet, wallet.agent, token, 1n)).code).toBe('CHAIN_REJECTED');
      // Nor can it propose: it is no longer a member.
      const proposal = buildVaultTransferProposal({
        multisig: wallet.multisig,
        agent: wallet.agent.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: state.multisig.transactionIndex + 1n,
        transfer: { asset: 'SOL', amount: 1n, destination: recipient },
        recentBlockhash: svm.blockhash(),
      });
      expect(refusal(svm.send(proposal.transaction, [wallet.payer, wallet.agent])).details).toMatchObject({
        programError: 'NotAMember',
      });
      expect(svm.balance(wallet.vault)).toBe(vaultBefore);

      expect(buildFreeze({ ...envelope(wallet), current: await current(wallet) })).toBeNull();
    });

    it('why all three: removing only the agent member leaves its limit spendable on the deployed program', async () => {
      const wallet = await newWallet();
      const removeOnly = (threshold: boolean) =>
        compileTransaction({ feePayer: wallet.payer.publicKey, recentBlockhash: svm.blockhash() }, [
          ...(threshold
            ? [
                multisig.instructions.multisigChangeThreshold({
                  multisigPda: wallet.multisig,
                  configAuthority: wallet.owner.publicKey,
                  rentPayer: wallet.payer.publicKey,
                  newThreshold: 1,
                }),
              ]
            : []),
          multisig.instructions.multisigRemoveMember({
            multisigPda: wallet.multisig,
            configAuthority: wallet.owner.publicKey,
            oldMember: wallet.agent.publicKey,
          }),
        ]);
      const withoutThreshold = refusal(await sendAsOwner(wallet, removeOnly(false), [wallet.payer]));
      expect(withoutThreshold.details).toMatchObject({ programError: 'InvalidThreshold', code: 6003 });
      await sendAsOwnerOk(wallet, removeOnly(true), [wallet.payer]);
      expect((await readMultisig(svm, wallet.multisig)).members).toHaveLength(1);
      expect(spend(wallet, wallet.agent, 'SOL', 100_000_000n).ok).toBe(true);
      // The freeze builder sees the leftover limits and removes them.
      await freeze(wallet);
      expect(await readSpendingLimits(svm, wallet.multisig)).toEqual([]);
      expect(spend(wallet, wallet.agent, 'SOL', 1n).ok).toBe(false);
    });

    it('only the config authority can do it: the agent signing as authority is refused (Unauthorized 6004)', async () => {
      const wallet = await newWallet();
      const state = await current(wallet);
      expect(() =>
        buildFreeze({ ...envelope(wallet), owner: wallet.agent.publicKey, current: state }),
      ).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
      const hijack = compileTransaction(
        { feePayer: wallet.payer.publicKey, recentBlockhash: svm.blockhash() },
        [
          multisig.instructions.multisigRemoveSpendingLimit({
            multisigPda: wallet.multisig,
            configAuthority: wallet.agent.publicKey,
            spendingLimit: spendingLimitAddress(wallet.multisig, 'SOL'),
            rentCollector: wallet.agent.publicKey,
          }),
        ],
      );
      expect(refusal(svm.send(hijack, [wallet.payer, wallet.agent])).details).toMatchObject({
        programError: 'Unauthorized',
        code: 6004,
      });
      expect(await readSpendingLimits(svm, wallet.multisig)).toHaveLength(2);
    });
  });

  describe('resume', () => {
    it('lets the agent back as Initiate | Vote with threshold 2 and fresh limits; spending works again', async () => {
      const wallet = await newWallet();
      await freeze(wallet);
      const tx = buildResume({
        ...envelope(wallet),
        current: await current(wallet),
        agent: wallet.agent.publicKey,
        limits,
      });
      await sendAsOwnerOk(wallet, tx!, [wallet.payer]);

      const state = await readWallet(svm, wallet.multisig);
      expect(state.multisig.threshold).toBe(2);
      const agent = state.multisig.members.find((m) => m.key.equals(wallet.agent.publicKey));
      expect(agent).toMatchObject({ initiate: true, vote: true, execute: false });
      expect(state.spendingLimits).toHaveLength(2);
      expect(state.spendingLimits.every((limit) => limit.remainingAmount === limit.amount)).toBe(true);
      expect(spend(wallet, wallet.agent, 'SOL', 200_000_000n).ok).toBe(true);
      expect(spend(wallet, wallet.agent, token, 500_000n).ok).toBe(true);
      expect(
        buildResume({
          ...envelope(wallet),
          current: await current(wallet),
          agent: wallet.agent.publicKey,
          limits,
        }),
      ).toBeNull();
    });
  });

  describe('rotate agent key', () => {
    it('keeps the wallet address; the new key spends, the old key is refused', async () => {
      const wallet = await newWallet();
      const oldAgent = wallet.agent;
      const newAgent = Keypair.generate();
      const vaultBefore = vaultAddress(wallet.multisig);
      const tx = buildRotateAgent({
        ...envelope(wallet),
        current: await current(wallet),
        oldAgent: oldAgent.publicKey,
        newAgent: newAgent.publicKey,
        limits,
      });
      await sendAsOwnerOk(wallet, tx, [wallet.payer]);

      const state = await readWallet(svm, wallet.multisig);
      expect(state.vault.equals(vaultBefore)).toBe(true);
      expect(state.balances.lamports).toBe(10n * SOL);
      expect(state.multisig.threshold).toBe(2);
      expect(keys(state.multisig.members.map((m) => m.key))).toEqual(
        keys([wallet.owner.publicKey, newAgent.publicKey]),
      );
      const members = keys([newAgent.publicKey, wallet.owner.publicKey]);
      expect(state.spendingLimits.map((l) => keys(l.members))).toEqual([members, members]);
      expect(keys(state.spendingLimits.map((l) => l.address))).toEqual(
        keys([
          spendingLimitAddress(wallet.multisig, 'SOL'),
          spendingLimitAddress(wallet.multisig, token.mint),
        ]),
      );

      expect(refusal(spend(wallet, oldAgent, 'SOL', 1n)).details).toMatchObject({
        programError: 'Unauthorized',
      });
      expect(spend(wallet, newAgent, 'SOL', 300_000_000n).ok).toBe(true);
      expect(svm.balance(wallet.vault)).toBe(10n * SOL - 300_000_000n);
    });

    it('refuses a frozen wallet (resume with the new key instead) and a key reused as the new one', async () => {
      const wallet = await newWallet();
      const base = {
        ...envelope(wallet),
        oldAgent: wallet.agent.publicKey,
        limits,
        current: await current(wallet),
      };
      expect(() => buildRotateAgent({ ...base, newAgent: wallet.agent.publicKey })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      expect(() => buildRotateAgent({ ...base, newAgent: wallet.owner.publicKey })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      await freeze(wallet);
      const frozen = await current(wallet);
      expect(() =>
        buildRotateAgent({ ...base, current: frozen, newAgent: Keypair.generate().publicKey }),
      ).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    });
  });

  describe('replace limits (policy change)', () => {
    it('in one transaction: changed limits replaced, removed assets gone, unchanged limits keep today’s usage', async () => {
      const wallet = await newWallet();
      expect(spend(wallet, wallet.agent, 'SOL', 400_000_000n).ok).toBe(true);
      const otherMint = Keypair.generate().publicKey;
      const allow = Keypair.generate().publicKey;
      const next: SpendingLimitSpec[] = [
        { asset: 'SOL', amount: SOL, destinations: [] },
        { asset: otherMint, amount: 7n, destinations: [allow] },
      ];
      const tx = buildReplaceLimits({
        ...envelope(wallet),
        current: await current(wallet),
        agent: wallet.agent.publicKey,
        limits: next,
      });
      await sendAsOwnerOk(wallet, tx!, [wallet.payer]);

      const after = await readSpendingLimits(svm, wallet.multisig);
      expect(after).toHaveLength(2);
      const sol = after.find((l) => l.asset === 'SOL');
      expect(sol?.remainingAmount).toBe(600_000_000n);
      const other = after.find((l) => l.asset !== 'SOL');
      expect(other).toMatchObject({ amount: 7n });
      expect(keys(other?.destinations ?? [])).toEqual(keys([allow, wallet.vault]));
      expect(refusal(spend(wallet, wallet.agent, token, 1n)).code).toBe('CHAIN_REJECTED');

      // Lowering today's SOL amount below the 0.4 spent replaces that limit with nothing left today.
      const lower = buildReplaceLimits({
        ...envelope(wallet),
        current: await current(wallet),
        agent: wallet.agent.publicKey,
        limits: [{ asset: 'SOL', amount: 100_000_000n, destinations: [] }, next[1]!],
      });
      await sendAsOwnerOk(wallet, lower!, [wallet.payer]);
      const lowered = (await readSpendingLimits(svm, wallet.multisig)).find((l) => l.asset === 'SOL');
      expect(lowered).toMatchObject({ amount: 100_000_000n, remainingAmount: 0n });
      expect(refusal(spend(wallet, wallet.agent, 'SOL', 1n)).details).toMatchObject({ code: 6026 });
    });

    it('refuses on a frozen wallet instead of letting the agent back in', async () => {
      const wallet = await newWallet();
      await freeze(wallet);
      const frozen = await current(wallet);
      expect(() =>
        buildReplaceLimits({ ...envelope(wallet), current: frozen, agent: wallet.agent.publicKey, limits }),
      ).toThrow(expect.objectContaining({ code: 'WALLET_FROZEN' }));
    });
  });

  describe('withdraw to the owner address', () => {
    const withdrawTo = async (
      wallet: TestWallet,
      destination: PublicKey,
      asset: TransferAsset,
      amount: bigint,
    ) =>
      sendAsOwner(
        wallet,
        buildWithdraw({ ...envelope(wallet), multisig: wallet.multisig, destination, asset, amount }),
        [wallet.payer],
      );

    it('moves all SOL in one transaction and leaves no authority behind', async () => {
      const wallet = await newWallet();
      const before = await readWallet(svm, wallet.multisig);
      const ownerAddress = Keypair.generate().publicKey;
      const amount = resolveWithdrawAmount('all', before.balances.lamports, 'SOL');
      expect((await withdrawTo(wallet, ownerAddress, 'SOL', amount)).ok).toBe(true);

      expect(svm.balance(ownerAddress)).toBe(10n * SOL);
      expect(svm.balance(wallet.vault)).toBe(0n);
      const after = await readWallet(svm, wallet.multisig);
      expect(svm.exists(withdrawLimitAddress(wallet.multisig, 'SOL'))).toBe(false);
      expect(after.spendingLimits.map((l) => l.address.toBase58())).toEqual(
        before.spendingLimits.map((l) => l.address.toBase58()),
      );
      expect(after.multisig.members.map((m) => [m.key.toBase58(), m.mask])).toEqual(
        before.multisig.members.map((m) => [m.key.toBase58(), m.mask]),
      );
      expect(after.multisig.threshold).toBe(2);
    });

    it('moves an amount of a token to the owner (creating its token account), also from a frozen wallet', async () => {
      const wallet = await newWallet();
      await freeze(wallet);
      const ownerAddress = Keypair.generate().publicKey;
      expect((await withdrawTo(wallet, ownerAddress, token, 40_000_000n)).ok).toBe(true);
      expect(tokenBalance(svm, ownerAddress, token)).toBe(40_000_000n);
      expect(tokenBalance(svm, wallet.vault, token)).toBe(60_000_000n);
      expect(svm.exists(withdrawLimitAddress(wallet.multisig, token.mint))).toBe(false);
      expect(await readSpendingLimits(svm, wallet.multisig)).toEqual([]);
    });

    it('cannot be used by the agent, and refuses amounts the vault cannot give', async () => {
      const wallet = await newWallet();
      const agentTry = buildWithdraw({
        ...envelope(wallet),
        owner: wallet.agent.publicKey,
        multisig: wallet.multisig,
        destination: wallet.agent.publicKey,
        asset: 'SOL',
        amount: SOL,
      });
      expect(refusal(svm.send(agentTry, [wallet.payer, wallet.agent])).details).toMatchObject({
        programError: 'Unauthorized',
      });
      expect(svm.balance(wallet.vault)).toBe(10n * SOL);

      expect(() => resolveWithdrawAmount(11n * SOL, 10n * SOL, 'SOL')).toThrow(
        expect.objectContaining({ code: 'INSUFFICIENT_FUNDS' }),
      );
      expect(() => resolveWithdrawAmount(10n * SOL - 1_000n, 10n * SOL, 'SOL')).toThrow(
        expect.objectContaining({ code: 'INVALID_AMOUNT' }),
      );
      // Sent anyway, the chain refuses to leave the vault below its rent-exempt minimum.
      const dustTx = buildWithdraw({
        ...envelope(wallet),
        multisig: wallet.multisig,
        destination: Keypair.generate().publicKey,
        asset: 'SOL',
        amount: 10n * SOL - 1_000n,
      });
      const dustResult = await sendAsOwner(wallet, dustTx, [wallet.payer]);
      expect(dustResult.ok).toBe(false);
      if (!dustResult.ok) {
        const dust = chainRejection(dustResult.err, dustResult.logs, {
          accountKeys: dustTx.message.staticAccountKeys,
          vault: wallet.vault,
        });
        expect(dust.code).toBe('INSUFFICIENT_FUNDS');
        expect(dust.details['account']).toBe(wallet.vault.toBase58());
      }
      const tooMuch = refusal(await withdrawTo(wallet, Keypair.generate().publicKey, 'SOL', 11n * SOL));
      expect(tooMuch.code).toBe('INSUFFICIENT_FUNDS');
      expect(svm.balance(wallet.vault)).toBe(10n * SOL);
    });
  });

  it('the agent cannot lower the threshold itself (Unauthorized 6004)', async () => {
    const wallet = await newWallet();
    const tx = new VersionedTransaction(
      new TransactionMessage({
        payerKey: wallet.payer.publicKey,
        recentBlockhash: svm.blockhash(),
        instructions: [
          multisig.instructions.multisigChangeThreshold({
            multisigPda: wallet.multisig,
            configAuthority: wallet.agent.publicKey,
            rentPayer: wallet.payer.publicKey,
            newThreshold: 1,
          }),
        ],
      }).compileToV0Message(),
    );
    expect(refusal(svm.send(tx, [wallet.payer, wallet.agent])).details).toMatchObject({ code: 6004 });
    expect((await readMultisig(svm, wallet.multisig)).threshold).toBe(2);
  });
});
