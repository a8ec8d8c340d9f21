import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, PublicKey } from '@solana/web3.js';
import { afterAll, describe, expect, it } from 'vitest';
import { isWaiaasError, type WaiaasError } from '../../src/core/errors.ts';
import { SQUADS_PROGRAM_ID, SQUADS_V4_SHA256, startLocalnet } from '../../src/localnet/index.ts';
import { sha256Hex } from '../../src/localnet/squads-program.ts';

const temporaryDirs: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporaryDirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

describe('ports', () => {
  it('serves the websocket on the RPC port + 1, and refuses a port in use with one clear error', async () => {
    const localnet = await startLocalnet({ dataDir: tempDir('waiaas-localnet-binary-'), port: 0, env: {} });
    try {
      expect(localnet.wsPort).toBe(localnet.rpcPort + 1);
      expect(localnet.wsUrl).toBe(`ws://127.0.0.1:${localnet.rpcPort + 1}`);
      const clash = await startLocalnet({
        dataDir: tempDir('waiaas-localnet-binary-'),
        port: localnet.rpcPort,
        env: {},
      }).catch((e: unknown) => e);
      expect(isWaiaasError(clash, 'PORT_IN_USE')).toBe(true);
      expect((clash as Error).message).toBe(
        `Localnet cannot listen on 127.0.0.1:${localnet.rpcPort}: the port is in use.`,
      );
      // The first localnet is unaffected.
      expect(await (await fetch(`${localnet.rpcUrl}/health`)).text()).toBe('ok');
    } finally {
      await localnet.close();
    }
  });
});

describe('loading the Squads binary', () => {
  it('refuses a binary with another hash with one error naming the file and both hashes', async () => {
    const impostor = join(tempDir('waiaas-localnet-binary-'), 'squads_v4.so');
    const bytes = Buffer.from('\x7fELF not the squads program');
    writeFileSync(impostor, bytes);
    for (const options of [{ squadsProgramPath: impostor }, { env: { WAIAAS_SQUADS_SO: impostor } }]) {
      const error = await startLocalnet({
        dataDir: tempDir('waiaas-localnet-binary-'),
        port: 0,
        ...options,
      }).catch((e: unknown) => e);
      expect(isWaiaasError(error, 'PROGRAM_HASH_MISMATCH')).toBe(true);
      const { message, details } = error as WaiaasError;
      expect(message.split('\n')).toHaveLength(1);
      expect(message).toContain(impostor);
      expect(message).toContain(sha256Hex(bytes));
      expect(message).toContain(SQUADS_V4_SHA256);
      expect(details).toEqual({
        path: impostor,
        expectedSha256: SQUADS_V4_SHA256,
        actualSha256: sha256Hex(bytes),
      });
    }
  });

  it('starts without the binary, reporting it missing with the fix in one sentence', async () => {
    const absent = join(tempDir('waiaas-localnet-binary-'), 'nowhere', 'squads_v4.so');
    const localnet = await startLocalnet({
      dataDir: tempDir('waiaas-localnet-binary-'),
      port: 0,
      env: { WAIAAS_SQUADS_SO: absent },
    });
    try {
      expect(localnet.squads).toEqual({
        status: 'missing',
        path: absent,
        fix: `Squads v4 program missing at ${absent}: run \`waiaas programs fetch --rpc https://api.mainnet-beta.solana.com\` or set WAIAAS_SQUADS_SO to the binary's path.`,
      });
      const connection = new Connection(localnet.rpcUrl);
      expect(await connection.getAccountInfo(new PublicKey(SQUADS_PROGRAM_ID))).toBeNull();
      expect(await (await fetch(`${localnet.rpcUrl}/health`)).text()).toBe('ok');
    } finally {
      await localnet.close();
    }
  });
});
