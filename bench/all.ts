/**
 * The whole bench suite, one command: each bench runs in its own process (so none inherits another's
 * heap or warm caches), and one table prints every figure next to the baseline measured in the same
 * run and the DESIGN.md §9 target, met or not. Run it on a quiet machine: other work on the cores
 * moves every figure.
 *
 *   npm run bench                      # the whole suite (about 10 minutes)
 *   npm run bench -- --quick           # every bench briefly: proves the suite runs, figures are rough
 *   npm run bench -- --only daemon,api # some benches
 *   WAIAAS_BENCH_PG_URL=postgres://… npm run bench   # reservation and rate-limit cost on PostgreSQL too
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../test/support/processes.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    pg: { type: 'string', default: process.env.WAIAAS_BENCH_PG_URL },
  },
});

const BENCHES = ['reservation', 'rate-limit', 'enclave', 'api', 'transfer', 'daemon'] as const;
type BenchName = (typeof BENCHES)[number];

interface PhaseFigures {
  perSecond: number;
  p50: number;
  p99: number;
  count: number;
  failures: number;
}
type Phases = Record<string, PhaseFigures>;

interface Results {
  reservation?: {
    figures: { engine: string; rows: number; buckets: { p50: number }; rowSum: { p50: number } }[];
  };
  enclave?: {
    keys: number;
    rawSignP50Us: number;
    roundTripP50Us: number;
    rss: { bareNode: number; withKeys: number; reloaded: number };
  };
  api?: { phases: Phases };
  'rate-limit'?: { phases: Phases };
  transfer?: { phases: Phases };
  daemon?: {
    wallets: number;
    memory: Record<'idle' | 'withWallets' | 'afterLoad', Record<string, number>>;
    phases: Phases;
  };
}

function runBench(name: BenchName, jsonPath: string): Promise<boolean> {
  const extra = [
    ...(args.quick ? ['--quick'] : []),
    ...((name === 'reservation' || name === 'rate-limit') && args.pg ? ['--pg', args.pg] : []),
  ];
  const command = [
    process.execPath,
    '--import',
    'tsx',
    join('bench', `${name}.ts`),
    ...extra,
    '--json',
    jsonPath,
  ];
  console.log(`\n=== ${name}: ${command.slice(1).join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { cwd: repoRoot, stdio: 'inherit' });
    child.once('exit', (code) => resolve(code === 0));
  });
}

type Row = [figure: string, measured: string, baseline: string, target: string, met: string];

const fmt = (value: number | undefined, digits = 0) =>
  value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
const verdict = (ok: boolean | undefined) => (ok === undefined ? '–' : ok ? 'met' : 'NOT MET');

/** The first phase whose name starts with `prefix`. */
const phaseOf = (phases: Phases | undefined, prefix: string): PhaseFigures | undefined =>
  phases === undefined ? undefined : Object.entries(phases).find(([name]) => name.startsWith(prefix))?.[1];

function table(results: Results): Row[] {
  const rows: Row[] = [];
  const { daemon, api, transfer, reservation, enclave } = results;

  if (daemon) {
    const { idle, afterLoad, withWallets } = daemon.memory;
    const walletsNote = daemon.wallets === 1000 ? '' : ` (${daemon.wallets} wallets, not 1,000)`;
    rows.push([
      'daemon RSS idle, MB (waiaas start)',
      fmt(idle.daemon, 1),
      `bare Fastify ${fmt(idle['bare Fastify'], 1)}, bare node ${fmt(idle['bare node'], 1)}`,
      '≤ 120',
      verdict(idle.daemon! <= 120),
    ]);
    const loaded = Math.max(withWallets.daemon!, afterLoad.daemon!);
    rows.push([
      `daemon RSS with wallets, after load, MB${walletsNote}`,
      `${fmt(withWallets.daemon, 1)} / ${fmt(afterLoad.daemon, 1)}`,
      `bare Fastify after load ${fmt(afterLoad['bare Fastify'], 1)}`,
      '≤ 200 with 1,000',
      daemon.wallets >= 1000 ? verdict(loaded <= 200) : '–',
    ]);
    const localnet = Math.max(idle.localnet!, withWallets.localnet!, afterLoad.localnet!);
    rows.push([
      'localnet RSS, MB (most seen)',
      fmt(localnet, 1),
      `bare node ${fmt(idle['bare node'], 1)}`,
      '≤ 150',
      verdict(localnet <= 150),
    ]);
    const health = phaseOf(daemon.phases, 'GET /v1/health');
    const floor = phaseOf(daemon.phases, '401 floor');
    rows.push([
      'health/s, 32 clients, waiaas start over HTTP',
      fmt(health?.perSecond),
      `401 floor ${fmt(floor?.perSecond)}/s, bare Fastify ${fmt(phaseOf(daemon.phases, 'bare Fastify')?.perSecond)}/s`,
      '≥ 5,000',
      verdict(health && health.perSecond >= 5000),
    ]);
    const dryRun = phaseOf(daemon.phases, 'POST …/transfers/dry-run');
    rows.push([
      'dry-run/s, 32 clients, waiaas start over HTTP',
      fmt(dryRun?.perSecond),
      `401 floor ${fmt(floor?.perSecond)}/s`,
      '(≥ 5,000 in process)',
      '–',
    ]);
    const http32 = phaseOf(daemon.phases, 'POST …/transfers instant → confirmed, 32');
    const http1 = phaseOf(daemon.phases, 'POST …/transfers instant → confirmed, 1 client');
    rows.push([
      'transfer p50 / p99 ms, 1 client, waiaas start',
      `${fmt(http1?.p50, 2)} / ${fmt(http1?.p99, 2)}`,
      '(bare parts: see transfer rows)',
      'p50 ≤ 3, p99 ≤ 10',
      verdict(http1 && http1.p50 <= 3 && http1.p99 <= 10),
    ]);
    rows.push([
      'transfers/s, 32 clients, waiaas start',
      fmt(http32?.perSecond),
      '',
      '≥ 1,000',
      verdict(http32 && http32.perSecond >= 1000),
    ]);
  }

  if (api) {
    const floor = phaseOf(api.phases, '401 floor');
    const health = phaseOf(api.phases, 'GET /v1/health');
    const dryRun = phaseOf(api.phases, 'POST …/transfers/dry-run (');
    rows.push([
      'health/s, 32 clients, in process (bench/api)',
      fmt(health?.perSecond),
      `401 floor ${fmt(floor?.perSecond)}/s, bare Fastify GET ${fmt(phaseOf(api.phases, 'bare Fastify: GET')?.perSecond)}/s`,
      '≥ 5,000',
      verdict(health && health.perSecond >= 5000),
    ]);
    rows.push([
      'dry-run/s, 32 clients, in process (bench/api)',
      fmt(dryRun?.perSecond),
      `401 floor ${fmt(floor?.perSecond)}/s, bare Fastify POST ${fmt(phaseOf(api.phases, 'bare Fastify: POST')?.perSecond)}/s`,
      '≥ 5,000',
      verdict(dryRun && dryRun.perSecond >= 5000),
    ]);
  }

  if (transfer) {
    const one = phaseOf(transfer.phases, 'pipeline (real HTTP): 1 agent');
    const enclave1 = phaseOf(transfer.phases, 'bare: enclave sign round trip, 1 client');
    const localnet1 = phaseOf(transfer.phases, 'bare: localnet send + status, 1 client');
    rows.push([
      'transfer p50 / p99 ms, 1 client (real HTTP)',
      `${fmt(one?.p50, 2)} / ${fmt(one?.p99, 2)}`,
      `enclave ${fmt(enclave1?.p50, 2)} + localnet ${fmt(localnet1?.p50, 2)} p50`,
      'p50 ≤ 3, p99 ≤ 10',
      verdict(one && one.p50 <= 3 && one.p99 <= 10),
    ]);
    const bare = phaseOf(transfer.phases, 'bare: build + enclave + fee payer + send + status, 32');
    for (const [label, prefix] of [
      ['transfers/s, 32 agents (inject)', 'pipeline (inject): 32 agents'],
      ['transfers/s, 32 agents (real HTTP)', 'pipeline (real HTTP): 32 agents'],
    ] as const) {
      const row = phaseOf(transfer.phases, prefix);
      const share = row && bare ? row.perSecond / bare.perSecond : undefined;
      rows.push([
        label,
        `${fmt(row?.perSecond)} (${fmt(share === undefined ? undefined : share * 100)}% of bare)`,
        `bare parts chained ${fmt(bare?.perSecond)}/s`,
        '≥ 1,000 and ≥ 70%',
        verdict(row && share !== undefined && row.perSecond >= 1000 && share >= 0.7),
      ]);
    }
    const shared = phaseOf(transfer.phases, 'pipeline (inject): 32 clients, 1 wallet');
    rows.push([
      'failures, 32 clients on one wallet',
      fmt(shared?.failures),
      '',
      '0',
      verdict(shared && shared.failures === 0),
    ]);
  }

  if (reservation) {
    for (const engine of new Set(reservation.figures.map((figure) => figure.engine))) {
      const figures = reservation.figures.filter((figure) => figure.engine === engine);
      const first = figures[0]!;
      const last = figures.at(-1)!;
      rows.push([
        `reservation µs p50 at ${figures.map((figure) => figure.rows).join(' / ')} rows (${engine})`,
        figures.map((figure) => fmt(figure.buckets.p50)).join(' / '),
        `row sum ${figures.map((figure) => fmt(figure.rowSum.p50)).join(' / ')}`,
        'flat (last ≤ 2× first)',
        verdict(last.buckets.p50 <= 2 * Math.max(first.buckets.p50, 1)),
      ]);
    }
  }

  const limits = results['rate-limit'];
  if (limits) {
    const baseline = phaseOf(limits.phases, 'no limits (baseline), 1 client');
    for (const [label, prefix] of [
      ['rate limit added p50 ms, 1 client (in memory)', 'in-memory buckets, 1 client'],
      ['rate limit added p50 ms, 1 client (PostgreSQL, shared)', 'shared in PostgreSQL, 1 client'],
    ] as const) {
      const row = phaseOf(limits.phases, prefix);
      rows.push([
        label,
        fmt(row && baseline ? row.p50 - baseline.p50 : undefined, 2),
        `no limits p50 ${fmt(baseline?.p50, 2)} ms; with ${fmt(row?.p50, 2)} / p99 ${fmt(row?.p99, 2)} ms`,
        '(measured, no target)',
        '–',
      ]);
    }
  }

  if (enclave) {
    rows.push([
      `enclave RSS with ${enclave.keys} agent keys, MB`,
      fmt(enclave.rss.withKeys, 1),
      `bare node ${fmt(enclave.rss.bareNode, 1)}`,
      '≤ 64 with 1,000',
      enclave.keys >= 1000 ? verdict(enclave.rss.withKeys <= 64) : '–',
    ]);
    const ratio = enclave.roundTripP50Us / enclave.rawSignP50Us;
    rows.push([
      'enclave round trip p50, µs',
      fmt(enclave.roundTripP50Us, 1),
      `raw Ed25519 sign ${fmt(enclave.rawSignP50Us, 1)} (${fmt(ratio, 2)}×)`,
      '≤ 3× raw',
      verdict(ratio <= 3),
    ]);
  }
  return rows;
}

function print(rows: Row[]): void {
  const widths = [0, 1, 2, 3, 4].map((column) =>
    Math.max(
      ...rows.map((row) => row[column]!.length),
      ['figure', 'measured', 'baseline (same run)', 'target', ''][column]!.length,
    ),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, column) => cell.padEnd(widths[column]!)).join('  ');
  console.log(line(['figure', 'measured', 'baseline (same run)', 'target', '']));
  for (const row of rows) console.log(line(row));
}

async function main() {
  const chosen = args.only ? (args.only.split(',') as BenchName[]) : [...BENCHES];
  const unknown = chosen.filter((name) => !BENCHES.includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown bench ${unknown.join(', ')}; one of ${BENCHES.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'waiaas-bench-all-'));
  const loadBefore = loadavg();
  const results: Results = {};
  const failed: string[] = [];
  try {
    for (const name of chosen) {
      const jsonPath = join(dir, `${name}.json`);
      if (await runBench(name, jsonPath)) {
        (results as Record<string, unknown>)[name] = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } else {
        failed.push(name);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  console.log(
    `\n=== WAIaaS bench suite${args.quick ? ' (--quick: rough figures, fewer wallets and keys)' : ''}: node ${process.version}, ${cpus().length} cores, ` +
      `load average ${loadBefore.map((value) => value.toFixed(2)).join(' ')} before, ${loadAfter.map((value) => value.toFixed(2)).join(' ')} after, ${new Date().toISOString()}\n`,
  );
  print(table(results));
  if (failed.length > 0) {
    console.log(`\nfailed: ${failed.join(', ')} (see its output above)`);
    process.exitCode = 1;
  }
}

await main();
