/**
 * SPL token transfers under their own limits: a mint made on the localnet, the vault's token account
 * funded, a policy with that mint as an asset. The recipient's token account is created (by the fee
 * payer alone) when missing; decimals come from the mint account; the token's budget is counted apart
 * from SOL's.
 */
import {
  createMint,
  getAccount,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import { Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  fund,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TransferDaemon,
} from './harness.ts';

const TOKEN = 1_000_000n; // 6 decimals

describeWithSquads('SPL token transfers', () => {
  let daemon: TransferDaemon;
  beforeAll(async () => {
    daemon = await startTransferDaemon();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('moves a token under its own limits, creating the recipient’s token account', async () => {
    const connection = daemon.runtime.chain.connection;
    const authority = Keypair.generate();
    await fund(daemon, authority.publicKey.toBase58(), 2n * SOL);
    const mint = await createMint(connection, authority, authority.publicKey, null, 6);
    const tokenLimits = {
      perTransaction: String(5n * TOKEN),
      daily: String(8n * TOKEN),
      tiers: {
        instantMax: String(5n * TOKEN),
        notifyMax: String(5n * TOKEN),
        delayMax: String(5n * TOKEN),
        delaySeconds: 0,
      },
    };
    const owner = await createOwner(daemon.app, daemon.store);
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ extraAssets: { [mint.toBase58()]: tokenLimits } }),
    );
    const vaultAccount = await getOrCreateAssociatedTokenAccount(
      connection,
      authority,
      mint,
      new PublicKey(wallet.vault),
      true,
    );
    await mintTo(connection, authority, mint, vaultAccount.address, authority, 100n * TOKEN);

    const to = newRecipient();
    const recipientAccount = getAssociatedTokenAddressSync(mint, new PublicKey(to));
    expect(await connection.getAccountInfo(recipientAccount)).toBeNull();
    const tokenBalance = async (account: PublicKey) =>
      (await getAccount(connection, account, 'confirmed')).amount;

    const first = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(3n * TOKEN),
      mint: mint.toBase58(),
    });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ status: 'confirmed', asset: mint.toBase58(), tier: 'instant' });
    expect(await tokenBalance(recipientAccount)).toBe(3n * TOKEN);

    const second = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(3n * TOKEN),
      mint: mint.toBase58(),
    });
    expect(second.statusCode).toBe(200);
    expect(await tokenBalance(recipientAccount)).toBe(6n * TOKEN);

    const overDaily = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(3n * TOKEN),
      mint: mint.toBase58(),
    });
    expect(overDaily.statusCode).toBe(403);
    expect(overDaily.json()).toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'server' });
    expect(overDaily.json().details).toMatchObject({ asset: mint.toBase58(), remaining: String(2n * TOKEN) });
    const overPerTx = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(6n * TOKEN),
      mint: mint.toBase58(),
    });
    expect(overPerTx.json()).toMatchObject({ code: 'POLICY_PER_TX_LIMIT', layer: 'server' });

    // SOL has its own budget, untouched by the token's.
    const sol = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 20n) });
    expect(sol.statusCode).toBe(200);
    expect(await tokenBalance(vaultAccount.address)).toBe(94n * TOKEN);
  });
});
