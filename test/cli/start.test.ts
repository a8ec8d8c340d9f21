import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Keypair, LAMPORTS_PER_SOL } from '@solana/web3.js';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortPair, type RunningCommand, runWaiaas } from '../support/processes.ts';
import { squadsBinaryPath } from '../support/squads-binary.ts';

const running: RunningCommand[] = [];
afterAll(async () => {
  await Promise.all(running.map((command) => command.stop('SIGKILL')));
});

async function startDaemon(env: NodeJS.ProcessEnv) {
  const command = runWaiaas(['start'], env);
  running.push(command);
  const stdout = await command.waitForOutput(/data directory/);
  const apiUrl = /WAIaaS daemon\s+(\S+)/.exec(stdout)?.[1];
  if (!apiUrl) throw new Error(`no API URL in ${stdout}`);
  return { command, stdout, apiUrl };
}

describe('waiaas start on embedded defaults', () => {
  it('runs the daemon and the localnet, and both keep their state across a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-start-'));
    const localnetPort = await freePortPair();
    const env = {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(localnetPort),
      WAIAAS_LOG_LEVEL: 'warn',
    };

    const first = await startDaemon(env);
    const token = /operator token\s+(\S+)/.exec(first.stdout)?.[1];
    expect(token).toBeDefined();
    expect(first.stdout).toContain(`http://127.0.0.1:${localnetPort}`);

    const health = await fetch(`${first.apiUrl}/v1/health`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as {
      db: unknown;
      chain: unknown;
      network: string;
      squads: { status: string };
      status: string;
    };
    expect(body.db).toMatchObject({ ok: true, engine: 'sqlite' });
    expect(body.chain).toMatchObject({ ok: true, rpcUrl: `http://127.0.0.1:${localnetPort}` });
    expect(body.network).toBe('localnet');
    expect(body.squads.status).toBe(squadsBinaryPath ? 'loaded' : 'missing');
    expect(body.status).toBe(squadsBinaryPath ? 'ok' : 'degraded');

    // The operator token works, and only its hash is on disk.
    const metrics = await fetch(`${first.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('waiaas_http_request_duration_seconds');
    expect((await fetch(`${first.apiUrl}/metrics`)).status).toBe(401);
    expect(readFileSync(join(dataDir, 'waiaas.sqlite')).includes(Buffer.from(token!))).toBe(false);
    expect(statSync(dataDir).mode & 0o077).toBe(0);

    const connection = new Connection(`http://127.0.0.1:${localnetPort}`, 'confirmed');
    const holder = Keypair.generate();
    await connection.confirmTransaction(
      await connection.requestAirdrop(holder.publicKey, 3 * LAMPORTS_PER_SOL),
    );
    expect(await connection.getBalance(holder.publicKey)).toBe(3 * LAMPORTS_PER_SOL);

    expect(await first.command.stop('SIGTERM')).toEqual({ code: 0, signal: null });

    const second = await startDaemon(env);
    expect(second.stdout).not.toMatch(/operator token/);
    expect(await connection.getBalance(holder.publicKey)).toBe(3 * LAMPORTS_PER_SOL);
    const again = await fetch(`${second.apiUrl}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(await second.command.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 240_000);

  it('stops with one clear line and a non-zero exit on bad configuration', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-badconfig-'));
    const command = runWaiaas(['start'], { WAIAAS_DATA_DIR: dataDir, WAIAAS_NETWORK: 'moonnet' });
    running.push(command);
    const { code } = await command.exited;
    expect(code).not.toBe(0);
    const lines = command.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/WAIAAS_NETWORK="moonnet".*expected one of localnet, devnet, mainnet-beta/);
  });

  it('refuses a Squads binary with the wrong hash with one clear line and a non-zero exit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-badso-'));
    const fake = join(dataDir, 'squads_v4.so');
    writeFileSync(fake, Buffer.alloc(1024, 7));
    const command = runWaiaas(['start'], {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_SQUADS_SO: fake,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
      WAIAAS_LOG_LEVEL: 'warn',
    });
    running.push(command);
    const { code } = await command.exited;
    expect(code).not.toBe(0);
    const lines = command.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/sha256/i);
    expect(lines[0]).toContain(fake);
  });
});
