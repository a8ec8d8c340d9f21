import { WaiaasError } from '../core/errors.ts';
import { loadConfig } from '../daemon/config.ts';
import { createClient, type WaiaasClient } from '../sdk/index.ts';
import { promptSecret, readStdinLines } from './prompt.ts';

export interface ClientFlags {
  url?: string | undefined;
  token?: string | undefined;
}

export const clientOptions = {
  url: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean', default: false },
  'unlock-stdin': { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
} as const;

/**
 * The daemon this CLI talks to: --url, WAIAAS_URL, or the configured host and port. The token:
 * --token or WAIAAS_TOKEN (an owner token for owner commands).
 */
export function apiClient(flags: ClientFlags): WaiaasClient {
  const token = flags.token ?? process.env.WAIAAS_TOKEN;
  if (!token) {
    throw new WaiaasError('UNAUTHORIZED', {
      message: 'No token: pass --token or set WAIAAS_TOKEN (the owner token).',
    });
  }
  return createClient({ url: daemonUrl(flags.url), token });
}

export function daemonUrl(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.WAIAAS_URL) return process.env.WAIAAS_URL;
  const config = loadConfig();
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  return `http://${host}:${config.port}`;
}

/** The owner's second factor: the first line of stdin with --unlock-stdin, else a prompt that does not echo. */
export async function ownerFactor(fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await readStdinLines())[0] ?? '';
  return promptSecret('Owner passphrase or MFA code: ');
}
