/**
 * `waiaas quickstart` (what `npm start` runs) on a first run, as a user meets it: without the Squads
 * program and without a network it creates nothing and says how to fix it in one line; with a cluster
 * to fetch from, it fetches and pins the program itself; a run stopped half-way is finished by the
 * next one with the same owner, never a second; the banner is human text on stdout, logs on stderr.
 * No test here contacts anything but this machine (the program source is a localnet, or a closed port).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Localnet, SQUADS_V4_SHA256, startLocalnet } from '../../src/localnet/index.ts';
import { createClient } from '../../src/sdk/index.ts';
import { openStore } from '../../src/store/index.ts';
import { freePortPair, processesMentioning, type RunningCommand, runWaiaas } from '../support/processes.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';

const running: RunningCommand[] = [];
afterAll(async () => {
  await Promise.all(running.map((command) => command.stop('SIGKILL')));
});

/** A loopback port nothing listens on: connecting to it is refused at once. */
const closedPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const field = (text: string, label: string): string => {
  const value = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(text)?.[1];
  if (!value) throw new Error(`no "${label}" in:\n${text}`);
  return value;
};

describe('quickstart without the Squads program and without a network', () => {
  it('creates nothing, and says in one line what is missing and the two ways to provide it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'waiaas-quickstart-offline-'));
    const dataDir = join(root, 'data');
    const squadsPath = join(root, 'programs', 'squads_v4.so');
    const command = runWaiaas(['quickstart'], {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_SQUADS_SO: squadsPath,
      WAIAAS_PROGRAM_SOURCE_RPC: `http://127.0.0.1:${await closedPort()}`,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
    });
    running.push(command);
    const { code } = await command.exited;
    expect(code).toBe(1);
    expect(command.stdout()).toBe('');
    const errors = command
      .stderr()
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('waiaas:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(`the Squads v4 program is missing at ${squadsPath}`);
    expect(errors[0]).toContain('waiaas programs fetch --rpc');
    expect(errors[0]).toContain('WAIAAS_SQUADS_SO');
    expect(errors[0]).toContain(SQUADS_V4_SHA256);
    // Nothing: no data directory (so no owner keystore, no database, no operator token), no program file.
    expect(existsSync(dataDir)).toBe(false);
    expect(existsSync(squadsPath)).toBe(false);
  }, 60_000);
});

describeWithSquads('quickstart on a first run', () => {
  let source: Localnet;
  let root: string;
  let env: NodeJS.ProcessEnv;
  let squadsPath: string;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'waiaas-quickstart-first-'));
    // The cluster the program is fetched from: a localnet of this machine that has it.
    source = await startLocalnet({
      dataDir: join(root, 'source'),
      port: 0,
      squadsProgramPath: squadsBinaryPath!,
    });
    squadsPath = join(root, 'programs', 'squads_v4.so');
    env = {
      WAIAAS_DATA_DIR: join(root, 'data'),
      WAIAAS_SQUADS_SO: squadsPath,
      WAIAAS_PROGRAM_SOURCE_RPC: source.rpcUrl,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
      WAIAAS_LOG_LEVEL: 'info',
    };
  });
  afterAll(async () => {
    await source?.close();
  });

  it('fetches and pins the program, is stopped half-way, and the next run finishes it with the same owner', async () => {
    const dataDir = env.WAIAAS_DATA_DIR!;
    const statePath = join(dataDir, 'quickstart.json');
    const first = runWaiaas(['quickstart'], env);
    running.push(first);
    // Stopped hard as soon as its owner exists (a crash, a Ctrl-C at the wrong time).
    const deadline = Date.now() + 240_000;
    for (;;) {
      const state = existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {};
      if (typeof state.ownerId === 'string') break;
      if (first.child.exitCode !== null) throw new Error(`quickstart exited first: ${first.stderr()}`);
      if (Date.now() > deadline) throw new Error(`no owner in time; stderr: ${first.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await first.stop('SIGKILL');
    // Its localnet and enclave follow it down (they watch their parent) before the next run starts.
    await expect
      .poll(
        () => [...processesMentioning(dataDir), ...processesMentioning(`--port ${env.WAIAAS_LOCALNET_PORT}`)],
        {
          timeout: 20_000,
        },
      )
      .toEqual([]);
    const { ownerId } = JSON.parse(readFileSync(statePath, 'utf8')) as { ownerId: string };
    expect(first.stderr()).toContain(
      `Squads v4 program missing at ${squadsPath}: fetching it from ${source.rpcUrl}`,
    );
    expect(first.stderr()).toContain(`sha256 ${SQUADS_V4_SHA256} (the pinned one), written to ${squadsPath}`);
    expect(createHash('sha256').update(readFileSync(squadsPath)).digest('hex')).toBe(SQUADS_V4_SHA256);

    const second = runWaiaas(['quickstart'], env);
    running.push(second);
    const printed = await second.waitForOutput(/console\.log\(sent\.status/, 180_000);
    expect(second.stderr()).not.toContain('fetching it from');
    expect(printed).toContain('Quickstart ready');
    expect(field(printed, 'owner')).toBe(ownerId);
    const ownerToken = field(printed, 'owner token');
    const walletId = field(printed, 'wallet');
    const vault = field(printed, 'wallet address');
    const sessionId = field(printed, 'agent session');
    const agentToken = field(printed, 'agent token');
    // Logs go to stderr: the banner on stdout is for people, no pino JSON in it.
    expect(printed).not.toMatch(/^\{"level"/m);
    expect(second.stderr()).toMatch(/"level":30/);
    // The MCP configuration needs the URL and the token only.
    const mcp = JSON.parse(/\{\n\s+"mcpServers"[\s\S]*?\n\}/.exec(printed)![0]);
    expect(Object.keys(mcp.mcpServers.waiaas.env).sort()).toEqual(['WAIAAS_SESSION_TOKEN', 'WAIAAS_URL']);
    expect(mcp.mcpServers.waiaas.env.WAIAAS_SESSION_TOKEN).toBe(agentToken);

    // One owner, one wallet, 10 SOL exactly, one active session: nothing was done twice.
    const store = await openStore({ sqlitePath: join(dataDir, 'waiaas.sqlite') });
    try {
      expect((await store.db.selectFrom('owners').select('id').execute()).map((row) => row.id)).toEqual([
        ownerId,
      ]);
      expect((await store.db.selectFrom('wallets').select('id').execute()).map((row) => row.id)).toEqual([
        walletId,
      ]);
    } finally {
      await store.close();
    }
    const connection = new Connection(`http://127.0.0.1:${env.WAIAAS_LOCALNET_PORT}`, 'confirmed');
    expect(await connection.getBalance(new PublicKey(vault))).toBe(10_000_000_000);
    const url = `http://127.0.0.1:${env.WAIAAS_PORT}`;
    const sessions = await createClient({ url, token: ownerToken }).sessions.list(walletId);
    expect(sessions.filter((session) => session.status === 'active').map((session) => session.id)).toEqual([
      sessionId,
    ]);
    const me = await createClient({ url, token: agentToken }).sessions.current();
    expect(me).toMatchObject({ walletId, session: { id: sessionId, status: 'active' }, wallet: { vault } });
    expect(readFileSync(statePath, 'utf8')).not.toContain(agentToken);
    expect(readFileSync(statePath, 'utf8')).not.toContain(ownerToken);

    expect(await second.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const third = runWaiaas(['quickstart'], env);
    running.push(third);
    const again = await third.waitForOutput(/quickstart wallet/, 120_000);
    expect(again).toContain(walletId);
    expect(again).not.toContain(agentToken);
    expect(await third.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 600_000);
});
