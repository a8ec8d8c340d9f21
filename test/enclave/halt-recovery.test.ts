/**
 * The enclave's own rules for halting and recovering, driven directly as a compromised host would:
 * a halt (one wallet or all) is journaled and survives restarts, only a newer owner-signed policy
 * lifts it, and a forged halt can stop signing but never lock the owner out; recovery takes the
 * largest of its own state, the sealed checkpoint and the chain, so a host lying about the chain
 * cannot count less than the checkpoint, and one hiding the checkpoint cannot count less than the chain.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { chainSpent } from '../../src/enclave/checkpoint.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { CHECKPOINT_BATCH } from '../../src/enclave/protocol.ts';
import { FileStateStore, MemoryStateStore } from '../../src/enclave/state-journal.ts';
import type { KeyVault } from '../../src/keys/vault/types.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';

const NOON = Date.UTC(2025, 0, 15, 12);
const NOON_S = NOON / 1000;
const SOL = 1_000_000_000n;
const alice = Keypair.generate().publicKey;
const owner = createOwner();
const policy = (version = 1) =>
  solPolicy({ version, recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } });

const setUpWallet = async (enclave: AgentEnclave) => {
  const walletId = `w-${Math.random().toString(36).slice(2)}`;
  const multisigPda = Keypair.generate().publicKey;
  const sealed = await enclave.createAgentKey(walletId, owner.publicKey, multisigPda.toBase58());
  enclave.setPolicy(await owner.signPolicy(walletId, policy()));
  const agent = new PublicKey(sealed.publicKey);
  const spend = (amount: bigint) =>
    new VersionedTransaction(
      new TransactionMessage({
        payerKey: Keypair.generate().publicKey,
        recentBlockhash: Keypair.generate().publicKey.toBase58(),
        instructions: [
          multisig.instructions.spendingLimitUse({
            multisigPda,
            member: agent,
            spendingLimit: new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')),
            vaultIndex: 0,
            amount: Number(amount),
            decimals: 9,
            destination: alice,
          }),
        ],
      }).compileToV0Message(),
    ).message.serialize();
  return { walletId, sealed, spend };
};

const verdict = (enclave: AgentEnclave, walletId: string, message: Uint8Array) => {
  try {
    enclave.sign(walletId, message, { requestId: `r-${Math.random()}` });
    return 'signed';
  } catch (error) {
    if (!isWaiaasError(error)) throw error;
    return `${error.code}@${error.layer}${error.details['reason'] ? `/${String(error.details['reason'])}` : ''}`;
  }
};

const open = async (dir: string, vault: KeyVault) =>
  AgentEnclave.create({ vault, store: await FileStateStore.open(dir, vault), now: () => NOON });

describe('halting', () => {
  it('halts one wallet or all, keeps it across a restart, and lifts it only for a newer owner policy', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const first = await open(dir, vault);
    const one = await setUpWallet(first);
    const two = await setUpWallet(first);
    expect(first.halt(one.walletId)).toEqual([
      { walletId: one.walletId, policyVersion: 1, unchanged: false },
    ]);
    expect(verdict(first, one.walletId, one.spend(SOL / 100n))).toBe('WALLET_FROZEN@enclave/HALTED');
    expect(verdict(first, two.walletId, two.spend(SOL / 100n))).toBe('signed');
    expect(first.halt()).toEqual(
      expect.arrayContaining([
        { walletId: one.walletId, policyVersion: 1, unchanged: true },
        { walletId: two.walletId, policyVersion: 1, unchanged: false },
      ]),
    );
    first.close();

    const second = await open(dir, vault);
    await second.loadAgentKeys([one.sealed, two.sealed]);
    expect(second.status().wallets.map((wallet) => wallet.halted)).toEqual([true, true]);
    expect(verdict(second, two.walletId, two.spend(SOL / 100n))).toBe('WALLET_FROZEN@enclave/HALTED');
    // The policy in force again: not newer, nothing lifted.
    expect(second.setPolicy(await owner.signPolicy(one.walletId, policy(1)))).toMatchObject({
      unchanged: true,
    });
    expect(verdict(second, one.walletId, one.spend(SOL / 100n))).toBe('WALLET_FROZEN@enclave/HALTED');
    // A newer one, signed by the owner: signing resumes for that wallet only.
    expect(second.setPolicy(await owner.signPolicy(one.walletId, policy(2)))).toMatchObject({
      version: 2,
      resumed: true,
    });
    expect(verdict(second, one.walletId, one.spend(SOL / 100n))).toBe('signed');
    expect(verdict(second, two.walletId, two.spend(SOL / 100n))).toBe('WALLET_FROZEN@enclave/HALTED');
    second.close();
  });

  it('a forged halt in the journal stops signing but never asks the owner for more than the next version', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const first = await open(dir, vault);
    const wallet = await setUpWallet(first);
    first.close();
    const journal = join(dir, 'journal');
    const body = JSON.stringify([{ t: 'halt', w: wallet.walletId, v: 1e12, at: NOON }]);
    const frame = Buffer.alloc(5 + Buffer.byteLength(body));
    frame.writeUInt32BE(1 + Buffer.byteLength(body), 0);
    frame[4] = 0;
    frame.write(body, 5);
    writeFileSync(journal, Buffer.concat([readFileSync(journal), frame]));
    const second = await open(dir, vault);
    await second.loadAgentKeys([wallet.sealed]);
    expect(verdict(second, wallet.walletId, wallet.spend(SOL / 100n))).toBe('WALLET_FROZEN@enclave/HALTED');
    expect(second.setPolicy(await owner.signPolicy(wallet.walletId, policy(2)))).toMatchObject({
      resumed: true,
    });
    expect(verdict(second, wallet.walletId, wallet.spend(SOL / 100n))).toBe('signed');
    second.close();
  });
});

describe('recovery takes the largest of its own state, the checkpoint and the chain', () => {
  const chain = (spent: bigint, lastReset = NOON_S - 3600) => ({
    SOL: { amount: String(5n * SOL), remaining: String(5n * SOL - spent), lastReset, periodSeconds: 86_400 },
  });

  it('a host that lies about the chain cannot count less than the checkpoint', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    const wallet = await setUpWallet(enclave);
    enclave.sign(wallet.walletId, wallet.spend(SOL / 2n), { requestId: 'a' });
    const [checkpoint] = await enclave.checkpoint([wallet.walletId]);
    const fresh = AgentEnclave.create({ vault, store: new MemoryStateStore(), now: () => NOON });
    const [result] = await fresh.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], checkpoint: checkpoint!.sealed, chain: chain(0n) },
    ]);
    expect(result).toMatchObject({ restoredFrom: 'checkpoint', raisedToChain: {} });
    expect(fresh.usage(wallet.walletId).spent['SOL']).toBe(String(SOL / 2n));
  });

  it('a host that hides the checkpoint cannot count less than the chain', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    const wallet = await setUpWallet(enclave);
    const fresh = AgentEnclave.create({ vault, store: new MemoryStateStore(), now: () => NOON });
    const spent = (495n * SOL) / 100n;
    const [result] = await fresh.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], chain: chain(spent) },
    ]);
    expect(result).toMatchObject({ restoredFrom: 'none', raisedToChain: { SOL: String(spent) } });
    // The policy comes from the daemon after recovery, as the supervisor sends it.
    fresh.setPolicy(await owner.signPolicy(wallet.walletId, policy()));
    // 4.95 of 5 SOL a day counted: 0.1 more is refused by the enclave itself, 0.05 is not.
    expect(verdict(fresh, wallet.walletId, wallet.spend(SOL / 10n))).toBe('POLICY_DAILY_LIMIT@enclave');
    expect(verdict(fresh, wallet.walletId, wallet.spend(SOL / 20n))).toBe('signed');
    // The floor is counted from the chain's period start: it stays until that period is over.
    const later = AgentEnclave.create({ vault, store: new MemoryStateStore(), now: () => NOON + 86_400_000 });
    await later.recover([{ walletId: wallet.walletId, keys: [wallet.sealed], chain: chain(SOL) }]);
    later.setPolicy(await owner.signPolicy(wallet.walletId, policy()));
    expect(later.usage(wallet.walletId).spent['SOL']).toBe('0');
  });

  it('reads what the chain shows spent as Squads does: nothing once the period is over', () => {
    const limit = { amount: '100', remaining: '40', lastReset: 1_000, periodSeconds: 86_400 };
    expect(chainSpent(limit, 1_000 + 86_400)).toEqual({ spent: 60n, since: 1_000 });
    expect(chainSpent(limit, 1_000 + 86_401)).toEqual({ spent: 0n, since: 1_000 + 86_401 });
    expect(chainSpent({ ...limit, periodSeconds: 0 }, 1e9)).toEqual({ spent: 60n, since: 1_000 });
    expect(chainSpent({ ...limit, remaining: '150' }, 2_000).spent).toBe(0n);
  });

  it('a wiped enclave given an older checkpoint keeps the newer policy of its own journal', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const enclave = await open(dir, vault);
    const wallet = await setUpWallet(enclave);
    const [old] = await enclave.checkpoint([wallet.walletId]);
    enclave.setPolicy(await owner.signPolicy(wallet.walletId, policy(3)));
    enclave.close();
    const again = await open(dir, vault);
    const [result] = await again.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], checkpoint: old!.sealed },
    ]);
    expect(result).toMatchObject({ restoredFrom: 'own-state', policyVersion: 3 });
    const older = await owner.signPolicy(wallet.walletId, policy(2));
    expect(() => again.setPolicy(older)).toThrow(
      expect.objectContaining({ code: 'POLICY_VERSION_NOT_NEWER' }),
    );
    again.close();
  });
});

describe('checkpoints', () => {
  it('seal the changed wallets a batch at a time, so every answer fits one frame', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    const wallets = [];
    for (let index = 0; index < CHECKPOINT_BATCH + 6; index++) wallets.push(await setUpWallet(enclave));
    const first = await enclave.checkpoint();
    expect(first).toHaveLength(CHECKPOINT_BATCH);
    const second = await enclave.checkpoint();
    expect(second).toHaveLength(6);
    expect(new Set([...first, ...second].map((checkpoint) => checkpoint.walletId)).size).toBe(wallets.length);
    expect(await enclave.checkpoint()).toEqual([]);
    // A signature marks its wallet again.
    enclave.sign(wallets[3]!.walletId, wallets[3]!.spend(SOL / 100n), { requestId: 'again' });
    expect((await enclave.checkpoint()).map((checkpoint) => checkpoint.walletId)).toEqual([
      wallets[3]!.walletId,
    ]);
  });
});
