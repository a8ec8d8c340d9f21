import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isWaiaasError } from '../../src/core/errors.ts';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import {
  decodeSignRequest,
  decodeSignResponse,
  encodeFrame,
  encodeJsonFrame,
  encodeSignRequestFrame,
  encodeSignResponseFrame,
  FrameDecoder,
  jsonOps,
  LENGTH_BYTES,
  MAX_FRAME_BYTES,
  Op,
  PROTOCOL_VERSION,
  RESPONSE_OK,
} from '../../src/enclave/protocol.ts';
import { listenUnix } from '../../src/enclave/server.ts';
import { createTestVault, tempDir } from './helpers/fixtures.ts';

describe('frame codec', () => {
  it('round-trips sign requests and responses', () => {
    const message = randomBytes(321);
    const frame = encodeSignRequestFrame(7, { walletId: 'wallet-ä', requestId: 'req-1', message });
    const [event] = new FrameDecoder().push(frame);
    if (!event || !('frame' in event)) throw new Error('no frame');
    expect(event.frame).toMatchObject({ version: PROTOCOL_VERSION, kind: Op.SIGN, id: 7 });
    const request = decodeSignRequest(event.frame.payload)!;
    expect(request.walletId).toBe('wallet-ä');
    expect(request.requestId).toBe('req-1');
    expect(Buffer.from(request.message).equals(message)).toBe(true);

    const response = encodeSignResponseFrame(7, {
      signature: randomBytes(64),
      publicKey: new Uint8Array(32).fill(1),
      tier: 'delay',
      repeated: false,
      actions: ['spendingLimitUse'],
      transfer: {
        route: 'spending-limit',
        asset: 'SOL',
        amount: 18_446_744_073_709_551_615n,
        destination: new Uint8Array(32).fill(2),
        recipient: 'recipient',
      },
    });
    const decoded = decodeSignResponse(response.subarray(LENGTH_BYTES + 6));
    expect(decoded).toMatchObject({
      tier: 'delay',
      repeated: false,
      actions: ['spendingLimitUse'],
      transfer: {
        route: 'spending-limit',
        asset: 'SOL',
        amount: 18_446_744_073_709_551_615n,
        recipient: 'recipient',
      },
    });
  });

  it('reassembles frames split at every byte and pipelined in one chunk', () => {
    const frames = [
      encodeFrame(Op.PING, 1),
      encodeSignRequestFrame(2, { walletId: 'w', requestId: 'r', message: randomBytes(50) }),
    ];
    const stream = Buffer.concat(frames);
    const decoder = new FrameDecoder();
    const ids: number[] = [];
    for (const byte of stream)
      for (const event of decoder.push(Buffer.from([byte]))) if ('frame' in event) ids.push(event.frame.id);
    expect(ids).toEqual([1, 2]);
    expect(new FrameDecoder().push(stream).map((event) => ('frame' in event ? event.frame.id : -1))).toEqual([
      1, 2,
    ]);
  });

  it('declares oversized and undersized lengths fatal', () => {
    const oversized = Buffer.alloc(4);
    oversized.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    expect(new FrameDecoder().push(oversized)).toEqual([{ fatal: 'frame larger than the maximum' }]);
    expect(new FrameDecoder().push(Buffer.from([0, 0, 0, 1, 0]))).toEqual([
      { fatal: 'frame shorter than its header' },
    ]);
    expect(decodeSignRequest(Buffer.from([5, 1]))).toBeUndefined();
  });
});

describe('client and server', () => {
  it('answers refusals with the enclave’s code and reconnects after the server comes back', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault });
    const socketPath = join(tempDir(), 'e.sock');
    let server = await listenUnix(enclave, socketPath);
    const client = new EnclaveClient({ socketPath, timeoutMs: 1_000 });
    await expect(client.sign('nobody', randomBytes(10), { requestId: 'x' })).rejects.toMatchObject({
      code: 'ENCLAVE_REFUSED',
      layer: 'enclave',
      details: { reason: 'UNKNOWN_WALLET' },
    });
    await expect(client.setPolicy({} as never)).rejects.toMatchObject({ code: 'ENCLAVE_REFUSED' });
    // Pipelined: many requests in flight on one connection, each answered under its own id.
    const answers = await Promise.all(Array.from({ length: 100 }, () => client.ping()));
    expect(answers).toHaveLength(100);

    const closed = new Promise((resolve) => server.close(resolve));
    client.disconnect();
    await closed;
    const down = await client.ping().catch((error: unknown) => error);
    expect(isWaiaasError(down, 'ENCLAVE_UNAVAILABLE')).toBe(true);
    server = await listenUnix(enclave, socketPath);
    await client.ping();
    const closedAgain = new Promise((resolve) => server.close(resolve));
    client.close();
    await closedAgain;
  });

  it('times a request out when the enclave does not answer', async () => {
    const { createServer } = await import('node:net');
    const socketPath = join(tempDir(), 'silent.sock');
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(socketPath, resolve));
    const client = new EnclaveClient({ socketPath, timeoutMs: 100 });
    const started = Date.now();
    await expect(client.ping()).rejects.toMatchObject({
      code: 'ENCLAVE_UNAVAILABLE',
      details: { reason: 'timed out' },
    });
    expect(Date.now() - started).toBeLessThan(2_000);
    client.close();
    silent.close();
  });

  it('checks every JSON answer against the op table: a wrong shape is a protocol error, not data', async () => {
    const { createServer } = await import('node:net');
    const socketPath = join(tempDir(), 'liar.sock');
    // Answers every request OK with a payload of the wrong shape.
    const liar = createServer((socket) => {
      const decoder = new FrameDecoder();
      socket.on('data', (chunk) => {
        for (const event of decoder.push(chunk))
          if ('frame' in event) socket.write(encodeJsonFrame(RESPONSE_OK, event.frame.id, { walletId: 7 }));
      });
    });
    await new Promise<void>((resolve) => liar.listen(socketPath, resolve));
    const client = new EnclaveClient({ socketPath, timeoutMs: 2_000 });
    await expect(client.usage('w')).rejects.toMatchObject({
      code: 'ENCLAVE_PROTOCOL_ERROR',
      details: { reason: 'answer does not match the op table', op: 'USAGE' },
    });
    await expect(client.halt('w')).rejects.toMatchObject({ code: 'ENCLAVE_PROTOCOL_ERROR' });
    client.close();
    liar.close();
  });

  it('refuses arguments outside the op table before the enclave acts', async () => {
    const { vault } = await createTestVault();
    const enclave = AgentEnclave.create({ vault });
    const socketPath = join(tempDir(), 'enclave.sock');
    const server = await listenUnix(enclave, socketPath);
    const client = new EnclaveClient({ socketPath });
    await expect(
      client.call('RECOVER', { wallets: [{ walletId: 'w', keys: [], checkpoint: 'not base64!' }] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(client.call('HALT', { walletId: 5 } as never)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(new Set(Object.values(jsonOps).map((op) => op.code)).size).toBe(Object.keys(jsonOps).length);
    client.close();
    await new Promise((resolve) => server.close(resolve));
  });
});
