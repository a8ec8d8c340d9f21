/**
 * The HTTP API under load: requests per second and p50/p99 latency for GET /v1/health, the 401 floor (a
 * request refused for want of a token: the least any request costs), GET /v1/wallets/:id (with its
 * exposure), a dry run (all three layers, and the server layer alone), and an agent's instant transfer
 * confirmed on the localnet (real Squads program, in its own process as `waiaas start` runs it), each
 * from 32 concurrent clients over real HTTP (node:http with a keep-alive agent). Measured in the same
 * process and run: a bare Fastify route (GET, and POST of a body of the same size as a transfer's), so
 * what the API adds shows as a ratio to what Fastify and node:http cost on this machine.
 * DESIGN.md §9: dry-run ≥ 5,000 requests/s; health ≥ 5,000 requests/s at 32 clients.
 *
 *   node --import tsx bench/api.ts [--seconds 4] [--clients 32] [--only dry-run] [--quick] [--json FILE]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/api.ts --only dry-run   # where the time goes
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Keypair } from '@solana/web3.js';
import Fastify, { type FastifyInstance } from 'fastify';
import { spawnLocalnet } from '../src/cli/localnet-child.ts';
import { loadConfig } from '../src/daemon/config.ts';
import { createLogger } from '../src/daemon/logger.ts';
import { startRuntime } from '../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../src/daemon/server.ts';
import { openStore } from '../src/store/index.ts';
import { summary, writeFigures } from './support/load.ts';
import { airdrop, setUpBenchWallets } from './support/wallets.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string' },
    clients: { type: 'string', default: '32' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    /** Run only the phases whose name contains this (the bare baselines always run). */
    only: { type: 'string' },
  },
});
const PHASE_MS = Number(args.seconds ?? (args.quick ? 1 : 4)) * 1000;
const CLIENTS = Number(args.clients);
const SOL = 1_000_000_000n;
const AMOUNT = 1_000n;

interface Row {
  name: string;
  count: number;
  failures: number;
  seconds: number;
  latencies: number[];
}

interface Answer {
  status: number;
  body: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

const rate = (row: Row) => row.count / row.seconds;

function print(rows: Row[]) {
  console.log(
    `${'phase'.padEnd(54)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'n'.padStart(8)}  failures`,
  );
  for (const row of rows) {
    const sorted = [...row.latencies].sort((a, b) => a - b);
    console.log(
      `${row.name.padEnd(54)}${rate(row).toFixed(0).padStart(9)}${percentile(sorted, 0.5).toFixed(2).padStart(9)}${percentile(
        sorted,
        0.99,
      )
        .toFixed(2)
        .padStart(9)}${String(row.count).padStart(8)}  ${row.failures}`,
    );
  }
}

const failureReasons = new Map<string, number>();
const noteFailure = (phase: string, answer: Answer) => {
  let code = '';
  try {
    code = (JSON.parse(answer.body) as { code?: string }).code ?? '';
  } catch {
    // not JSON
  }
  const reason = `${phase}: ${answer.status} ${code}`;
  failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);
};

/** Runs `one` from `clients` loops until the phase time is up, timing each call. */
async function phase(name: string, clients: number, one: (client: number) => Promise<boolean>): Promise<Row> {
  const latencies: number[] = [];
  let failures = 0;
  const begin = performance.now();
  const deadline = begin + PHASE_MS;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const ok = await one(client);
        latencies.push(performance.now() - t0);
        if (!ok) failures++;
      }
    }),
  );
  return { name, count: latencies.length, failures, seconds: (performance.now() - begin) / 1000, latencies };
}

/** One HTTP request over the keep-alive agent; the whole answer is read. */
function call(
  agent: Agent,
  base: URL,
  method: 'GET' | 'POST',
  path: string,
  token: string | undefined,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(body);
    }
    const req = request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The baseline: Fastify with nothing of ours, a GET and a POST of a JSON body, in this process. */
async function bareServer(): Promise<{ app: FastifyInstance; base: URL }> {
  const app = Fastify({ logger: false });
  app.get('/bare', async () => ({ ok: true }));
  app.post('/bare', async (req) => ({ ok: true, echoed: (req.body as { amount?: string }).amount }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base: new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`) };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-bench-api-'));
  const localnet = await spawnLocalnet(0, { ...process.env, WAIAAS_DATA_DIR: join(dataDir, 'chain') });
  const config = loadConfig({
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: '0',
    WAIAAS_RPC_URL: localnet.rpcUrl,
    // Measured here is the API's own cost; the limits would answer most of these requests 429.
    WAIAAS_RATE_LIMIT_PER_TOKEN: '0',
    WAIAAS_RATE_LIMIT_PER_IP: '0',
  });
  const store = await openStore({ sqlitePath: config.sqlitePath });
  const runtime = await startRuntime({
    config: { ...config, network: 'localnet' },
    store,
    rpcUrl: localnet.rpcUrl,
    logger: createLogger('warn'),
  });
  const app = await buildDaemonApp(runtime);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
  const bare = await bareServer();
  const agent = new Agent({ keepAlive: true, maxSockets: CLIENTS });
  try {
    console.log(`setting up ${CLIENTS} wallets …`);
    const { ownerToken, wallets } = await setUpBenchWallets(app, runtime, CLIENTS, 100n * SOL);
    const recipient = Keypair.generate().publicKey.toBase58();
    await airdrop(runtime, recipient, SOL);
    const transferBody = JSON.stringify({ to: recipient, amount: String(AMOUNT) });
    const walletOf = (client: number) => wallets[client % wallets.length]!;

    const expect =
      (name: string, status: number, send: (client: number) => Promise<Answer>) => async (client: number) => {
        const answer = await send(client);
        if (answer.status !== status) noteFailure(name, answer);
        return answer.status === status;
      };
    const phases: [string, (client: number) => Promise<boolean>][] = [
      [
        'bare Fastify: GET /bare',
        expect('bare GET', 200, () => call(agent, bare.base, 'GET', '/bare', undefined)),
      ],
      [
        'bare Fastify: POST /bare (transfer-sized JSON body)',
        expect('bare POST', 200, () => call(agent, bare.base, 'POST', '/bare', undefined, transferBody)),
      ],
      ['GET /v1/health', expect('health', 200, () => call(agent, base, 'GET', '/v1/health', undefined))],
      [
        '401 floor: GET /v1/wallets without a token',
        expect('401 floor', 401, () => call(agent, base, 'GET', '/v1/wallets', undefined)),
      ],
      [
        'GET /v1/wallets/:id (owner, with exposure)',
        expect('wallet', 200, (client) =>
          call(agent, base, 'GET', `/v1/wallets/${walletOf(client).id}`, ownerToken),
        ),
      ],
      [
        'POST …/transfers/dry-run (agent, all layers)',
        expect('dry-run', 200, (client) =>
          call(
            agent,
            base,
            'POST',
            `/v1/wallets/${walletOf(client).id}/transfers/dry-run`,
            walletOf(client).token,
            transferBody,
          ),
        ),
      ],
      [
        'POST …/transfers/dry-run?layers=server (agent)',
        expect('dry-run server', 200, (client) =>
          call(
            agent,
            base,
            'POST',
            `/v1/wallets/${walletOf(client).id}/transfers/dry-run?layers=server`,
            walletOf(client).token,
            transferBody,
          ),
        ),
      ],
      [
        'POST …/transfers instant, confirmed (agent, 1 wallet each)',
        expect('transfer', 200, (client) =>
          call(
            agent,
            base,
            'POST',
            `/v1/wallets/${walletOf(client).id}/transfers`,
            walletOf(client).token,
            transferBody,
          ),
        ),
      ],
    ];

    // Warm-up: JIT, connections, caches (a few requests of each kind per client).
    for (const [, one] of phases) {
      await Promise.all(
        Array.from({ length: CLIENTS }, async (_, client) => {
          for (let index = 0; index < 3; index++) await one(client);
        }),
      );
    }
    failureReasons.clear();

    const rows: Row[] = [];
    const chosen = phases.filter(
      ([name]) => name.startsWith('bare') || args.only === undefined || name.includes(args.only),
    );
    for (const [name, one] of chosen) rows.push(await phase(name, CLIENTS, one));
    console.log(
      `\n${CLIENTS} concurrent clients over real HTTP (keep-alive), ${PHASE_MS / 1000} s per phase\n`,
    );
    print(rows);
    if (failureReasons.size > 0) console.log('failures:', Object.fromEntries(failureReasons));
    writeFigures(args.json, {
      clients: CLIENTS,
      phases: Object.fromEntries(
        rows.map((row) => {
          const { perSecond, p50, p99, count, failures } = summary(row);
          return [row.name, { perSecond, p50, p99, count, failures }];
        }),
      ),
    });
    if (chosen.length !== phases.length) return;
    const find = (prefix: string) => rows.find((row) => row.name.startsWith(prefix))!;
    const barePost = rate(find('bare Fastify: POST'));
    const bareGet = rate(find('bare Fastify: GET'));
    console.log('');
    console.log(
      `GET wallet ${rate(find('GET /v1/wallets')).toFixed(0)}/s = ${((rate(find('GET /v1/wallets')) / bareGet) * 100).toFixed(0)}% of bare GET; ` +
        `dry-run ${rate(find('POST …/transfers/dry-run (')).toFixed(0)}/s = ${((rate(find('POST …/transfers/dry-run (')) / barePost) * 100).toFixed(0)}% of bare POST ` +
        `(server layer only: ${rate(find('POST …/transfers/dry-run?')).toFixed(0)}/s); ` +
        `instant transfer ${rate(find('POST …/transfers instant')).toFixed(0)}/s`,
    );
    console.log(
      `health ${rate(find('GET /v1/health')).toFixed(0)}/s, 401 floor ${rate(find('401 floor')).toFixed(0)}/s`,
    );
    console.log('targets (DESIGN §9): dry-run ≥ 5,000 requests/s; health ≥ 5,000 requests/s at 32 clients');
  } finally {
    agent.destroy();
    await bare.app.close();
    await app.close();
    await runtime.close();
    await store.close();
    await localnet.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
