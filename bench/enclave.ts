/**
 * Enclave signing speed: a sign round trip over the Unix socket to the enclave process (which parses
 * the Solana message, runs L2 with its counters, journals the spend and signs), sequential and
 * pipelined on one connection, next to bare node:crypto Ed25519 signing and the enclave's own sign
 * path in-process, all measured in this run. Also the enclave's RSS with 1,000 agent keys and right
 * after it opened a keystore of the default (64 MiB argon2id) cost, next to a bare `node -e`.
 * DESIGN.md §9 target: round trip ≤ 3× a raw signature; enclave ≤ 64 MB RSS with 1,000 agent keys.
 *
 *   node --import tsx bench/enclave.ts            the enclave as the daemon runs it (bundled, plain node)
 *   node --import tsx bench/enclave.ts --source   the enclave from source through tsx, for comparison
 *   node --import tsx bench/enclave.ts --quick    fewer signatures and keys (proves it runs)
 *   node --import tsx bench/enclave.ts --json FILE   also write the figures (bench/all.ts)
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair, PublicKey, TransactionMessage, VersionedTransaction } from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import { type PolicyBundle, type PolicyDocument, signPolicyBundle } from '../src/core/policy.ts';
import type { EnclaveClient } from '../src/daemon/enclave-client.ts';
import { EnclaveSupervisor, sourceEnclaveCommand } from '../src/daemon/enclave-supervisor.ts';
import type { SealedAgentKey } from '../src/enclave/agent-keys.ts';
import { AgentEnclave } from '../src/enclave/enclave.ts';
import { openLocalVault, provisionLocalVault } from '../src/keys/vault/local-vault.ts';
import { spendingLimitAddress } from '../src/solana/inspect/pda.ts';
import { writeFigures } from './support/load.ts';

const QUICK = process.argv.includes('--quick');
const SEQUENTIAL = QUICK ? 500 : 5_000;
const PIPELINED = QUICK ? 2_000 : 20_000;
const IN_FLIGHT = 32;
const KEYS_FOR_MEMORY = QUICK ? 100 : 1_000;
const FROM_SOURCE = process.argv.includes('--source');
const JSON_PATH = process.argv.includes('--json')
  ? process.argv[process.argv.indexOf('--json') + 1]
  : undefined;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

interface Row {
  name: string;
  p50?: number;
  p99?: number;
  perSecond: number;
}

const owner = (() => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = new PublicKey(publicKey.export({ format: 'der', type: 'spki' }).subarray(12)).toBase58();
  return {
    publicKey: raw,
    signer: {
      publicKey: async () => raw,
      sign: async (message: Uint8Array) => new Uint8Array(sign(null, message, privateKey)),
    },
  };
})();

const big = '1000000000000000';
const policy: PolicyDocument = {
  version: 1,
  assets: {
    SOL: {
      perTransaction: big,
      daily: big,
      tiers: { instantMax: big, notifyMax: big, delayMax: big, delaySeconds: 0 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 1_000_000 },
  approvalTimeoutSeconds: 3600,
};

/** Distinct spendingLimitUse messages (each amount differs, so none is a repeat the enclave would not count). */
const messageFactory = (agent: PublicKey, multisigPda: PublicKey) => {
  const build = (amount: number) =>
    Buffer.from(
      new VersionedTransaction(
        new TransactionMessage({
          payerKey: new PublicKey(new Uint8Array(32).fill(7)),
          recentBlockhash: new PublicKey(new Uint8Array(32).fill(9)).toBase58(),
          instructions: [
            multisig.instructions.spendingLimitUse({
              multisigPda,
              member: agent,
              spendingLimit: new PublicKey(spendingLimitAddress(multisigPda.toBytes(), 'SOL')),
              vaultIndex: 0,
              amount,
              decimals: 9,
              destination: new PublicKey(new Uint8Array(32).fill(3)),
            }),
          ],
        }).compileToV0Message(),
      ).message.serialize(),
    );
  const template = build(0x01010101);
  const other = build(0x02020202);
  const offset = template.findIndex((byte, index) => byte !== other[index]);
  return (amount: number): Buffer => {
    const bytes = Buffer.from(template);
    bytes.writeBigUInt64LE(BigInt(amount), offset);
    return bytes;
  };
};

const measureSequential = async (
  name: string,
  count: number,
  run: (index: number) => unknown,
): Promise<Row> => {
  for (let index = 0; index < 200; index++) await run(count + index);
  const samples: number[] = new Array(count);
  const started = performance.now();
  for (let index = 0; index < count; index++) {
    const begin = performance.now();
    await run(index);
    samples[index] = performance.now() - begin;
  }
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: (count / elapsed) * 1000,
  };
};

const measurePipelined = async (
  name: string,
  count: number,
  inFlight: number,
  run: (index: number) => Promise<unknown>,
) => {
  const samples: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) {
        const index = next++;
        const begin = performance.now();
        await run(index);
        samples.push(performance.now() - begin);
      }
    }),
  );
  const elapsed = performance.now() - started;
  samples.sort((a, b) => a - b);
  return {
    name,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    perSecond: (count / elapsed) * 1000,
  };
};

/**
 * The floor for any out-of-process signer on this machine: a bare Node process that signs each
 * length-prefixed request on a Unix socket and answers with the signature, nothing else (no parsing,
 * no policy, no journal). Returns a `sign(message)` over one connection, and a stop function.
 */
const BARE_SIGNER = `
const net = require('node:net'); const crypto = require('node:crypto');
const { privateKey } = crypto.generateKeyPairSync('ed25519');
const server = net.createServer((socket) => {
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    const out = [];
    while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
      const length = pending.readUInt32BE(0);
      out.push(crypto.sign(null, pending.subarray(4, 4 + length), privateKey));
      pending = pending.subarray(4 + length);
    }
    if (out.length) socket.write(out.length === 1 ? out[0] : Buffer.concat(out));
  });
});
server.listen(process.argv[1], () => process.stdout.write('ready\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

const startBareSigner = async (socketPath: string) => {
  const child = spawn(process.execPath, ['-e', BARE_SIGNER, socketPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const socket = connect(socketPath);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const waiting: ((signature: Buffer) => void)[] = [];
  let buffered: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
    while (buffered.length >= 64) {
      waiting.shift()?.(buffered.subarray(0, 64));
      buffered = buffered.subarray(64);
    }
  });
  return {
    sign: (message: Buffer) =>
      new Promise<Buffer>((resolve) => {
        waiting.push(resolve);
        const frame = Buffer.allocUnsafe(4 + message.length);
        frame.writeUInt32BE(message.length, 0);
        message.copy(frame, 4);
        socket.write(frame);
      }),
    stop: () => {
      socket.destroy();
      child.kill('SIGTERM');
    },
  };
};

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) / 1024 : Number.NaN;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** RSS of a bare `node -e` that does nothing, in this run: the floor any Node process starts from. */
const bareNodeRssMb = async (): Promise<number> => {
  const child = spawn(
    process.execPath,
    ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 1000)'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  await sleep(500);
  const rss = rssMb(child.pid!);
  child.kill('SIGTERM');
  return rss;
};

/** What the daemon keeps of the wallets it set up, and hands back after every (re)start. */
interface Stored {
  readonly sealed: SealedAgentKey[];
  readonly policies: PolicyBundle[];
}

const enclaveSupervisor = (
  dir: string,
  name: string,
  stored: Stored = { sealed: [], policies: [] },
  legacy?: { keystorePath: string; passphrase: string },
) =>
  new EnclaveSupervisor({
    socketPath: join(dir, `${name}.sock`),
    stateDir: join(dir, name),
    // The enclave keeps its own vault key in its state dir; a legacy keystore is opened only to migrate.
    ...(legacy
      ? { enclaveArgs: ['--legacy-vault-keystore', legacy.keystorePath], stdinLine: () => legacy.passphrase }
      : {}),
    // As the daemon runs it: with the development attestation provider, asked for a document at
    // every start, and given back its sealed keys and policies.
    attestation: 'dev',
    sealedKeys: async () => stored.sealed,
    policies: async () => stored.policies,
    verify: async (client) => {
      await client.attest({ nonce: randomBytes(32) });
    },
    backoff: { initialMs: 10 },
    requestTimeoutMs: 30_000,
    ...(FROM_SOURCE ? { command: sourceEnclaveCommand() } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });

const setUpWallet = async (
  client: Pick<EnclaveClient, 'createAgentKey' | 'setPolicy'> | AgentEnclave,
  walletId: string,
  stored?: Stored,
) => {
  const multisigPda = Keypair.generate().publicKey;
  const sealed: SealedAgentKey = await client.createAgentKey(
    walletId,
    owner.publicKey,
    multisigPda.toBase58(),
  );
  const bundle = await signPolicyBundle(walletId, policy, owner.signer);
  await client.setPolicy(bundle);
  stored?.sealed.push(sealed);
  stored?.policies.push(bundle);
  return { sealed, message: messageFactory(new PublicKey(sealed.publicKey), multisigPda) };
};

const main = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'waiaas-bench-enclave-'));
  const keystorePath = join(dir, 'vault.keystore');
  const passphrase = 'bench passphrase, not secret';
  const vaultConfig = await provisionLocalVault({ keystorePath, passphrase }, { insecureKdfForTests: true });
  const rows: Row[] = [];

  // Bare baseline: node:crypto Ed25519 over a message of the same size.
  const { privateKey } = generateKeyPairSync('ed25519');
  const sample = messageFactory(Keypair.generate().publicKey, Keypair.generate().publicKey)(1);
  const raw = await measureSequential('raw node:crypto ed25519 sign', SEQUENTIAL * 4, () =>
    sign(null, sample, privateKey),
  );
  rows.push(raw);

  // Bare parts: a process that only signs what arrives on its socket.
  const bare = await startBareSigner(join(dir, 'bare.sock'));
  rows.push(await measureSequential('bare socket + sign, sequential', SEQUENTIAL, () => bare.sign(sample)));
  rows.push(
    await measurePipelined(`bare socket + sign, pipelined (${IN_FLIGHT})`, PIPELINED, IN_FLIGHT, () =>
      bare.sign(sample),
    ),
  );
  bare.stop();

  // The enclave's sign path without transport (parse, L2, journal in memory, sign).
  const vault = await openLocalVault(vaultConfig, passphrase);
  const local = AgentEnclave.create({ vault });
  const localWallet = await setUpWallet(local, 'bench-local');
  rows.push(
    await measureSequential('enclave.sign in-process (no socket)', SEQUENTIAL * 2, (index) =>
      local.sign('bench-local', localWallet.message(1 + index), { requestId: 'r' }),
    ),
  );

  // The real thing: the enclave process behind its Unix socket, with its journal in a state dir.
  const bareRss = await bareNodeRssMb();
  const stored: Stored = { sealed: [], policies: [] };
  const supervisor = enclaveSupervisor(dir, 'state', stored);
  await supervisor.start();
  const client = supervisor.client;
  const wallet = await setUpWallet(client, 'bench-socket', stored);
  await sleep(500);
  const rssIdle = rssMb(supervisor.status().pid!);
  let amount = 1_000_000;
  rows.push(
    await measureSequential('socket round trip, sequential', SEQUENTIAL, () =>
      client.sign('bench-socket', wallet.message(amount++), { requestId: 'r' }),
    ),
  );
  rows.push(
    await measurePipelined(`socket, pipelined (${IN_FLIGHT} in flight)`, PIPELINED, IN_FLIGHT, () =>
      client.sign('bench-socket', wallet.message(amount++), { requestId: 'r' }),
    ),
  );

  const pid = supervisor.status().pid!;
  const rssSigned = rssMb(pid);
  await sleep(1_000);
  const rssSignedLater = rssMb(pid);
  for (let index = 0; index < KEYS_FOR_MEMORY; index += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, offset) => setUpWallet(client, `mem-${index + offset}`, stored)),
    );
  }
  const rssKeys = rssMb(pid);
  await sleep(1_000);
  const rssKeysLater = rssMb(pid);
  // A restart, as after a crash: the supervisor reloads every sealed key and policy, the journal
  // its counters (25,000 signatures).
  const restarted = new Promise((resolve) => supervisor.once('up', resolve));
  process.kill(pid, 'SIGKILL');
  await restarted;
  const rssReloaded = rssMb(supervisor.status().pid!);
  await sleep(1_000);
  const rssReloadedLater = rssMb(supervisor.status().pid!);
  await supervisor.stop();

  // The enclave right after it opened a legacy vault keystore of the default cost (argon2id, 64 MiB,
  // 3 passes) to migrate it: the one start that still derives a key.
  const defaultKeystore = join(dir, 'default-cost.keystore');
  await provisionLocalVault({ keystorePath: defaultKeystore, passphrase });
  const opened = enclaveSupervisor(dir, 'default-cost', undefined, {
    keystorePath: defaultKeystore,
    passphrase,
  });
  await opened.start();
  const rssOpened = rssMb(opened.status().pid!);
  await sleep(1_000);
  const rssOpenedLater = rssMb(opened.status().pid!);
  await opened.stop();
  local.close();
  await vault.close();
  await rm(dir, { recursive: true, force: true });

  const rawMicros = raw.p50! * 1000;
  console.log(
    `enclave bench (node ${process.version}, ${new Date().toISOString()}, enclave ${FROM_SOURCE ? 'from source via tsx' : 'bundled, plain node'}, load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')})`,
  );
  console.log(
    'name'.padEnd(44),
    'p50 µs'.padStart(9),
    'p99 µs'.padStart(9),
    'ops/s'.padStart(10),
    '× raw p50'.padStart(10),
  );
  for (const row of rows) {
    console.log(
      row.name.padEnd(44),
      (row.p50! * 1000).toFixed(1).padStart(9),
      (row.p99! * 1000).toFixed(1).padStart(9),
      row.perSecond.toFixed(0).padStart(10),
      ((row.p50! * 1000) / rawMicros).toFixed(2).padStart(10),
    );
  }
  const [, bareSequential, barePipelined, , sequential, pipelined] = rows as [Row, Row, Row, Row, Row, Row];
  console.log(
    `sequential round trip: ${(sequential.p50! / raw.p50!).toFixed(2)}× a raw signature (target ≤ 3×); the bare socket + sign floor is ${(bareSequential.p50! / raw.p50!).toFixed(2)}×, so the enclave adds ${((sequential.p50! - bareSequential.p50!) * 1000).toFixed(1)} µs at p50`,
  );
  console.log(
    `pipelined throughput: ${(pipelined.perSecond / raw.perSecond).toFixed(2)} of raw signing, ${(pipelined.perSecond / barePipelined.perSecond).toFixed(2)} of the bare socket + sign (per request ${(1e6 / pipelined.perSecond).toFixed(1)} µs vs ${(1e6 / barePipelined.perSecond).toFixed(1)} µs bare, ${(1e6 / raw.perSecond).toFixed(1)} µs raw)`,
  );
  console.log(
    `enclave RSS in MB (bare node -e: ${bareRss.toFixed(1)}; "now / 1 s later"): idle with 1 wallet ${rssIdle.toFixed(1)}; after ${SEQUENTIAL + PIPELINED} signatures ${rssSigned.toFixed(1)} / ${rssSignedLater.toFixed(1)}; with ${KEYS_FOR_MEMORY + 1} agent keys and policies ${rssKeys.toFixed(1)} / ${rssKeysLater.toFixed(1)}, restarted and reloaded ${rssReloaded.toFixed(1)} / ${rssReloadedLater.toFixed(1)} (target ≤ 64); right after opening a default-cost legacy keystore ${rssOpened.toFixed(1)} / ${rssOpenedLater.toFixed(1)}`,
  );
  writeFigures(JSON_PATH, {
    keys: KEYS_FOR_MEMORY + 1,
    rawSignP50Us: raw.p50! * 1000,
    roundTripP50Us: sequential.p50! * 1000,
    bareSocketP50Us: bareSequential.p50! * 1000,
    pipelinedPerSecond: pipelined.perSecond,
    rss: {
      bareNode: bareRss,
      idle: rssIdle,
      withKeys: Math.max(rssKeys, rssKeysLater),
      reloaded: Math.max(rssReloaded, rssReloadedLater),
    },
  });
};

await main();
