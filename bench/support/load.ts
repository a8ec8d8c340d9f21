/**
 * What the benches that drive a daemon over real HTTP share: a keep-alive client, timed phases of
 * concurrent loops, percentiles, RSS of a process, and writing figures for bench/all.ts.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';

export interface Answer {
  status: number;
  body: string;
}

export interface Row {
  name: string;
  count: number;
  failures: number;
  seconds: number;
  latencies: number[];
}

export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

export const rate = (row: Row): number => row.count / row.seconds;

export const summary = (row: Row) => {
  const sorted = [...row.latencies].sort((a, b) => a - b);
  return { perSecond: rate(row), p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), ...row };
};

/** One HTTP request over a keep-alive agent; the whole answer is read. */
export function call(
  agent: Agent,
  base: URL,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  token?: string,
  body?: string,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...extraHeaders };
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

/** Runs `one` from `clients` loops for `ms` (or until `limit` calls started), timing each call. */
export async function phase(
  name: string,
  clients: number,
  ms: number,
  one: (client: number) => Promise<boolean>,
  limit = Number.POSITIVE_INFINITY,
): Promise<Row> {
  const latencies: number[] = [];
  let failures = 0;
  let started = 0;
  const begin = performance.now();
  const deadline = begin + ms;
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

export function printRows(rows: readonly Row[], unit = 'req/s'): void {
  console.log(
    `${'phase'.padEnd(58)}${unit.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}${'n'.padStart(8)}  failures`,
  );
  for (const row of rows) {
    const { perSecond, p50, p99 } = summary(row);
    console.log(
      `${row.name.padEnd(58)}${perSecond.toFixed(0).padStart(9)}${p50.toFixed(2).padStart(9)}${p99
        .toFixed(2)
        .padStart(9)}${String(row.count).padStart(8)}  ${row.failures}`,
    );
  }
}

/** Resident set size of a process in MB (Linux /proc). */
export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** The direct children of `pid` with their command lines (Linux /proc). */
export async function childrenOf(pid: number): Promise<{ pid: number; command: string }[]> {
  const { readdir } = await import('node:fs/promises');
  const found: { pid: number; command: string }[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // The command name may hold spaces and parentheses: the fields after its closing one are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) !== pid) continue;
    const command = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).replace(/\0/g, ' ');
    found.push({ pid: Number(entry), command });
  }
  return found;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Figures for bench/all.ts, when asked for with --json PATH. */
export function writeFigures(path: string | undefined, figures: Record<string, unknown>): void {
  if (path === undefined) return;
  writeFileSync(
    path,
    JSON.stringify(figures, (_key, value) => (typeof value === 'bigint' ? String(value) : value)),
  );
}

export const keepAlive = (maxSockets: number) => new Agent({ keepAlive: true, maxSockets });
