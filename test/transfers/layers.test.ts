/**
 * Each policy layer refuses on its own. L1: the daemon refuses over the limit (layer server). With L1
 * bypassed, as a compromised daemon would, the enclave refuses the over-limit spendingLimitUse it is
 * handed (layer enclave). With L1 and L2 bypassed, the Agent Key itself signing a raw over-limit
 * spendingLimitUse, the Squads program refuses with SpendingLimitExceeded (6026): the worst case is
 * bounded by the on-chain limit.
 */
import { Keypair, PublicKey, type VersionedTransaction } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isWaiaasError, type WaiaasError } from '../../src/core/errors.ts';
import { rpcFailure } from '../../src/daemon/wallets/send-signed.ts';
import { signWeb3Transaction } from '../../src/keys/sign-transaction.ts';
import { buildAgentTransfer, buildCreateWallet, readProgramConfig } from '../../src/squads/index.ts';
import { setWalletStatus } from '../../src/store/wallets.ts';
import { inMemoryOwner } from '../squads/wallet-fixture.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  balanceOf,
  createOwner,
  createWalletSession,
  fund,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
} from './harness.ts';

describeWithSquads('each layer refuses on its own', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;

  beforeAll(async () => {
    daemon = await startTransferDaemon();
    owner = await createOwner(daemon.app, daemon.store);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const send = async (transaction: VersionedTransaction): Promise<string> => {
    const chain = daemon.runtime.chain;
    const { lastValidBlockHeight } = await chain.recentBlockhash();
    const signature = await chain.send(transaction.serialize());
    const outcome = await chain.confirm(signature, lastValidBlockHeight);
    if (outcome.status !== 'confirmed') throw new Error(`not confirmed: ${JSON.stringify(outcome)}`);
    return signature;
  };

  const spendingLimitUse = async (
    multisig: string,
    agent: string,
    amount: bigint,
    to: string,
    feePayer: PublicKey,
  ) =>
    buildAgentTransfer({
      multisig: new PublicKey(multisig),
      agent: new PublicKey(agent),
      asset: 'SOL',
      amount,
      destination: new PublicKey(to),
      feePayer,
      recentBlockhash: (await daemon.runtime.chain.recentBlockhash()).blockhash,
    });

  it('L1: the daemon refuses over the per-transaction cap, over the daily budget and for a frozen wallet', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ daily: SOL, delayMax: SOL, perTransaction: SOL }),
    );
    const to = newRecipient();
    const perTx = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL + 1n) });
    expect(perTx.statusCode).toBe(403);
    expect(perTx.json()).toMatchObject({ code: 'POLICY_PER_TX_LIMIT', layer: 'server' });
    const unknownAsset = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: '1000',
      mint: Keypair.generate().publicKey.toBase58(),
    });
    expect(unknownAsset.json()).toMatchObject({ code: 'ASSET_NOT_ALLOWED', layer: 'server' });

    expect(
      (await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL / 10n) }))
        .statusCode,
    ).toBe(200);
    const daily = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL) });
    expect(daily.statusCode).toBe(403);
    expect(daily.json()).toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'server' });
    expect(daily.json().details.remaining).toBe(String(SOL - SOL / 10n));

    // What the owner-acts freeze does first, in the database: from then on nothing is reserved.
    expect(await setWalletStatus(daemon.store.db, wallet.id, 'frozen')).toBe(true);
    const frozen = await postTransfer(daemon.app, session.token, wallet.id, { to, amount: '1000000' });
    expect(frozen.statusCode).toBe(403);
    expect(frozen.json()).toMatchObject({ code: 'WALLET_FROZEN', layer: 'server' });
    expect(await balanceOf(daemon, to)).toBe(SOL / 10n);
  });

  it('L2: handed over-limit spendingLimitUse messages directly, the enclave refuses to sign them', async () => {
    const { wallet } = await createWalletSession(
      daemon,
      owner,
      policy({ daily: SOL, delayMax: SOL, perTransaction: SOL }),
    );
    const to = newRecipient();
    const ask = async (amount: bigint, requestId: string) => {
      const tx = await spendingLimitUse(
        wallet.multisig,
        wallet.agentPublicKey,
        amount,
        to,
        daemon.runtime.feePayer.publicKey,
      );
      return daemon.runtime.enclave
        .use((client) => client.sign(wallet.id, tx.message.serialize(), { requestId }))
        .then(
          () => undefined,
          (error: unknown) => error as WaiaasError,
        );
    };
    const overPerTx = await ask(SOL + 1n, 'compromised-1');
    expect(isWaiaasError(overPerTx, 'POLICY_PER_TX_LIMIT')).toBe(true);
    expect(overPerTx?.layer).toBe('enclave');

    // Within the cap but over what the enclave's own counters leave of the day.
    expect(await ask(SOL / 10n, 'compromised-2')).toBeUndefined();
    const overDaily = await ask(SOL, 'compromised-3');
    expect(isWaiaasError(overDaily, 'POLICY_DAILY_LIMIT')).toBe(true);
    expect(overDaily?.layer).toBe('enclave');
    expect(await balanceOf(daemon, to)).toBe(0n);
  });

  it('L2 through the pipeline: a transfer L1 lets through but the enclave refuses ends rejected, released, 403 enclave', async () => {
    const { wallet, session } = await createWalletSession(
      daemon,
      owner,
      policy({ daily: SOL, delayMax: SOL, perTransaction: SOL, notifyMax: SOL, instantMax: SOL }),
    );
    const to = newRecipient();
    // Signatures the daemon never recorded (as by a compromised host) still count in the enclave.
    const tx = await spendingLimitUse(
      wallet.multisig,
      wallet.agentPublicKey,
      (SOL * 9n) / 10n,
      to,
      daemon.runtime.feePayer.publicKey,
    );
    await daemon.runtime.enclave.use((client) =>
      client.sign(wallet.id, tx.message.serialize(), { requestId: 'outside' }),
    );

    const body = { to, amount: String(SOL / 5n), idempotencyKey: 'refused-by-enclave' };
    const refused = await postTransfer(daemon.app, session.token, wallet.id, body);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'enclave' });
    const transferId = refused.json().details.transferId;
    const again = await postTransfer(daemon.app, session.token, wallet.id, body);
    expect(again.json()).toMatchObject({
      code: 'POLICY_DAILY_LIMIT',
      layer: 'enclave',
      details: { transferId },
    });
    const [row] = await daemon.store.db
      .selectFrom('transfers')
      .selectAll()
      .where('id', '=', transferId)
      .execute();
    expect(row).toMatchObject({ status: 'rejected', counts_daily: 0n, signed_transaction: null });
    expect(await balanceOf(daemon, to)).toBe(0n);
  });

  it('L3: the Agent Key used directly on a raw over-limit spendingLimitUse is refused by the chain (6026)', async () => {
    const chain = daemon.runtime.chain;
    const payer = Keypair.generate();
    await fund(daemon, payer.publicKey.toBase58(), 10n * SOL);
    const owner = inMemoryOwner();
    const agent = Keypair.generate();
    const createKey = Keypair.generate();
    const { treasury } = await readProgramConfig(chain.connection);
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner: owner.publicKey,
      agent: agent.publicKey,
      treasury,
      limits: [{ asset: 'SOL', amount: SOL, destinations: [] }],
      feePayer: payer.publicKey,
      recentBlockhash: (await chain.recentBlockhash()).blockhash,
    });
    for (const [index, transaction] of creation.transactions.entries()) {
      transaction.sign(index === 0 ? [payer, createKey] : [payer]);
      await signWeb3Transaction(owner.signer, transaction);
      await send(transaction);
    }
    const vault = creation.vault.toBase58();
    await fund(daemon, vault, 5n * SOL);
    const to = newRecipient();

    const within = await spendingLimitUse(
      creation.multisig.toBase58(),
      agent.publicKey.toBase58(),
      SOL / 2n,
      to,
      payer.publicKey,
    );
    within.sign([payer, agent]);
    await send(within);
    expect(await balanceOf(daemon, to)).toBe(SOL / 2n);

    const over = await spendingLimitUse(
      creation.multisig.toBase58(),
      agent.publicKey.toBase58(),
      SOL / 2n + 1n,
      to,
      payer.publicKey,
    );
    over.sign([payer, agent]);
    const refusal = await chain.send(over.serialize()).then(
      () => undefined,
      (error: unknown) => rpcFailure(error),
    );
    expect(refusal?.code).toBe('CHAIN_REJECTED');
    expect(refusal?.layer).toBe('chain');
    expect(refusal?.details).toMatchObject({ programError: 'SpendingLimitExceeded', code: 6026 });
    expect(await balanceOf(daemon, to)).toBe(SOL / 2n);
    expect(await balanceOf(daemon, vault)).toBe(5n * SOL - SOL / 2n);
  });
});
