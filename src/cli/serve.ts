/**
 * `waiaas start` and `waiaas quickstart`: the localnet (on localnet) and the daemon in this process,
 * until SIGINT/SIGTERM. A start that cannot succeed stops within seconds with one line naming what to
 * change, closes every child it started (localnet, enclave), and takes back what it issued for the
 * banner it never printed (a new operator token), so the next start is a first start again.
 */
import { createServer } from 'node:net';
import { isWaiaasError } from '../core/errors.ts';
import { type Config, loadConfig, resolveRpcUrl, runsEmbeddedLocalnet } from '../daemon/config.ts';
import type { Logger } from '../daemon/logger.ts';
import type { Daemon } from '../daemon/server.ts';
import type { Store } from '../store/index.ts';
import type { LocalnetChild } from './localnet-child.ts';
import { print } from './output.ts';
import { waitForShutdownSignal } from './signals.ts';

export interface Started {
  readonly config: Config;
  readonly daemon: Daemon;
  readonly store: Store;
  readonly logger: Logger;
  readonly localnet: LocalnetChild | undefined;
}

export interface ServeOptions {
  readonly json?: boolean | undefined;
  /** Runs before anything is created (quickstart: the Squads program must be there first). */
  readonly beforeInit?: (config: Config, logger: Logger) => Promise<void>;
  /** Runs once the daemon listens (quickstart's set-up); its failure stops the daemon. */
  readonly afterStart?: (started: Started) => Promise<void>;
}

/** A start-up failure told in one line that names the setting to change; printed as it is. */
export class StartupFailure extends Error {
  override readonly name = 'StartupFailure';
}

const portFree = (host: string, port: number): Promise<NodeJS.ErrnoException | undefined> =>
  new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });

const portTaken = (host: string, port: number, what: string, setting: string) =>
  new StartupFailure(
    `cannot start: ${host}:${port} (${what}) is in use; stop what uses it, or set ${setting} to another port.`,
  );

/** The ports this start will listen on, checked before anything is created. */
async function checkPorts(config: Config): Promise<void> {
  if (config.port !== 0) {
    const error = await portFree(config.host, config.port);
    if (error?.code === 'EADDRINUSE')
      throw portTaken(config.host, config.port, "the API's port", 'WAIAAS_PORT');
  }
  if (runsEmbeddedLocalnet(config) && config.localnetPort !== 0) {
    for (const port of [config.localnetPort, config.localnetPort + 1]) {
      const error = await portFree('127.0.0.1', port);
      if (error?.code === 'EADDRINUSE') {
        throw portTaken('127.0.0.1', port, 'the localnet: RPC and the port after it', 'WAIAAS_LOCALNET_PORT');
      }
    }
  }
}

/** The failures a user can fix by a setting, said so; anything else as it came. */
function explainStartupError(error: unknown, config: Config): unknown {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EADDRINUSE') return portTaken(config.host, config.port, "the API's port", 'WAIAAS_PORT');
  if (isWaiaasError(error, 'PORT_IN_USE')) {
    return new StartupFailure(`cannot start: ${error.message} Set WAIAAS_LOCALNET_PORT to another port.`);
  }
  if (isWaiaasError(error, 'KEYSTORE_WRONG_PASSPHRASE')) {
    return new StartupFailure(
      `cannot start: the daemon passphrase does not open its keystores in ${config.dataDir}/keys; set WAIAAS_DAEMON_PASSPHRASE to the passphrase they were made with (unset, the daemon uses ${config.dataDir}/keys/daemon.passphrase).`,
    );
  }
  return error;
}

const banner = (started: Started, rpcUrl: string, operatorToken: string | undefined) => {
  const { config, daemon, store, localnet } = started;
  return {
    url: daemon.url,
    health: `${daemon.url}/v1/health`,
    docs: `${daemon.url}/docs`,
    network: config.network,
    rpcUrl,
    embeddedLocalnet: localnet !== undefined,
    squads: localnet?.squads,
    database: store.location,
    dataDir: config.dataDir,
    operatorToken: operatorToken ?? null,
  };
};

export async function serve(options: ServeOptions = {}): Promise<number> {
  const config = loadConfig();
  // Checked before the daemon's code is even loaded: a taken port is told in a moment.
  await checkPorts(config);
  const { pino } = await import('pino');
  const { createLogger } = await import('../daemon/logger.ts');
  const { startDaemon } = await import('../daemon/server.ts');
  const { revokeOperatorToken } = await import('../store/index.ts');
  const { initialise } = await import('./initialise.ts');
  const { spawnLocalnet } = await import('./localnet-child.ts');
  // Logs go to stderr: stdout carries the banner (and, with --json, one JSON document per line).
  const logger = createLogger(config.logLevel, pino.destination({ dest: 2, sync: true }));
  await options.beforeInit?.(config, logger);
  const { store, newMasterToken, newMasterTokenId } = await initialise(config, logger);

  let localnet: LocalnetChild | undefined;
  let daemon: Daemon | undefined;
  let bannerShown = false;
  let shutdown: Promise<NodeJS.Signals> | undefined;
  try {
    try {
      if (runsEmbeddedLocalnet(config)) localnet = await spawnLocalnet(config.localnetPort);
      const rpcUrl = localnet?.rpcUrl ?? resolveRpcUrl(config);
      daemon = await startDaemon({ config, store, rpcUrl, logger });
      // Listened for from here on: a Ctrl-C while the banner or the set-up is printed shuts down cleanly
      // (a second one still stops the process at once).
      shutdown = waitForShutdownSignal();
      const started: Started = { config, daemon, store, logger, localnet };
      const facts = banner(started, rpcUrl, newMasterToken);
      print(
        options,
        () =>
          [
            `WAIaaS daemon   ${facts.url}`,
            `health          ${facts.health}`,
            `API docs        ${facts.docs}`,
            `network         ${config.network}`,
            `chain RPC       ${rpcUrl}${localnet ? ' (embedded localnet)' : ''}`,
            ...(localnet
              ? [
                  `squads program  ${localnet.squads.status}${localnet.squads.fix ? ` — ${localnet.squads.fix}` : ''}`,
                ]
              : []),
            `database        ${store.location}`,
            `data directory  ${config.dataDir}`,
            ...(newMasterToken
              ? [
                  `operator token  ${newMasterToken}`,
                  '                (shown once; store it now — only its hash is kept)',
                ]
              : []),
          ].join('\n'),
        facts,
      );
      bannerShown = true;
      await options.afterStart?.(started);
    } catch (error) {
      if (newMasterTokenId && !bannerShown) await revokeOperatorToken(store.db, newMasterTokenId);
      throw explainStartupError(error, config);
    }
    const signal = await shutdown;
    logger.info({ signal }, 'shutting down');
  } finally {
    await daemon?.close();
    await localnet?.stop();
    await store.close();
  }
  return 0;
}
