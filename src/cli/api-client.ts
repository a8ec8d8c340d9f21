import { WaiaasError } from '../core/errors.ts';
import { loadConfig } from '../daemon/config.ts';
import { createClient, type WaiaasClient } from '../sdk/index.ts';
import type { ApiFlags } from './flags.ts';
import { promptSecret, readStdinLines } from './prompt.ts';

/**
 * The daemon this CLI talks to: --url, WAIAAS_URL, or the configured host and port. The token:
 * --token or WAIAAS_TOKEN (an owner token for owner commands).
 */
export function apiClient(flags: ApiFlags, tokenOf: 'owner' | 'operator' = 'owner'): WaiaasClient {
  const token = flags.token ?? process.env.WAIAAS_TOKEN;
  if (!token) {
    throw new WaiaasError('UNAUTHORIZED', {
      message: `No token: pass --token or set WAIAAS_TOKEN (the ${tokenOf} token).`,
    });
  }
  return createClient({ url: daemonUrl(flags.url), token });
}

export function daemonUrl(explicit?: string): string {
  if (explicit) return explicit;
  if (process.env.WAIAAS_URL) return process.env.WAIAAS_URL;
  const config = loadConfig();
  // A daemon listening on every address is reached on loopback.
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
}

/** The owner's second factor: the first line of stdin with --unlock-stdin, else a prompt that does not echo. */
export async function ownerFactor(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return (await readStdinLines())[0] ?? '';
  return promptSecret('Owner passphrase or MFA code: ');
}
