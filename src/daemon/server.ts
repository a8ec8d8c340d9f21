import type { FastifyInstance } from 'fastify';
import { version } from '../core/version.ts';
import { readChainStatus } from '../solana/chain-status.ts';
import { findActiveOperatorTokenByHash, type Store } from '../store/index.ts';
import { buildApp } from './app.ts';
import type { Config } from './config.ts';
import type { Logger } from './logger.ts';

export interface Daemon {
  readonly app: FastifyInstance;
  readonly url: string;
  close(): Promise<void>;
}

export interface StartDaemonOptions {
  config: Config;
  store: Store;
  rpcUrl: string;
  logger: Logger;
}

export async function startDaemon({ config, store, rpcUrl, logger }: StartDaemonOptions): Promise<Daemon> {
  const app = await buildApp({
    logger,
    store,
    isOperatorToken: async (tokenHash) =>
      (await findActiveOperatorTokenByHash(store.db, tokenHash)) !== undefined,
    health: {
      version,
      network: config.network,
      startedAt: Date.now(),
      readDatabase: () => store.health(),
      readChain: () => readChainStatus(rpcUrl),
    },
  });
  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    app,
    url: `http://${host}:${port}`,
    close: () => app.close(),
  };
}
