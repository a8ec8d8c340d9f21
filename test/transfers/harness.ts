/**
 * A daemon for transfer tests: what test/support/daemon.ts runs (real localnet with the real Squads
 * program, real store, the enclave as its own process), with the transfer service made first so a
 * test can give it a clock, a fault hook and fast workers. Restartable on the same data directory,
 * store and localnet, as a crashed daemon would be.
 */

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { loadConfig } from '../../src/daemon/config.ts';
import type { MultisigLockOptions } from '../../src/daemon/locks/multisig-locks.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import type { TransferService, TransferServiceOptions } from '../../src/daemon/transfers/index.ts';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { bearer, OWNER_PASSPHRASE, operatorToken } from '../support/api.ts';
import { squadsBinaryPath } from '../support/squads-binary.ts';

export const SOL = 1_000_000_000n;

export interface TransferDaemon {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly store: Store;
  readonly transfers: TransferService;
  readonly localnet: Localnet;
  readonly dataDir: string;
  /** Stops the app, the workers and the enclave; the store and localnet stay unless they were ours. */
  close(): Promise<void>;
}

export interface TransferDaemonOptions {
  readonly dataDir?: string;
  readonly localnet?: Localnet;
  /** A store to use (kept open on close); otherwise a SQLite file in the data directory. */
  readonly store?: Store;
  readonly transfers?: TransferServiceOptions;
  /** Lease and wait lengths of the multisig locks. */
  readonly multisigLocks?: MultisigLockOptions;
}

export async function startLocalnetFor(dataDir: string): Promise<Localnet> {
  return startLocalnet({
    dataDir,
    port: 0,
    ...(squadsBinaryPath ? { squadsProgramPath: squadsBinaryPath } : {}),
  });
}

export async function startTransferDaemon(options: TransferDaemonOptions = {}): Promise<TransferDaemon> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'waiaas-transfers-'));
  const localnet = options.localnet ?? (await startLocalnetFor(dataDir));
  const config = loadConfig({
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: '0',
    WAIAAS_RPC_URL: localnet.rpcUrl,
    // Webhook receivers of these tests listen on loopback.
    WAIAAS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  });
  const logger = createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent');
  const store = options.store ?? (await openStore({ sqlitePath: config.sqlitePath }));
  const runtime = await startRuntime({
    config: { ...config, network: 'localnet' },
    store,
    rpcUrl: localnet.rpcUrl,
    logger,
    ...(options.multisigLocks ? { multisigLocks: options.multisigLocks } : {}),
    services: { transfers: { pollIntervalMs: 200, ...options.transfers } },
  });
  const { transfers } = runtime.services;
  const app = await buildDaemonApp(runtime);
  await app.ready();
  return {
    runtime,
    app,
    store,
    transfers,
    localnet,
    dataDir,
    async close() {
      await app.close();
      await runtime.close();
      if (!options.store) await store.close();
      if (!options.localnet) await localnet.close();
    },
  };
}

/** A policy whose tiers and limits suit a test; SOL only unless `assets` says otherwise. */
export const policy = (
  overrides: {
    perTransaction?: bigint;
    daily?: bigint;
    instantMax?: bigint;
    notifyMax?: bigint;
    delayMax?: bigint;
    delaySeconds?: number;
    maxPerHour?: number;
    approvalTimeoutSeconds?: number;
    extraAssets?: Record<string, unknown>;
  } = {},
) => ({
  version: 1,
  assets: {
    SOL: {
      perTransaction: String(overrides.perTransaction ?? 2n * SOL),
      daily: String(overrides.daily ?? 5n * SOL),
      tiers: {
        instantMax: String(overrides.instantMax ?? SOL / 10n),
        notifyMax: String(overrides.notifyMax ?? SOL / 2n),
        delayMax: String(overrides.delayMax ?? SOL),
        delaySeconds: overrides.delaySeconds ?? 900,
      },
    },
    ...overrides.extraAssets,
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: overrides.maxPerHour ?? 1000 },
  approvalTimeoutSeconds: overrides.approvalTimeoutSeconds ?? 3600,
});

export async function fund(daemon: Pick<TransferDaemon, 'runtime'>, address: string, lamports: bigint) {
  const chain = daemon.runtime.chain;
  const signature = await chain.connection.requestAirdrop(new PublicKey(address), Number(lamports));
  const { lastValidBlockHeight } = await chain.recentBlockhash();
  expect((await chain.confirm(signature, lastValidBlockHeight)).status).toBe('confirmed');
}

export const balanceOf = async (daemon: Pick<TransferDaemon, 'runtime'>, address: string): Promise<bigint> =>
  BigInt(await daemon.runtime.chain.connection.getBalance(new PublicKey(address), 'confirmed'));

/** A fresh recipient address (holds nothing until paid; pay it at least the rent-exempt minimum). */
export const newRecipient = (): string => Keypair.generate().publicKey.toBase58();

export const postTransfer = (
  app: FastifyInstance,
  token: string,
  walletId: string,
  payload: Record<string, unknown>,
) =>
  app.inject({ method: 'POST', url: `/v1/wallets/${walletId}/transfers`, headers: bearer(token), payload });

export const getTransfer = (app: FastifyInstance, token: string, id: string) =>
  app.inject({ method: 'GET', url: `/v1/transfers/${id}`, headers: bearer(token) });

/** Polls GET /v1/transfers/:id until `done` holds; throws after `timeoutMs`. */
export async function waitForTransfer(
  app: FastifyInstance,
  token: string,
  id: string,
  done: (body: { status: string }) => boolean,
  timeoutMs = 15_000,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = (await getTransfer(app, token, id)).json();
    if (done(body)) return body;
    if (Date.now() > deadline)
      throw new Error(
        `transfer ${id} did not reach the expected state in ${timeoutMs} ms: ${JSON.stringify(body)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface TestOwner {
  readonly id: string;
  readonly token: string;
  readonly publicKey: string;
}

export interface TestWalletSession {
  readonly owner: TestOwner;
  readonly wallet: { id: string; multisig: string; vault: string; agentPublicKey: string };
  readonly session: { id: string; token: string };
}

/** One owner for many wallets: making an owner derives its keystore key (slow on purpose). */
export async function createOwner(app: FastifyInstance, store: Store): Promise<TestOwner> {
  const operator = await operatorToken(store);
  const response = await app.inject({
    method: 'POST',
    url: '/v1/owners',
    headers: bearer(operator),
    payload: { name: 'Owner', signer: { kind: 'local', passphrase: OWNER_PASSPHRASE } },
  });
  if (response.statusCode !== 201) throw new Error(`owner: ${response.body}`);
  return response.json();
}

/** A wallet of `owner` under `walletPolicy`, an agent session on it, and `vaultLamports` in its vault. */
export async function createWalletSession(
  daemon: Pick<TransferDaemon, 'app' | 'runtime'>,
  owner: TestOwner,
  walletPolicy: unknown,
  vaultLamports = 10n * SOL,
): Promise<TestWalletSession> {
  const walletResponse = await daemon.app.inject({
    method: 'POST',
    url: '/v1/wallets',
    headers: bearer(owner.token, { 'x-owner-unlock': OWNER_PASSPHRASE }),
    payload: { name: 'Agent wallet', policy: walletPolicy },
  });
  if (walletResponse.statusCode !== 201) throw new Error(`wallet: ${walletResponse.body}`);
  const wallet = walletResponse.json();
  const sessionResponse = await daemon.app.inject({
    method: 'POST',
    url: `/v1/wallets/${wallet.id}/sessions`,
    headers: bearer(owner.token),
    payload: { ttlSeconds: 3600 },
  });
  if (sessionResponse.statusCode !== 201) throw new Error(`session: ${sessionResponse.body}`);
  if (vaultLamports > 0n) await fund(daemon, wallet.vault, vaultLamports);
  return { owner, wallet, session: sessionResponse.json() };
}

/**
 * Moves the localnet's clock (and slots) forward, then waits until the chain client's cached blockhash
 * is valid again, so code that signs with it right after (not all of it retries) is not handed a stale one.
 */
export async function advanceLocalnetClock(daemon: Pick<TransferDaemon, 'runtime'>, seconds: number) {
  const chain = daemon.runtime.chain;
  await chain.rpc.call('waiaas_advanceClock', [seconds]);
  const height = await chain.blockHeight();
  const deadline = Date.now() + 15_000;
  while ((await chain.recentBlockhash()).lastValidBlockHeight <= height + 100n) {
    if (Date.now() > deadline)
      throw new Error('the chain client never saw a blockhash after the clock moved');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
