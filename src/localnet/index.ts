import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WaiaasError } from '../core/errors.ts';
import { LocalChain } from './chain/local-chain.ts';
import { configureSvm, createGenesis } from './genesis.ts';
import { validatorIdentityKey } from './localnet-keys.ts';
import { emptyState, localnetFiles, Persister, restore } from './persistence.ts';
import type { RpcContext } from './rpc/context.ts';
import { createDispatcher, type Logger } from './rpc/dispatch.ts';
import { createRpcHttpServer } from './rpc/http-server.ts';
import { SubscriptionServer } from './rpc/subscriptions.ts';
import { deploySquadsIfNeeded, type SquadsStatus } from './squads-deployment.ts';
import { loadSquadsBinary } from './squads-program.ts';

export { fetchProgramBinary } from './fetch-program.ts';
export {
  SQUADS_PROGRAM_CONFIG_AUTHORITY,
  SQUADS_PROGRAM_CONFIG_TREASURY,
  squadsProgramConfigAddress,
} from './genesis.ts';
export type { Logger } from './rpc/dispatch.ts';
export type { SquadsStatus } from './squads-deployment.ts';
export {
  defaultSquadsBinaryPath,
  loadSquadsBinary,
  resolveSquadsBinaryPath,
  SQUADS_BINARY_ENV,
  SQUADS_PROGRAM_ID,
  SQUADS_V4_SHA256,
  squadsMissingFix,
} from './squads-program.ts';

export const DEFAULT_LOCALNET_PORT = 8899;

export interface StartLocalnetOptions {
  dataDir: string;
  host?: string;
  /** JSON-RPC port (default 8899); the websocket listens on port + 1. 0 picks a free pair. */
  port?: number;
  squadsProgramPath?: string;
  /** Where WAIAAS_SQUADS_SO is read from (default process.env). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Full transaction records kept for getTransaction (default 10,000). */
  historyLimit?: number;
  /** Delay between a change and the snapshot that saves it (default 500 ms). */
  snapshotDelayMs?: number;
}

export interface Localnet {
  rpcUrl: string;
  wsUrl: string;
  rpcPort: number;
  wsPort: number;
  squads: SquadsStatus;
  /** Saves the ledger now (it is also saved shortly after every change and on close). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

const silentLogger: Logger = { info() {}, warn() {}, error() {} };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

const stopListening = (server: Server): Promise<void> =>
  new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));

const portInUse = (host: string, port: number, cause: unknown): WaiaasError =>
  new WaiaasError('PORT_IN_USE', {
    message: `Localnet cannot listen on ${host}:${port}: the port is in use.`,
    details: { host, port },
    cause,
  });

const isAddressInUse = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'EADDRINUSE';

/** Binds the RPC server on `port` and the websocket server on the port after it. */
async function listenPair(rpc: Server, ws: Server, host: string, port: number): Promise<[number, number]> {
  if (port !== 0) {
    try {
      await listen(rpc, port, host);
    } catch (error) {
      throw isAddressInUse(error) ? portInUse(host, port, error) : error;
    }
    try {
      await listen(ws, port + 1, host);
    } catch (error) {
      await stopListening(rpc);
      throw isAddressInUse(error) ? portInUse(host, port + 1, error) : error;
    }
    return [port, port + 1];
  }
  for (let attempt = 0; attempt < 20; attempt++) {
    const rpcPort = await listen(rpc, 0, host);
    if (rpcPort < 65535) {
      try {
        return [rpcPort, await listen(ws, rpcPort + 1, host)];
      } catch (error) {
        if (!isAddressInUse(error)) throw error;
      }
    }
    await stopListening(rpc);
  }
  throw portInUse(host, 0, new Error('no free pair of adjacent ports found'));
}

/**
 * Starts the local Solana: LiteSVM with the SPL programs and (when its binary is present and
 * verified) the Squads v4 program, behind Solana JSON-RPC on `port` and PubSub on `port + 1`.
 * State is restored from and saved to `<dataDir>/localnet/`.
 */
export async function startLocalnet(options: StartLocalnetOptions): Promise<Localnet> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? silentLogger;
  const historyLimit = options.historyLimit ?? 10_000;
  const files = localnetFiles(options.dataDir);
  await mkdir(files.dir, { recursive: true });

  const binary = await loadSquadsBinary({
    ...(options.squadsProgramPath ? { path: options.squadsProgramPath } : {}),
    ...(options.env ? { env: options.env } : {}),
  });
  const restored = await restore(files, historyLimit);
  let chain: LocalChain;
  if (restored) {
    chain = new LocalChain(configureSvm(restored.svm), restored.chain, historyLimit);
    const { slot } = chain.tick();
    for (const record of restored.records) chain.history.restore(record, slot);
  } else {
    const genesis = createGenesis();
    chain = new LocalChain(genesis.svm, emptyState(genesis.genesisHash), historyLimit);
    chain.tick();
  }
  const { squads, changed } = deploySquadsIfNeeded(chain.svm, binary);
  if (squads.status === 'missing') logger.warn({ path: squads.path }, squads.fix);

  const persister = new Persister(chain, files, logger, options.snapshotDelayMs);
  if (!restored || changed) {
    persister.markDirty();
    await persister.save();
  }

  let ports: [number, number] = [0, 0];
  const ctx: RpcContext = {
    chain,
    identity: validatorIdentityKey.address,
    rpcAddress: () => `${host}:${ports[0]}`,
    wsAddress: () => `${host}:${ports[1]}`,
  };
  const dispatch = createDispatcher(ctx, logger);
  const rpcServer = createRpcHttpServer(dispatch);
  const wsServer = createRpcHttpServer(dispatch);
  const subscriptions = new SubscriptionServer(chain);
  subscriptions.attach(rpcServer.server);
  subscriptions.attach(wsServer.server);
  try {
    ports = await listenPair(rpcServer.server, wsServer.server, host, options.port ?? DEFAULT_LOCALNET_PORT);
  } catch (error) {
    await subscriptions.close();
    await persister.close();
    throw error;
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const localnet: Localnet = {
    rpcUrl: `http://${urlHost}:${ports[0]}`,
    wsUrl: `ws://${urlHost}:${ports[1]}`,
    rpcPort: ports[0],
    wsPort: ports[1],
    squads,
    flush: async () => {
      persister.markDirty();
      await persister.save();
    },
    close: async () => {
      await Promise.all([rpcServer.close(), wsServer.close()]);
      await subscriptions.close();
      await persister.close();
    },
  };
  logger.info(
    { rpcUrl: localnet.rpcUrl, wsUrl: localnet.wsUrl, squads: squads.status },
    'localnet listening',
  );
  return localnet;
}
