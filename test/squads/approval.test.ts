import { Keypair, type PublicKey } from '@solana/web3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WaiaasError } from '../../src/core/errors.ts';
import type { TokenAsset } from '../../src/squads/assets.ts';
import { compileTransaction } from '../../src/squads/compile.ts';
import { chainRejection } from '../../src/squads/errors.ts';
import { buildFreeze } from '../../src/squads/owner-acts/freeze.ts';
import { buildResume } from '../../src/squads/owner-acts/resume.ts';
import {
  buildOwnerApproveAndExecute,
  vaultTransactionExecuteInstruction,
} from '../../src/squads/owner-approve-and-execute.ts';
import { SQUADS_PROGRAM_ID } from '../../src/squads/program.ts';
import { buildProposalReject } from '../../src/squads/proposal-reject.ts';
import { readPendingTransfer } from '../../src/squads/read-proposal.ts';
import { readMultisig, readSpendingLimits } from '../../src/squads/read-wallet.ts';
import { buildCreateTokenAccountTransaction } from '../../src/squads/token-account.ts';
import type { VaultTransfer } from '../../src/squads/vault-transfer.ts';
import { buildVaultTransferProposal } from '../../src/squads/vault-transfer-proposal.ts';
import { type SendResult, type SquadsSvm, squadsSvmOrSkip } from '../support/svm.ts';
import {
  chainBudget,
  createMint,
  createTestWallet,
  mintTo,
  programIdsOf,
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

describe.skipIf(chain === null)(
  'approval tier: vault transaction proposed by the agent, executed with the owner',
  () => {
    const svm = chain as SquadsSvm;
    const mintAuthority = Keypair.generate();
    let wallet: TestWallet;
    let token: TokenAsset;

    /** The agent proposes and approves `transfer` at the next index; returns that index. */
    async function propose(transfer: VaultTransfer): Promise<bigint> {
      const { transactionIndex } = await readMultisig(svm, wallet.multisig);
      const proposal = buildVaultTransferProposal({
        multisig: wallet.multisig,
        agent: wallet.agent.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: transactionIndex + 1n,
        transfer,
        recentBlockhash: svm.blockhash(),
      });
      expect(programIdsOf(proposal.transaction)).toEqual(Array(3).fill(SQUADS_PROGRAM_ID.toBase58()));
      expect(proposal.transaction.message.staticAccountKeys[0]?.equals(wallet.payer.publicKey)).toBe(true);
      svm.sendOk(proposal.transaction, [wallet.payer, wallet.agent]);
      return proposal.transactionIndex;
    }

    async function approveAndExecute(index: bigint, expected: VaultTransfer): Promise<SendResult> {
      const { vaultTransaction } = await readPendingTransfer(svm, wallet.multisig, index);
      if (!vaultTransaction) throw new Error('vault transaction missing');
      const tx = buildOwnerApproveAndExecute({
        multisig: wallet.multisig,
        owner: wallet.owner.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: index,
        vaultTransaction,
        expected,
        recentBlockhash: svm.blockhash(),
      });
      return sendAsOwner(wallet, tx, [wallet.payer]);
    }

    beforeAll(async () => {
      svm.airdrop(mintAuthority.publicKey, 10n * SOL);
      token = createMint(svm, mintAuthority, 6);
      wallet = await createTestWallet(svm, [{ asset: 'SOL', amount: 1n * SOL, destinations: [] }], 20n * SOL);
      mintTo(svm, mintAuthority, token, wallet.vault, 500_000_000n);
    });

    it('waits with the agent approval alone (InvalidProposalStatus 6008), executes once the owner approves', async () => {
      const recipient = Keypair.generate().publicKey;
      const transfer = { asset: 'SOL' as const, amount: 5n * SOL, destination: recipient };
      const index = await propose(transfer);
      const pending = await readPendingTransfer(svm, wallet.multisig, index);
      expect(pending.proposal?.status).toBe('Active');
      expect(pending.proposal?.approved.map((key) => key.toBase58())).toEqual([
        wallet.agent.publicKey.toBase58(),
      ]);

      // The owner holds Execute, but one approval of two is not enough.
      const vaultBefore = svm.balance(wallet.vault);
      const executeOnly = compileTransaction(
        { feePayer: wallet.payer.publicKey, recentBlockhash: svm.blockhash() },
        [
          vaultTransactionExecuteInstruction({
            multisig: wallet.multisig,
            owner: wallet.owner.publicKey,
            transactionIndex: index,
            vaultTransaction: pending.vaultTransaction!,
          }),
        ],
      );
      const early = refusal(await sendAsOwner(wallet, executeOnly, [wallet.payer]));
      expect(early.details).toMatchObject({ programError: 'InvalidProposalStatus', code: 6008 });
      expect(svm.balance(wallet.vault)).toBe(vaultBefore);

      const result = await approveAndExecute(index, transfer);
      expect(result.ok).toBe(true);
      expect(svm.balance(recipient)).toBe(5n * SOL);
      expect(svm.balance(wallet.vault)).toBe(vaultBefore - 5n * SOL);
      expect((await readPendingTransfer(svm, wallet.multisig, index)).proposal?.status).toBe('Executed');
    });

    it('does not touch the daily limit: approval-tier transfers are the owner’s, not the agent’s budget', async () => {
      const [limit] = await readSpendingLimits(svm, wallet.multisig);
      expect(limit?.remainingAmount).toBe(1n * SOL);
    });

    it('refuses to build the owner approval when the stored transfer is not the one shown to the owner', async () => {
      const recipient = Keypair.generate().publicKey;
      const transfer = { asset: 'SOL' as const, amount: 2n * SOL, destination: recipient };
      const index = await propose(transfer);
      const { vaultTransaction } = await readPendingTransfer(svm, wallet.multisig, index);
      const build = (expected: VaultTransfer) => () =>
        buildOwnerApproveAndExecute({
          multisig: wallet.multisig,
          owner: wallet.owner.publicKey,
          feePayer: wallet.payer.publicKey,
          transactionIndex: index,
          vaultTransaction: vaultTransaction!,
          expected,
          recentBlockhash: svm.blockhash(),
        });
      expect(build({ ...transfer, amount: 2n * SOL - 1n })).toThrow(
        expect.objectContaining({ code: 'CONFLICT' }),
      );
      expect(build({ ...transfer, destination: Keypair.generate().publicKey })).toThrow(
        expect.objectContaining({ code: 'CONFLICT' }),
      );
      expect(build({ ...transfer, asset: token })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
      expect(svm.balance(recipient)).toBe(0n);
    });

    it('moves an SPL token with transferChecked once the owner approves', async () => {
      const recipient = Keypair.generate().publicKey;
      svm.sendOk(
        buildCreateTokenAccountTransaction({
          feePayer: wallet.payer.publicKey,
          owner: recipient,
          token,
          recentBlockhash: svm.blockhash(),
        }),
        [wallet.payer],
      );
      const transfer = { asset: token, amount: 123_456_789n, destination: recipient };
      const index = await propose(transfer);
      expect(tokenBalance(svm, recipient, token)).toBe(0n);
      expect((await approveAndExecute(index, transfer)).ok).toBe(true);
      expect(tokenBalance(svm, recipient, token)).toBe(123_456_789n);
      expect(tokenBalance(svm, wallet.vault, token)).toBe(500_000_000n - 123_456_789n);
    });

    it('a rejection by the owner ends the proposal: it can never execute', async () => {
      const recipient = Keypair.generate().publicKey;
      const transfer = { asset: 'SOL' as const, amount: SOL, destination: recipient };
      const index = await propose(transfer);
      const reject = buildProposalReject({
        multisig: wallet.multisig,
        member: wallet.owner.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: index,
        recentBlockhash: svm.blockhash(),
      });
      await sendAsOwnerOk(wallet, reject, [wallet.payer]);
      expect((await readPendingTransfer(svm, wallet.multisig, index)).proposal?.status).toBe('Rejected');
      // Approving a rejected proposal is itself refused.
      const late = refusal(await approveAndExecute(index, transfer));
      expect(late.details).toMatchObject({ programError: 'InvalidProposalStatus', code: 6008 });
      expect(svm.balance(recipient)).toBe(0n);
    });

    it('a freeze leaves pending proposals stale for good, even after resume (StaleProposal 6007)', async () => {
      const recipient = Keypair.generate().publicKey;
      const transfer = { asset: 'SOL' as const, amount: SOL, destination: recipient };
      const index = await propose(transfer);
      const current = async () => ({
        multisig: await readMultisig(svm, wallet.multisig),
        spendingLimits: await readSpendingLimits(svm, wallet.multisig),
      });
      const envelope = { owner: wallet.owner.publicKey, feePayer: wallet.payer.publicKey };
      const budget = () => chainBudget(svm, wallet.vault);
      await sendAsOwnerOk(
        wallet,
        buildFreeze({
          ...envelope,
          current: await current(),
          recentBlockhash: svm.blockhash(),
          budget: budget(),
        })!,
        [wallet.payer],
      );
      await sendAsOwnerOk(
        wallet,
        buildResume({
          ...envelope,
          current: await current(),
          agent: wallet.agent.publicKey,
          limits: [{ asset: 'SOL', amount: SOL, destinations: [] }],
          recentBlockhash: svm.blockhash(),
          budget: budget(),
        })!,
        [wallet.payer],
      );
      const stale = refusal(await approveAndExecute(index, transfer));
      expect(stale.details).toMatchObject({ programError: 'StaleProposal', code: 6007 });
      expect(svm.balance(recipient)).toBe(0n);
    });

    it('a second proposal built for an index already taken is refused; the next index works', async () => {
      const { transactionIndex } = await readMultisig(svm, wallet.multisig);
      const build = (destination: PublicKey, index: bigint) =>
        buildVaultTransferProposal({
          multisig: wallet.multisig,
          agent: wallet.agent.publicKey,
          feePayer: wallet.payer.publicKey,
          transactionIndex: index,
          transfer: { asset: 'SOL', amount: SOL, destination },
          recentBlockhash: svm.blockhash(),
        }).transaction;
      svm.sendOk(build(Keypair.generate().publicKey, transactionIndex + 1n), [wallet.payer, wallet.agent]);
      expect(
        svm.send(build(Keypair.generate().publicKey, transactionIndex + 1n), [wallet.payer, wallet.agent]).ok,
      ).toBe(false);
      svm.sendOk(build(Keypair.generate().publicKey, transactionIndex + 2n), [wallet.payer, wallet.agent]);
    });

    it('refuses to build a proposal the agent would pay for, or for nothing', () => {
      const base = {
        multisig: wallet.multisig,
        agent: wallet.agent.publicKey,
        feePayer: wallet.payer.publicKey,
        transactionIndex: 1n,
        transfer: { asset: 'SOL' as const, amount: SOL, destination: Keypair.generate().publicKey },
        recentBlockhash: svm.blockhash(),
      };
      expect(() => buildVaultTransferProposal({ ...base, feePayer: wallet.agent.publicKey })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      expect(() => buildVaultTransferProposal({ ...base, transactionIndex: 0n })).toThrow(
        expect.objectContaining({ code: 'VALIDATION_FAILED' }),
      );
      expect(() =>
        buildVaultTransferProposal({ ...base, transfer: { ...base.transfer, amount: 0n } }),
      ).toThrow(expect.objectContaining({ code: 'INVALID_AMOUNT' }));
    });
  },
);
