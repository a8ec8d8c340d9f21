/**
 * Budget continuity on the deployed Squads program (DESIGN §3, §8): no owner act leaves the agent more
 * on chain, in the current period, than `daily in force − spent this period` (a raise by X adds at
 * most X). First the mechanism itself, with raw instructions; then the owner-act builders that use it;
 * then an attacker holding the agent key, spending between owner acts.
 */
import { Keypair, PublicKey, type TransactionInstruction, type VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WaiaasError } from '../../src/core/errors.ts';
import { signWeb3Transaction } from '../../src/keys/sign-transaction.ts';
import type { SpendingLimitSpec, TokenAsset, TransferAsset } from '../../src/squads/assets.ts';
import { compileTransaction } from '../../src/squads/compile.ts';
import { chainRejection } from '../../src/squads/errors.ts';
import type { PeriodRecord } from '../../src/squads/owner-acts/budget-carry.ts';
import { buildFreeze } from '../../src/squads/owner-acts/freeze.ts';
import { buildReplaceLimits } from '../../src/squads/owner-acts/replace-limits.ts';
import { buildResume } from '../../src/squads/owner-acts/resume.ts';
import { buildRotateAgent } from '../../src/squads/owner-acts/rotate-agent.ts';
import {
  type BudgetContext,
  planWalletConfig,
  type WalletConfigParams,
  walletConfigTransactions,
} from '../../src/squads/owner-acts/wallet-config.ts';
import { buildWithdraw } from '../../src/squads/owner-acts/withdraw.ts';
import { spendingLimitAddress, spendingLimitCreateKey } from '../../src/squads/pdas.ts';
import { Period } from '../../src/squads/program.ts';
import { readMultisig, readSpendingLimits } from '../../src/squads/read-wallet.ts';
import { buildAgentTransfer, encodeSpendingLimitUse } from '../../src/squads/spending-limit-use.ts';
import { effectiveLimit } from '../../src/squads/wallet-state.ts';
import { type SendResult, type SquadsSvm, squadsSvmOrSkip } from '../support/svm.ts';
import {
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
const DAY = 86_400n;

const refusal = (result: SendResult): WaiaasError => {
  if (result.ok) throw new Error('expected the chain to refuse the transaction');
  return chainRejection(result.err, result.logs);
};

describe.skipIf(chain === null)('budget continuity across owner acts (real Squads program)', () => {
  const svm = chain as SquadsSvm;
  const recipient = Keypair.generate().publicKey;
  const mintAuthority = Keypair.generate();
  let token: TokenAsset;

  beforeAll(() => {
    svm.airdrop(mintAuthority.publicKey, 10n * SOL);
    token = createMint(svm, mintAuthority, 6);
    mintTo(svm, mintAuthority, token, recipient, 0n);
  });

  const solLimit = (amount: bigint, destinations: PublicKey[] = []): SpendingLimitSpec => ({
    asset: 'SOL',
    amount,
    destinations,
  });
  const limitOf = async (wallet: TestWallet, asset: 'SOL' | PublicKey = 'SOL') =>
    (await readSpendingLimits(svm, wallet.multisig)).find((limit) =>
      limit.address.equals(spendingLimitAddress(wallet.multisig, asset)),
    );
  /** What the agent may still spend now, as the program will count it at its next use. */
  const remainingNow = async (wallet: TestWallet, asset: 'SOL' | PublicKey = 'SOL') => {
    const limit = await limitOf(wallet, asset);
    return limit === undefined ? 0n : effectiveLimit(limit, svm.unixTime()).remaining;
  };
  const spend = (
    wallet: TestWallet,
    agent: Keypair,
    amount: bigint,
    asset: TransferAsset = 'SOL',
    destination = recipient,
  ) =>
    svm.send(
      buildAgentTransfer({
        multisig: wallet.multisig,
        agent: agent.publicKey,
        feePayer: wallet.payer.publicKey,
        asset,
        amount,
        destination,
        recentBlockhash: svm.blockhash(),
      }),
      [wallet.payer, agent],
    );
  const ownerTx = (wallet: TestWallet, instructions: TransactionInstruction[]) =>
    compileTransaction({ feePayer: wallet.payer.publicKey, recentBlockhash: svm.blockhash() }, instructions);

  describe('the mechanism, with raw instructions', () => {
    const removeLimit = (wallet: TestWallet) =>
      multisig.instructions.multisigRemoveSpendingLimit({
        multisigPda: wallet.multisig,
        configAuthority: wallet.owner.publicKey,
        spendingLimit: spendingLimitAddress(wallet.multisig, 'SOL'),
        rentCollector: wallet.payer.publicKey,
      });
    const addLimit = (wallet: TestWallet, members: PublicKey[], destinations: PublicKey[], amount = SOL) =>
      multisig.instructions.multisigAddSpendingLimit({
        multisigPda: wallet.multisig,
        configAuthority: wallet.owner.publicKey,
        rentPayer: wallet.payer.publicKey,
        spendingLimit: spendingLimitAddress(wallet.multisig, 'SOL'),
        createKey: spendingLimitCreateKey(wallet.multisig, 'SOL'),
        vaultIndex: 0,
        mint: PublicKey.default,
        amount,
        period: Period.Day,
        members,
        destinations,
      });
    const ownerUse = (wallet: TestWallet, amount: bigint, asset: TransferAsset = 'SOL') =>
      encodeSpendingLimitUse({
        multisig: wallet.multisig,
        member: wallet.owner.publicKey,
        spendingLimit: spendingLimitAddress(
          wallet.multisig,
          asset === 'SOL' ? 'SOL' : (asset as TokenAsset).mint,
        ),
        asset,
        amount,
        destination: wallet.vault,
      });

    it('a naive re-creation hands out a fresh period (the hole this closes)', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 10n * SOL);
      expect(spend(wallet, wallet.agent, 600_000_000n).ok).toBe(true);
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [removeLimit(wallet), addLimit(wallet, [wallet.agent.publicKey], [])]),
        [wallet.payer],
      );
      expect(await remainingNow(wallet)).toBe(SOL);
    });

    it('re-created with the owner as member and used vault→vault for the spent part, in one transaction: the period’s remaining amount continues and the vault does not change', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 10n * SOL);
      expect(spend(wallet, wallet.agent, 600_000_000n).ok).toBe(true);
      const vaultBefore = svm.balance(wallet.vault);
      const before = await limitOf(wallet);
      svm.advanceSeconds(3_600n);
      const at = svm.unixTime();
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          removeLimit(wallet),
          addLimit(wallet, [wallet.agent.publicKey, wallet.owner.publicKey], []),
          ownerUse(wallet, 600_000_000n),
        ]),
        [wallet.payer],
      );
      const after = await limitOf(wallet);
      expect(after?.remainingAmount).toBe(400_000_000n);
      expect(svm.balance(wallet.vault)).toBe(vaultBefore);
      // The period restarts at the re-creation: an hour later than the original one (stricter).
      expect(after?.lastReset).toBe(at);
      expect(after!.lastReset - before!.lastReset).toBe(3_600n);
      expect(refusal(spend(wallet, wallet.agent, 400_000_001n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      expect(spend(wallet, wallet.agent, 400_000_000n).ok).toBe(true);
      // The old period would have refilled at lastReset + 86,401 s; the new one refills 3,600 s later.
      svm.setUnixTime(before!.lastReset + DAY + 1n);
      expect(refusal(spend(wallet, wallet.agent, 1n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      svm.setUnixTime(at + DAY + 1n);
      expect(spend(wallet, wallet.agent, SOL).ok).toBe(true);
    });

    it('with an allowlist the vault must be a destination; then the agent still reaches only the allowlist (and the vault, which moves nothing)', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL, [recipient])], 10n * SOL);
      expect(spend(wallet, wallet.agent, 600_000_000n).ok).toBe(true);
      const members = [wallet.agent.publicKey, wallet.owner.publicKey];
      const withoutVault = await sendAsOwner(
        wallet,
        ownerTx(wallet, [
          removeLimit(wallet),
          addLimit(wallet, members, [recipient]),
          ownerUse(wallet, 600_000_000n),
        ]),
        [wallet.payer],
      );
      expect(refusal(withoutVault).details).toMatchObject({ programError: 'InvalidDestination' });
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          removeLimit(wallet),
          addLimit(wallet, members, [recipient, wallet.vault]),
          ownerUse(wallet, 600_000_000n),
        ]),
        [wallet.payer],
      );
      expect(await remainingNow(wallet)).toBe(400_000_000n);
      expect(
        refusal(spend(wallet, wallet.agent, 1n, 'SOL', Keypair.generate().publicKey)).details,
      ).toMatchObject({ programError: 'InvalidDestination' });
      expect(spend(wallet, wallet.agent, 400_000_000n).ok).toBe(true);
    });

    it('a use cannot take more than the vault holds, even to itself; split into uses of at most the balance it can', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 1_000_000_000n);
      expect(spend(wallet, wallet.agent, 800_000_000n).ok).toBe(true);
      const balance = svm.balance(wallet.vault);
      expect(balance).toBe(200_000_000n);
      const members = [wallet.agent.publicKey, wallet.owner.publicKey];
      const whole = await sendAsOwner(
        wallet,
        ownerTx(wallet, [removeLimit(wallet), addLimit(wallet, members, []), ownerUse(wallet, 800_000_000n)]),
        [wallet.payer],
      );
      expect(whole.ok).toBe(false);
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          removeLimit(wallet),
          addLimit(wallet, members, []),
          ...[1, 2, 3, 4].map(() => ownerUse(wallet, 200_000_000n)),
        ]),
        [wallet.payer],
      );
      expect(await remainingNow(wallet)).toBe(200_000_000n);
      expect(svm.balance(wallet.vault)).toBe(balance);
    });

    it('a pin (the old limit used for exactly what it had left) fails the act when a spend landed after the read', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 10n * SOL);
      const members = [wallet.agent.publicKey, wallet.owner.publicKey];
      await sendAsOwnerOk(wallet, ownerTx(wallet, [removeLimit(wallet), addLimit(wallet, members, [])]), [
        wallet.payer,
      ]);
      expect(spend(wallet, wallet.agent, 300_000_000n).ok).toBe(true);
      const read = await remainingNow(wallet);
      expect(read).toBe(700_000_000n);
      // The leaked key spends between the owner's read and its transaction.
      expect(spend(wallet, wallet.agent, 200_000_000n).ok).toBe(true);
      const act = ownerTx(wallet, [
        ownerUse(wallet, read),
        removeLimit(wallet),
        addLimit(wallet, members, []),
        ownerUse(wallet, SOL - read),
      ]);
      expect(refusal(await sendAsOwner(wallet, act, [wallet.payer])).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      expect(await remainingNow(wallet)).toBe(500_000_000n);
    });

    it('an SPL limit is carried by a use from the vault’s token account to itself', async () => {
      const limits: SpendingLimitSpec[] = [{ asset: token.mint, amount: 1_000_000n, destinations: [] }];
      const wallet = await createTestWallet(svm, limits, 10n * SOL);
      mintTo(svm, mintAuthority, token, wallet.vault, 5_000_000n);
      expect(spend(wallet, wallet.agent, 600_000n, token).ok).toBe(true);
      const address = spendingLimitAddress(wallet.multisig, token.mint);
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          multisig.instructions.multisigRemoveSpendingLimit({
            multisigPda: wallet.multisig,
            configAuthority: wallet.owner.publicKey,
            spendingLimit: address,
            rentCollector: wallet.payer.publicKey,
          }),
          multisig.instructions.multisigAddSpendingLimit({
            multisigPda: wallet.multisig,
            configAuthority: wallet.owner.publicKey,
            rentPayer: wallet.payer.publicKey,
            spendingLimit: address,
            createKey: spendingLimitCreateKey(wallet.multisig, token.mint),
            vaultIndex: 0,
            mint: token.mint,
            amount: 1_000_000n,
            period: Period.Day,
            members: [wallet.agent.publicKey, wallet.owner.publicKey],
            destinations: [],
          }),
          ownerUse(wallet, 600_000n, token),
        ]),
        [wallet.payer],
      );
      expect(await remainingNow(wallet, token.mint)).toBe(400_000n);
      expect(tokenBalance(svm, wallet.vault, token)).toBe(4_400_000n);
      expect(refusal(spend(wallet, wallet.agent, 400_001n, token)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      expect(spend(wallet, wallet.agent, 400_000n, token).ok).toBe(true);
    });

    it('facts the acts rely on: limits and the rent collector leave pending proposals valid; a membership change invalidates them', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 10n * SOL);
      const state = () => readMultisig(svm, wallet.multisig);
      const { buildVaultTransferProposal } = await import('../../src/squads/vault-transfer-proposal.ts');
      const proposal = buildVaultTransferProposal({
        multisig: wallet.multisig,
        agent: wallet.agent.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: (await state()).transactionIndex + 1n,
        transfer: { asset: 'SOL', amount: 1n, destination: recipient },
        recentBlockhash: svm.blockhash(),
      });
      svm.sendOk(proposal.transaction, [wallet.payer, wallet.agent]);
      // New wallets have the fee payer, which pays the rent, as rent collector.
      expect((await state()).rentCollector?.equals(wallet.payer.publicKey)).toBe(true);
      const collector = Keypair.generate().publicKey;
      const members = [wallet.agent.publicKey, wallet.owner.publicKey];
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          multisig.instructions.multisigSetRentCollector({
            multisigPda: wallet.multisig,
            configAuthority: wallet.owner.publicKey,
            newRentCollector: collector,
            rentPayer: wallet.payer.publicKey,
          }),
          removeLimit(wallet),
          addLimit(wallet, members, []),
        ]),
        [wallet.payer],
      );
      expect((await state()).rentCollector?.equals(collector)).toBe(true);
      expect((await state()).staleTransactionIndex).toBe(0n);
      const newAgent = Keypair.generate().publicKey;
      await sendAsOwnerOk(
        wallet,
        ownerTx(wallet, [
          multisig.instructions.multisigAddMember({
            multisigPda: wallet.multisig,
            configAuthority: wallet.owner.publicKey,
            rentPayer: wallet.payer.publicKey,
            newMember: { key: newAgent, permissions: multisig.types.Permissions.all() },
          }),
        ]),
        [wallet.payer],
      );
      expect((await state()).staleTransactionIndex).toBe(1n);
    });
  });

  describe('the owner acts carry the period’s spending (builders)', () => {
    const tokens = () => new Map([[token.mint.toBase58(), token]]);
    /** What the daemon keeps per wallet: the records each act takes before it sends (see PeriodRecord). */
    const histories = new Map<string, Map<string, PeriodRecord[]>>();
    const historyOf = (wallet: TestWallet) => {
      const key = wallet.multisig.toBase58();
      if (!histories.has(key)) histories.set(key, new Map());
      return histories.get(key)!;
    };
    /** What the daemon hands the builders: the clock, the vault's balances, and the records. */
    const budgetOf = (wallet: TestWallet): BudgetContext => ({
      chainTime: svm.unixTime(),
      balances: new Map([
        ['SOL', svm.balance(wallet.vault)],
        [token.mint.toBase58(), tokenBalance(svm, wallet.vault, token)],
      ]),
      tokens: tokens(),
      records: historyOf(wallet),
    });
    const current = async (wallet: TestWallet) => ({
      multisig: await readMultisig(svm, wallet.multisig),
      spendingLimits: await readSpendingLimits(svm, wallet.multisig),
    });
    const envelope = (wallet: TestWallet) => ({
      owner: wallet.owner.publicKey,
      feePayer: wallet.payer.publicKey,
      recentBlockhash: svm.blockhash(),
    });
    /** Plans the act as the daemon does, records each asset's period, then builds and sends it. */
    const act = async (
      wallet: TestWallet,
      target: { agent: PublicKey | null; limits: SpendingLimitSpec[] },
      build: (common: {
        current: Awaited<ReturnType<typeof current>>;
        budget: BudgetContext;
      }) => VersionedTransaction | null,
    ) => {
      const state = await current(wallet);
      const budget = budgetOf(wallet);
      const plan = planWalletConfig({
        current: state,
        target,
        owner: wallet.owner.publicKey,
        rentPayer: wallet.payer.publicKey,
        rentCollector: wallet.payer.publicKey,
        budget,
      });
      for (const limit of plan.limits) {
        const list = historyOf(wallet).get(limit.asset) ?? [];
        list.push({ spent: limit.spent, periodStart: limit.periodStart, recordedAt: budget.chainTime });
        historyOf(wallet).set(limit.asset, list);
      }
      const tx = build({ current: state, budget });
      if (tx) await sendAsOwnerOk(wallet, tx, [wallet.payer]);
      return plan;
    };
    const freeze = (wallet: TestWallet) =>
      act(wallet, { agent: null, limits: [] }, (common) => buildFreeze({ ...envelope(wallet), ...common }));
    const resume = (wallet: TestWallet, agent: PublicKey, limits: SpendingLimitSpec[]) =>
      act(wallet, { agent, limits }, (common) =>
        buildResume({ ...envelope(wallet), ...common, agent, limits }),
      );
    const replace = (wallet: TestWallet, agent: PublicKey, limits: SpendingLimitSpec[]) =>
      act(wallet, { agent, limits }, (common) =>
        buildReplaceLimits({ ...envelope(wallet), ...common, agent, limits }),
      );
    const rotate = (
      wallet: TestWallet,
      oldAgent: PublicKey,
      newAgent: PublicKey,
      limits: SpendingLimitSpec[],
    ) =>
      act(wallet, { agent: newAgent, limits }, (common) =>
        buildRotateAgent({ ...envelope(wallet), ...common, oldAgent, newAgent, limits }),
      );

    const spentWallet = async (limits: SpendingLimitSpec[] = [solLimit(SOL)]) => {
      const wallet = await createTestWallet(svm, limits, 10n * SOL);
      expect(spend(wallet, wallet.agent, 600_000_000n).ok).toBe(true);
      return wallet;
    };

    it('freeze + resume: 0.6 of 1 SOL spent leaves 0.4, not a fresh 1 SOL; the agent is refused the 0.4 + 1 lamport', async () => {
      const wallet = await spentWallet();
      await freeze(wallet);
      svm.advanceSeconds(7_200n);
      await resume(wallet, wallet.agent.publicKey, [solLimit(SOL)]);
      expect(await remainingNow(wallet)).toBe(400_000_000n);
      expect(refusal(spend(wallet, wallet.agent, 400_000_001n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      expect(spend(wallet, wallet.agent, 400_000_000n).ok).toBe(true);
    });

    it('freeze + resume after the period ended while frozen: at most the full daily, never more', async () => {
      const wallet = await spentWallet();
      await freeze(wallet);
      svm.advanceSeconds(DAY + 1n);
      await resume(wallet, wallet.agent.publicKey, [solLimit(SOL)]);
      expect(await remainingNow(wallet)).toBe(SOL);
    });

    it('rotation: the new key gets the 0.4 left, the old key nothing', async () => {
      const wallet = await spentWallet();
      const newAgent = Keypair.generate();
      await rotate(wallet, wallet.agent.publicKey, newAgent.publicKey, [solLimit(SOL)]);
      expect(await remainingNow(wallet)).toBe(400_000_000n);
      expect(refusal(spend(wallet, wallet.agent, 1n)).details).toMatchObject({
        programError: 'Unauthorized',
      });
      expect(refusal(spend(wallet, newAgent, 400_000_001n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      expect(spend(wallet, newAgent, 400_000_000n).ok).toBe(true);
    });

    it('tightening to 0.8 leaves 0.2; to 0.5 leaves nothing until the period ends', async () => {
      const wallet = await spentWallet();
      await replace(wallet, wallet.agent.publicKey, [solLimit(800_000_000n)]);
      expect(await remainingNow(wallet)).toBe(200_000_000n);
      await replace(wallet, wallet.agent.publicKey, [solLimit(500_000_000n)]);
      expect(await remainingNow(wallet)).toBe(0n);
      expect(refusal(spend(wallet, wallet.agent, 1n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      svm.advanceSeconds(DAY + 1n);
      expect(spend(wallet, wallet.agent, 500_000_000n).ok).toBe(true);
    });

    it('raising to 2 SOL adds exactly the 1 SOL raised: 1.4 left', async () => {
      const wallet = await spentWallet();
      await replace(wallet, wallet.agent.publicKey, [solLimit(2n * SOL)]);
      expect(await remainingNow(wallet)).toBe(1_400_000_000n);
      expect(refusal(spend(wallet, wallet.agent, 1_400_000_001n)).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
    });

    it('with an allowlist: the vault joins the limit’s destinations, the agent still reaches only the allowlist', async () => {
      const wallet = await spentWallet([solLimit(SOL, [recipient])]);
      await replace(wallet, wallet.agent.publicKey, [solLimit(900_000_000n, [recipient])]);
      const limit = await limitOf(wallet);
      expect(limit?.destinations.map(String).sort()).toEqual([recipient, wallet.vault].map(String).sort());
      expect(await remainingNow(wallet)).toBe(300_000_000n);
      expect(
        refusal(spend(wallet, wallet.agent, 1n, 'SOL', Keypair.generate().publicKey)).details,
      ).toMatchObject({
        programError: 'InvalidDestination',
      });
    });

    it('an SPL limit: a tightening after 0.6 of 1 token spent leaves 0.2', async () => {
      const limits: SpendingLimitSpec[] = [{ asset: token.mint, amount: 1_000_000n, destinations: [] }];
      const wallet = await createTestWallet(svm, limits, 10n * SOL);
      mintTo(svm, mintAuthority, token, wallet.vault, 5_000_000n);
      expect(spend(wallet, wallet.agent, 600_000n, token).ok).toBe(true);
      await replace(wallet, wallet.agent.publicKey, [{ ...limits[0]!, amount: 800_000n }]);
      expect(await remainingNow(wallet, token.mint)).toBe(200_000n);
      expect(tokenBalance(svm, wallet.vault, token)).toBe(4_400_000n);
    });

    it('a withdrawal leaves the agent’s limit as it was', async () => {
      const wallet = await spentWallet();
      await sendAsOwnerOk(
        wallet,
        buildWithdraw({
          ...envelope(wallet),
          multisig: wallet.multisig,
          destination: Keypair.generate().publicKey,
          asset: 'SOL',
          amount: SOL,
        }),
        [wallet.payer],
      );
      expect(await remainingNow(wallet)).toBe(400_000_000n);
    });

    it('a vault too empty to carry the spent part: the limit is withheld (the agent has none), never re-created full', async () => {
      const wallet = await createTestWallet(svm, [solLimit(SOL)], 600_000_000n);
      expect(spend(wallet, wallet.agent, 600_000_000n).ok).toBe(true);
      expect(svm.balance(wallet.vault)).toBe(0n);
      const params: WalletConfigParams = {
        current: await current(wallet),
        target: { agent: wallet.agent.publicKey, limits: [solLimit(2n * SOL)] },
        owner: wallet.owner.publicKey,
        rentPayer: wallet.payer.publicKey,
        rentCollector: wallet.payer.publicKey,
        budget: budgetOf(wallet),
      };
      expect(planWalletConfig(params).limits).toEqual([
        expect.objectContaining({ asset: 'SOL', action: 'withheld', spent: 600_000_000n, remaining: 0n }),
      ]);
      await replace(wallet, wallet.agent.publicKey, [solLimit(2n * SOL)]);
      expect(await limitOf(wallet)).toBeUndefined();
      svm.airdrop(wallet.vault, 5n * SOL);
      expect(refusal(spend(wallet, wallet.agent, 1n)).code).toBe('CHAIN_REJECTED');
    });

    it('a change too large for one packet goes in several transactions, each asset’s carry whole in one', async () => {
      const destinations = Array.from({ length: 5 }, () => Keypair.generate().publicKey);
      const limits: SpendingLimitSpec[] = [
        { asset: 'SOL', amount: SOL, destinations },
        { asset: token.mint, amount: 1_000_000n, destinations },
      ];
      const wallet = await createTestWallet(svm, limits, 10n * SOL);
      mintTo(svm, mintAuthority, token, wallet.vault, 5_000_000n);
      mintTo(svm, mintAuthority, token, destinations[1]!, 0n);
      expect(spend(wallet, wallet.agent, 600_000_000n, 'SOL', destinations[0]).ok).toBe(true);
      expect(spend(wallet, wallet.agent, 300_000n, token, destinations[1]).ok).toBe(true);
      const newAgent = Keypair.generate();
      const params: WalletConfigParams = {
        current: await current(wallet),
        target: { agent: newAgent.publicKey, limits },
        owner: wallet.owner.publicKey,
        rentPayer: wallet.payer.publicKey,
        rentCollector: wallet.payer.publicKey,
        budget: budgetOf(wallet),
      };
      expect(() =>
        buildRotateAgent({
          ...envelope(wallet),
          ...params,
          oldAgent: wallet.agent.publicKey,
          newAgent: newAgent.publicKey,
          limits,
        }),
      ).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
      const transactions = walletConfigTransactions(envelope(wallet), planWalletConfig(params));
      expect(transactions.length).toBeGreaterThan(1);
      for (const transaction of transactions) await sendAsOwnerOk(wallet, transaction, [wallet.payer]);
      expect(await remainingNow(wallet)).toBe(400_000_000n);
      expect(await remainingNow(wallet, token.mint)).toBe(700_000n);
      expect(refusal(spend(wallet, wallet.agent, 1n, 'SOL', destinations[0])).code).toBe('CHAIN_REJECTED');
      expect(spend(wallet, newAgent, 400_000_000n, 'SOL', destinations[0]).ok).toBe(true);
    });

    it('an attacker with the agent key, spending everything the chain allows between owner acts, moves at most the daily limit in the day', async () => {
      const daily = SOL;
      const wallet = await createTestWallet(svm, [solLimit(daily)], 10n * SOL);
      const thief = Keypair.generate().publicKey;
      let agent = wallet.agent;
      /** The leaked key takes all the chain allows, and tries one lamport more. */
      const drain = async () => {
        const left = await remainingNow(wallet);
        if (left > 0n) expect(spend(wallet, agent, left, 'SOL', thief).ok).toBe(true);
        expect(spend(wallet, agent, 1n, 'SOL', thief).ok).toBe(false);
      };
      const moved = () => svm.balance(thief);
      expect(spend(wallet, agent, 300_000_000n, 'SOL', thief).ok).toBe(true);
      await freeze(wallet);
      svm.advanceSeconds(600n);
      await resume(wallet, agent.publicKey, [solLimit(daily)]);
      expect(await remainingNow(wallet)).toBe(700_000_000n);

      // A spend racing the owner's act (after its read, before it lands): the pin fails the act…
      const tighter = [solLimit(900_000_000n)];
      const raced = buildReplaceLimits({
        ...envelope(wallet),
        current: await current(wallet),
        agent: agent.publicKey,
        limits: tighter,
        budget: budgetOf(wallet),
      })!;
      expect(spend(wallet, agent, 200_000_000n, 'SOL', thief).ok).toBe(true);
      await signWeb3Transaction(wallet.owner.signer, raced);
      expect(refusal(svm.send(raced, [wallet.payer])).details).toMatchObject({
        programError: 'SpendingLimitExceeded',
      });
      // …and built again from a fresh read, it carries the 0.5 spent.
      await replace(wallet, agent.publicKey, tighter);
      expect(await remainingNow(wallet)).toBe(400_000_000n);

      // The owner rotates; the new key leaks too.
      const next = Keypair.generate();
      await rotate(wallet, agent.publicKey, next.publicKey, tighter);
      agent = next;
      await drain();
      expect(moved()).toBe(900_000_000n);
      // Tightened below what is spent, frozen, resumed at the old daily: 0.1 left, not 0.5.
      await replace(wallet, agent.publicKey, [solLimit(500_000_000n)]);
      await drain();
      await freeze(wallet);
      await resume(wallet, agent.publicKey, [solLimit(daily)]);
      expect(await remainingNow(wallet)).toBe(100_000_000n);
      await drain();
      await replace(wallet, agent.publicKey, [solLimit(daily)]);
      await drain();
      expect(moved()).toBe(daily);
      expect(svm.unixTime() - (await limitOf(wallet))!.lastReset).toBeLessThan(DAY);
    });
  });
});
