import type { FastifyInstance } from 'fastify';
import { version } from '../core/version.ts';
import { readChainStatus } from '../solana/chain-status.ts';
import type { Store } from '../store/index.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';
import { transferWatchPlugin } from './monitor/index.ts';
import { commonProblems } from './plugins/common-problems.ts';
import { consolePlugin } from './plugins/console.ts';
import { attestationRoutes } from './routes/attestation.ts';
import { auditRoutes } from './routes/audit.ts';
import { dryRunRoutes } from './routes/dry-run.ts';
import { eventRoutes } from './routes/events.ts';
import { operatorTokenRoutes } from './routes/operator-tokens.ts';
import { ownerActRoutes } from './routes/owner-acts.ts';
import { ownerRoutes } from './routes/owners.ts';
import { sessionInfoRoutes } from './routes/session-info.ts';
import { sessionRoutes } from './routes/sessions.ts';
import { transferRoutes } from './routes/transfers.ts';
import { walletStatusRoutes } from './routes/wallet-status.ts';
import { walletRoutes } from './routes/wallets.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { x402Routes } from './routes/x402.ts';
import { type Runtime, startRuntime } from './runtime/runtime.ts';
import { readRuntimeHealth } from './runtime/runtime-health.ts';

export interface Daemon {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly url: string;
  close(): Promise<void>;
}

export interface StartDaemonOptions {
  config: Config;
  store: Store;
  rpcUrl: string;
  logger: Logger;
}

/** The Fastify app over a running runtime: health, the API's routes, OpenAPI, metrics. */
export async function buildDaemonApp(runtime: Runtime): Promise<FastifyInstance> {
  const { store, config, logger } = runtime;
  const { metrics: domainMetrics, transfers, monitor, principals } = runtime.services;
  const unobserve = transfers.events.on((event) => domainMetrics.observeTransfer(event));
  const app = await buildApp({
    logger,
    store,
    principals,
    health: {
      version,
      network: config.network,
      startedAt: Date.now(),
      readDatabase: () => store.health(),
      readChain: () => readChainStatus(runtime.chain.rpcUrl),
      readRuntime: () => readRuntimeHealth(runtime),
    },
    rateLimit: {
      perToken: config.rateLimitPerToken > 0 ? { max: config.rateLimitPerToken, windowSeconds: 60 } : false,
      perIp: config.rateLimitPerIp > 0 ? { max: config.rateLimitPerIp, windowSeconds: 60 } : false,
    },
    routes: [
      // First: it declares the shared failure modes (429, 401/403, 400/413/415) of the routes after it.
      commonProblems(),
      attestationRoutes(runtime),
      auditRoutes({ store, principals }),
      webhookRoutes({ store, principals, logger, daemonSecret: runtime.daemonSecret, config }),
      ownerRoutes(runtime),
      operatorTokenRoutes({ store, principals }),
      walletRoutes(runtime),
      sessionRoutes(runtime),
      sessionInfoRoutes(runtime),
      ownerActRoutes(runtime),
      walletStatusRoutes(runtime),
      transferRoutes(runtime),
      dryRunRoutes(runtime),
      x402Routes(runtime),
      transferWatchPlugin({ store, onAccepted: (walletId) => monitor.touch(walletId) }),
      eventRoutes({ store, principals, logger }),
      consolePlugin(),
    ],
    domainMetrics,
  });
  app.addHook('onClose', async () => {
    unobserve();
  });
  return app;
}

export async function startDaemon({ config, store, rpcUrl, logger }: StartDaemonOptions): Promise<Daemon> {
  const runtime = await startRuntime({ config, store, rpcUrl, logger });
  let app: FastifyInstance | undefined;
  try {
    app = await buildDaemonApp(runtime);
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // listen() readies the app first, which starts its workers: close it, or they outlive the store.
    await app?.close().catch(() => undefined);
    await runtime.close();
    throw error;
  }
  const { monitor } = runtime.services;
  monitor.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    runtime,
    url: `http://${host}:${port}`,
    async close() {
      await monitor.stop();
      await app.close();
      await runtime.close();
    },
  };
}
