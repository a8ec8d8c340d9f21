import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hashToken } from '../../src/core/tokens.ts';
import { findActiveOperatorTokenByHash, openStore } from '../../src/store/index.ts';
import { runWaiaas } from '../support/processes.ts';

async function init(env: NodeJS.ProcessEnv) {
  const command = runWaiaas(['init'], env);
  const { code } = await command.exited;
  return { code, stdout: command.stdout(), stderr: command.stderr() };
}

describe('waiaas init', () => {
  it('creates an owner-only data directory and prints the operator token exactly once', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-init-')), 'nested', 'data');
    const first = await init({ WAIAAS_DATA_DIR: dataDir });
    expect(first.code).toBe(0);
    const token = /operator token\s+(waiaas_op_\S+)/.exec(first.stdout)?.[1];
    expect(token).toBeDefined();
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(dataDir, 'config.toml'), 'utf8')).toContain('# port = 3100');

    const second = await init({ WAIAAS_DATA_DIR: dataDir });
    expect(second.code).toBe(0);
    expect(second.stdout).not.toContain(token!);
    expect(second.stdout).toContain('already issued');

    const store = await openStore({ sqlitePath: join(dataDir, 'waiaas.sqlite') });
    try {
      expect(await findActiveOperatorTokenByHash(store.db, hashToken(token!))).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('takes the operator token from WAIAAS_MASTER_TOKEN for automated set-ups and never prints it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-init-env-'));
    const masterToken = 'automation-token-0123456789abcdef0123456789';
    const result = await init({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MASTER_TOKEN: masterToken });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(masterToken);
    expect(result.stdout).toContain('taken from WAIAAS_MASTER_TOKEN');
    const store = await openStore({ sqlitePath: join(dataDir, 'waiaas.sqlite') });
    try {
      expect(await findActiveOperatorTokenByHash(store.db, hashToken(masterToken))).toBeDefined();
    } finally {
      await store.close();
    }
  });
});
