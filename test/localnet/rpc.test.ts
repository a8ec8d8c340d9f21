import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { address, createSolanaRpc } from '@solana/kit';
import {
  createAssociatedTokenAccount,
  createMint,
  getAccount,
  mintTo,
  TOKEN_2022_PROGRAM_ID,
  TOKEN_PROGRAM_ID,
} from '@solana/spl-token';
import {
  ComputeBudgetProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  SendTransactionError,
  SYSVAR_CLOCK_PUBKEY,
  SystemProgram,
  sendAndConfirmTransaction,
  Transaction,
  type TransactionInstruction,
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
    dataDir: tempDir('waiaas-localnet-rpc-'),
    port: 0,
    squadsProgramPath: join(tmpdir(), 'no-such-dir', 'squads_v4.so'),
  });
  connection = new Connection(localnet.rpcUrl, 'confirmed');
});

afterAll(async () => {
  await localnet?.close();
});

interface RpcResponse {
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

async function rpc(method: string, params: unknown[] = []): Promise<RpcResponse> {
  const response = await fetch(localnet.rpcUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  return (await response.json()) as RpcResponse;
}

async function funded(sol = 10): Promise<Keypair> {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, sol * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
  return keypair;
}

async function transferTx(
  from: Keypair,
  to: PublicKey,
  lamports: number,
  extra: TransactionInstruction[] = [],
) {
  const { blockhash } = await connection.getLatestBlockhash();
  const tx = new Transaction({ feePayer: from.publicKey, recentBlockhash: blockhash }).add(
    ...extra,
    SystemProgram.transfer({ fromPubkey: from.publicKey, toPubkey: to, lamports }),
  );
  tx.sign(from);
  return tx;
}

describe('localnet JSON-RPC with web3.js Connection', () => {
  it('airdrops, transfers and reports balances, fees and the transaction', async () => {
    const alice = await funded(5);
    const bob = Keypair.generate().publicKey;
    expect(await connection.getBalance(alice.publicKey)).toBe(5 * LAMPORTS_PER_SOL);

    const tx = await transferTx(alice, bob, LAMPORTS_PER_SOL);
    const signature = await connection.sendRawTransaction(tx.serialize());
    const status = await connection.getSignatureStatus(signature);
    expect(status.value).toMatchObject({ err: null, confirmationStatus: 'finalized' });

    expect(await connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL);
    expect(await connection.getBalance(alice.publicKey)).toBe(4 * LAMPORTS_PER_SOL - 5000);

    const recorded = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(recorded?.meta).toMatchObject({
      err: null,
      fee: 5000,
      preBalances: [5 * LAMPORTS_PER_SOL, 0, 1],
      postBalances: [4 * LAMPORTS_PER_SOL - 5000, LAMPORTS_PER_SOL, 1],
    });
    expect(recorded?.meta?.logMessages).toContain('Program 11111111111111111111111111111111 success');
    expect(recorded?.transaction.signatures[0]).toBe(signature);
    expect(recorded?.blockTime).toBeGreaterThan(Date.now() / 1000 - 60);

    const history = await connection.getSignaturesForAddress(bob);
    expect(history.map((entry) => entry.signature)).toEqual([signature]);
  });

  it('confirms through the websocket: sendAndConfirmTransaction returns', async () => {
    const alice = await funded(2);
    const bob = Keypair.generate().publicKey;
    const tx = new Transaction().add(
      SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob, lamports: LAMPORTS_PER_SOL / 2 }),
    );
    const started = Date.now();
    const signature = await sendAndConfirmTransaction(connection, tx, [alice]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(typeof signature).toBe('string');
    expect(await connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL / 2);
  });

  it('pushes account and slot changes to subscribers', async () => {
    const alice = await funded(2);
    const bob = Keypair.generate().publicKey;
    const seen = new Promise<number>((resolve) => {
      const id = connection.onAccountChange(bob, (account) => {
        void connection.removeAccountChangeListener(id);
        resolve(account.lamports);
      });
    });
    const slot = new Promise<number>((resolve) => {
      const id = connection.onSlotChange((info) => {
        void connection.removeSlotChangeListener(id);
        resolve(info.slot);
      });
    });
    // Subscriptions go out in order on one socket, and the server takes them in order: once the slot
    // subscription (the later one) notifies, the account subscription is in place.
    expect(await slot).toBeGreaterThanOrEqual(0);
    await connection.sendRawTransaction((await transferTx(alice, bob, 123_456_789)).serialize());
    expect(await seen).toBe(123_456_789);
  });

  it('charges the priority fee that getFeeForMessage announces', async () => {
    const alice = await funded(1);
    const budget = [
      ComputeBudgetProgram.setComputeUnitLimit({ units: 10_000 }),
      ComputeBudgetProgram.setComputeUnitPrice({ microLamports: 2_000_000 }),
    ];
    const tx = await transferTx(alice, Keypair.generate().publicKey, LAMPORTS_PER_SOL / 10, budget);
    const fee = await connection.getFeeForMessage(tx.compileMessage());
    expect(fee.value).toBe(5000 + 20_000);
    const before = await connection.getBalance(alice.publicKey);
    const signature = await connection.sendRawTransaction(tx.serialize());
    expect(before - (await connection.getBalance(alice.publicKey))).toBe(LAMPORTS_PER_SOL / 10 + fee.value!);
    expect(
      (await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 }))?.meta?.fee,
    ).toBe(fee.value);
  });
});

describe('token accounts and program account filters', () => {
  it('finds token accounts by owner, mint and memcmp/dataSize filters, raw and parsed', async () => {
    const payer = await funded(5);
    const alice = Keypair.generate().publicKey;
    const bob = Keypair.generate().publicKey;
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const otherMint = await createMint(connection, payer, payer.publicKey, null, 9);
    const aliceUsdc = await createAssociatedTokenAccount(connection, payer, mint, alice);
    const bobUsdc = await createAssociatedTokenAccount(connection, payer, mint, bob);
    const aliceOther = await createAssociatedTokenAccount(connection, payer, otherMint, alice);
    await mintTo(connection, payer, mint, aliceUsdc, payer, 12_500_000n);
    expect((await getAccount(connection, aliceUsdc)).amount).toBe(12_500_000n);

    const byMint = await connection.getTokenAccountsByOwner(alice, { mint });
    expect(byMint.value.map((entry) => entry.pubkey.toBase58())).toEqual([aliceUsdc.toBase58()]);
    const byProgram = await connection.getTokenAccountsByOwner(alice, { programId: TOKEN_PROGRAM_ID });
    expect(byProgram.value.map((entry) => entry.pubkey.toBase58()).sort()).toEqual(
      [aliceUsdc.toBase58(), aliceOther.toBase58()].sort(),
    );
    expect(
      (await connection.getTokenAccountsByOwner(alice, { programId: TOKEN_2022_PROGRAM_ID })).value,
    ).toEqual([]);

    const parsed = await connection.getParsedTokenAccountsByOwner(alice, { mint });
    expect(parsed.value[0]?.account.data.parsed.info).toMatchObject({
      mint: mint.toBase58(),
      owner: alice.toBase58(),
      state: 'initialized',
      tokenAmount: { amount: '12500000', decimals: 6, uiAmount: 12.5, uiAmountString: '12.5' },
    });
    expect((await connection.getTokenAccountBalance(aliceUsdc)).value.uiAmountString).toBe('12.5');

    const holdersOfMint = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: 165 }, { memcmp: { offset: 0, bytes: mint.toBase58() } }],
    });
    expect(holdersOfMint.map((entry) => entry.pubkey.toBase58()).sort()).toEqual(
      [aliceUsdc.toBase58(), bobUsdc.toBase58()].sort(),
    );
    const bobsAccounts = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: 165 }, { memcmp: { offset: 32, bytes: bob.toBase58() } }],
    });
    expect(bobsAccounts.map((entry) => entry.pubkey.toBase58())).toEqual([bobUsdc.toBase58()]);
    const mints = await connection.getProgramAccounts(TOKEN_PROGRAM_ID, {
      filters: [{ dataSize: 82 }, { memcmp: { offset: 4, bytes: payer.publicKey.toBase58() } }],
    });
    expect(mints.map((entry) => entry.pubkey.toBase58()).sort()).toEqual(
      [mint.toBase58(), otherMint.toBase58()].sort(),
    );
  });
});

describe('failed transactions', () => {
  it('show the program logs and custom error code to a web3.js caller, and cost nothing', async () => {
    const alice = await funded(1);
    const before = await connection.getBalance(alice.publicKey);
    const tx = await transferTx(alice, Keypair.generate().publicKey, 2 * LAMPORTS_PER_SOL);
    const error = await connection.sendRawTransaction(tx.serialize()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTransactionError);
    const sendError = error as SendTransactionError;
    expect(sendError.message).toContain(
      'Transaction simulation failed: Error processing Instruction 0: custom program error: 0x1',
    );
    expect(sendError.logs).toContain(
      'Program 11111111111111111111111111111111 failed: custom program error: 0x1',
    );
    expect(sendError.logs?.some((line) => line.startsWith('Transfer: insufficient lamports'))).toBe(true);
    expect(await connection.getBalance(alice.publicKey)).toBe(before);

    const raw = await rpc('sendTransaction', [tx.serialize().toString('base64'), { encoding: 'base64' }]);
    expect(raw.error).toMatchObject({
      code: -32002,
      data: { err: { InstructionError: [0, { Custom: 1 }] }, unitsConsumed: expect.any(Number) },
    });
  });

  it('land with their error and fee when preflight is skipped', async () => {
    const alice = await funded(1);
    const before = await connection.getBalance(alice.publicKey);
    const tx = await transferTx(alice, Keypair.generate().publicKey, 2 * LAMPORTS_PER_SOL);
    const signature = await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true });
    const status = await connection.getSignatureStatus(signature);
    expect(status.value?.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(await connection.getBalance(alice.publicKey)).toBe(before - 5000);
    const recorded = await connection.getTransaction(signature, { maxSupportedTransactionVersion: 0 });
    expect(recorded?.meta?.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
  });

  it('refuses a transaction whose signature does not verify', async () => {
    const alice = await funded(1);
    const bob = Keypair.generate().publicKey;
    const bytes = (await transferTx(alice, bob, LAMPORTS_PER_SOL / 2)).serialize();
    bytes[bytes.length - 1]! ^= 0xff; // tamper with the signed message (the amount)
    for (const skipPreflight of [false, true]) {
      const response = await rpc('sendTransaction', [
        bytes.toString('base64'),
        { encoding: 'base64', skipPreflight },
      ]);
      expect(response.error).toMatchObject({ code: -32003 });
    }
    expect(await connection.getBalance(bob)).toBe(0);
  });

  it('refuses a duplicate like a cluster, and a resend without preflight answers the same signature', async () => {
    const alice = await funded(2);
    const bob = Keypair.generate().publicKey;
    const tx = await transferTx(alice, bob, LAMPORTS_PER_SOL / 2);
    const signature = await connection.sendRawTransaction(tx.serialize());
    const duplicate = await rpc('sendTransaction', [
      tx.serialize().toString('base64'),
      { encoding: 'base64' },
    ]);
    expect(duplicate.error).toMatchObject({
      code: -32002,
      message: 'Transaction simulation failed: This transaction has already been processed',
      data: { err: 'AlreadyProcessed' },
    });
    expect(await connection.sendRawTransaction(tx.serialize(), { skipPreflight: true })).toBe(signature);
    expect(await connection.getBalance(bob)).toBe(LAMPORTS_PER_SOL / 2);
  });
});

describe('simulateTransaction', () => {
  it('reports logs, units and post-state without committing, verifying signatures only when asked', async () => {
    const alice = await funded(1);
    const bob = Keypair.generate().publicKey;
    const unsigned = new VersionedTransaction(
      new TransactionMessage({
        payerKey: alice.publicKey,
        recentBlockhash: PublicKey.default.toBase58(), // not a real blockhash: replaced below
        instructions: [SystemProgram.transfer({ fromPubkey: alice.publicKey, toPubkey: bob, lamports: 1e8 })],
      }).compileToV0Message(),
    );
    const simulated = await connection.simulateTransaction(unsigned, {
      replaceRecentBlockhash: true,
      accounts: { encoding: 'base64', addresses: [bob.toBase58()] },
    });
    expect(simulated.value.err).toBeNull();
    expect(simulated.value.logs).toContain('Program 11111111111111111111111111111111 success');
    expect(simulated.value.unitsConsumed).toBeGreaterThan(0);
    expect(simulated.value.accounts?.[0]?.lamports).toBe(1e8);
    expect(await connection.getBalance(bob)).toBe(0);

    const stale = await connection.simulateTransaction(unsigned);
    expect(stale.value.err).toBe('BlockhashNotFound');
    const verified = await rpc('simulateTransaction', [
      Buffer.from(unsigned.serialize()).toString('base64'),
      { encoding: 'base64', sigVerify: true },
    ]);
    expect(verified.error).toMatchObject({ code: -32003 });

    const tooMuch = await transferTx(alice, bob, 5 * LAMPORTS_PER_SOL);
    const failing = await connection.simulateTransaction(tooMuch);
    expect(failing.value.err).toEqual({ InstructionError: [0, { Custom: 1 }] });
    expect(failing.value.logs?.some((line) => line.includes('insufficient lamports'))).toBe(true);
  });
});

describe('clock and blockhashes', () => {
  it('follows wall time, and waiaas_advanceClock moves the Clock sysvar forward', async () => {
    const readClock = async () => {
      const info = await connection.getAccountInfo(SYSVAR_CLOCK_PUBKEY);
      return { slot: info!.data.readBigUInt64LE(0), unix: Number(info!.data.readBigInt64LE(32)) };
    };
    const now = Math.floor(Date.now() / 1000);
    const before = await readClock();
    expect(Math.abs(before.unix - now)).toBeLessThanOrEqual(2);

    const advanced = (await rpc('waiaas_advanceClock', [86_400])).result as number;
    expect(advanced).toBeGreaterThanOrEqual(now + 86_400);
    const after = await readClock();
    expect(after.unix).toBe(advanced);
    expect(after.slot).toBeGreaterThan(before.slot + 200_000n);
    expect((await rpc('waiaas_advanceClock', [-5])).error).toMatchObject({ code: -32602 });
  });

  it('keeps a blockhash valid for 150 slots, then refuses it with BlockhashNotFound', async () => {
    const alice = await funded(1);
    const { blockhash, lastValidBlockHeight } = await connection.getLatestBlockhash();
    const height = await connection.getBlockHeight();
    expect(lastValidBlockHeight - height).toBeGreaterThan(140);
    expect(lastValidBlockHeight - height).toBeLessThanOrEqual(150);
    expect((await connection.isBlockhashValid(blockhash)).value).toBe(true);

    await rpc('waiaas_advanceClock', [61]);
    expect((await connection.isBlockhashValid(blockhash)).value).toBe(false);
    expect(await connection.getBlockHeight()).toBeGreaterThan(lastValidBlockHeight);
    const tx = new Transaction({ feePayer: alice.publicKey, recentBlockhash: blockhash }).add(
      SystemProgram.transfer({
        fromPubkey: alice.publicKey,
        toPubkey: Keypair.generate().publicKey,
        lamports: 1e8,
      }),
    );
    tx.sign(alice);
    const error = await connection.sendRawTransaction(tx.serialize()).catch((e: unknown) => e);
    expect((error as Error).message).toContain('Blockhash not found');
    expect((await connection.getLatestBlockhash()).blockhash).not.toBe(blockhash);
  });
});

describe('@solana/kit against the localnet', () => {
  it('reads balances, blockhashes and accounts unchanged', async () => {
    const alice = await funded(3);
    const kit = createSolanaRpc(localnet.rpcUrl);
    const { value: balance } = await kit.getBalance(address(alice.publicKey.toBase58())).send();
    expect(balance).toBe(3n * BigInt(LAMPORTS_PER_SOL));
    const { value: latest } = await kit.getLatestBlockhash().send();
    expect(latest.blockhash).toMatch(/^[1-9A-HJ-NP-Za-km-z]{32,44}$/);
    expect(typeof latest.lastValidBlockHeight).toBe('bigint');
    const { value: account } = await kit
      .getAccountInfo(address(alice.publicKey.toBase58()), { encoding: 'base64' })
      .send();
    expect(account).toMatchObject({
      lamports: 3n * BigInt(LAMPORTS_PER_SOL),
      owner: '11111111111111111111111111111111',
    });
    const { value: missing } = await kit
      .getAccountInfo(address(Keypair.generate().publicKey.toBase58()))
      .send();
    expect(missing).toBeNull();
  });
});

describe('JSON-RPC protocol', () => {
  it('answers batches, and unknown methods and bad params in Solana error shapes', async () => {
    const response = await fetch(localnet.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'getHealth' },
        { jsonrpc: '2.0', id: 2, method: 'getBalanceOf', params: [] },
        { jsonrpc: '2.0', id: 3, method: 'getBalance', params: ['not-an-address'] },
        { jsonrpc: '2.0', id: 4, method: 'getVersion' },
      ]),
    });
    const body = (await response.json()) as RpcResponse[];
    expect(body[0]).toEqual({ jsonrpc: '2.0', id: 1, result: 'ok' });
    expect(body[1]?.error).toEqual({ code: -32601, message: 'Method not found' });
    expect(body[2]?.error?.code).toBe(-32602);
    expect(body[3]?.result).toHaveProperty('solana-core');
    const parse = await fetch(localnet.rpcUrl, { method: 'POST', body: '{"jsonrpc":' });
    expect(((await parse.json()) as RpcResponse).error?.code).toBe(-32700);
  });
});
