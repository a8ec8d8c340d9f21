/**
 * How `waiaas mcp` finds its daemon and wallet: WAIAAS_URL (or --url) and the agent session token in
 * WAIAAS_SESSION_TOKEN (environment only: a token on the command line would show in `ps`). The wallet
 * is the one the token is bound to, asked of the daemon (GET /v1/session); WAIAAS_WALLET_ID (or
 * --wallet) is still accepted and then used as given.
 */
import { parseArgs } from 'node:util';

export const DEFAULT_DAEMON_URL = 'http://127.0.0.1:3100';

export interface McpConfig {
  readonly url: string;
  readonly sessionToken: string;
  /** Absent: the session's own wallet, from GET /v1/session. */
  readonly walletId?: string | undefined;
}

export class McpConfigError extends Error {
  override readonly name = 'McpConfigError';
}

export const mcpUsage = `Usage: waiaas mcp [--url URL]

Runs the WAIaaS MCP server on stdio for an agent. Configure it in your MCP client with:
  WAIAAS_URL            the daemon's URL (default ${DEFAULT_DAEMON_URL}); or --url
  WAIAAS_SESSION_TOKEN  the agent session token the owner issued (environment only)
The wallet is the one the token is bound to; WAIAAS_WALLET_ID (or --wallet) is accepted too.`;

export function readMcpConfig(args: string[], env: NodeJS.ProcessEnv): McpConfig {
  const { values } = parseArgs({
    args,
    strict: true,
    options: { url: { type: 'string' }, wallet: { type: 'string' } },
  });
  const url = values.url ?? env.WAIAAS_URL ?? DEFAULT_DAEMON_URL;
  if (!/^https?:\/\/[^\s]+$/.test(url))
    throw new McpConfigError(`WAIAAS_URL must be an http(s) URL, got "${url}".`);
  const sessionToken = env.WAIAAS_SESSION_TOKEN?.trim() ?? '';
  if (sessionToken === '') {
    throw new McpConfigError('Set WAIAAS_SESSION_TOKEN to the agent session token the owner issued.');
  }
  const walletId = (values.wallet ?? env.WAIAAS_WALLET_ID ?? '').trim();
  if (walletId === '') return { url, sessionToken };
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(walletId)) {
    throw new McpConfigError(
      'WAIAAS_WALLET_ID (or --wallet) must be a wallet id; leave it unset to use the wallet of the session token.',
    );
  }
  return { url, sessionToken, walletId };
}
