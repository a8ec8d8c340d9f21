/**
 * Agent-key rotation inside the enclave: two keys for one wallet while the rotation is on chain, then
 * the old key retired, never to sign again, even after a restart in which the host hands its sealed
 * record back.
 */
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { FileStateStore } from '../../src/enclave/state-journal.ts';
import type { KeyVault } from '../../src/keys/vault/types.ts';
import { spendingLimitAddress } from '../../src/solana/inspect/pda.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from '../enclave/helpers/fixtures.ts';

const NOON = Date.UTC(2025, 0, 15, 12);
const owner = createOwner();
const recipient = Keypair.generate().publicKey;

const spendBy = (multisigPda: PublicKey, member: PublicKey, amount: bigint) =>
  new VersionedTransaction(
    new TransactionMessage({
      payerKey: Keypair.generate().publicKey,
      recentBlockhash: Keypair.generate().publicKey.toBase58(),
      instructions: [
        multisig.instructions.spendingLimitUse({
          multisigPda,
          member,
          spendingLimit: new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')),
          vaultIndex: 0,
          amount: Number(amount),
          decimals: 9,
          destination: recipient,
        }),
      ],
    }).compileToV0Message(),
  ).message.serialize();

const outcome = (call: () => unknown): string => {
  try {
    call();
    return 'signed';
  } catch (error) {
    if (isWaiaasError(error))
      return error.details['reason'] ? `${error.code}/${String(error.details['reason'])}` : error.code;
    throw error;
  }
};

const open = async (dir: string, vault: KeyVault) =>
  AgentEnclave.create({ vault, store: await FileStateStore.open(dir, vault), now: () => NOON });

describe('retiring a rotated-out agent key', () => {
  it('signs with both keys during the rotation, then never with the retired one, across a restart', async () => {
    const dir = tempDir();
    const { vault } = await createTestVault(dir);
    const enclave = await open(dir, vault);
    const walletId = 'wal_rotate';
    const multisigPda = Keypair.generate().publicKey;
    const first = await enclave.createAgentKey(walletId, owner.publicKey, multisigPda.toBase58());
    enclave.setPolicy(await owner.signPolicy(walletId, solPolicy({ recipients: { mode: 'any' } })));
    const second = await enclave.createAgentKey(walletId, owner.publicKey, multisigPda.toBase58());
    const oldKey = new PublicKey(first.publicKey);
    const newKey = new PublicKey(second.publicKey);

    expect(enclave.status().wallets[0]?.agentKeys.sort()).toEqual([first.publicKey, second.publicKey].sort());
    expect(
      outcome(() => enclave.sign(walletId, spendBy(multisigPda, oldKey, 1000n), { requestId: 'a' })),
    ).toBe('signed');
    expect(
      outcome(() => enclave.sign(walletId, spendBy(multisigPda, newKey, 1001n), { requestId: 'b' })),
    ).toBe('signed');

    expect(enclave.retireAgentKey(walletId, first.publicKey)).toEqual({
      walletId,
      publicKey: first.publicKey,
      unchanged: false,
    });
    expect(enclave.status().wallets[0]?.agentKeys).toEqual([second.publicKey]);
    expect(
      outcome(() => enclave.sign(walletId, spendBy(multisigPda, oldKey, 1002n), { requestId: 'c' })),
    ).toBe('ENCLAVE_REFUSED/AGENT_NOT_SIGNER');
    expect(
      outcome(() => enclave.sign(walletId, spendBy(multisigPda, newKey, 1003n), { requestId: 'd' })),
    ).toBe('signed');
    // Repeating the retirement changes nothing.
    expect(enclave.retireAgentKey(walletId, first.publicKey).unchanged).toBe(true);
    enclave.close();

    // After a restart the host hands every sealed key back, the retired one included: it is refused.
    const restarted = await open(dir, vault);
    const loaded = await restarted.loadAgentKeys([first, second]);
    expect(loaded.loaded.map((key) => key.publicKey)).toEqual([second.publicKey]);
    expect(loaded.failed).toEqual([{ walletId, publicKey: first.publicKey, code: 'AGENT_KEY_RETIRED' }]);
    expect(
      outcome(() => restarted.sign(walletId, spendBy(multisigPda, oldKey, 1004n), { requestId: 'e' })),
    ).toBe('ENCLAVE_REFUSED/AGENT_NOT_SIGNER');
    // Compaction keeps the retirement.
    restarted.compact();
    restarted.close();
    const compacted = await open(dir, vault);
    expect((await compacted.loadAgentKeys([first])).failed[0]?.code).toBe('AGENT_KEY_RETIRED');
    compacted.close();
  });

  it('refuses a retirement for a wallet it does not hold, or of a malformed key', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault, now: () => NOON });
    expect(
      outcome(() => enclave.retireAgentKey('wal_unknown', Keypair.generate().publicKey.toBase58())),
    ).toBe('ENCLAVE_REFUSED/UNKNOWN_WALLET');
    expect(outcome(() => enclave.retireAgentKey('wal_unknown', 'not-a-key'))).toBe('VALIDATION_FAILED');
    enclave.close();
  });
});
