/**
 * What the enclave keeps across restarts and what it refuses to be told: the sealed journal in its
 * state dir, sealed agent keys bound to their wallet, owner and multisig, sealed checkpoints that can
 * only raise counters, and the attestation statement.
 */
import { createHash } from 'node:crypto';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/attestation/index.ts';
import { isWaiaasError } from '../../src/core/errors.ts';
import { policyHashHex } from '../../src/core/policy.ts';
import { createDevAttestationProvider } from '../../src/enclave/attestation/index.ts';
import { attestationUserData } from '../../src/enclave/attestation-statement.ts';
import { enclaveCodeBundle } from '../../src/enclave/code-bundle.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { FileStateStore, MemoryStateStore } from '../../src/enclave/state-journal.ts';
import type { KeyVault } from '../../src/keys/vault/types.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';

const NOON = Date.UTC(2025, 0, 15, 12);
const alice = Keypair.generate().publicKey;
const owner = createOwner();
const policy = (version = 1) =>
  solPolicy({ version, recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } });

/** A wallet inside `enclave` (no chain needed: the enclave only reads the message bytes). */
const setUpWallet = async (enclave: AgentEnclave, walletId = `w-${Math.random().toString(36).slice(2)}`) => {
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
  return { walletId, sealed, agent, multisigPda, spend };
};

const refusalCode = (call: () => unknown) => {
  try {
    call();
  } catch (error) {
    if (isWaiaasError(error))
      return error.details['reason'] ? `${error.code}/${error.details['reason']}` : error.code;
    throw error;
  }
  return 'signed';
};

describe('the journal in the state dir', () => {
  const open = async (dir: string, vault: KeyVault, now: () => number) =>
    AgentEnclave.create({ vault, store: await FileStateStore.open(dir, vault), now });

  it('brings back policy, spent-today, rate and delay first sightings after a restart', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    let now = NOON;
    const first = await open(dir, vault, () => now);
    const wallet = await setUpWallet(first);
    first.sign(wallet.walletId, wallet.spend(400_000_000n), { requestId: 'a' });
    first.sign(wallet.walletId, wallet.spend(300_000_000n), { requestId: 'b' });
    expect(
      refusalCode(() => first.sign(wallet.walletId, wallet.spend(800_000_000n), { requestId: 'slow' })),
    ).toBe('DELAY_NOT_ELAPSED');
    first.close();

    now = NOON + 600_000;
    const second = await open(dir, vault, () => now);
    expect((await second.loadAgentKeys([wallet.sealed])).loaded).toHaveLength(1);
    expect(second.usage(wallet.walletId)).toEqual({ spent: { SOL: '700000000' }, transfersInLastHour: 2 });
    expect(second.status().wallets[0]?.policyVersion).toBe(1);
    // The delay still counts from the first sighting before the restart: 900 s after NOON, not after now.
    expect(
      refusalCode(() => second.sign(wallet.walletId, wallet.spend(800_000_000n), { requestId: 'slow' })),
    ).toBe('DELAY_NOT_ELAPSED');
    now = NOON + 900_000;
    expect(
      refusalCode(() => second.sign(wallet.walletId, wallet.spend(800_000_000n), { requestId: 'slow' })),
    ).toBe('signed');
    // An old policy cannot come back after the restart either.
    second.setPolicy(await owner.signPolicy(wallet.walletId, policy(2)));
    second.close();
    const replayed = await owner.signPolicy(wallet.walletId, { ...policy(1), recipients: { mode: 'any' } });
    const third = await open(dir, vault, () => now);
    await third.loadAgentKeys([wallet.sealed]);
    expect(refusalCode(() => third.setPolicy(replayed))).toBe('POLICY_VERSION_NOT_NEWER');
    expect(third.usage(wallet.walletId).spent['SOL']).toBe('1500000000');
    third.close();
  });

  it('holds the spends an owner act carried into a new chain period, across restart and compaction; never loosens', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    let now = NOON;
    const first = await open(dir, vault, () => now);
    const held = await setUpWallet(first);
    const control = await setUpWallet(first);
    for (const wallet of [held, control])
      for (let index = 0; index < 9; index++)
        first.sign(wallet.walletId, wallet.spend(500_000_000n), { requestId: `${wallet.walletId}-${index}` });

    // 20 h later an owner act re-creates the chain's limit carrying the 4.5 SOL into a period that starts now.
    now = NOON + 20 * 3_600_000;
    expect(first.holdSpends(held.walletId, 'SOL', NOON / 1000 - 600)).toEqual({
      walletId: held.walletId,
      held: '4500000000',
    });
    first.close();

    // 25 h after the spends (past the 24 h 10 min window): the control wallet forgot them, the held one did not.
    now = NOON + 25 * 3_600_000;
    const second = await open(dir, vault, () => now);
    await second.loadAgentKeys([held.sealed, control.sealed]);
    second.compact();
    expect(second.usage(control.walletId).spent['SOL'] ?? '0').toBe('0');
    expect(second.usage(held.walletId).spent['SOL']).toBe('4500000000');
    expect(refusalCode(() => second.sign(held.walletId, held.spend(500_000_000n), { requestId: 'h1' }))).toBe(
      'signed',
    );
    expect(refusalCode(() => second.sign(held.walletId, held.spend(500_000_000n), { requestId: 'h2' }))).toBe(
      'POLICY_DAILY_LIMIT',
    );
    expect(
      refusalCode(() => second.sign(control.walletId, control.spend(500_000_000n), { requestId: 'c1' })),
    ).toBe('signed');
    // The carried spends leave the window one day and its margin after the act, as the chain's period ends.
    now = NOON + 20 * 3_600_000 + (86_400 + 600 + 300 + 1) * 1000;
    expect(second.usage(held.walletId).spent['SOL']).toBe('500000000');
    // A hold never lowers a count: a start in the future is refused, a repeat changes nothing.
    expect(refusalCode(() => second.holdSpends(held.walletId, 'SOL', now / 1000 + 60))).toBe(
      'VALIDATION_FAILED',
    );
    const before = second.usage(held.walletId).spent['SOL'];
    second.holdSpends(held.walletId, 'SOL', NOON / 1000);
    expect(second.usage(held.walletId).spent['SOL']).toBe(before);

    second.close();
  });

  it('keeps the same counts through compaction and ignores a torn last write', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const now = () => NOON;
    const enclave = await open(dir, vault, now);
    const wallet = await setUpWallet(enclave);
    for (let index = 0; index < 5; index++)
      enclave.sign(wallet.walletId, wallet.spend(10_000_000n + BigInt(index)), { requestId: `${index}` });
    enclave.compact();
    enclave.sign(wallet.walletId, wallet.spend(1n), { requestId: 'after' });
    enclave.close();
    const journal = join(dir, 'journal');
    const intact = readFileSync(journal);
    writeFileSync(journal, Buffer.concat([intact, intact.subarray(0, 20)]));
    const reopened = await open(dir, vault, now);
    await reopened.loadAgentKeys([wallet.sealed]);
    expect(reopened.usage(wallet.walletId)).toEqual({ spent: { SOL: '50000011' }, transfersInLastHour: 6 });
    reopened.close();
  });

  it('refuses to start on a forged or altered record that could loosen it', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const enclave = await open(dir, vault, () => NOON);
    const wallet = await setUpWallet(enclave);
    expect(
      refusalCode(() => enclave.sign(wallet.walletId, wallet.spend(800_000_000n), { requestId: 'slow' })),
    ).toBe('DELAY_NOT_ELAPSED');
    enclave.close();
    const journal = join(dir, 'journal');
    const intact = readFileSync(journal);
    const frame = (kind: number, body: string) => {
      const bytes = Buffer.alloc(5 + Buffer.byteLength(body));
      bytes.writeUInt32BE(1 + Buffer.byteLength(body), 0);
      bytes[4] = kind;
      bytes.write(body, 5);
      return bytes;
    };
    const attempt = async (bytes: Buffer) => {
      writeFileSync(journal, bytes);
      return open(dir, vault, () => NOON).then(
        (reopened) => {
          reopened.close();
          return 'opened';
        },
        (error: unknown) => (isWaiaasError(error) ? error.code : String(error)),
      );
    };
    // A backdated first sighting, written by the host in a plain frame.
    const backdated = JSON.stringify([
      {
        t: 'delay',
        w: wallet.walletId,
        id: 'slow2',
        firstSeenMs: 0,
        asset: 'SOL',
        amount: '800000000',
        destination: '00',
      },
    ]);
    expect(await attempt(Buffer.concat([intact, frame(0, backdated)]))).toBe('VAULT_CORRUPT');
    // The genuine sealed frame with one bit flipped (the last frame of the journal holds the delay record).
    const altered = Buffer.from(intact);
    altered[altered.length - 20] = altered[altered.length - 20]! ^ 1;
    expect(await attempt(altered)).toBe('VAULT_CORRUPT');
    expect(
      await attempt(Buffer.concat([intact, frame(0, '[{"t":"sign","w":"x","at":1,"amount":"-5"}]')])),
    ).toBe('VAULT_CORRUPT');
    // Records that can only make it stricter are accepted as they are: a forged spend only adds.
    const spend = JSON.stringify([
      { t: 'sign', w: wallet.walletId, at: NOON / 1000, asset: 'SOL', amount: '7' },
    ]);
    expect(await attempt(Buffer.concat([intact, frame(0, spend)]))).toBe('opened');
    truncateSync(journal, 0);
  });
});

describe('keys and state handed back by the host', () => {
  it('loads a sealed key only under the wallet, owner and multisig it was sealed for', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    const wallet = await setUpWallet(enclave);
    const fresh = AgentEnclave.create({ vault, now: () => NOON });
    const other = Keypair.generate().publicKey.toBase58();
    const result = await fresh.loadAgentKeys([
      { ...wallet.sealed, multisig: other },
      { ...wallet.sealed, ownerPublicKey: other },
      { ...wallet.sealed, walletId: 'someone-else' },
      { ...wallet.sealed, publicKey: Keypair.generate().publicKey.toBase58() },
      wallet.sealed,
    ]);
    expect(result.failed.map((item) => item.code)).toEqual([
      'VAULT_CONTEXT_MISMATCH',
      'VAULT_CONTEXT_MISMATCH',
      'VAULT_CONTEXT_MISMATCH',
      'VAULT_CONTEXT_MISMATCH',
    ]);
    expect(result.loaded).toEqual([{ walletId: wallet.walletId, publicKey: wallet.sealed.publicKey }]);
    // A wallet is bound once: no second owner or multisig for it, but a second key (rotation) is fine.
    await expect(
      fresh.createAgentKey(wallet.walletId, other, wallet.multisigPda.toBase58()),
    ).rejects.toMatchObject({
      code: 'ENCLAVE_REFUSED',
      details: { reason: 'WALLET_BINDING_MISMATCH' },
    });
    const rotated = await fresh.createAgentKey(
      wallet.walletId,
      owner.publicKey,
      wallet.multisigPda.toBase58(),
    );
    expect(fresh.status().wallets[0]?.agentKeys).toEqual([wallet.sealed.publicKey, rotated.publicKey]);
  });

  it('recovers from a sealed checkpoint without ever lowering a counter', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    const wallet = await setUpWallet(enclave);
    enclave.sign(wallet.walletId, wallet.spend(100_000_000n), { requestId: '1' });
    const [early] = await enclave.checkpoint([wallet.walletId]);
    enclave.sign(wallet.walletId, wallet.spend(200_000_000n), { requestId: '2' });
    const [late] = await enclave.checkpoint([wallet.walletId]);
    expect(late!.sequence).toBeGreaterThan(early!.sequence);

    const restored = AgentEnclave.create({ vault, store: new MemoryStateStore(), now: () => NOON });
    const [first] = await restored.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], checkpoint: late!.sealed },
    ]);
    expect(first).toMatchObject({ restoredFrom: 'checkpoint', policyVersion: 1, halted: false });
    // An older checkpoint handed back later changes nothing: every bucket keeps its larger value.
    const [second] = await restored.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], checkpoint: early!.sealed },
    ]);
    expect(second).toMatchObject({ restoredFrom: 'own-state' });
    expect(restored.usage(wallet.walletId)).toEqual({ spent: { SOL: '300000000' }, transfersInLastHour: 2 });
    // Forged, or another wallet's: refused in the wallet's entry, the keys load all the same.
    const [forged] = await restored.recover([
      {
        walletId: wallet.walletId,
        keys: [wallet.sealed],
        checkpoint: Buffer.from('forged').toString('base64'),
      },
    ]);
    expect(forged?.error).toEqual({ code: 'VAULT_CORRUPT' });
    const other = await setUpWallet(enclave);
    const [othersCheckpoint] = await enclave.checkpoint([other.walletId]);
    const [swapped] = await restored.recover([
      { walletId: wallet.walletId, keys: [wallet.sealed], checkpoint: othersCheckpoint!.sealed },
    ]);
    expect(swapped?.error).toEqual({ code: 'VAULT_CONTEXT_MISMATCH' });
    expect(restored.usage(wallet.walletId).spent['SOL']).toBe('300000000');
  });
});

describe('attestation', () => {
  it('commits user_data to the agent keys and policy hashes, verifiable with the dev root', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const provider = await createDevAttestationProvider({ dir, codeBundle: enclaveCodeBundle() });
    const enclave = AgentEnclave.create({ vault, attestation: provider, now: () => NOON });
    const wallet = await setUpWallet(enclave, 'attested-wallet');
    const nonce = Uint8Array.from([1, 2, 3, 4]);
    const { document, statement } = await enclave.attest(nonce);
    const verified = verifyAttestation(document, {
      root: provider.rootCertificatePem,
      expectedNonce: nonce,
      at: 'document',
    });
    expect(Buffer.from(verified.userData!).equals(Buffer.from(attestationUserData(statement)))).toBe(true);
    expect(JSON.parse(statement)).toEqual({
      domain: 'waiaas:attestation:v1',
      wallets: [
        {
          walletId: 'attested-wallet',
          agentKeys: [wallet.sealed.publicKey],
          policyVersion: 1,
          policyHash: policyHashHex(policy()),
        },
      ],
    });
    expect(verified.pcrs[0]).toBe(createHash('sha384').update(enclaveCodeBundle()).digest('hex'));
    enclave.setPolicy(await owner.signPolicy('attested-wallet', policy(2)));
    const after = await enclave.attest(nonce);
    const reverified = verifyAttestation(after.document, {
      root: provider.rootCertificatePem,
      at: 'document',
    });
    expect(Buffer.from(reverified.userData!).equals(Buffer.from(verified.userData!))).toBe(false);
    expect(() =>
      verifyAttestation(document, {
        root: provider.rootCertificatePem,
        expectedNonce: Uint8Array.from([9]),
        at: 'document',
      }),
    ).toThrow();
  });
});
