import { describe, expect, it } from 'vitest';
import { DEFAULT_DAEMON_URL, readMcpConfig } from '../../src/mcp/config.ts';
import { runWaiaas } from '../support/processes.ts';

describe('waiaas mcp configuration', () => {
  const env = { WAIAAS_SESSION_TOKEN: 'waiaas_ses_abc', WAIAAS_WALLET_ID: 'wal_1' };

  it('reads the daemon URL, session token and wallet from the environment, flags overriding', () => {
    expect(readMcpConfig([], env)).toEqual({
      url: DEFAULT_DAEMON_URL,
      sessionToken: 'waiaas_ses_abc',
      walletId: 'wal_1',
    });
    expect(
      readMcpConfig(['--url', 'http://10.0.0.1:9', '--wallet', 'wal_2'], {
        ...env,
        WAIAAS_URL: 'http://x:1',
      }),
    ).toEqual({
      url: 'http://10.0.0.1:9',
      sessionToken: 'waiaas_ses_abc',
      walletId: 'wal_2',
    });
  });

  it('needs no wallet id: without one, the wallet is the one the token is bound to (GET /v1/session)', () => {
    expect(readMcpConfig([], { WAIAAS_SESSION_TOKEN: 'waiaas_ses_abc' })).toEqual({
      url: DEFAULT_DAEMON_URL,
      sessionToken: 'waiaas_ses_abc',
    });
  });

  it('takes the token from the environment only, never from the command line (it would show in ps)', () => {
    expect(() => readMcpConfig(['--token', 'waiaas_ses_abc'], { WAIAAS_WALLET_ID: 'wal_1' })).toThrow(
      /token/,
    );
    expect(() => readMcpConfig([], { WAIAAS_WALLET_ID: 'wal_1' })).toThrow(/WAIAAS_SESSION_TOKEN/);
    expect(() => readMcpConfig([], { ...env, WAIAAS_URL: 'ftp://x' })).toThrow(/http/);
    expect(() => readMcpConfig([], { ...env, WAIAAS_WALLET_ID: '../x' })).toThrow(/WAIAAS_WALLET_ID/);
  });

  it('without a token, `waiaas mcp` exits 2 saying what to set, and writes nothing to stdout', async () => {
    const command = runWaiaas(['mcp'], { WAIAAS_SESSION_TOKEN: '', WAIAAS_WALLET_ID: '' }, '');
    const { code } = await command.exited;
    expect(code).toBe(2);
    expect(command.stderr()).toContain('Set WAIAAS_SESSION_TOKEN');
    expect(command.stdout()).toBe('');
  });
});
