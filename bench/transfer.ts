/**
 * The agent's instant transfer, request → confirmed on the localnet (real Squads program, in its own
 * process as `waiaas start` runs it), through the daemon's HTTP API (app.inject, plus one run over
 * real HTTP): p50/p99 and throughput with 1, 8 and 32 concurrent agents (one wallet each) and with 32
 * clients on one wallet. Measured in the same run: the bare parts the pipeline is made of (an enclave
 * sign round trip; a localnet send + status of a pre-signed spendingLimitUse; and both chained with the
 * fee payer's signature, no database, no HTTP), so the pipeline's own overhead shows as a ratio.
 * DESIGN.md §9: p50 ≤ 3 ms and p99 ≤ 10 ms with one client; ≥ 1,000 confirmed/s with 32 agents; 0
 * failures when 32 share one wallet; ≥ 70% of the bare parts' throughput.
 *
 *   node --import tsx bench/transfer.ts [--seconds 4] [--sequential 400] [--quick] [--json FILE]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/transfer.ts   # where the time goes
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Keypair, PublicKey } from '@solana/web3.js';
import { spawnLocalnet } from '../src/cli/localnet-child.ts';
import { loadConfig } from '../src/daemon/config.ts';
import { createLogger } from '../src/daemon/logger.ts';
import { type Runtime, startRuntime } from '../src/daemon/runtime/runtime.ts';
import { buildDaemonApp } from '../src/daemon/server.ts';
import { privateKeyFromSeed, signEd25519 } from '../src/keys/ed25519.ts';
import { buildAgentTransfer } from '../src/squads/index.ts';
import { openStore } from '../src/store/index.ts';
import { summary, writeFigures } from './support/load.ts';
import { airdrop, type BenchWallet, setUpBenchWallets } from './support/wallets.ts';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string' },
    sequential: { type: 'string' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});
const PHASE_MS = Number(args.seconds ?? (args.quick ? 1 : 4)) * 1000;
const SEQUENTIAL = Number(args.sequential ?? (args.quick ? 100 : 400));
const SOL = 1_000_000_000n;
const AMOUNT = 1_000n;

interface Row {
  name: string;
  count: number;
  failures: number;
  seconds: number;
  latencies: number[];
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

function print(rows: Row[]) {
  const head = `${'phase'.padEnd(52)}${'tx/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'n'.padStart(7)}  failures`;
  console.log(head);
  for (const row of rows) {
    const sorted = [...row.latencies].sort((a, b) => a - b);
    console.log(
      `${row.name.padEnd(52)}${(row.count / row.seconds).toFixed(0).padStart(9)}${percentile(sorted, 0.5)
        .toFixed(2)
        .padStart(
          9,
        )}${percentile(sorted, 0.99).toFixed(2).padStart(9)}${String(row.count).padStart(7)}  ${row.failures}`,
    );
  }
}

/** Runs `one` from `clients` loops until the phase time is up (or `limit` calls), timing each call. */
async function phase(
  name: string,
  clients: number,
  one: (client: number) => Promise<boolean>,
  limit = Number.POSITIVE_INFINITY,
): Promise<Row> {
  const latencies: number[] = [];
  let failures = 0;
  let started = 0;
  const begin = performance.now();
  const deadline = begin + PHASE_MS;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (performance.now() < deadline && started < limit) {
        started++;
        const t0 = performance.now();
        const ok = await one(client);
        latencies.push(performance.now() - t0);
        if (!ok) failures++;
      }
    }),
  );
  return { name, count: latencies.length, failures, seconds: (performance.now() - begin) / 1000, latencies };
}

/** Bare parts: messages built ahead, signed by the enclave, by the fee payer, sent and looked up. */
async function bareParts(runtime: Runtime, wallet: BenchWallet, recipient: PublicKey): Promise<Row[]> {
  const feePayerKey = privateKeyFromSeed(runtime.feePayer.secretKey.subarray(0, 32));
  let salt = 0n;
  const build = async () => {
    const { blockhash } = await runtime.chain.recentBlockhash();
    salt++;
    return buildAgentTransfer({
      multisig: new PublicKey(wallet.multisig),
      agent: new PublicKey(wallet.agent),
      asset: 'SOL',
      amount: AMOUNT + (salt % 1_000_000n),
      destination: recipient,
      feePayer: runtime.feePayer.publicKey,
      recentBlockhash: blockhash,
    });
  };
  const client = runtime.enclave.client;
  let requestId = 0;
  const enclaveSign = async (tx: Awaited<ReturnType<typeof build>>) => {
    const message = tx.message.serialize();
    const signed = await client.sign(wallet.id, message, { requestId: `bare-${requestId++}` });
    tx.addSignature(new PublicKey(signed.publicKey), signed.signature);
    tx.signatures[0] = signEd25519(feePayerKey, message);
  };
  const sendAndLookUp = async (tx: Awaited<ReturnType<typeof build>>) => {
    const signature = await runtime.chain.send(tx.serialize(), { skipPreflight: true });
    const outcome = await runtime.chain.status(signature);
    return outcome.status === 'confirmed';
  };

  const rows: Row[] = [];
  const pool = await Promise.all(Array.from({ length: 64 }, build));
  rows.push(
    await phase(
      'bare: enclave sign round trip, 1 client',
      1,
      async () => {
        await client.sign(wallet.id, pool[requestId % 64]!.message.serialize(), {
          requestId: `bare-${requestId++}`,
        });
        return true;
      },
      SEQUENTIAL,
    ),
  );
  rows.push(
    await phase('bare: enclave sign round trip, 32 in flight', 32, async () => {
      await client.sign(wallet.id, pool[requestId % 64]!.message.serialize(), {
        requestId: `bare-${requestId++}`,
      });
      return true;
    }),
  );
  // Signed ahead so only the localnet is timed.
  const presigned: Awaited<ReturnType<typeof build>>[] = [];
  const signAhead = async (count: number) => {
    presigned.length = 0;
    for (let index = 0; index < count; index += 32) {
      const batch = await Promise.all(Array.from({ length: Math.min(32, count - index) }, build));
      await Promise.all(batch.map(enclaveSign));
      presigned.push(...batch);
    }
  };
  await signAhead(SEQUENTIAL);
  let next = 0;
  rows.push(
    await phase(
      'bare: localnet send + status, 1 client',
      1,
      () => sendAndLookUp(presigned[next++]!),
      SEQUENTIAL,
    ),
  );
  await signAhead(4_000);
  next = 0;
  rows.push(
    await phase(
      'bare: localnet send + status, 32 in flight',
      32,
      () => sendAndLookUp(presigned[next++]!),
      4_000,
    ),
  );
  rows.push(
    await phase('bare: build + enclave + fee payer + send + status, 32', 32, async () => {
      const tx = await build();
      await enclaveSign(tx);
      return sendAndLookUp(tx);
    }),
  );
  return rows;
}

function httpPost(agent: Agent, base: URL, path: string, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, base),
      {
        method: 'POST',
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const STEP_SAMPLES = 200;

/** Median time from each point of the pipeline to the next, over sequential transfers (a fault hook that only looks). */
async function timeSteps(runtime: Runtime, one: () => Promise<boolean>): Promise<string> {
  const service = runtime.services.transfers;
  const times = new Map<string, number[]>();
  const note = (step: string, ms: number) => {
    const list = times.get(step) ?? [];
    list.push(ms);
    times.set(step, list);
  };
  let mark = 0;
  service.setFaults((step) => {
    const now = performance.now();
    note(step, now - mark);
    mark = now;
  });
  for (let index = 0; index < STEP_SAMPLES; index++) {
    mark = performance.now();
    await one();
    note('answered', performance.now() - mark);
  }
  service.setFaults(undefined);
  return [...times]
    .map(
      ([step, list]) =>
        `${step} ${percentile(
          list.sort((a, b) => a - b),
          0.5,
        ).toFixed(2)}`,
    )
    .join(' · ');
}

const failureReasons = new Map<string, number>();
const noteFailure = (reason: string) => failureReasons.set(reason, (failureReasons.get(reason) ?? 0) + 1);

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-bench-transfer-'));
  const localnet = await spawnLocalnet(0, { ...process.env, WAIAAS_DATA_DIR: join(dataDir, 'chain') });
  // The per-token request limit (600/min by default) is a separate policy; it would cap these clients.
  const config = loadConfig({
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: '0',
    WAIAAS_RPC_URL: localnet.rpcUrl,
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
  await app.ready();
  try {
    console.log('setting up 32 wallets …');
    const { wallets } = await setUpBenchWallets(app, runtime, 32, 500n * SOL);
    const recipient = Keypair.generate().publicKey;
    await airdrop(runtime, recipient.toBase58(), SOL);
    const body = JSON.stringify({ to: recipient.toBase58(), amount: String(AMOUNT) });
    const transfer = async (wallet: BenchWallet) => {
      const response = await app.inject({
        method: 'POST',
        url: `/v1/wallets/${wallet.id}/transfers`,
        headers: { authorization: `Bearer ${wallet.token}`, 'content-type': 'application/json' },
        payload: body,
      });
      if (response.statusCode !== 200) noteFailure(`${response.statusCode} ${response.json().code}`);
      return response.statusCode === 200;
    };
    // Warm-up: caches, JIT, connections.
    await Promise.all(
      wallets.map(async (wallet) => {
        for (let index = 0; index < 5; index++) await transfer(wallet);
      }),
    );

    const rows: Row[] = [];
    rows.push(...(await bareParts(runtime, wallets[31]!, recipient)));
    rows.push(await phase('pipeline (inject): 1 agent', 1, () => transfer(wallets[0]!), SEQUENTIAL));
    const stepTimes = await timeSteps(runtime, () => transfer(wallets[0]!));
    rows.push(
      await phase('pipeline (inject): 8 agents, 8 wallets', 8, (client) => transfer(wallets[client]!)),
    );
    rows.push(
      await phase('pipeline (inject): 32 agents, 32 wallets', 32, (client) => transfer(wallets[client]!)),
    );
    rows.push(await phase('pipeline (inject): 32 clients, 1 wallet', 32, () => transfer(wallets[1]!)));

    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = new URL(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`);
    const agent = new Agent({ keepAlive: true, maxSockets: 64 });
    const overHttp = async (wallet: BenchWallet) =>
      (await httpPost(agent, base, `/v1/wallets/${wallet.id}/transfers`, wallet.token, body)) === 200;
    rows.push(await phase('pipeline (real HTTP): 1 agent', 1, () => overHttp(wallets[2]!), SEQUENTIAL));
    rows.push(
      await phase('pipeline (real HTTP): 32 agents, 32 wallets', 32, (client) => overHttp(wallets[client]!)),
    );
    agent.destroy();

    print(rows);
    if (failureReasons.size > 0) console.log('failures:', Object.fromEntries(failureReasons));
    console.log('');
    console.log(
      `where one agent's transfer spends its time (median of ${STEP_SAMPLES}, ms from the previous point):`,
    );
    console.log(`  ${stepTimes}`);
    const rate = (name: string) => {
      const row = rows.find((candidate) => candidate.name === name)!;
      return row.count / row.seconds;
    };
    const p50 = (name: string) =>
      percentile(
        [...rows.find((candidate) => candidate.name === name)!.latencies].sort((a, b) => a - b),
        0.5,
      );
    const bare = rate('bare: build + enclave + fee payer + send + status, 32');
    const pipeline32 = rate('pipeline (inject): 32 agents, 32 wallets');
    console.log('');
    console.log(
      `1 agent p50: pipeline ${p50('pipeline (inject): 1 agent').toFixed(2)} ms vs enclave ${p50('bare: enclave sign round trip, 1 client').toFixed(2)} + localnet ${p50('bare: localnet send + status, 1 client').toFixed(2)} ms bare`,
    );
    console.log(
      `32 agents: pipeline ${pipeline32.toFixed(0)}/s = ${((pipeline32 / bare) * 100).toFixed(0)}% of the bare parts chained (${bare.toFixed(0)}/s); ` +
        `enclave alone ${rate('bare: enclave sign round trip, 32 in flight').toFixed(0)}/s, localnet alone ${rate('bare: localnet send + status, 32 in flight').toFixed(0)}/s`,
    );
    console.log(
      'targets (DESIGN §9): p50 ≤ 3 ms and p99 ≤ 10 ms with 1 agent, ≥ 1,000/s with 32 agents, 0 failures on one wallet, ≥ 70% of bare parts',
    );
    writeFigures(args.json, {
      phases: Object.fromEntries(
        rows.map((row) => {
          const { perSecond, p50, p99, count, failures } = summary(row);
          return [row.name, { perSecond, p50, p99, count, failures }];
        }),
      ),
    });
  } finally {
    await app.close();
    await runtime.close();
    await store.close();
    await localnet.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
