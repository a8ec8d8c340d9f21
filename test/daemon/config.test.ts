import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, resolveRpcUrl, runsEmbeddedLocalnet } from '../../src/daemon/config.ts';

const freshDir = () => mkdtempSync(join(tmpdir(), 'waiaas-config-'));

const configError = (env: NodeJS.ProcessEnv): ConfigError => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const dataDir = freshDir();
    const config = loadConfig({ WAIAAS_DATA_DIR: dataDir });
    expect(config).toMatchObject({
      dataDir,
      port: 3100,
      host: '127.0.0.1',
      network: 'localnet',
      localnetPort: 8899,
      dbUrl: undefined,
      sqlitePath: join(dataDir, 'waiaas.sqlite'),
    });
    expect(runsEmbeddedLocalnet(config)).toBe(true);
    expect(resolveRpcUrl(config)).toBe('http://127.0.0.1:8899');
  });

  it('reads config.toml and lets the environment override it', () => {
    const dataDir = freshDir();
    writeFileSync(join(dataDir, 'config.toml'), 'port = 4000\nnetwork = "devnet"\nlocalnet_port = 9000\n');
    const fromFile = loadConfig({ WAIAAS_DATA_DIR: dataDir });
    expect(fromFile).toMatchObject({ port: 4000, network: 'devnet', localnetPort: 9000 });
    expect(runsEmbeddedLocalnet(fromFile)).toBe(false);
    expect(resolveRpcUrl(fromFile)).toBe('https://api.devnet.solana.com');

    const overridden = loadConfig({
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: '4100',
      WAIAAS_NETWORK: 'localnet',
    });
    expect(overridden).toMatchObject({ port: 4100, network: 'localnet', localnetPort: 9000 });
  });

  it('an explicit RPC URL on localnet means no embedded localnet', () => {
    const config = loadConfig({ WAIAAS_DATA_DIR: freshDir(), WAIAAS_RPC_URL: 'http://127.0.0.1:18899' });
    expect(runsEmbeddedLocalnet(config)).toBe(false);
    expect(resolveRpcUrl(config)).toBe('http://127.0.0.1:18899');
  });

  it.each([
    [
      { WAIAAS_PORT: 'abc' },
      'WAIAAS_PORT',
      /WAIAAS_PORT="abc" from environment: expected a port number 0-65535/,
    ],
    [{ WAIAAS_PORT: '70000' }, 'WAIAAS_PORT', /expected a port number 0-65535/],
    [{ WAIAAS_PORT: '80.5' }, 'WAIAAS_PORT', /expected a whole port number/],
    [{ WAIAAS_NETWORK: 'testnet' }, 'WAIAAS_NETWORK', /expected one of localnet, devnet, mainnet-beta/],
    [{ WAIAAS_RPC_URL: 'ftp://x' }, 'WAIAAS_RPC_URL', /expected an http:\/\/ or https:\/\/ URL/],
    [{ WAIAAS_DB_URL: 'mysql://root@h/db' }, 'WAIAAS_DB_URL', /expected a postgres:\/\//],
    [{ WAIAAS_LOCALNET_PORT: '-1' }, 'WAIAAS_LOCALNET_PORT', /expected a port number/],
    [{ WAIAAS_LOG_LEVEL: 'loud' }, 'WAIAAS_LOG_LEVEL', /expected one of fatal/],
  ])('refuses %j naming the key and what is allowed', (env, key, message) => {
    const error = configError({ WAIAAS_DATA_DIR: freshDir(), ...env });
    expect(error.key).toBe(key);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('never echoes a secret value in the error', () => {
    const error = configError({ WAIAAS_DATA_DIR: freshDir(), WAIAAS_DB_URL: 'mysql://root:hunter2@h/db' });
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('(hidden)');
  });

  it('names the file and key for a bad value or unknown key in config.toml', () => {
    const dataDir = freshDir();
    writeFileSync(join(dataDir, 'config.toml'), 'port = "many"\n');
    expect(configError({ WAIAAS_DATA_DIR: dataDir }).message).toMatch(/port="many" from .*config\.toml/);
    writeFileSync(join(dataDir, 'config.toml'), 'prot = 3000\n');
    expect(configError({ WAIAAS_DATA_DIR: dataDir }).message).toMatch(/unknown key "prot"/);
    writeFileSync(join(dataDir, 'config.toml'), 'port = = 3\n');
    expect(configError({ WAIAAS_DATA_DIR: dataDir }).message).toMatch(/not valid TOML/);
  });
});
