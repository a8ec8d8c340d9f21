/**
 * A whole daemon (localnet with the real Squads program, real store, the enclave as its own process)
 * listening on HTTP, a test token, and two x402 sellers from the maintainers' packages on this
 * machine: one whose facilitator verifies smart wallets, one whose facilitator takes only plain
 * transfers. The daemon may fetch exactly their two origins (x402_allowed_origins).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMint,
  getAccount,
  getAssociatedTokenAddressSync,
  getOrCreateAssociatedTokenAccount,
  mintTo,
} from '@solana/spl-token';
import { type Connection, Keypair, PublicKey } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import { caip2Of } from '../../src/daemon/x402/network.ts';
import type { Localnet } from '../../src/localnet/index.ts';
import { spendingLimitAddress } from '../../src/squads/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { bearer } from '../support/api.ts';
import {
  createOwner,
  createWalletSession,
  fund,
  SOL,
  startLocalnetFor,
  type TestOwner,
  type TestWalletSession,
} from '../transfers/harness.ts';
import { type PaidRoute, startX402Stack, type X402Stack } from './servers.ts';

/** The test token has 6 decimals. */
export const TOKEN = 1_000_000n;
export const PRICE = 1_500_000n;

export interface X402World {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly localnet: Localnet;
  /** The daemon's HTTP address (MCP and the SDK reach it there). */
  readonly url: string;
  readonly connection: Connection;
  readonly network: string;
  readonly mint: PublicKey;
  readonly mintAuthority: Keypair;
  readonly payee: PublicKey;
  readonly stranger: PublicKey;
  /** Its facilitator verifies smart wallets (Squads in its default program allowlist). */
  readonly smart: X402Stack;
  /** Its facilitator takes only a top-level TransferChecked. */
  readonly plain: X402Stack;
  readonly owner: TestOwner;
  close(): Promise<void>;
}

/** A policy: SOL as usual, and the test token with x402 to `payee` (5 tokens a payment) and a float. */
export const x402Policy = (
  mint: PublicKey,
  payee: PublicKey,
  overrides: { daily?: bigint; floatMax?: bigint; payees?: string[] } = {},
) => ({
  version: 1,
  assets: {
    SOL: {
      perTransaction: String(2n * SOL),
      daily: String(5n * SOL),
      tiers: {
        instantMax: String(SOL / 10n),
        notifyMax: String(SOL / 2n),
        delayMax: String(SOL),
        delaySeconds: 900,
      },
    },
    [mint.toBase58()]: {
      perTransaction: String(20n * TOKEN),
      daily: String(overrides.daily ?? 12n * TOKEN),
      tiers: {
        instantMax: String(2n * TOKEN),
        notifyMax: String(10n * TOKEN),
        delayMax: String(12n * TOKEN),
        delaySeconds: 600,
      },
      x402: { perPayment: String(5n * TOKEN), payees: overrides.payees ?? [payee.toBase58()] },
      float: { max: String(overrides.floatMax ?? 4n * TOKEN) },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 1000 },
  approvalTimeoutSeconds: 3600,
});

export async function startX402World(): Promise<X402World> {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-x402-'));
  const localnet = await startLocalnetFor(dataDir);
  const logger = createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent');
  // The store and runtime come first only for their chain client: funding needs the localnet's faucet.
  const { Connection } = await import('@solana/web3.js');
  const connection = new Connection(localnet.rpcUrl, 'confirmed');
  const airdrop = async (address: string, lamports = 2n * SOL) => {
    const signature = await connection.requestAirdrop(new PublicKey(address), Number(lamports));
    await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
  };
  const mintAuthority = Keypair.generate();
  await airdrop(mintAuthority.publicKey.toBase58(), 10n * SOL);
  const mint = await createMint(connection, mintAuthority, mintAuthority.publicKey, null, 6);
  const payee = Keypair.generate().publicKey;
  const stranger = Keypair.generate().publicKey;
  for (const holder of [payee, stranger])
    await getOrCreateAssociatedTokenAccount(connection, mintAuthority, mint, holder);
  const network = caip2Of(await connection.getGenesisHash());
  const stack = (smartWallet: boolean, routes: PaidRoute[]) =>
    startX402Stack({
      rpcUrl: localnet.rpcUrl,
      network,
      mint: mint.toBase58(),
      smartWallet,
      routes,
      fund: airdrop,
    });
  const payeeAddress = payee.toBase58();
  const smart = await stack(true, [
    { path: '/report', payTo: payeeAddress, amount: PRICE },
    { path: '/premium', payTo: payeeAddress, amount: 8n * TOKEN },
    { path: '/elsewhere', payTo: stranger.toBase58(), amount: TOKEN },
  ]);
  const plain = await stack(false, [
    // The seller says its facilitator verifies only plain transfers: the float pays at once.
    {
      path: '/report',
      payTo: payeeAddress,
      amount: PRICE,
      extra: { features: { smartWalletSupported: false } },
    },
    // Says nothing: the vault's payment is declined by verification, then the float pays.
    { path: '/unhinted', payTo: payeeAddress, amount: TOKEN },
  ]);

  const config = loadConfig({
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: '0',
    WAIAAS_RPC_URL: localnet.rpcUrl,
    WAIAAS_RATE_LIMIT_PER_TOKEN: '0',
    WAIAAS_RATE_LIMIT_PER_IP: '0',
    WAIAAS_X402_ALLOWED_ORIGINS: `${smart.origin},${plain.origin}`,
  });
  const store = await openStore({ sqlitePath: config.sqlitePath });
  const runtime = await startRuntime({
    config: { ...config, network: 'localnet' },
    store,
    rpcUrl: localnet.rpcUrl,
    logger,
  });
  const app = await buildDaemonApp(runtime);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const owner = await createOwner(app, store);
  return {
    runtime,
    app,
    store,
    localnet,
    url,
    connection,
    network,
    mint,
    mintAuthority,
    payee,
    stranger,
    smart,
    plain,
    owner,
    async close() {
      await app.close();
      await runtime.close();
      await store.close();
      await smart.close();
      await plain.close();
      await localnet.close();
    },
  };
}

/** A wallet of the world's owner under `policy`, an agent session, and `tokens` in its vault. */
export async function x402Wallet(
  world: X402World,
  policy: unknown,
  tokens = 50n * TOKEN,
): Promise<TestWalletSession> {
  const created = await createWalletSession({ app: world.app, runtime: world.runtime }, world.owner, policy);
  const vaultAccount = await getOrCreateAssociatedTokenAccount(
    world.connection,
    world.mintAuthority,
    world.mint,
    new PublicKey(created.wallet.vault),
    true,
  );
  await mintTo(
    world.connection,
    world.mintAuthority,
    world.mint,
    vaultAccount.address,
    world.mintAuthority,
    tokens,
  );
  return created;
}

export const tokenBalance = async (world: X402World, owner: PublicKey | string): Promise<bigint> => {
  const account = getAssociatedTokenAddressSync(world.mint, new PublicKey(owner), true);
  try {
    return (await getAccount(world.connection, account, 'confirmed')).amount;
  } catch {
    return 0n;
  }
};

/** What the wallet's on-chain spending limit for the token has left this period. */
export const remainingOnChain = async (world: X402World, multisigAddress: string): Promise<bigint> => {
  const limit = await multisig.accounts.SpendingLimit.fromAccountAddress(
    world.connection,
    spendingLimitAddress(new PublicKey(multisigAddress), world.mint),
  );
  return BigInt(limit.remainingAmount.toString());
};

export const pay = (world: X402World, token: string, walletId: string, payload: Record<string, unknown>) =>
  world.app.inject({
    method: 'POST',
    url: `/v1/wallets/${walletId}/x402/pay`,
    headers: bearer(token),
    payload,
  });

export const usageOf = async (world: X402World, token: string, walletId: string) =>
  (
    await world.app.inject({ method: 'GET', url: `/v1/wallets/${walletId}/usage`, headers: bearer(token) })
  ).json();

export { fund, SOL };
