import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SYSVAR_CLOCK_PUBKEY,
  SystemProgram,
  Transaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SQUADS_PROGRAM_CONFIG_TREASURY,
  SQUADS_PROGRAM_ID,
  type StartLocalnetOptions,
  startLocalnet,
} from '../../src/localnet/index.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';

const temporaryDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

const missingBinary = join(tmpdir(), 'no-such-dir', 'squads_v4.so');

async function airdrop(connection: Connection, to: PublicKey, sol: number): Promise<void> {
  const signature = await connection.requestAirdrop(to, sol * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
}

async function advanceClock(rpcUrl: string, seconds: number): Promise<number> {
  const response = await fetch(rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'waiaas_advanceClock', params: [seconds] }),
  });
  return ((await response.json()) as { result: number }).result;
}

async function open(options: StartLocalnetOptions) {
  const localnet = await startLocalnet({ port: 0, ...options });
  return { localnet, connection: new Connection(localnet.rpcUrl, 'confirmed') };
}

describe('localnet state across a restart', () => {
  it('keeps balances, transactions, the genesis hash, the clock and duplicate refusal', async () => {
    const dataDir = tempDir('waiaas-localnet-persist-');
    const alice = Keypair.generate();
    const bob = Keypair.generate().publicKey;

    const first = await open({ dataDir, squadsProgramPath: missingBinary });
    await airdrop(first.connection, alice.publicKey, 3);
    const { blockhash } = await first.connection.getLatestBlockhash();
    const transfer = new Transaction({ feePayer: alice.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob, lamports: LAMPORTS_PER_SOL }),
    );
    transfer.sign(alice);
    const signature = await first.connection.sendRawTransaction(transfer.serialize());
    const genesis = await first.connection.getGenesisHash();
    const slotBefore = await first.connection.getSlot();
    await first.localnet.close();

    const second = await open({ dataDir, squadsProgramPath: missingBinary });
    let advancedTo: number;
    try {
      expect(await second.connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL);
      expect(await second.connection.getBalance(alice.publicKey)).toBe(2 * LAMPORTS_PER_SOL - 5000);
      expect(await second.connection.getGenesisHash()).toBe(genesis);
      expect(await second.connection.getSlot()).toBeGreaterThanOrEqual(slotBefore);
      expect((await second.connection.getSignatureStatus(signature)).value?.err).toBeNull();
      const recorded = await second.connection.getTransaction(signature, {
        maxSupportedTransactionVersion: 0,
      });
      expect(recorded?.meta?.postBalances[1]).toBe(LAMPORTS_PER_SOL);

      // Its blockhash is still valid after the restart, and resending it is refused, not replayed.
      const resend = await second.connection
        .sendRawTransaction(transfer.serialize())
        .catch((e: unknown) => e);
      expect(String((resend as Error).message)).toContain('already been processed');
      expect(await second.connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL);
      advancedTo = await advanceClock(second.localnet.rpcUrl, 3600);
    } finally {
      await second.localnet.close();
    }

    // The test clock offset survives too: the chain stays an hour ahead of the wall clock.
    const third = await open({ dataDir, squadsProgramPath: missingBinary });
    try {
      const clock = await third.connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
      expect(Number(clock!.data.readBigInt64LE(32))).toBeGreaterThanOrEqual(advancedTo);
      expect(Number(clock!.data.readBigInt64LE(32))).toBeLessThan(advancedTo + 60);
    } finally {
      await third.localnet.close();
    }
  });
});

describeWithSquads('Squads state across a restart', () => {
  it('keeps the multisig, and runs the program from the ledger even when the binary is gone', async () => {
    const dataDir = tempDir('waiaas-localnet-persist-squads-');
    const binary = join(tempDir('waiaas-binary-'), 'squads_v4.so');
    copyFileSync(squadsBinaryPath!, binary);

    const first = await open({ dataDir, squadsProgramPath: binary });
    const creator = Keypair.generate();
    await airdrop(first.connection, creator.publicKey, 5);
    const createMultisig = async (connection: Connection) => {
      const createKey = Keypair.generate();
      const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
      const signature = await multisig.rpc.multisigCreateV2({
        connection,
        treasury: new PublicKey(SQUADS_PROGRAM_CONFIG_TREASURY),
        createKey,
        creator,
        multisigPda,
        configAuthority: creator.publicKey,
        threshold: 1,
        members: [{ key: creator.publicKey, permissions: multisig.types.Permissions.all() }],
        timeLock: 300,
        rentCollector: null,
      });
      await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
      return multisigPda;
    };
    const multisigPda = await createMultisig(first.connection);
    await first.localnet.close();

    const second = await open({ dataDir, squadsProgramPath: missingBinary });
    try {
      expect(second.localnet.squads).toMatchObject({ status: 'loaded', source: 'snapshot' });
      const account = await multisig.accounts.Multisig.fromAccountAddress(second.connection, multisigPda);
      expect(account.timeLock).toBe(300);
      expect(account.createKey).toBeDefined();
      expect((await second.connection.getAccountInfo(new PublicKey(SQUADS_PROGRAM_ID)))?.executable).toBe(
        true,
      );
      const another = await createMultisig(second.connection);
      expect(
        (await multisig.accounts.Multisig.fromAccountAddress(second.connection, another)).threshold,
      ).toBe(1);
    } finally {
      await second.localnet.close();
    }
  });
});
