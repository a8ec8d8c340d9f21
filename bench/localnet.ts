/**
 * System-transfer throughput and latency through the localnet's JSON-RPC server, next to the same
 * transfers sent straight to LiteSVM (and to the chain engine without HTTP) in the same run.
 * The server runs in a child process, as `waiaas start` runs it; clients use keep-alive fetch on
 * loopback (node:http keep-alive). Usage: node --import tsx bench/localnet.ts [--count N] [--concurrency C]
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import bs58 from 'bs58';
import { encodeSignedTransfer } from '../src/localnet/chain/faucet.ts';
import { LocalChain } from '../src/localnet/chain/local-chain.ts';
import { createGenesis } from '../src/localnet/genesis.ts';
import { startLocalnet } from '../src/localnet/index.ts';
import { type LocalnetKey, localnetKey } from '../src/localnet/localnet-keys.ts';
import { emptyState } from '../src/localnet/persistence.ts';

const PHASE_TIME_LIMIT_MS = 20_000;
const SOL = 1_000_000_000n;

interface PhaseResult {
  name: string;
  count: number;
  seconds: number;
  latenciesMs: number[];
  failures: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

function report(results: PhaseResult[]): void {
  const pad = (text: string, width: number) => text.padEnd(width);
  const num = (value: number, digits: number) => value.toFixed(digits).padStart(10);
  console.log(
    `${pad('phase', 40)}${'tx/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}  failures`,
  );
  for (const result of results) {
    const sorted = [...result.latenciesMs].sort((a, b) => a - b);
    console.log(
      `${pad(result.name, 40)}${num(result.count / result.seconds, 0)}${num(percentile(sorted, 50), 3)}${num(
        percentile(sorted, 99),
        3,
      )}  ${result.failures}`,
    );
  }
}

/** Pre-signed transfers (signing is not what is measured), distinct amounts so no signature repeats. */
function signTransfers(
  senders: LocalnetKey[],
  count: number,
  blockhash: Uint8Array,
  salt: number,
): Uint8Array[] {
  const recipient = localnetKey(`bench-recipient-${salt}`).publicKey;
  return Array.from({ length: count }, (_, i) =>
    encodeSignedTransfer(
      senders[i % senders.length]!,
      recipient,
      1_000_000n + BigInt(salt * 1_000_000 + i),
      blockhash,
    ),
  );
}

function runSync(name: string, transactions: Uint8Array[], send: (tx: Uint8Array) => boolean): PhaseResult {
  const latenciesMs: number[] = [];
  let failures = 0;
  const started = performance.now();
  for (const tx of transactions) {
    const t0 = performance.now();
    if (!send(tx)) failures++;
    latenciesMs.push(performance.now() - t0);
    if (t0 - started > PHASE_TIME_LIMIT_MS) break;
  }
  return {
    name,
    count: latenciesMs.length,
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
    failures,
  };
}

// node:http with a keep-alive agent: undici's fetch costs the client more CPU per request than the
// server spends on one, which would measure the client instead of the localnet.
const agent = new Agent({ keepAlive: true, maxSockets: 256 });

// biome-ignore lint/suspicious/noExplicitAny: JSON-RPC results of several shapes, read loosely by the phases
type Json = any;

function post(url: URL, body: string): Promise<Json> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: '/',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve(JSON.parse(text)));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const rpc = (url: URL, method: string, params: unknown[]): Promise<Json> =>
  post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }));

async function runConcurrent(
  name: string,
  items: string[],
  concurrency: number,
  call: (item: string) => Promise<boolean>,
): Promise<PhaseResult> {
  const latenciesMs: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < items.length && performance.now() - started < PHASE_TIME_LIMIT_MS) {
      const item = items[next++]!;
      const t0 = performance.now();
      if (!(await call(item))) failures++;
      latenciesMs.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return {
    name,
    count: latenciesMs.length,
    seconds: (performance.now() - started) / 1000,
    latenciesMs,
    failures,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { count: { type: 'string', default: '3000' }, concurrency: { type: 'string', default: '16' } },
  });
  const count = Number(values.count);
  const concurrency = Number(values.concurrency);
  const senders = Array.from({ length: concurrency }, (_, i) => localnetKey(`bench-sender-${i}`));
  const results: PhaseResult[] = [];

  // Bare LiteSVM, configured as the localnet configures it (sigverify on, its own checks off).
  {
    const { svm } = createGenesis();
    for (const sender of senders) svm.airdrop(sender.publicKey, 1_000n * SOL);
    const txs = signTransfers(senders, count, new Uint8Array(32).fill(7), 1);
    results.push(
      runSync(
        'LiteSVM direct (in-process)',
        txs,
        (tx) => svm.sendLegacyTransaction(tx).constructor.name === 'TransactionMetadata',
      ),
    );
  }

  // The chain engine: clock, blockhash window, duplicate check, balances, records; no HTTP.
  {
    const { svm, genesisHash } = createGenesis();
    const chain = new LocalChain(svm, emptyState(genesisHash), 10_000);
    for (const sender of senders) chain.airdrop(sender.publicKey, 1_000n * SOL);
    const txs = signTransfers(senders, count, bs58.decode(chain.latestBlockhash().blockhash), 2);
    results.push(
      runSync('LocalChain.send (in-process, no HTTP)', txs, (tx) => {
        const outcome = chain.send(tx);
        return outcome.kind === 'processed' && outcome.err === null;
      }),
    );
  }

  const child = fork(new URL(import.meta.url).pathname, ['--serve'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  try {
    const rpcUrl = await new Promise<URL>((resolve, reject) => {
      child.once('message', (message: { rpcUrl: string }) => resolve(new URL(message.rpcUrl)));
      child.once('exit', (code) => reject(new Error(`localnet child exited (${code})`)));
    });
    for (const sender of senders) await rpc(rpcUrl, 'requestAirdrop', [sender.address, Number(1_000n * SOL)]);
    const sendOne = async (tx: string) => {
      const body = await rpc(rpcUrl, 'sendTransaction', [tx, { encoding: 'base64' }]);
      return typeof body.result === 'string';
    };
    const freshBatch = async (salt: number) => {
      const { result } = await rpc(rpcUrl, 'getLatestBlockhash', []);
      return signTransfers(senders, count, bs58.decode(result.value.blockhash), salt).map((tx) =>
        Buffer.from(tx).toString('base64'),
      );
    };

    const health = Array.from({ length: count }, () => '');
    // Warm-up (JIT on both sides, sockets opened), not measured.
    await runConcurrent('warm-up', health.slice(0, 1000), concurrency, async () => true);
    await runConcurrent('warm-up', health.slice(0, 1000), concurrency, async () => {
      return (await rpc(rpcUrl, 'getHealth', [])).result === 'ok';
    });
    results.push(
      await runConcurrent(
        `RPC getHealth, ${concurrency} clients (HTTP floor)`,
        health,
        concurrency,
        async () => {
          return (await rpc(rpcUrl, 'getHealth', [])).result === 'ok';
        },
      ),
    );
    const sequential = await freshBatch(3);
    results.push(await runConcurrent('RPC sendTransaction, 1 client', sequential, 1, sendOne));
    const concurrent = await freshBatch(4);
    results.push(
      await runConcurrent(`RPC sendTransaction, ${concurrency} clients`, concurrent, concurrency, sendOne),
    );

    const signatures = concurrent.map((tx) => bs58.encode(Buffer.from(tx, 'base64').subarray(1, 65)));
    results.push(
      await runConcurrent(
        `RPC getSignatureStatuses, ${concurrency} clients`,
        signatures,
        concurrency,
        async (sig) => {
          const body = await rpc(rpcUrl, 'getSignatureStatuses', [[sig]]);
          return body.result?.value?.[0]?.err === null;
        },
      ),
    );
  } finally {
    child.disconnect();
    agent.destroy();
  }

  console.log(`localnet bench: ${count} system transfers per phase, loopback, server in a child process`);
  report(results);
  const [direct, engine, , , rpcConcurrent] = results;
  const rate = (r: PhaseResult | undefined) => (r ? r.count / r.seconds : Number.NaN);
  console.log(
    `RPC (${concurrency} clients) reaches ${((100 * rate(rpcConcurrent)) / rate(direct)).toFixed(1)}% of bare LiteSVM throughput ` +
      `(server overhead ${(rate(direct) / rate(rpcConcurrent)).toFixed(2)}x); the engine without HTTP reaches ` +
      `${((100 * rate(engine)) / rate(direct)).toFixed(1)}%.`,
  );
}

if (process.argv.includes('--serve')) {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-bench-localnet-'));
  const localnet = await startLocalnet({ dataDir, port: 0 });
  process.send?.({ rpcUrl: localnet.rpcUrl });
  process.on('disconnect', () => {
    void localnet.close().then(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
} else {
  await main();
}
