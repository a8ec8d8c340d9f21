import { type Connection, Keypair, type PublicKey } from '@solana/web3.js';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../../src/core/policy-types.ts';
import type { SquadsAccountReader } from '../../src/squads/account-reader.ts';
import { spendingLimitSpecsFromPolicy } from '../../src/squads/assets.ts';
import { buildCreateWallet } from '../../src/squads/create-wallet.ts';
import { chainRejection } from '../../src/squads/errors.ts';
import { multisigAddress, spendingLimitAddress, vaultAddress } from '../../src/squads/pdas.ts';
import { MAX_TRANSACTION_BYTES, Period } from '../../src/squads/program.ts';
import {
  readProgramConfig,
  readSpendingLimitsOf,
  readVaultBalances,
  readWallet,
} from '../../src/squads/read-wallet.ts';
import { type SquadsSvm, squadsSvmOrSkip } from '../support/svm.ts';
import { createMint, createTestWallet, inMemoryOwner, sendAsOwnerOk } from './wallet-fixture.ts';

// A web3.js Connection is what the daemon passes to the readers.
const connectionIsAReader = (connection: Connection): SquadsAccountReader => connection;
void connectionIsAReader;

const chain = squadsSvmOrSkip();
const keys = (list: readonly PublicKey[]) => list.map((key) => key.toBase58()).sort();

describe.skipIf(chain === null)('wallet creation on the real Squads program', () => {
  const svm = chain as SquadsSvm;
  const allowlist = [Keypair.generate().publicKey, Keypair.generate().publicKey];

  it('creates a controlled 2-of-2 multisig with one daily limit per asset, and reads it back', async () => {
    const funder = svm.funded();
    const token = createMint(svm, funder);
    const wallet = await createTestWallet(
      svm,
      [
        { asset: 'SOL', amount: 1_000_000_000n, destinations: allowlist },
        { asset: token.mint, amount: 50_000_000n, destinations: [] },
      ],
      0n,
    );
    expect(wallet.computeUnits).toHaveLength(1);
    svm.transferSol(funder, wallet.vault, 3_000_000_000n);

    const state = await readWallet(svm, wallet.multisig, [token]);
    expect(state.vault.equals(vaultAddress(wallet.multisig))).toBe(true);
    expect(state.multisig.threshold).toBe(2);
    expect(state.multisig.timeLock).toBe(0);
    expect(state.multisig.configAuthority.equals(wallet.owner.publicKey)).toBe(true);
    const members = Object.fromEntries(state.multisig.members.map((m) => [m.key.toBase58(), m]));
    expect(members[wallet.owner.publicKey.toBase58()]).toMatchObject({
      initiate: true,
      vote: true,
      execute: true,
    });
    expect(members[wallet.agent.publicKey.toBase58()]).toMatchObject({
      initiate: true,
      vote: true,
      execute: false,
    });
    expect(state.multisig.members).toHaveLength(2);

    expect(state.spendingLimits).toHaveLength(2);
    const sol = state.spendingLimits.find((limit) => limit.asset === 'SOL');
    const tok = state.spendingLimits.find((limit) => limit.asset !== 'SOL');
    expect(sol?.address.equals(spendingLimitAddress(wallet.multisig, 'SOL'))).toBe(true);
    expect(sol).toMatchObject({
      amount: 1_000_000_000n,
      remainingAmount: 1_000_000_000n,
      period: Period.Day,
    });
    expect(sol?.lastReset).toBe(svm.unixTime());
    // The owner is a member and the vault a destination so that owner acts can carry a period's
    // spending into a re-created limit (src/squads/owner-acts/budget-carry.ts).
    expect(keys(sol?.members ?? [])).toEqual(keys([wallet.agent.publicKey, wallet.owner.publicKey]));
    expect(keys(sol?.destinations ?? [])).toEqual(keys([...allowlist, wallet.vault]));
    expect(tok?.address.equals(spendingLimitAddress(wallet.multisig, token.mint))).toBe(true);
    expect(tok).toMatchObject({ amount: 50_000_000n, period: Period.Day, destinations: [] });
    expect(tok !== undefined && tok.asset !== 'SOL' && tok.asset.equals(token.mint)).toBe(true);

    // Without getProgramAccounts: the same limits at their derived addresses; unknown assets skipped.
    const byAsset = await readSpendingLimitsOf(svm, wallet.multisig, [
      'SOL',
      token.mint,
      Keypair.generate().publicKey,
    ]);
    expect(keys(byAsset.map((limit) => limit.address))).toEqual(
      keys(state.spendingLimits.map((limit) => limit.address)),
    );

    expect(state.balances.lamports).toBe(3_000_000_000n);
    expect(state.balances.tokens).toEqual([expect.objectContaining({ amount: 0n, exists: false })]);
  });

  it('takes the treasury from the ProgramConfig account; the chain refuses any other', async () => {
    const { treasury } = await readProgramConfig(svm);
    expect(treasury.equals(svm.treasury)).toBe(true);

    const payer = svm.funded();
    const createKey = Keypair.generate();
    const owner = Keypair.generate();
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner: owner.publicKey,
      agent: Keypair.generate().publicKey,
      feePayer: payer.publicKey,
      treasury: Keypair.generate().publicKey,
      limits: [],
      recentBlockhash: svm.blockhash(),
    });
    const result = svm.send(creation.transactions[0]!, [payer, createKey]);
    expect(result.ok).toBe(false);
    expect(svm.exists(creation.multisig)).toBe(false);
    if (!result.ok) expect(chainRejection(result.err, result.logs).code).toBe('CHAIN_REJECTED');
  });

  it('spreads many limits over as few packet-sized transactions as fit, sent in order', async () => {
    const destinations = Array.from({ length: 10 }, () => Keypair.generate().publicKey);
    const mints = Array.from({ length: 3 }, () => Keypair.generate().publicKey);
    const limits = [
      { asset: 'SOL' as const, amount: 5n, destinations },
      ...mints.map((mint) => ({ asset: mint, amount: 7n, destinations })),
    ];
    const payer = svm.funded();
    const createKey = Keypair.generate();
    const owner = inMemoryOwner();
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner: owner.publicKey,
      agent: Keypair.generate().publicKey,
      feePayer: payer.publicKey,
      treasury: svm.treasury,
      limits,
      recentBlockhash: svm.blockhash(),
    });
    expect(creation.transactions.length).toBeGreaterThan(1);
    expect(creation.transactions.length).toBeLessThan(limits.length + 1);
    for (const [index, tx] of creation.transactions.entries()) {
      expect(tx.serialize().length).toBeLessThanOrEqual(MAX_TRANSACTION_BYTES);
      await sendAsOwnerOk({ chain: svm, owner }, tx, index === 0 ? [payer, createKey] : [payer]);
    }
    const state = await readWallet(svm, creation.multisig);
    expect(state.spendingLimits).toHaveLength(4);
    // The ten, and the vault.
    expect(state.spendingLimits.every((limit) => limit.destinations.length === 11)).toBe(true);
  });

  it('nothing is created without the owner signature (it is config authority of the limits)', async () => {
    const payer = svm.funded();
    const createKey = Keypair.generate();
    const owner = Keypair.generate();
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner: owner.publicKey,
      agent: Keypair.generate().publicKey,
      feePayer: payer.publicKey,
      treasury: svm.treasury,
      limits: [{ asset: 'SOL', amount: 1n, destinations: [] }],
      recentBlockhash: svm.blockhash(),
    });
    const unsigned = svm.send(creation.transactions[0]!, [payer, createKey]);
    expect(unsigned.ok).toBe(false);
    expect(svm.exists(creation.multisig)).toBe(false);
  });

  it('refuses bad input before building anything', () => {
    const key = Keypair.generate().publicKey;
    const base = {
      createKey: Keypair.generate().publicKey,
      owner: Keypair.generate().publicKey,
      agent: Keypair.generate().publicKey,
      feePayer: Keypair.generate().publicKey,
      treasury: svm.treasury,
      recentBlockhash: svm.blockhash(),
    };
    const codeOf = (run: () => unknown) => {
      try {
        run();
        return 'built';
      } catch (error) {
        return (error as { code?: string }).code;
      }
    };
    expect(codeOf(() => buildCreateWallet({ ...base, agent: base.owner, limits: [] }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(codeOf(() => buildCreateWallet({ ...base, feePayer: base.agent, limits: [] }))).toBe(
      'VALIDATION_FAILED',
    );
    expect(
      codeOf(() => buildCreateWallet({ ...base, limits: [{ asset: 'SOL', amount: 0n, destinations: [] }] })),
    ).toBe('INVALID_AMOUNT');
    expect(
      codeOf(() =>
        buildCreateWallet({ ...base, limits: [{ asset: 'SOL', amount: 2n ** 64n, destinations: [] }] }),
      ),
    ).toBe('INVALID_AMOUNT');
    expect(
      codeOf(() =>
        buildCreateWallet({
          ...base,
          limits: [
            { asset: key, amount: 1n, destinations: [] },
            { asset: key, amount: 2n, destinations: [] },
          ],
        }),
      ),
    ).toBe('VALIDATION_FAILED');
    expect(
      codeOf(() =>
        buildCreateWallet({ ...base, limits: [{ asset: 'SOL', amount: 1n, destinations: [key, key] }] }),
      ),
    ).toBe('VALIDATION_FAILED');
  });

  it('derives every address from the create key, so only the multisig address needs storing', async () => {
    const createKey = Keypair.generate().publicKey;
    const multisig = multisigAddress(createKey);
    expect(spendingLimitAddress(multisig, 'SOL').equals(spendingLimitAddress(multisig, 'SOL'))).toBe(true);
    expect(
      spendingLimitAddress(multisig, 'SOL').equals(
        spendingLimitAddress(multisigAddress(Keypair.generate().publicKey), 'SOL'),
      ),
    ).toBe(false);
    const balances = await readVaultBalances(svm, multisig);
    expect(balances).toMatchObject({ lamports: 0n, tokens: [] });
  });
});

describe('limits from a policy', () => {
  const base = (recipients: Policy['recipients']): Pick<Policy, 'assets' | 'recipients'> => ({
    assets: new Map([
      [
        'SOL',
        {
          perTransaction: 1n,
          daily: 5_000_000_000n,
          tiers: { instantMax: 1n, notifyMax: 1n, delayMax: 1n, delaySeconds: 0 },
        },
      ],
      [
        'EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v',
        {
          perTransaction: 1n,
          daily: 200_000_000n,
          tiers: { instantMax: 1n, notifyMax: 1n, delayMax: 1n, delaySeconds: 0 },
        },
      ],
    ]),
    recipients,
  });

  it('one Day limit per asset at the daily amount, to the allowlist', () => {
    const address = Keypair.generate().publicKey.toBase58();
    const specs = spendingLimitSpecsFromPolicy(base({ mode: 'allowlist', addresses: new Set([address]) }));
    expect(specs.map((spec) => [spec.asset === 'SOL' ? 'SOL' : spec.asset.toBase58(), spec.amount])).toEqual([
      ['SOL', 5_000_000_000n],
      ['EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v', 200_000_000n],
    ]);
    expect(specs.every((spec) => keys(spec.destinations).join() === address)).toBe(true);
  });

  it('any recipient means no destination list; an empty allowlist means no limit at all (never "anyone")', () => {
    expect(
      spendingLimitSpecsFromPolicy(base({ mode: 'any' })).every((spec) => spec.destinations.length === 0),
    ).toBe(true);
    expect(spendingLimitSpecsFromPolicy(base({ mode: 'allowlist', addresses: new Set() }))).toEqual([]);
  });
});
