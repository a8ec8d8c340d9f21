/**
 * Daemon replicas as a user runs them (`waiaas start` as a process, one per data directory) and plain
 * HTTP calls to them, for the tests that run several on one database.
 */
import { cpSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningCommand, runWaiaas } from './processes.ts';

export interface HttpAnswer {
  httpStatus: number;
  body: { id?: string; status?: string; code?: string; [key: string]: unknown };
}

/** Starts `waiaas start` with `env`, adds it to `running` (to stop later), resolves with its API URL. */
export async function startReplica(running: RunningCommand[], env: NodeJS.ProcessEnv): Promise<string> {
  const command = runWaiaas(['start'], env);
  running.push(command);
  const stdout = await command.waitForOutput(/data directory/, 90_000);
  const url = /WAIaaS daemon\s+(\S+)/.exec(stdout)?.[1];
  if (!url) throw new Error(`no API URL in ${stdout}`);
  return url;
}

/** One JSON request with a bearer token (and extra headers), answered with its status and body. */
export async function httpCall(
  base: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { httpStatus: response.status, body: (await response.json()) as HttpAnswer['body'] };
}

/**
 * A data directory for another replica of `fromDir`'s deployment: its keys (daemon secret, fee payer)
 * and, unless told otherwise, its enclave vault key, so the new replica's enclave opens the same seeds.
 */
export function replicaDataDir(fromDir: string, options: { vaultKey?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-replica-'));
  cpSync(join(fromDir, 'keys'), join(dir, 'keys'), { recursive: true });
  if (options.vaultKey ?? true) {
    mkdirSync(join(dir, 'enclave'), { mode: 0o700 });
    cpSync(join(fromDir, 'enclave', 'vault.key'), join(dir, 'enclave', 'vault.key'));
  }
  return dir;
}
