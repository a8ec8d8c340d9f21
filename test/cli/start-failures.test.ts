/**
 * A start that cannot succeed, as a user meets it: `waiaas start` exits non-zero within seconds with
 * one line naming what to change, and leaves no process of its own behind (the localnet child, the
 * enclave child). Also the daemon's own clean-up when its port is taken after the start-up checks.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/daemon/config.ts';
import { createLogger } from '../../src/daemon/logger.ts';
import { startDaemon } from '../../src/daemon/server.ts';
import { startLocalnet } from '../../src/localnet/index.ts';
import { openStore } from '../../src/store/index.ts';
import { freePortPair, processesMentioning, type RunningCommand, runWaiaas } from '../support/processes.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';

const running: RunningCommand[] = [];
const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(running.map((command) => command.stop('SIGKILL')));
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

const processesWith = processesMentioning;

const occupy = async (port: number): Promise<void> => {
  const server = createServer();
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
};

async function start(env: NodeJS.ProcessEnv) {
  const began = Date.now();
  const command = runWaiaas(['start'], { WAIAAS_LOG_LEVEL: 'warn', ...env });
  running.push(command);
  const { code } = await command.exited;
  return { code, seconds: (Date.now() - began) / 1000, stdout: command.stdout(), stderr: command.stderr() };
}

describe('waiaas start that cannot succeed', () => {
  it('with its API port taken: exits non-zero in under 10 s with one line, creating nothing', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-port-taken-')), 'data');
    const port = await freePortPair();
    const localnetPort = await freePortPair();
    await occupy(port);
    const result = await start({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(port),
      WAIAAS_LOCALNET_PORT: String(localnetPort),
    });
    expect(result.code).toBe(1);
    expect(result.seconds).toBeLessThan(10);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      `waiaas: cannot start: 127.0.0.1:${port} (the API's port) is in use; stop what uses it, or set WAIAAS_PORT to another port.`,
    ]);
    expect(existsSync(dataDir)).toBe(false);
    expect(processesWith(dataDir)).toEqual([]);
    expect(processesWith(`--port ${localnetPort}`)).toEqual([]);
  });

  it('with the localnet port taken: one line naming WAIAAS_LOCALNET_PORT', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-localnet-taken-')), 'data');
    const localnetPort = await freePortPair();
    await occupy(localnetPort + 1);
    const result = await start({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(localnetPort),
    });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`127.0.0.1:${localnetPort + 1}`);
    expect(result.stderr).toContain('WAIAAS_LOCALNET_PORT');
    expect(existsSync(dataDir)).toBe(false);
  });

  it('with an unreachable database: one line naming WAIAAS_DB_URL, within seconds', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-db-down-'));
    const result = await start({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_DB_URL: 'postgres://postgres@127.0.0.1:1/waiaas',
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
    });
    expect(result.code).toBe(1);
    expect(result.seconds).toBeLessThan(20);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('DATABASE_UNAVAILABLE');
    expect(lines[0]).toContain('WAIAAS_DB_URL');
    expect(processesWith(dataDir)).toEqual([]);
  });

  it('with the wrong daemon passphrase: one line naming WAIAAS_DAEMON_PASSPHRASE; the localnet child it started is gone', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-wrong-passphrase-')), 'data');
    const localnetPort = await freePortPair();
    const env = {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(localnetPort),
      WAIAAS_DAEMON_PASSPHRASE: 'the passphrase the keystores were made with',
      WAIAAS_LOG_LEVEL: 'warn',
    };
    const first = runWaiaas(['start'], env);
    running.push(first);
    await first.waitForOutput(/data directory/, 120_000);
    expect(await first.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const result = await start({ ...env, WAIAAS_DAEMON_PASSPHRASE: 'not that passphrase' });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^waiaas: cannot start: the daemon passphrase does not open its keystores in .*WAIAAS_DAEMON_PASSPHRASE/,
      ),
    ]);
    expect(result.stderr).not.toContain('not that passphrase');
    // The localnet was up (the keystores are opened after it): it went down with the start.
    expect(processesWith(`--port ${localnetPort}`)).toEqual([]);
    expect(processesWith(dataDir)).toEqual([]);
  }, 240_000);
});

describeWithSquads('the daemon itself on a port taken after the start-up checks', () => {
  it('rejects with EADDRINUSE, and closes its app and runtime: the enclave child exits', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-listen-race-'));
    const localnet = await startLocalnet({ dataDir, port: 0, squadsProgramPath: squadsBinaryPath! });
    const port = await freePortPair();
    await occupy(port);
    const config = loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_PORT: String(port) });
    const store = await openStore({ sqlitePath: config.sqlitePath });
    try {
      await expect(
        startDaemon({ config, store, rpcUrl: localnet.rpcUrl, logger: createLogger('silent') }),
      ).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect.poll(() => processesWith(join(dataDir, 'enclave')), { timeout: 10_000 }).toEqual([]);
    } finally {
      await store.close();
      await localnet.close();
    }
  }, 120_000);
});
