/**
 * The enclave as its own process under the supervisor: killed mid-run, calls fail with 503
 * ENCLAVE_UNAVAILABLE, it comes back with the same agent keys and its spent-today counters; garbage
 * on its socket never stops it.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { verifyAttestation } from '../../src/attestation/index.ts';
import { isWaiaasError } from '../../src/core/errors.ts';
import type { EnclaveClient } from '../../src/daemon/enclave-client.ts';
import { EnclaveSupervisor } from '../../src/daemon/enclave-supervisor.ts';
import type { SealedAgentKey } from '../../src/enclave/agent-keys.ts';
import { DEV_ROOT_FILE } from '../../src/enclave/attestation/index.ts';
import { attestationUserData } from '../../src/enclave/attestation-statement.ts';
import {
  encodeFrame,
  encodeSignRequestFrame,
  FrameDecoder,
  HEADER_BYTES,
  Op,
  RESPONSE_ERROR,
} from '../../src/enclave/protocol.ts';
import { describeWithSquads, squadsBinaryPath } from '../support/squads-binary.ts';
import { solPolicy, tempDir } from './helpers/fixtures.ts';
import { type HarnessWallet, L2Harness } from './helpers/l2-harness.ts';

const so = squadsBinaryPath;

/** Sends raw bytes on a fresh connection; resolves with the frames answered until it closes or goes quiet. */
const sendRaw = (socketPath: string, bytes: Buffer, quietMs = 300) =>
  new Promise<{ kinds: number[]; ids: number[]; closed: boolean }>((resolve) => {
    const socket = connect(socketPath);
    const decoder = new FrameDecoder();
    const kinds: number[] = [];
    const ids: number[] = [];
    let timer = setTimeout(() => finish(false), quietMs * 3);
    const finish = (closed: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ kinds, ids, closed });
    };
    socket.on('connect', () => socket.write(bytes));
    socket.on('data', (chunk) => {
      for (const event of decoder.push(chunk)) {
        if ('frame' in event) {
          kinds.push(event.frame.kind);
          ids.push(event.frame.id);
        }
      }
      clearTimeout(timer);
      timer = setTimeout(() => finish(false), quietMs);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
  });

describeWithSquads('the enclave process under its supervisor', () => {
  const dir = tempDir();
  const socketPath = join(dir, 'enclave.sock');
  const sealedKeys: SealedAgentKey[] = [];
  let supervisor: EnclaveSupervisor;
  let h: L2Harness;
  let wallet: HarnessWallet;
  const alice = Keypair.generate().publicKey;
  const log: string[] = [];
  const attested: string[] = [];

  /** What the daemon does before using a (re)started enclave: check its attestation. */
  const verifyEnclave = async (client: EnclaveClient) => {
    const nonce = randomBytes(16);
    const { document, statement } = await client.attest({ nonce });
    const root = readFileSync(join(dir, 'state', 'dev-attestation', DEV_ROOT_FILE), 'utf8');
    const verified = verifyAttestation(document, { root, expectedNonce: nonce, at: 'document' });
    if (!Buffer.from(verified.userData!).equals(Buffer.from(attestationUserData(statement)))) {
      throw new Error('user_data does not commit to the statement');
    }
    attested.push(statement);
  };

  beforeAll(async () => {
    supervisor = new EnclaveSupervisor({
      socketPath,
      stateDir: join(dir, 'state'),
      attestation: 'dev',
      sealedKeys: async () => sealedKeys,
      verify: verifyEnclave,
      backoff: { initialMs: 50 },
      requestTimeoutMs: 3_000,
      log: (line) => log.push(line),
    });
    await supervisor.start();
    const client = supervisor.client;
    h = new L2Harness(so!, {
      createAgentKey: async (walletId, owner, address) => {
        const sealed = await client.createAgentKey(walletId, owner, address);
        sealedKeys.push(sealed); // what the daemon stores in its database
        return sealed;
      },
      setPolicy: (bundle) => client.setPolicy(bundle),
      sign: (walletId, message, context) => client.sign(walletId, message, context),
      usage: (walletId) => client.usage(walletId),
    });
    wallet = await h.wallet(solPolicy({ recipients: { mode: 'allowlist', addresses: [alice.toBase58()] } }));
  }, 60_000);

  afterAll(async () => {
    await supervisor?.stop();
  });

  it('listens on a socket only its user can open', () => {
    expect(statSync(socketPath).mode & 0o777).toBe(0o600);
  });

  it('survives garbage, oversized, unknown and malformed frames', async () => {
    const pid = supervisor.status().pid;
    for (let round = 0; round < 20; round++)
      await sendRaw(socketPath, randomBytes(1 + ((round * 97) % 4000)), 50);
    const oversized = Buffer.alloc(8);
    oversized.writeUInt32BE(64 * 1024 * 1024, 0);
    expect(await sendRaw(socketPath, oversized)).toMatchObject({ kinds: [RESPONSE_ERROR], closed: true });
    const tooShort = Buffer.from([0, 0, 0, HEADER_BYTES - 1, 1, 1, 0, 0, 0]);
    expect(await sendRaw(socketPath, tooShort)).toMatchObject({ kinds: [RESPONSE_ERROR], closed: true });
    const unknownOp = encodeFrame(0x7e, 11);
    const wrongVersion = encodeFrame(Op.PING, 12);
    wrongVersion[4] = 99;
    const badSign = encodeFrame(Op.SIGN, 13, Buffer.from([200]));
    const badJson = encodeFrame(Op.SET_POLICY, 14, Buffer.from('{not json'));
    const ping = encodeFrame(Op.PING, 15);
    const answers = await sendRaw(
      socketPath,
      Buffer.concat([unknownOp, wrongVersion, badSign, badJson, ping]),
    );
    expect(answers.ids).toEqual([11, 12, 13, 14, 15]);
    expect(answers.kinds).toEqual([RESPONSE_ERROR, RESPONSE_ERROR, RESPONSE_ERROR, RESPONSE_ERROR, 0x80]);
    const garbageMessage = encodeSignRequestFrame(16, {
      walletId: wallet.walletId,
      requestId: 'g',
      message: randomBytes(300),
    });
    expect((await sendRaw(socketPath, garbageMessage)).kinds).toEqual([RESPONSE_ERROR]);
    await supervisor.client.ping();
    expect(supervisor.status()).toMatchObject({ state: 'up', pid, restarts: 0 });
  });

  it('killed mid-run: 503 while down, then the same keys and the same spent-today', async () => {
    const spend = (amount: bigint, requestId: string) =>
      h.signAndSend(wallet, h.chain.message([h.spendingLimitUse(wallet, amount, alice)]), requestId);
    for (let index = 0; index < 4; index++)
      expect((await spend(500_000_000n, `before-${index}`)).sent.ok).toBe(true);
    const keysBefore = (await supervisor.client.status()).wallets;
    const pidBefore = supervisor.status().pid!;

    process.kill(pidBefore, 'SIGKILL');
    const failure = await spend(1_000n, 'while-down').then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isWaiaasError(failure, 'ENCLAVE_UNAVAILABLE')).toBe(true);
    expect((failure as { status: number }).status).toBe(503);
    if (supervisor.status().state === 'up') await new Promise((resolve) => supervisor.once('down', resolve));
    await expect(supervisor.use((client) => client.ping())).rejects.toMatchObject({
      code: 'ENCLAVE_UNAVAILABLE',
    });

    await supervisor.waitUntilUp(30_000);
    expect(supervisor.status()).toMatchObject({ state: 'up', restarts: 1 });
    expect(supervisor.status().pid).not.toBe(pidBefore);
    expect((await supervisor.client.status()).wallets).toEqual(keysBefore);
    // Attested again after the restart, before first use, and the document names the same agent key.
    expect(attested).toHaveLength(2);
    expect(attested[1]).toContain(wallet.sealed.publicKey);
    expect((await supervisor.client.usage(wallet.walletId)).spent['SOL']).toBe('2000000000');

    // 2 SOL spent before the crash; 6 × 0.5 SOL more reaches the 5 SOL daily cap, the next is refused.
    for (let index = 0; index < 6; index++)
      expect((await spend(500_000_000n, `after-${index}`)).sent.ok).toBe(true);
    await expect(spend(1n, 'over')).rejects.toMatchObject({ code: 'POLICY_DAILY_LIMIT', layer: 'enclave' });
    expect(log.some((line) => line.includes('restarting'))).toBe(true);
  }, 60_000);
});
