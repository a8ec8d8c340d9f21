import { loadConfig, resolveRpcUrl, runsEmbeddedLocalnet } from '../../daemon/config.ts';
import { createLogger } from '../../daemon/logger.ts';
import { startDaemon } from '../../daemon/server.ts';
import { initialise } from '../initialise.ts';
import { type LocalnetChild, spawnLocalnet } from '../localnet-child.ts';
import { waitForShutdownSignal } from '../signals.ts';

export async function run(_args: string[]): Promise<number> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  const { store, newMasterToken } = await initialise(config, logger);

  let localnet: LocalnetChild | undefined;
  try {
    if (runsEmbeddedLocalnet(config)) localnet = await spawnLocalnet(config.localnetPort);
    const rpcUrl = localnet?.rpcUrl ?? resolveRpcUrl(config);
    const daemon = await startDaemon({ config, store, rpcUrl, logger });

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

    const signal = await waitForShutdownSignal();
    logger.info({ signal }, 'shutting down');
    await daemon.close();
  } finally {
    await localnet?.stop();
    await store.close();
  }
  return 0;
}
