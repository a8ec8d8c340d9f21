/**
 * L3 for x402: with the server and the enclave both bypassed — the Agent Key leaked, the attacker
 * building and signing vault payments itself and handing them to the seller through the protocol —
 * the chain's spending limit still bounds what leaves the vault. Payments within the day's limit
 * settle; the one beyond it fails the facilitator's own simulation against the chain, and sent to the
 * chain directly it is refused with SpendingLimitExceeded (6026).
 */
import { randomBytes } from 'node:crypto';
import { getOrCreateAssociatedTokenAccount, mintTo } from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import { x402Client } from '@x402/core/client';
import { x402HTTPClient } from '@x402/core/http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { rpcFailure } from '../../src/daemon/wallets/send-signed.ts';
import { buildVaultPayment, partiallySignedWire } from '../../src/daemon/x402/build.ts';
import { privateKeyFromSeed, signEd25519 } from '../../src/keys/ed25519.ts';
import { signWeb3Transaction } from '../../src/keys/sign-transaction.ts';
import { buildCreateWallet, readProgramConfig, type TokenAsset } from '../../src/squads/index.ts';
import { inMemoryOwner } from '../squads/wallet-fixture.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { PRICE, remainingOnChain, startX402World, TOKEN, tokenBalance, type X402World } from './harness.ts';

const http = new x402HTTPClient(new x402Client());

describeWithSquads('x402 beyond the daily budget with L1 and L2 bypassed', () => {
  let world: X402World;
  beforeAll(async () => {
    world = await startX402World();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('the chain refuses what the spending limit does not cover; nothing more reaches the payee', async () => {
    const { connection } = world;
    const chain = world.runtime.chain;
    const payer = Keypair.generate();
    const airdrop = await connection.requestAirdrop(payer.publicKey, 5_000_000_000);
    await connection.confirmTransaction({ signature: airdrop, ...(await connection.getLatestBlockhash()) });
    const owner = inMemoryOwner();
    const leaked = Keypair.generate();
    const createKey = Keypair.generate();
    const { treasury } = await readProgramConfig(chain.connection);
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner: owner.publicKey,
      agent: leaked.publicKey,
      treasury,
      limits: [{ asset: world.mint, amount: 2n * PRICE, destinations: [] }],
      feePayer: payer.publicKey,
      recentBlockhash: (await chain.recentBlockhash()).blockhash,
    });
    for (const [index, transaction] of creation.transactions.entries()) {
      transaction.sign(index === 0 ? [payer, createKey] : [payer]);
      await signWeb3Transaction(owner.signer, transaction);
      const signature = await connection.sendTransaction(transaction);
      await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
    }
    const vaultAccount = await getOrCreateAssociatedTokenAccount(
      connection,
      world.mintAuthority,
      world.mint,
      creation.vault,
      true,
    );
    await mintTo(
      connection,
      world.mintAuthority,
      world.mint,
      vaultAccount.address,
      world.mintAuthority,
      50n * TOKEN,
    );
    const token: TokenAsset = { mint: world.mint, decimals: 6 };
    const leakedKey = privateKeyFromSeed(leaked.secretKey.subarray(0, 32));

    /** What an attacker holding the Agent Key does: the exact scheme's vault payment, signed by itself. */
    const attackerPays = async () => {
      const url = `${world.smart.url}/report`;
      const asked = await fetch(url);
      expect(asked.status).toBe(402);
      const required = http.getPaymentRequiredResponse((name) => asked.headers.get(name));
      const requirements = required.accepts[0]!;
      const built = buildVaultPayment({
        multisig: creation.multisig,
        agent: leaked.publicKey,
        token,
        amount: BigInt(requirements.amount),
        payTo: new PublicKey(requirements.payTo),
        feePayer: new PublicKey(String(requirements.extra['feePayer'])),
        memo: randomBytes(16).toString('hex'),
        blockhash: await chain.recentBlockhash(),
      });
      built.signatures[built.signers.indexOf(leaked.publicKey.toBase58())] = signEd25519(
        leakedKey,
        built.message,
      );
      const payload = {
        x402Version: 2,
        resource: required.resource,
        accepted: requirements,
        payload: { transaction: Buffer.from(partiallySignedWire(built)).toString('base64') },
      };
      const paid = await fetch(url, { headers: http.encodePaymentSignatureHeader(payload) });
      return { paid };
    };

    const payeeBefore = await tokenBalance(world, world.payee);
    for (let index = 0; index < 2; index++) {
      const { paid } = await attackerPays();
      expect(paid.status).toBe(200);
    }
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + 2n * PRICE);
    expect(await remainingOnChain(world, creation.multisig.toBase58())).toBe(0n);

    // Beyond the limit: the facilitator's simulation on the chain fails, so it neither verifies nor settles.
    const settledBefore = world.smart.settled.length;
    const { paid } = await attackerPays();
    expect(paid.status).toBe(402);
    const refused = http.getPaymentRequiredResponse((name) => paid.headers.get(name));
    expect(refused.error).toContain('invalid_exact_svm_smart_wallet_simulation_failed');
    expect(world.smart.settled.length).toBe(settledBefore);

    // Sent to the chain directly (the attacker paying its own fee): the Squads program refuses it.
    const direct = buildVaultPayment({
      multisig: creation.multisig,
      agent: leaked.publicKey,
      token,
      amount: PRICE,
      payTo: world.payee,
      feePayer: payer.publicKey,
      memo: 'direct',
      blockhash: await chain.recentBlockhash(),
    });
    direct.signatures[0] = signEd25519(privateKeyFromSeed(payer.secretKey.subarray(0, 32)), direct.message);
    direct.signatures[direct.signers.indexOf(leaked.publicKey.toBase58())] = signEd25519(
      leakedKey,
      direct.message,
    );
    const rejection = await chain.send(partiallySignedWire(direct)).then(
      () => undefined,
      (error: unknown) => rpcFailure(error),
    );
    expect(rejection?.code).toBe('CHAIN_REJECTED');
    expect(rejection?.layer).toBe('chain');
    expect(rejection?.details).toMatchObject({ programError: 'SpendingLimitExceeded', code: 6026 });
    expect(await tokenBalance(world, world.payee)).toBe(payeeBefore + 2n * PRICE);
  });
});
