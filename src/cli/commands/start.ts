import { type Config, loadConfig, resolveRpcUrl, runsEmbeddedLocalnet } from '../../daemon/config.ts';
import { createLogger } from '../../daemon/logger.ts';
import { type Daemon, startDaemon } from '../../daemon/server.ts';
import type { Store } from '../../store/index.ts';
import { initialise } from '../initialise.ts';
import { type LocalnetChild, spawnLocalnet } from '../localnet-child.ts';
import { waitForShutdownSignal } from '../signals.ts';

export interface Started {
  readonly config: Config;
  readonly daemon: Daemon;
  readonly store: Store;
}

/**
 * Initialises on first run, starts the localnet (on localnet) and the daemon, prints where everything
 * is, runs `afterStart` (quickstart's set-up) and serves until SIGINT/SIGTERM.
 */
export async function serve(afterStart?: (started: Started) => Promise<void>): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { store, newMasterToken } = await initialise(config, logger);

  let localnet: LocalnetChild | undefined;
  try {
    if (runsEmbeddedLocalnet(config)) localnet = await spawnLocalnet(config.localnetPort);
    const rpcUrl = localnet?.rpcUrl ?? resolveRpcUrl(config);
    const daemon = await startDaemon({ config, store, rpcUrl, logger });
    try {
      const lines = [
        `WAIaaS daemon   ${daemon.url}`,
        `health          ${daemon.url}/v1/health`,
        `API docs        ${daemon.url}/docs`,
        `network         ${config.network}`,
        `chain RPC       ${rpcUrl}${localnet ? ' (embedded localnet)' : ''}`,
        ...(localnet
          ? [
              `squads program  ${localnet.squads.status}${localnet.squads.fix ? ` — ${localnet.squads.fix}` : ''}`,
            ]
          : []),
        `database        ${store.location}`,
        `data directory  ${config.dataDir}`,
      ];
      if (newMasterToken) {
        lines.push(
          `operator token  ${newMasterToken}`,
          '                (shown once; store it now — only its hash is kept)',
        );
      }
      console.log(lines.join('\n'));
      await afterStart?.({ config, daemon, store });

      const signal = await waitForShutdownSignal();
      logger.info({ signal }, 'shutting down');
    } finally {
      await daemon.close();
    }
  } finally {
    await localnet?.stop();
    await store.close();
  }
  return 0;
}

export const run = (_args: string[]): Promise<number> => serve();
