/**
 * The enclave on vsock (Nitro), through socat on both ends (src/enclave/vsock-bridge.ts): the enclave
 * listens on its Unix socket and bridges a vsock port to it; the parent bridges the daemon's Unix
 * socket to that port; the daemon speaks the same protocol as in process mode. Over real vsock where
 * this machine carries vsock loopback (CID 1), and always with TCP standing in for the vsock hop.
 */
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterEach, describe, expect, it } from 'vitest';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import {
  enclaveBridgeCommand,
  parentBridgeCommand,
  socatCommand,
  unixConnectAddress,
  unixListenAddress,
} from '../../src/enclave/vsock-bridge.ts';
import {
  type Bridge,
  type EnclaveProcess,
  socatInstalled,
  startEnclaveProcess,
  startSocat,
  vsockLoopbackWorks,
} from './helpers/enclave-process.ts';
import { tempDir } from './helpers/fixtures.ts';

const VSOCK_PORT = 15_000 + Math.floor(Math.random() * 10_000);
const loopback = vsockLoopbackWorks(VSOCK_PORT + 1);
if (!loopback.works)
  console.warn(`SKIPPED: the enclave over real vsock: no vsock loopback here: ${loopback.why}`);
const socat = socatInstalled();
if (!socat) console.warn('SKIPPED: the socat bridges: socat is not installed');

const freeTcpPort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

describe('the vsock bridge', () => {
  const running: (EnclaveProcess | Bridge | EnclaveClient)[] = [];
  afterEach(async () => {
    for (const item of running.splice(0).reverse()) {
      if (item instanceof EnclaveClient) item.close();
      else if ('kill' in item) await item.kill();
      else await item.stop();
    }
  });

  /** The daemon's side: the same client as in process mode, on the parent's bridged socket. */
  const useEnclave = async (socketPath: string) => {
    const client = new EnclaveClient({ socketPath, timeoutMs: 10_000 });
    running.push(client);
    await expect
      .poll(
        () =>
          client.ping().then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 30_000 },
      )
      .toBe('up');
    const sealed = await client.createAgentKey(
      'wallet-over-vsock',
      Keypair.generate().publicKey.toBase58(),
      Keypair.generate().publicKey.toBase58(),
    );
    expect((await client.status()).wallets).toEqual([
      expect.objectContaining({ walletId: 'wallet-over-vsock', agentKeys: [sealed.publicKey] }),
    ]);
    return client;
  };

  it('names the socat commands of both ends', () => {
    expect(enclaveBridgeCommand(5000, '/run/waiaas/enclave.sock')).toEqual([
      'socat',
      'VSOCK-LISTEN:5000,fork,reuseaddr',
      'UNIX-CONNECT:/run/waiaas/enclave.sock',
    ]);
    expect(parentBridgeCommand('/var/lib/waiaas/enclave/enclave.sock', 16, 5000)).toEqual([
      'socat',
      'UNIX-LISTEN:/var/lib/waiaas/enclave/enclave.sock,fork,unlink-early,umask=0177',
      'VSOCK-CONNECT:16:5000',
    ]);
  });

  it.skipIf(!loopback.works)('serves the protocol over real vsock loopback (--vsock)', async () => {
    const dir = tempDir();
    running.push(
      await startEnclaveProcess(['--vsock', String(VSOCK_PORT), '--state-dir', join(dir, 'enclave')]),
    );
    const socketPath = join(dir, 'daemon.sock');
    running.push(startSocat(parentBridgeCommand(socketPath, 1, VSOCK_PORT)));
    await useEnclave(socketPath);
  });

  it.skipIf(!socat)(
    'serves the protocol through both bridges with TCP standing in for vsock, and a lost enclave closes the connection',
    async () => {
      const dir = tempDir();
      const enclaveSocket = join(dir, 'enclave', 'enclave.sock');
      const enclave = await startEnclaveProcess([
        '--socket',
        enclaveSocket,
        '--state-dir',
        join(dir, 'enclave'),
      ]);
      running.push(enclave);
      const port = await freeTcpPort();
      running.push(
        startSocat(
          socatCommand(`TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, unixConnectAddress(enclaveSocket)),
        ),
      );
      const parentSocket = join(dir, 'daemon.sock');
      running.push(
        startSocat(socatCommand(unixListenAddress(parentSocket), `TCP-CONNECT:127.0.0.1:${port}`)),
      );
      const client = await useEnclave(parentSocket);
      expect(statSync(parentSocket).mode & 0o777).toBe(0o600);

      let lost = 0;
      client.setOnConnectionLost(() => {
        lost++;
      });
      await enclave.kill();
      await expect.poll(() => lost, { timeout: 10_000 }).toBe(1);
      await expect(client.ping()).rejects.toMatchObject({ code: 'ENCLAVE_UNAVAILABLE' });
    },
  );
});
