import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AddressLookupTableProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  SystemProgram,
  sendAndConfirmTransaction,
  Transaction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';

const temporaryDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

let localnet: Localnet;
let connection: Connection;

beforeAll(async () => {
  localnet = await startLocalnet({
    dataDir: tempDir('waiaas-localnet-alt-'),
    port: 0,
    squadsProgramPath: join(tmpdir(), 'no-such-dir', 'squads_v4.so'),
  });
  connection = new Connection(localnet.rpcUrl, 'confirmed');
});
afterAll(async () => {
  await localnet?.close();
});

const nextSlot = async (after: number) => {
  while ((await connection.getSlot()) <= after) await new Promise((resolve) => setTimeout(resolve, 100));
};

describe('v0 transactions with address lookup tables', () => {
  it('creates a table from a recent slot and resolves its addresses in balances and records', async () => {
    const payer = Keypair.generate();
    const airdrop = await connection.requestAirdrop(payer.publicKey, 10 * LAMPORTS_PER_SOL);
    await connection.confirmTransaction({ signature: airdrop, ...(await connection.getLatestBlockhash()) });
    const recentSlot = await connection.getSlot();
    await nextSlot(recentSlot);
    const bob = Keypair.generate().publicKey;
    const [create, table] = AddressLookupTableProgram.createLookupTable({
      authority: payer.publicKey,
      payer: payer.publicKey,
      recentSlot,
    });
    const extend = AddressLookupTableProgram.extendLookupTable({
      lookupTable: table,
      authority: payer.publicKey,
      payer: payer.publicKey,
      addresses: [bob],
    });
    await sendAndConfirmTransaction(connection, new Transaction().add(create, extend), [payer]);
    await nextSlot(await connection.getSlot()); // tables are usable from the slot after their extension

    const lookupTable = (await connection.getAddressLookupTable(table)).value!;
    expect(lookupTable.state.addresses.map((address) => address.toBase58())).toEqual([bob.toBase58()]);
    const message = new TransactionMessage({
      payerKey: payer.publicKey,
      recentBlockhash: (await connection.getLatestBlockhash()).blockhash,
      instructions: [
        SystemProgram.transfer({ fromPubkey: payer.publicKey, toPubkey: bob, lamports: LAMPORTS_PER_SOL }),
      ],
    }).compileToV0Message([lookupTable]);
    expect(message.addressTableLookups).toHaveLength(1);
    const tx = new VersionedTransaction(message);
    tx.sign([payer]);
    const signature = await connection.sendTransaction(tx);

    expect(await connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL);
    const recorded = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(recorded?.version).toBe(0);
    expect(recorded?.meta?.loadedAddresses?.writable.map((key) => key.toBase58())).toEqual([bob.toBase58()]);
    expect(recorded?.meta?.postBalances.at(-1)).toBe(LAMPORTS_PER_SOL);
    // A client that has not opted into v0 gets Solana's explicit refusal instead of a wrong shape.
    await expect(connection.getTransaction(signature)).rejects.toThrow(/maxSupportedTransactionVersion/);
  });
});
