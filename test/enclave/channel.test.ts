/**
 * The enclave channel, attacked over the real socket: an instance started with the deployment's
 * channel key answers nothing (not a sign, not a halt, not a status) to a connection that has not
 * proven the key, and closes a connection that sends a wrong proof; a client with the key works.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:net';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { channelProof } from '../../src/enclave/channel.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import {
  encodeJsonFrame,
  encodeSignRequestFrame,
  FrameDecoder,
  jsonOps,
  RESPONSE_ERROR,
} from '../../src/enclave/protocol.ts';
import { listenUnix } from '../../src/enclave/server.ts';
import { createOwner, createTestVault, solPolicy, tempDir } from './helpers/fixtures.ts';

const KEY = randomBytes(32);

let enclave: AgentEnclave;
let server: Server;
let socketPath: string;
let walletId: string;

beforeAll(async () => {
  const { vault } = await createTestVault();
  enclave = AgentEnclave.create({ vault });
  socketPath = join(tempDir(), 'enclave.sock');
  server = await listenUnix(enclave, socketPath, { channelKey: KEY });
  // A wallet the attacker would like to sign for or halt.
  const owner = createOwner();
  const proven = new EnclaveClient({ socketPath, channelKey: KEY });
  walletId = 'wal_channel_target';
  await proven.createAgentKey(walletId, owner.publicKey, owner.publicKey);
  await proven.setPolicy(await owner.signPolicy(walletId, solPolicy({ recipients: { mode: 'any' } })));
  proven.close();
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
});

const refusal = async (call: Promise<unknown>) => {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return (error as { code?: string } | undefined)?.code;
};

it('a connection without the channel key is refused every request, a sign and a halt included', async () => {
  const stranger = new EnclaveClient({ socketPath });
  expect(await refusal(stranger.status([walletId]))).toBe('ENCLAVE_CHANNEL_REFUSED');
  expect(await refusal(stranger.halt(walletId, 'attack'))).toBe('ENCLAVE_CHANNEL_REFUSED');
  expect(await refusal(stranger.sign(walletId, randomBytes(200), { requestId: 'attack' }))).toBe(
    'ENCLAVE_CHANNEL_REFUSED',
  );
  expect(await refusal(stranger.createAgentKey('wal_other', walletId, walletId))).toBe(
    'ENCLAVE_CHANNEL_REFUSED',
  );
  stranger.close();
  // Nothing changed: the wallet is not halted.
  const proven = new EnclaveClient({ socketPath, channelKey: KEY });
  expect((await proven.status([walletId])).wallets[0]).toMatchObject({ walletId, halted: false });
  proven.close();
});

it('a wrong key is refused and the connection closed; the right one opens it', async () => {
  const wrong = new EnclaveClient({ socketPath, channelKey: randomBytes(32) });
  expect(await refusal(wrong.status([walletId]))).toBe('ENCLAVE_CHANNEL_REFUSED');
  wrong.close();
  const right = new EnclaveClient({ socketPath, channelKey: KEY });
  expect((await right.status([walletId])).wallets).toHaveLength(1);
  right.close();
});

it('a proof is good for the challenge it answers only: a replayed proof and a proof without a challenge are refused', async () => {
  const socket = connect(socketPath);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const decoder = new FrameDecoder();
  const answers: { kind: number; id: number; body: unknown }[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const event of decoder.push(chunk))
      if ('frame' in event)
        answers.push({
          kind: event.frame.kind,
          id: event.frame.id,
          body: JSON.parse(event.frame.payload.toString('utf8') || 'null'),
        });
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  // A proof made for a challenge this connection never got (e.g. recorded from another connection).
  const replayed = channelProof(KEY, randomBytes(32)).toString('base64');
  socket.write(encodeJsonFrame(jsonOps.HELLO.code, 1, { proof: replayed }));
  socket.write(encodeSignRequestFrame(2, { walletId, requestId: 'after', message: randomBytes(200) }));
  await closed;
  expect(answers[0]).toMatchObject({
    kind: RESPONSE_ERROR,
    id: 1,
    body: { code: 'ENCLAVE_CHANNEL_REFUSED' },
  });
  // The sign pipelined behind the bad proof got no signature.
  expect(answers.filter((answer) => answer.id === 2 && answer.kind !== RESPONSE_ERROR)).toEqual([]);
});
