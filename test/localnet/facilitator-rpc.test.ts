/**
 * What an x402 facilitator asks of a cluster, asked of the localnet through the maintainers' own
 * facilitator signer (@x402/svm `toFacilitatorSvmSigner` over @solana/kit): a simulation with inner
 * instructions, a confirmed transaction's inner instructions in parsed form, a token account's
 * balance and address lookup tables. The token transfer a Squads spendingLimitUse makes by CPI must
 * be found by the package's own extractor, in the simulation and after landing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeyPairSignerFromBytes, createSolanaRpc } from '@solana/kit';
import {
  createAssociatedTokenAccountIdempotentInstruction,
  createMint,
  createTransferCheckedInstruction,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import {
  AddressLookupTableProgram,
  Connection,
  Keypair,
  LAMPORTS_PER_SOL,
  PublicKey,
  sendAndConfirmTransaction,
  Transaction,
  TransactionInstruction,
  TransactionMessage,
  VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { extractTransfersFromInnerInstructions, toFacilitatorSvmSigner } from '@x402/svm';
import bs58 from 'bs58';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const MEMO = new PublicKey('MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr');
const NETWORK = 'solana:localnet';

const temporaryDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

async function funded(connection: Connection): Promise<Keypair> {
  const keypair = Keypair.generate();
  const signature = await connection.requestAirdrop(keypair.publicKey, 10 * LAMPORTS_PER_SOL);
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
  return keypair;
}

const facilitatorOf = async (localnet: Localnet) => {
  const signer = await createKeyPairSignerFromBytes(Keypair.generate().secretKey);
  // An RPC per network, as a facilitator for a cluster the package does not know configures it.
  return toFacilitatorSvmSigner(signer, { [NETWORK]: createSolanaRpc(localnet.rpcUrl) as never });
};

const base64 = (transaction: VersionedTransaction) => Buffer.from(transaction.serialize()).toString('base64');

describe('localnet RPC in parsed form', () => {
  let localnet: Localnet;
  let connection: Connection;

  beforeAll(async () => {
    localnet = await startLocalnet({
      dataDir: tempDir('waiaas-localnet-parsed-'),
      port: 0,
      squadsProgramPath: join(tmpdir(), 'no-such-dir', 'squads_v4.so'),
    });
    connection = new Connection(localnet.rpcUrl, 'confirmed');
  });
  afterAll(async () => {
    await localnet?.close();
  });

  it('renders a transferChecked, a memo and CPIs parsed under jsonParsed, compiled under json', async () => {
    const payer = await funded(connection);
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const from = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    await mintTo(connection, payer, mint, from.address, payer, 5_000_000n);
    const bob = Keypair.generate().publicKey;
    const bobAccount = getAssociatedTokenAddressSync(mint, bob);
    const transaction = new Transaction().add(
      createAssociatedTokenAccountIdempotentInstruction(payer.publicKey, bobAccount, bob, mint),
      createTransferCheckedInstruction(from.address, mint, bobAccount, payer.publicKey, 1_250_000n, 6),
      new TransactionInstruction({ programId: MEMO, keys: [], data: Buffer.from('nonce-42') }),
    );
    const signature = await sendAndConfirmTransaction(connection, transaction, [payer]);

    const parsed = await connection.getParsedTransaction(signature, {
      commitment: 'confirmed',
      maxSupportedTransactionVersion: 0,
    });
    const instructions = parsed!.transaction.message.instructions;
    expect(instructions[1]).toEqual({
      program: 'spl-token',
      programId: new PublicKey('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'),
      parsed: {
        type: 'transferChecked',
        info: {
          source: from.address.toBase58(),
          mint: mint.toBase58(),
          destination: bobAccount.toBase58(),
          authority: payer.publicKey.toBase58(),
          tokenAmount: { amount: '1250000', decimals: 6, uiAmount: 1.25, uiAmountString: '1.25' },
        },
      },
      stackHeight: null,
    });
    expect(instructions[2]).toMatchObject({ program: 'spl-memo', parsed: 'nonce-42' });
    expect(parsed!.transaction.message.accountKeys[0]).toMatchObject({
      pubkey: payer.publicKey,
      signer: true,
      writable: true,
      source: 'transaction',
    });
    // The associated token program's CPIs: System createAccount parsed, the rest partially decoded.
    const inner = parsed!.meta!.innerInstructions![0]!;
    expect(inner.index).toBe(0);
    expect(inner.instructions).toContainEqual(
      expect.objectContaining({
        program: 'system',
        parsed: expect.objectContaining({
          type: 'createAccount',
          info: expect.objectContaining({ newAccount: bobAccount.toBase58() }),
        }),
      }),
    );
    expect(inner.instructions.some((instruction) => 'data' in instruction && 'accounts' in instruction)).toBe(
      true,
    );

    const compiled = await connection.getTransaction(signature, {
      commitment: 'confirmed',
      maxSupportedTransactionVersion: 0,
    });
    expect(compiled!.meta!.innerInstructions![0]!.instructions[0]).toHaveProperty('programIdIndex');
  });

  it("answers the facilitator's balance and lookup-table reads", async () => {
    const facilitator = await facilitatorOf(localnet);
    const payer = await funded(connection);
    const mint = await createMint(connection, payer, payer.publicKey, null, 6);
    const account = await getOrCreateAssociatedTokenAccount(connection, payer, mint, payer.publicKey);
    await mintTo(connection, payer, mint, account.address, payer, 777n);
    expect(await facilitator.getTokenAccountBalance!(account.address.toBase58() as never, NETWORK)).toBe(
      777n,
    );

    const recentSlot = await connection.getSlot();
    while ((await connection.getSlot()) <= recentSlot)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const [create, table] = AddressLookupTableProgram.createLookupTable({
      authority: payer.publicKey,
      payer: payer.publicKey,
      recentSlot,
    });
    const listed = [Keypair.generate().publicKey, Keypair.generate().publicKey];
    const extend = AddressLookupTableProgram.extendLookupTable({
      lookupTable: table,
      authority: payer.publicKey,
      payer: payer.publicKey,
      addresses: listed,
    });
    await sendAndConfirmTransaction(connection, new Transaction().add(create, extend), [payer]);
    const resolved = await facilitator.fetchAddressLookupTables!([table.toBase58() as never], NETWORK);
    expect(resolved[table.toBase58()]).toEqual(listed.map((key) => key.toBase58()));
  });
});

describeWithSquads('a Squads spendingLimitUse as the facilitator sees it', () => {
  let localnet: Localnet;
  let connection: Connection;

  beforeAll(async () => {
    localnet = await startLocalnet({ dataDir: tempDir('waiaas-localnet-facilitator-'), port: 0 });
    connection = new Connection(localnet.rpcUrl, 'confirmed');
  });
  afterAll(async () => {
    await localnet?.close();
  });

  it('finds the CPI transferChecked in the simulation and in the landed transaction', async () => {
    const facilitator = await facilitatorOf(localnet);
    const owner = await funded(connection);
    const createKey = Keypair.generate();
    const [multisigPda] = multisig.getMultisigPda({ createKey: createKey.publicKey });
    const [vault] = multisig.getVaultPda({ multisigPda, index: 0 });
    const [programConfig] = multisig.getProgramConfigPda({});
    const config = await multisig.accounts.ProgramConfig.fromAccountAddress(connection, programConfig);
    const { Permissions } = multisig.types;
    const send = async (instructions: TransactionInstruction[], signers: Keypair[]) => {
      const { blockhash } = await connection.getLatestBlockhash();
      const transaction = new VersionedTransaction(
        new TransactionMessage({
          payerKey: owner.publicKey,
          recentBlockhash: blockhash,
          instructions,
        }).compileToV0Message(),
      );
      transaction.sign([owner, ...signers]);
      const signature = await connection.sendTransaction(transaction);
      await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
      return signature;
    };
    await send(
      [
        multisig.instructions.multisigCreateV2({
          treasury: config.treasury,
          creator: owner.publicKey,
          multisigPda,
          configAuthority: owner.publicKey,
          threshold: 1,
          members: [{ key: owner.publicKey, permissions: Permissions.all() }],
          timeLock: 0,
          createKey: createKey.publicKey,
          rentCollector: null,
        }),
      ],
      [createKey],
    );
    const mint = await createMint(connection, owner, owner.publicKey, null, 6);
    const vaultAccount = await getOrCreateAssociatedTokenAccount(connection, owner, mint, vault, true);
    await mintTo(connection, owner, mint, vaultAccount.address, owner, 10_000_000n);
    const payee = Keypair.generate().publicKey;
    const payeeAccount = await getOrCreateAssociatedTokenAccount(connection, owner, mint, payee);
    const limitKey = Keypair.generate().publicKey;
    const [spendingLimit] = multisig.getSpendingLimitPda({ multisigPda, createKey: limitKey });
    await send(
      [
        multisig.instructions.multisigAddSpendingLimit({
          multisigPda,
          configAuthority: owner.publicKey,
          spendingLimit,
          rentPayer: owner.publicKey,
          createKey: limitKey,
          vaultIndex: 0,
          mint,
          amount: 5_000_000n,
          period: multisig.types.Period.Day,
          members: [owner.publicKey],
          destinations: [],
        }),
      ],
      [],
    );

    const { blockhash } = await connection.getLatestBlockhash();
    const use = new VersionedTransaction(
      new TransactionMessage({
        payerKey: owner.publicKey,
        recentBlockhash: blockhash,
        instructions: [
          multisig.instructions.spendingLimitUse({
            multisigPda,
            member: owner.publicKey,
            spendingLimit,
            mint,
            vaultIndex: 0,
            amount: 1_500_000,
            decimals: 6,
            destination: payee,
          }),
        ],
      }).compileToV0Message(),
    );
    const expected = {
      amount: 1_500_000n,
      mint: mint.toBase58(),
      destination: payeeAccount.address.toBase58(),
      authority: vault.toBase58(),
    };
    const keys = use.message.staticAccountKeys.map((key) => key.toBase58());
    const simulated = await facilitator.simulateTransactionWithInnerInstructions!(base64(use), NETWORK);
    expect(extractTransfersFromInnerInstructions(simulated.innerInstructions, keys)).toEqual([
      expect.objectContaining(expected),
    ]);

    use.sign([owner]);
    const signature = bs58.encode(use.signatures[0]!);
    await facilitator.sendTransaction(base64(use), NETWORK);
    await facilitator.confirmTransaction(signature, NETWORK);
    const landed = await facilitator.getConfirmedTransactionInnerInstructions!(signature, NETWORK);
    // No account keys given: only a parsed transferChecked can be matched after landing.
    expect(extractTransfersFromInnerInstructions(landed!.innerInstructions, [])).toEqual([
      expect.objectContaining(expected),
    ]);
    expect(await facilitator.getTokenAccountBalance!(payeeAccount.address.toBase58() as never, NETWORK)).toBe(
      1_500_000n,
    );
  });
});
