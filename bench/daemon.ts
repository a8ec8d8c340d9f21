/**
 * The daemon as users run it: `node bin/waiaas.mjs start` in its own process on embedded defaults
 * (SQLite, the embedded localnet with the real Squads program, the enclave), driven over real HTTP
 * from this process. Prints the RSS of the daemon, its localnet and its enclave — idle, after N
 * wallets created through the API, after a transfer load — next to a bare Fastify process and a bare
 * `node` started in the same run (the bare Fastify under the same HTTP load); and the request rates
 * of health, the 401 floor (a request refused for want of a token), dry-run and transfers.
 * Owners keep their key in KMS (the repository's KMS stand-in, test/support/kms-server.ts, in this
 * process) with no second factor, so creating a wallet costs no passphrase derivation.
 * DESIGN.md §9: daemon ≤ 120 MB idle, ≤ 200 MB with 1,000 wallets after load; localnet ≤ 150 MB;
 * health ≥ 5,000/s at 32 clients.
 *
 *   node --import tsx bench/daemon.ts [--wallets 1000] [--seconds 5] [--clients 32] [--quick]
 *   node --import tsx bench/daemon.ts --node-options=--max-semi-space-size=4   # flags for the daemon
 *   node --import tsx bench/daemon.ts --quick --heap-snapshots DIR   # the idle daemon's and localnet's heaps
 *   node --import tsx bench/heap-summary.ts DIR/<file>.heapsnapshot   # what holds them, by module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { startTestKms } from '../test/support/kms-server.ts';
import { binPath, freePortPair, repoRoot } from '../test/support/processes.ts';
import {
  type Answer,
  call,
  childrenOf,
  keepAlive,
  phase,
  printRows,
  type Row,
  rssMb,
  sleep,
  summary,
  writeFigures,
} from './support/load.ts';

const { values: args } = parseArgs({
  options: {
    wallets: { type: 'string' },
    seconds: { type: 'string' },
    clients: { type: 'string', default: '32' },
    quick: { type: 'boolean', default: false },
    json: { type: 'string' },
    'node-options': { type: 'string' },
    'heap-snapshots': { type: 'string' },
  },
});
const WALLETS = Number(args.wallets ?? (args.quick ? 40 : 1000));
const PHASE_MS = Number(args.seconds ?? (args.quick ? 1 : 5)) * 1000;
const CLIENTS = Number(args.clients);
const LOADED_WALLETS = Math.min(CLIENTS, WALLETS);
const SOL = 1_000_000_000n;
const CREATE_CONCURRENCY = 8;
/** Idle means idle: V8 gives back young-generation pages some seconds after start-up and load. */
const SETTLE_MS = args.quick ? 3_000 : 10_000;

const policy = {
  version: 1,
  assets: {
    SOL: {
      perTransaction: String(SOL),
      daily: String(1_000n * SOL),
      tiers: { instantMax: String(SOL), notifyMax: String(SOL), delayMax: String(SOL), delaySeconds: 0 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 1_000_000 },
  approvalTimeoutSeconds: 3600,
};

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts a process and waits until its stdout matches `ready`. */
async function start(
  command: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs = 120_000,
): Promise<Started> {
  const child = spawn(process.execPath, command, { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  while (!ready.test(out)) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited: ${out}`);
    if (Date.now() > deadline)
      throw new Error(`${command.join(' ')} not ready after ${timeoutMs} ms: ${out}`);
    await sleep(50);
  }
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Signals each process to write a heap snapshot into `dir`, and waits until every file is complete. */
async function takeHeapSnapshots(dir: string, pids: number[]): Promise<void> {
  const { readdirSync, statSync } = await import('node:fs');
  const before = new Set(readdirSync(dir));
  for (const pid of pids) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 180_000;
  let sizes = '';
  for (;;) {
    await sleep(2_000);
    const written = readdirSync(dir).filter((name) => !before.has(name) && name.endsWith('.heapsnapshot'));
    const now = written.map((name) => `${name}:${statSync(join(dir, name)).size}`).join(',');
    if (written.length === pids.length && now === sizes) {
      console.log(`heap snapshots: ${written.map((name) => join(dir, name)).join(', ')}`);
      return;
    }
    if (Date.now() > deadline) throw new Error('heap snapshots not written within 180 s');
    sizes = now;
  }
}

const BARE_FASTIFY = `
const app = require('fastify')({ logger: false });
app.get('/bare', async () => ({ ok: true }));
app.listen({ host: '127.0.0.1', port: 0 }).then(() => process.stdout.write('port ' + app.server.address().port + '\\n'));
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));`;

const BARE_NODE = `process.stdout.write('ready\\n'); setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`;

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'waiaas-bench-daemon-'));
  const kms = await startTestKms();
  const masterToken = `waiaas_op_${randomBytes(24).toString('base64url')}`;
  const localnetPort = await freePortPair();
  const port = await freePortPair();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    WAIAAS_DATA_DIR: dataDir,
    WAIAAS_PORT: String(port),
    WAIAAS_LOCALNET_PORT: String(localnetPort),
    WAIAAS_MASTER_TOKEN: masterToken,
    WAIAAS_LOG_LEVEL: 'warn',
    // Measured here is the daemon's own cost; the limits would answer most of these requests 429,
    // and the monitor would rightly freeze wallets spending this fast.
    WAIAAS_RATE_LIMIT_PER_TOKEN: '0',
    WAIAAS_RATE_LIMIT_PER_IP: '0',
    WAIAAS_MONITOR_REFUSALS: '0',
    WAIAAS_MONITOR_VELOCITY_PERCENT: '0',
    AWS_ACCESS_KEY_ID: 'AKIABENCHDAEMON00001',
    AWS_SECRET_ACCESS_KEY: 'bench-secret-not-real',
    AWS_REGION: kms.region,
  };
  const snapshots = args['heap-snapshots'];
  const nodeOptions = [
    args['node-options'],
    snapshots ? `--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${snapshots}` : undefined,
  ].filter((option) => option !== undefined);
  delete env.NODE_OPTIONS;
  if (nodeOptions.length > 0) env.NODE_OPTIONS = nodeOptions.join(' ');

  const bareFastify = await start(['-e', BARE_FASTIFY], { ...process.env, NODE_OPTIONS: '' }, /port \d+/);
  const bareNode = await start(['-e', BARE_NODE], { ...process.env, NODE_OPTIONS: '' }, /ready/);
  const bareBase = new URL(`http://127.0.0.1:${/port (\d+)/.exec(bareFastify.output())![1]}`);
  console.log(
    `starting the daemon (node bin/waiaas.mjs start${args['node-options'] ? `, NODE_OPTIONS=${args['node-options']}` : ''}) …`,
  );
  const daemon = await start([binPath, 'start'], env, /data directory/);
  const agent = keepAlive(CLIENTS * 2);
  try {
    const base = new URL(/WAIaaS daemon\s+(\S+)/.exec(daemon.output())![1]!);
    const rpcUrl = /chain RPC\s+(\S+)/.exec(daemon.output())![1]!;
    const children = await childrenOf(daemon.child.pid!);
    const localnetPid = children.find((child) => child.command.includes(' localnet'))?.pid;
    const enclavePid = children.find((child) => child.command.includes('enclave'))?.pid;
    const processes = {
      daemon: daemon.child.pid!,
      localnet: localnetPid ?? -1,
      enclave: enclavePid ?? -1,
      'bare Fastify': bareFastify.child.pid!,
      'bare node': bareNode.child.pid!,
    };
    const measure = async () =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(processes).map(async ([name, pid]) => [name, await rssMb(pid)] as const),
        ),
      ) as Record<keyof typeof processes, number>;

    // Idle: up, health ok, nothing asked of it yet.
    const healthDeadline = Date.now() + 60_000;
    while (
      (JSON.parse((await call(agent, base, 'GET', '/v1/health')).body) as { status: string }).status !== 'ok'
    ) {
      if (Date.now() > healthDeadline) throw new Error('the daemon did not report ok within 60 s');
      await sleep(200);
    }
    await sleep(SETTLE_MS);
    const idle = await measure();
    if (snapshots) await takeHeapSnapshots(snapshots, [processes.daemon, processes.localnet]);

    // Health, the 401 floor (no token), and bare Fastify under the same load.
    const expect =
      (status: number, send: (client: number) => Promise<Answer>) =>
      async (client: number): Promise<boolean> =>
        (await send(client)).status === status;
    const rows: Row[] = [];
    rows.push(
      await phase(
        `bare Fastify (own process): GET, ${CLIENTS} clients`,
        CLIENTS,
        PHASE_MS,
        expect(200, () => call(agent, bareBase, 'GET', '/bare')),
      ),
    );
    rows.push(
      await phase(
        `GET /v1/health, ${CLIENTS} clients`,
        CLIENTS,
        PHASE_MS,
        expect(200, () => call(agent, base, 'GET', '/v1/health')),
      ),
    );
    rows.push(
      await phase(
        `401 floor: GET /v1/wallets without a token, ${CLIENTS} clients`,
        CLIENTS,
        PHASE_MS,
        expect(401, () => call(agent, base, 'GET', '/v1/wallets')),
      ),
    );

    // Wallets through the API.
    const owner = JSON.parse(
      (
        await call(
          agent,
          base,
          'POST',
          '/v1/owners',
          masterToken,
          JSON.stringify({
            name: 'Bench owner',
            signer: { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
          }),
        )
      ).body,
    ) as { id: string; token: string };
    if (!owner.token) throw new Error(`owner not created: ${JSON.stringify(owner)}`);
    console.log(`creating ${WALLETS} wallets through the API (${CREATE_CONCURRENCY} at a time) …`);
    const wallets: { id: string; vault: string; token?: string }[] = [];
    const createStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        while (next < WALLETS) {
          const index = next++;
          const answer = await call(
            agent,
            base,
            'POST',
            '/v1/wallets',
            owner.token,
            JSON.stringify({ name: `Bench ${index}`, policy }),
          );
          if (answer.status !== 201) throw new Error(`wallet ${index}: ${answer.status} ${answer.body}`);
          wallets[index] = JSON.parse(answer.body) as { id: string; vault: string };
        }
      }),
    );
    const createSeconds = (performance.now() - createStarted) / 1000;
    await sleep(SETTLE_MS);
    const withWallets = await measure();

    // Sessions and funds for the wallets the load uses.
    const connection = new Connection(rpcUrl, 'confirmed');
    for (const wallet of wallets.slice(0, LOADED_WALLETS)) {
      const session = await call(
        agent,
        base,
        'POST',
        `/v1/wallets/${wallet.id}/sessions`,
        owner.token,
        JSON.stringify({ ttlSeconds: 3600 }),
      );
      wallet.token = (JSON.parse(session.body) as { token: string }).token;
      const signature = await connection.requestAirdrop(new PublicKey(wallet.vault), Number(100n * SOL));
      await connection.confirmTransaction(signature, 'confirmed');
    }
    const recipient = Keypair.generate().publicKey;
    await connection.confirmTransaction(await connection.requestAirdrop(recipient, Number(SOL)), 'confirmed');
    const transferBody = JSON.stringify({ to: recipient.toBase58(), amount: '1000' });
    const loaded = (client: number) => wallets[client % LOADED_WALLETS]!;

    rows.push(
      await phase(
        `POST …/transfers/dry-run (agent, all layers), ${CLIENTS} clients`,
        CLIENTS,
        PHASE_MS,
        expect(200, (client) =>
          call(
            agent,
            base,
            'POST',
            `/v1/wallets/${loaded(client).id}/transfers/dry-run`,
            loaded(client).token,
            transferBody,
          ),
        ),
      ),
    );
    rows.push(
      await phase(
        'POST …/transfers instant → confirmed, 1 client',
        1,
        PHASE_MS,
        expect(200, () =>
          call(agent, base, 'POST', `/v1/wallets/${loaded(0).id}/transfers`, loaded(0).token, transferBody),
        ),
      ),
    );
    rows.push(
      await phase(
        `POST …/transfers instant → confirmed, ${CLIENTS} clients on ${LOADED_WALLETS} wallets`,
        CLIENTS,
        PHASE_MS,
        expect(200, (client) =>
          call(
            agent,
            base,
            'POST',
            `/v1/wallets/${loaded(client).id}/transfers`,
            loaded(client).token,
            transferBody,
          ),
        ),
      ),
    );
    await sleep(SETTLE_MS);
    const afterLoad = await measure();

    const memory = { idle, withWallets, afterLoad };
    console.log(
      `\ndaemon bench (node ${process.version}, ${new Date().toISOString()}, load average ${loadavg()
        .map((value) => value.toFixed(2))
        .join(' ')}; ${WALLETS} wallets created in ${createSeconds.toFixed(1)} s)`,
    );
    console.log(
      `\n${'RSS, MB'.padEnd(16)}${'idle'.padStart(10)}${`${WALLETS} wallets`.padStart(16)}${'after load'.padStart(12)}  target`,
    );
    const targets: Record<string, string> = {
      daemon: '≤ 120 idle, ≤ 200 with 1,000 wallets after load',
      localnet: '≤ 150',
      enclave: '≤ 64 with 1,000 agent keys',
      'bare Fastify': 'baseline: the same HTTP load as the daemon’s health phase',
      'bare node': 'baseline: node -e, nothing loaded',
    };
    for (const name of Object.keys(processes) as (keyof typeof processes)[]) {
      console.log(
        `${name.padEnd(16)}${idle[name].toFixed(1).padStart(10)}${withWallets[name].toFixed(1).padStart(16)}${afterLoad[
          name
        ]
          .toFixed(1)
          .padStart(12)}  ${targets[name]}`,
      );
    }
    console.log(`\nover real HTTP from another process, ${PHASE_MS / 1000} s per phase\n`);
    printRows(rows);
    writeFigures(args.json, {
      wallets: WALLETS,
      memory,
      phases: Object.fromEntries(
        rows.map((row) => {
          const { perSecond, p50, p99, count, failures } = summary(row);
          return [row.name, { perSecond, p50, p99, count, failures }];
        }),
      ),
    });
  } finally {
    agent.destroy();
    await daemon.stop();
    await bareFastify.stop();
    await bareNode.stop();
    await kms.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
