import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePortPair, type RunningCommand, runWaiaas } from '../support/processes.ts';

const running: RunningCommand[] = [];
afterAll(async () => {
  await Promise.all(running.map((command) => command.stop('SIGKILL')));
});

const pidsMatching = (pattern: string): number[] => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
};

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a daemon that dies hard', () => {
  it('takes its enclave (agent keys in memory) and its localnet with it', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-orphans-')), 'data');
    const command = runWaiaas(['start'], {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
      WAIAAS_LOG_LEVEL: 'warn',
    });
    running.push(command);
    await command.waitForOutput(/data directory/, 120_000);
    const enclaves = pidsMatching(`${dataDir}/enclave/enclave.sock`);
    const localnets = pidsMatching(`localnet --port`).filter((pid) => {
      try {
        return (
          execFileSync('ps', ['-o', 'ppid=', '-p', String(pid)], { encoding: 'utf8' }).trim() ===
          String(command.child.pid)
        );
      } catch {
        return false;
      }
    });
    expect(enclaves).toHaveLength(1);
    expect(localnets).toHaveLength(1);

    await command.stop('SIGKILL');
    const deadline = Date.now() + 10_000;
    while ([...enclaves, ...localnets].some(alive) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(enclaves.filter(alive)).toEqual([]);
    expect(localnets.filter(alive)).toEqual([]);
  }, 180_000);
});
