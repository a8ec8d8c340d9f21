import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Localnet, startLocalnet } from '../../src/localnet/index.ts';
import { SQUADS_V4_SHA256 } from '../../src/localnet/squads-program.ts';
import { runWaiaas } from '../support/processes.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';

describeWithSquads('waiaas programs fetch', () => {
  let localnet: Localnet;
  beforeAll(async () => {
    localnet = await startLocalnet({
      dataDir: mkdtempSync(join(tmpdir(), 'waiaas-fetch-')),
      port: 0,
      squadsProgramPath: squadsBinaryPath!,
    });
  });
  afterAll(async () => {
    await localnet?.close();
  });

  it('dumps the Squads program from a cluster over JSON-RPC and pins its hash', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'waiaas-fetched-')), 'squads_v4.so');
    const command = runWaiaas(['programs', 'fetch', '--rpc', localnet.rpcUrl, '--out', out, '--json'], {});
    const { code } = await command.exited;
    expect(command.stderr()).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(command.stdout())).toMatchObject({ path: out, sha256: SQUADS_V4_SHA256 });
    expect(createHash('sha256').update(readFileSync(out)).digest('hex')).toBe(SQUADS_V4_SHA256);
  });

  it('writes nothing when the cluster has no Squads program', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'waiaas-fetched-')), 'squads_v4.so');
    const empty = await startLocalnet({
      dataDir: mkdtempSync(join(tmpdir(), 'waiaas-empty-')),
      port: 0,
      squadsProgramPath: join(tmpdir(), 'no-such-squads.so'),
    });
    try {
      const command = runWaiaas(['programs', 'fetch', '--rpc', empty.rpcUrl, '--out', out], {});
      const { code } = await command.exited;
      expect(code).not.toBe(0);
      expect(command.stderr().trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    } finally {
      await empty.close();
    }
  });
});
