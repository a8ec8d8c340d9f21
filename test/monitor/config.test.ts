/** The monitor's thresholds: defaults, config.toml, the environment, and refusals that name the key. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, defaultConfigToml, loadConfig } from '../../src/daemon/config.ts';

const freshDir = () => mkdtempSync(join(tmpdir(), 'waiaas-monitor-config-'));

describe('monitor configuration', () => {
  it('has defaults, takes config.toml, and the environment wins', () => {
    const dataDir = freshDir();
    expect(loadConfig({ WAIAAS_DATA_DIR: dataDir }).monitor).toEqual({
      pollMs: 500,
      refusals: { count: 10, seconds: 300 },
      velocity: { percent: 50, seconds: 600 },
      outsideHours: { count: 3, seconds: 3600 },
      enclaveRestarts: { count: 3, seconds: 600 },
      chainCheckMs: 5_000,
    });
    writeFileSync(join(dataDir, 'config.toml'), 'monitor_refusals = 4\nmonitor_velocity_percent = 80\n');
    const fromFile = loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MONITOR_REFUSALS_SECONDS: '30' }).monitor;
    expect(fromFile.refusals).toEqual({ count: 4, seconds: 30 });
    expect(fromFile.velocity.percent).toBe(80);
    expect(
      loadConfig({ WAIAAS_DATA_DIR: dataDir, WAIAAS_MONITOR_REFUSALS: '0' }).monitor.refusals.count,
    ).toBe(0);
  });

  it('refuses values that make no sense, naming the key', () => {
    const refused = (env: Record<string, string>) => {
      try {
        loadConfig({ WAIAAS_DATA_DIR: freshDir(), ...env });
      } catch (error) {
        if (error instanceof ConfigError) return error.key;
      }
      return undefined;
    };
    expect(refused({ WAIAAS_MONITOR_REFUSALS: '-1' })).toBe('WAIAAS_MONITOR_REFUSALS');
    expect(refused({ WAIAAS_MONITOR_VELOCITY_PERCENT: '150' })).toBe('WAIAAS_MONITOR_VELOCITY_PERCENT');
    expect(refused({ WAIAAS_MONITOR_ENCLAVE_RESTARTS_SECONDS: '0' })).toBe(
      'WAIAAS_MONITOR_ENCLAVE_RESTARTS_SECONDS',
    );
    expect(refused({ WAIAAS_MONITOR_POLL_MS: 'soon' })).toBe('WAIAAS_MONITOR_POLL_MS');
  });

  it('documents every monitor key in the generated config.toml', () => {
    for (const key of [
      'monitor_refusals',
      'monitor_velocity_percent',
      'monitor_outside_hours',
      'monitor_enclave_restarts',
      'monitor_poll_ms',
      'monitor_chain_check_ms',
    ])
      expect(defaultConfigToml).toContain(`# ${key} =`);
  });
});
