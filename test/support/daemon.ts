/**
 * A whole daemon for tests, in-process: the embedded localnet (real Squads program), a real store,
 * the enclave as its own process, and the Fastify app on a random port — what `waiaas start` runs,
 * minus the CLI.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../../src/daemon/server.ts';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';
import type { Store, StoreOptions } from '../../src/store/index.ts';
import { squadsBinaryPath } from './squads-binary.ts';

export interface TestDaemon {
  readonly runtime: Runtime;
  readonly app: FastifyInstance;
  readonly localnet: Localnet;
  readonly dataDir: string;
  close(): Promise<void>;
}

export interface TestDaemonOptions {
  /** Opens the store; defaults to a fresh SQLite file in the data directory. */
  store?: (dataDir: string) => Promise<Store>;
  localnet?: Localnet;
  dataDir?: string;
  storeOptions?: Partial<StoreOptions>;
  /** More WAIAAS_* settings (e.g. WAIAAS_X402_ALLOWED_ORIGINS). */
  env?: Record<string, string>;
}

export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'waiaas-daemon-'));
  const localnet =
    options.localnet ??
    (await startLocalnet({
      dataDir,
      port: 0,
      ...(squadsBinaryPath ? { squadsProgramPath: squadsBinaryPath } : {}),
    }));
  // Rate limits off: tests hammer one token on purpose; test/rate-limit covers the limits themselves.
  const config = loadConfig({
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: '0',
    WAIAAS_RPC_URL: localnet.rpcUrl,
    WAIAAS_RATE_LIMIT_PER_TOKEN: '0',
    WAIAAS_RATE_LIMIT_PER_IP: '0',
    // The tests' webhook receivers listen on loopback, which webhooks may reach only when allowed.
    WAIAAS_WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
    ...options.env,
  });
  const logger = createLogger(process.env.WAIAAS_TEST_LOG_LEVEL ?? 'silent');
  const { openStore } = await import('../../src/store/index.ts');
  const store = options.store
    ? await options.store(dataDir)
    : await openStore({ sqlitePath: config.sqlitePath });
  const runtime = await startRuntime({
    config: { ...config, network: 'localnet' },
    store,
    rpcUrl: localnet.rpcUrl,
    logger,
  });
  const app = await buildDaemonApp(runtime);
  await app.ready();
  return {
    runtime,
    app,
    localnet,
    dataDir,
    async close() {
      await app.close();
      await runtime.close();
      await store.close();
      if (!options.localnet) await localnet.close();
    },
  };
}
