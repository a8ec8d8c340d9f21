/**
 * The same builders and readers through JSON-RPC: a web3.js Connection to the embedded localnet,
 * as the daemon will use them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Keypair, LAMPORTS_PER_SOL, type VersionedTransaction } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWeb3Transaction } from '../../src/keys/sign-transaction.ts';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';
import { buildCreateWallet } from '../../src/squads/create-wallet.ts';
import { chainErrorFrom } from '../../src/squads/errors.ts';
import { buildFreeze } from '../../src/squads/owner-acts/freeze.ts';
import { readProgramConfig, readWallet } from '../../src/squads/read-wallet.ts';
import { buildAgentTransfer } from '../../src/squads/spending-limit-use.ts';
import { squadsBinaryOrSkip } from '../support/svm.ts';
import { inMemoryOwner } from './wallet-fixture.ts';

const SOL = BigInt(LAMPORTS_PER_SOL);

describe.skipIf(squadsBinaryOrSkip() === null)(
  'a wallet through a web3.js Connection to the localnet',
  () => {
    let localnet: Localnet;
    let connection: Connection;

    beforeAll(async () => {
      localnet = await startLocalnet({ dataDir: mkdtempSync(join(tmpdir(), 'waiaas-squads-')), port: 0 });
      connection = new Connection(localnet.rpcUrl, { commitment: 'confirmed', wsEndpoint: localnet.wsUrl });
    });
    afterAll(async () => {
      await localnet?.close();
    });

    const airdrop = async (to: Keypair['publicKey'], lamports: bigint) => {
      const signature = await connection.requestAirdrop(to, Number(lamports));
      await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
    };
    const send = async (tx: VersionedTransaction) => {
      const signature = await connection.sendRawTransaction(tx.serialize());
      const confirmation = await connection.confirmTransaction({
        signature,
        ...(await connection.getLatestBlockhash()),
      });
      if (confirmation.value.err) throw new Error(JSON.stringify(confirmation.value.err));
    };

    it('creates, spends within the limit, is refused over it, and freezes', async () => {
      const payer = Keypair.generate();
      const agent = Keypair.generate();
      const owner = inMemoryOwner();
      const createKey = Keypair.generate();
      const recipient = Keypair.generate().publicKey;
      await airdrop(payer.publicKey, 10n * SOL);

      const { treasury } = await readProgramConfig(connection);
      const creation = buildCreateWallet({
        createKey: createKey.publicKey,
        owner: owner.publicKey,
        agent: agent.publicKey,
        feePayer: payer.publicKey,
        treasury,
        limits: [{ asset: 'SOL', amount: SOL, destinations: [recipient] }],
        recentBlockhash: (await connection.getLatestBlockhash()).blockhash,
      });
      for (const tx of creation.transactions) {
        await signWeb3Transaction(owner.signer, tx);
        tx.sign([payer, createKey]);
        await send(tx);
      }
      await airdrop(creation.vault, 5n * SOL);

      const transfer = async (amount: bigint) => {
        const tx = buildAgentTransfer({
          multisig: creation.multisig,
          agent: agent.publicKey,
          feePayer: payer.publicKey,
          asset: 'SOL',
          amount,
          destination: recipient,
          recentBlockhash: (await connection.getLatestBlockhash()).blockhash,
        });
        tx.sign([payer, agent]);
        return send(tx);
      };
      await transfer(600_000_000n);
      expect(BigInt(await connection.getBalance(recipient))).toBe(600_000_000n);

      const refused = await transfer(600_000_001n).then(
        () => null,
        (error: unknown) => chainErrorFrom(error),
      );
      expect(refused?.code).toBe('CHAIN_REJECTED');
      expect(refused?.details).toMatchObject({ programError: 'SpendingLimitExceeded', code: 6026 });

      let wallet = await readWallet(connection, creation.multisig);
      expect(wallet.multisig.threshold).toBe(2);
      expect(wallet.spendingLimits).toHaveLength(1);
      expect(wallet.spendingLimits[0]?.remainingAmount).toBe(400_000_000n);
      expect(wallet.balances.lamports).toBe(5n * SOL - 600_000_000n);

      const freeze = buildFreeze({
        current: wallet,
        owner: owner.publicKey,
        feePayer: payer.publicKey,
        recentBlockhash: (await connection.getLatestBlockhash()).blockhash,
        budget: {
          chainTime: BigInt((await connection.getBlockTime(await connection.getSlot())) ?? 0),
          balances: new Map([['SOL', wallet.balances.lamports]]),
          tokens: new Map(),
          records: new Map(),
        },
      });
      await signWeb3Transaction(owner.signer, freeze!);
      freeze!.sign([payer]);
      await send(freeze!);
      wallet = await readWallet(connection, creation.multisig);
      expect(wallet.multisig.members.map((m) => m.key.toBase58())).toEqual([owner.publicKey.toBase58()]);
      expect(wallet.spendingLimits).toEqual([]);
      await expect(transfer(1_000_000n)).rejects.toThrow();
    });
  },
);
