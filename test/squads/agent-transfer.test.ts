import { Keypair, type PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WaiaasError } from '../../src/core/errors.ts';
import type { TokenAsset, TransferAsset } from '../../src/squads/assets.ts';
import { chainRejection } from '../../src/squads/errors.ts';
import { spendingLimitAddress } from '../../src/squads/pdas.ts';
import { SQUADS_PROGRAM_ID } from '../../src/squads/program.ts';
import { readSpendingLimits } from '../../src/squads/read-wallet.ts';
import { buildAgentTransfer } from '../../src/squads/spending-limit-use.ts';
import { buildCreateTokenAccountTransaction } from '../../src/squads/token-account.ts';
import { effectiveLimit } from '../../src/squads/wallet-state.ts';
import { type SendResult, type SquadsSvm, squadsSvmOrSkip } from '../support/svm.ts';
import {
  createMint,
  createTestWallet,
  mintTo,
  programIdsOf,
  type TestWallet,
  tokenBalance,
} from './wallet-fixture.ts';

const chain = squadsSvmOrSkip();
const SOL = 1_000_000_000n;
const COMPUTE_BUDGET = 'ComputeBudget111111111111111111111111111111';

const refusal = (result: SendResult): WaiaasError => {
  if (result.ok) throw new Error('expected the chain to refuse the transaction');
  return chainRejection(result.err, result.logs);
};

const codeOf = (run: () => unknown): string | undefined => {
  try {
    run();
    return 'built';
  } catch (error) {
    return (error as { code?: string }).code;
  }
};

function agentTransfer(
  svm: SquadsSvm,
  wallet: TestWallet,
  asset: TransferAsset,
  amount: bigint,
  destination: PublicKey,
): SendResult {
  const tx = buildAgentTransfer({
    multisig: wallet.multisig,
    agent: wallet.agent.publicKey,
    feePayer: wallet.payer.publicKey,
    asset,
    amount,
    destination,
    recentBlockhash: svm.blockhash(),
  });
  return svm.send(tx, [wallet.payer, wallet.agent]);
}

async function remaining(svm: SquadsSvm, wallet: TestWallet, asset: 'SOL' | PublicKey) {
  const limits = await readSpendingLimits(svm, wallet.multisig);
  const limit = limits.find((l) => l.address.equals(spendingLimitAddress(wallet.multisig, asset)));
  if (!limit) throw new Error('limit missing');
  return limit;
}

describe.skipIf(chain === null)("the agent's transfers under on-chain spending limits", () => {
  const svm = chain as SquadsSvm;
  const allowed = Keypair.generate().publicKey;
  const stranger = Keypair.generate().publicKey;
  const mintAuthority = Keypair.generate();
  let wallet: TestWallet;
  let token: TokenAsset;

  beforeAll(async () => {
    svm.airdrop(mintAuthority.publicKey, 10n * SOL);
    token = createMint(svm, mintAuthority, 6);
    wallet = await createTestWallet(
      svm,
      [
        { asset: 'SOL', amount: 1n * SOL, destinations: [allowed] },
        { asset: token.mint, amount: 100_000_000n, destinations: [] },
      ],
      10n * SOL,
    );
    mintTo(svm, mintAuthority, token, wallet.vault, 1_000_000_000n);
  });

  it('moves SOL: the recipient gains exactly the amount and the vault loses exactly it', async () => {
    const vaultBefore = svm.balance(wallet.vault);
    const result = agentTransfer(svm, wallet, 'SOL', 300_000_000n, allowed);
    expect(result.ok).toBe(true);
    expect(svm.balance(allowed)).toBe(300_000_000n);
    expect(svm.balance(wallet.vault)).toBe(vaultBefore - 300_000_000n);
    expect((await remaining(svm, wallet, 'SOL')).remainingAmount).toBe(700_000_000n);
  });

  it('moves an SPL token after the fee payer alone creates the recipient token account', async () => {
    const recipient = Keypair.generate().publicKey;
    const createAccount = buildCreateTokenAccountTransaction({
      feePayer: wallet.payer.publicKey,
      owner: recipient,
      token,
      recentBlockhash: svm.blockhash(),
    });
    expect(createAccount.message.header.numRequiredSignatures).toBe(1);
    svm.sendOk(createAccount, [wallet.payer]);

    const result = agentTransfer(svm, wallet, token, 25_000_000n, recipient);
    expect(result.ok).toBe(true);
    expect(tokenBalance(svm, recipient, token)).toBe(25_000_000n);
    expect(tokenBalance(svm, wallet.vault, token)).toBe(975_000_000n);
    expect((await remaining(svm, wallet, token.mint)).remainingAmount).toBe(75_000_000n);
  });

  it('gives the enclave a transaction of Squads and compute-budget instructions only, never paid by the agent', () => {
    const tx = buildAgentTransfer({
      multisig: wallet.multisig,
      agent: wallet.agent.publicKey,
      feePayer: wallet.payer.publicKey,
      asset: token,
      amount: 1n,
      destination: allowed,
      recentBlockhash: svm.blockhash(),
      computeBudget: { unitLimit: 40_000, microLamportsPerUnit: 1_000n },
    });
    expect(programIdsOf(tx)).toEqual([COMPUTE_BUDGET, COMPUTE_BUDGET, SQUADS_PROGRAM_ID.toBase58()]);
    expect(tx.message.staticAccountKeys[0]?.equals(wallet.payer.publicKey)).toBe(true);
    expect(tx.message.header.numRequiredSignatures).toBe(2);
    expect(
      codeOf(() =>
        buildAgentTransfer({
          multisig: wallet.multisig,
          agent: wallet.agent.publicKey,
          feePayer: wallet.agent.publicKey,
          asset: 'SOL',
          amount: 1n,
          destination: allowed,
          recentBlockhash: svm.blockhash(),
        }),
      ),
    ).toBe('VALIDATION_FAILED');
  });

  it('over the limit: the chain refuses with SpendingLimitExceeded (6026) and nothing moves', () => {
    const vaultBefore = svm.balance(wallet.vault);
    const error = refusal(agentTransfer(svm, wallet, 'SOL', 700_000_001n, allowed));
    expect(error.code).toBe('CHAIN_REJECTED');
    expect(error.layer).toBe('chain');
    expect(error.details).toMatchObject({ programError: 'SpendingLimitExceeded', code: 6026 });
    expect((error.details['logs'] as string[]).some((line) => line.includes('SpendingLimitExceeded'))).toBe(
      true,
    );
    expect(svm.balance(wallet.vault)).toBe(vaultBefore);
  });

  it('to an address off the allowlist: the chain refuses with InvalidDestination (6025)', () => {
    const error = refusal(agentTransfer(svm, wallet, 'SOL', 1n, stranger));
    expect(error.details).toMatchObject({ programError: 'InvalidDestination', code: 6025 });
    expect(svm.balance(stranger)).toBe(0n);
  });

  it('without the recipient token account, or with the wrong decimals, the chain refuses the token transfer', () => {
    const missingAccount = refusal(agentTransfer(svm, wallet, token, 1n, allowed));
    expect(missingAccount.details).toMatchObject({ programError: 'AccountNotInitialized', code: 3012 });

    svm.sendOk(
      buildCreateTokenAccountTransaction({
        feePayer: wallet.payer.publicKey,
        owner: allowed,
        token,
        recentBlockhash: svm.blockhash(),
      }),
      [wallet.payer],
    );
    const error = refusal(agentTransfer(svm, wallet, { ...token, decimals: 9 }, 1n, allowed));
    // The deployed program leaves the decimals check to the token program (not Squads' 6027).
    expect(error.details).toMatchObject({ program: 'token', programError: 'MintDecimalsMismatch', code: 18 });
    expect(tokenBalance(svm, allowed, token)).toBe(0n);
  });

  it('bounded loss: the Agent Key used directly on a raw spendingLimitUse over the limit is refused by the chain', async () => {
    // No L1, no L2, none of our builders: the attacker holds the agent key and pays its own fees.
    svm.airdrop(wallet.agent.publicKey, SOL);
    const left = (await remaining(svm, wallet, 'SOL')).remainingAmount;
    const vaultBefore = svm.balance(wallet.vault);
    const raw = (amount: bigint) =>
      new VersionedTransaction(
        new TransactionMessage({
          payerKey: wallet.agent.publicKey,
          recentBlockhash: svm.blockhash(),
          instructions: [
            multisig.instructions.spendingLimitUse({
              multisigPda: wallet.multisig,
              member: wallet.agent.publicKey,
              spendingLimit: spendingLimitAddress(wallet.multisig, 'SOL'),
              vaultIndex: 0,
              amount: Number(amount),
              decimals: 9,
              destination: allowed,
            }),
          ],
        }).compileToV0Message(),
      );
    const over = refusal(svm.send(raw(left + 1n), [wallet.agent]));
    expect(over.details).toMatchObject({ programError: 'SpendingLimitExceeded', code: 6026 });
    expect(svm.balance(wallet.vault)).toBe(vaultBefore);

    // Spending exactly what is left works; after that not one lamport more moves today.
    expect(svm.send(raw(left), [wallet.agent]).ok).toBe(true);
    expect(refusal(svm.send(raw(1n), [wallet.agent])).details).toMatchObject({ code: 6026 });
    expect(svm.balance(wallet.vault)).toBe(vaultBefore - left);
  });

  it('refuses bad input before building', () => {
    const base = {
      multisig: wallet.multisig,
      agent: wallet.agent.publicKey,
      feePayer: wallet.payer.publicKey,
      asset: 'SOL' as const,
      amount: 1n,
      destination: allowed,
      recentBlockhash: svm.blockhash(),
    };
    expect(codeOf(() => buildAgentTransfer({ ...base, amount: 0n }))).toBe('INVALID_AMOUNT');
    expect(codeOf(() => buildAgentTransfer({ ...base, amount: -5n }))).toBe('INVALID_AMOUNT');
    expect(codeOf(() => buildAgentTransfer({ ...base, destination: wallet.vault }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => buildAgentTransfer({ ...base, asset: { ...token, decimals: 1.5 } }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => buildAgentTransfer({ ...base, computeBudget: { unitLimit: 2_000_000 } }))).toBe(
      'VALIDATION_FAILED',
    );
  });
});

describe.skipIf(chain === null)('amounts above 2^53 and the Day period on chain', () => {
  const svm = squadsSvmOrSkip() as SquadsSvm;
  const recipient = Keypair.generate().publicKey;
  const mintAuthority = Keypair.generate();

  it('moves an amount above 2^53 base units exactly', async () => {
    svm.airdrop(mintAuthority.publicKey, 10n * SOL);
    const token = createMint(svm, mintAuthority, 0);
    const wallet = await createTestWallet(
      svm,
      [{ asset: token.mint, amount: 2n ** 62n, destinations: [] }],
      0n,
    );
    mintTo(svm, mintAuthority, token, wallet.vault, 2n ** 60n);
    mintTo(svm, mintAuthority, token, recipient, 0n);
    const amount = 2n ** 53n + 1n;
    expect(agentTransfer(svm, wallet, token, amount, recipient).ok).toBe(true);
    expect(tokenBalance(svm, recipient, token)).toBe(amount);
    expect((await remaining(svm, wallet, token.mint)).remainingAmount).toBe(2n ** 62n - amount);
  });

  it('too little SOL to open a new address: refused by the chain, mapped to INVALID_AMOUNT', async () => {
    const wallet = await createTestWallet(svm, [{ asset: 'SOL', amount: SOL, destinations: [] }]);
    const fresh = Keypair.generate().publicKey;
    const tx = buildAgentTransfer({
      multisig: wallet.multisig,
      agent: wallet.agent.publicKey,
      feePayer: wallet.payer.publicKey,
      asset: 'SOL',
      amount: 1_000n,
      destination: fresh,
      recentBlockhash: svm.blockhash(),
    });
    const result = svm.send(tx, [wallet.payer, wallet.agent]);
    if (result.ok) throw new Error('expected a refusal');
    const error = chainRejection(result.err, result.logs, {
      accountKeys: tx.message.staticAccountKeys,
      vault: wallet.vault,
    });
    expect(error.code).toBe('INVALID_AMOUNT');
    expect(error.details['account']).toBe(fresh.toBase58());
    expect(agentTransfer(svm, wallet, 'SOL', 890_880n, fresh).ok).toBe(true);
    expect(svm.balance(fresh)).toBe(890_880n);
  });

  it('resets only after more than 86,400 s, moving lastReset by whole periods', async () => {
    const wallet = await createTestWallet(svm, [{ asset: 'SOL', amount: 1n * SOL, destinations: [] }]);
    const created = (await remaining(svm, wallet, 'SOL')).lastReset;
    expect(created).toBe(svm.unixTime());
    expect(agentTransfer(svm, wallet, 'SOL', 600_000_000n, recipient).ok).toBe(true);

    svm.setUnixTime(created + 86_400n);
    expect(refusal(agentTransfer(svm, wallet, 'SOL', 600_000_000n, recipient)).details).toMatchObject({
      code: 6026,
    });
    expect((await remaining(svm, wallet, 'SOL')).lastReset).toBe(created);

    svm.setUnixTime(created + 86_401n);
    expect(agentTransfer(svm, wallet, 'SOL', 600_000_000n, recipient).ok).toBe(true);
    let limit = await remaining(svm, wallet, 'SOL');
    expect(limit.lastReset).toBe(created + 86_400n);
    expect(limit.remainingAmount).toBe(400_000_000n);

    // Two and a half days later: lastReset advances by two whole periods, not to "now".
    svm.setUnixTime(created + 86_400n + 2n * 86_400n + 43_200n);
    expect(agentTransfer(svm, wallet, 'SOL', 100_000_000n, recipient).ok).toBe(true);
    limit = await remaining(svm, wallet, 'SOL');
    expect(limit.lastReset).toBe(created + 3n * 86_400n);
    expect(limit.remainingAmount).toBe(900_000_000n);

    // Reading does not reset: remainingAmount shows the last use until the next use, so readers
    // apply the chain's arithmetic themselves.
    svm.setUnixTime(created + 3n * 86_400n + 86_400n);
    limit = await remaining(svm, wallet, 'SOL');
    expect(effectiveLimit(limit, svm.unixTime())).toEqual({
      remaining: 900_000_000n,
      periodStart: created + 3n * 86_400n,
    });
    svm.setUnixTime(created + 10n * 86_400n + 5n);
    limit = await remaining(svm, wallet, 'SOL');
    expect(limit.remainingAmount).toBe(900_000_000n);
    const effective = effectiveLimit(limit, svm.unixTime());
    expect(effective).toEqual({ remaining: SOL, periodStart: created + 10n * 86_400n });
    expect(agentTransfer(svm, wallet, 'SOL', SOL, recipient).ok).toBe(true);
    expect((await remaining(svm, wallet, 'SOL')).lastReset).toBe(effective.periodStart);
  });
});
