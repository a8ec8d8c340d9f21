/**
 * What the request limits add per request: the same Fastify route (GET, 204, nothing else) with no
 * limits (the baseline), with the in-memory buckets (SQLite, one process) and with the counts shared
 * through PostgreSQL (several replicas), in one run. Driven with inject, so HTTP parsing and sockets
 * are not in the figures: the difference to the baseline is the limiter's own cost. Limits are set
 * high enough never to refuse; every request carries a token, so the shared path is its one statement
 * (address checked, token counted).
 *
 *   node --import tsx bench/rate-limit.ts [--quick] [--pg postgres://postgres@127.0.0.1:5432/test]
 */
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { type RateLimitOptions, registerRateLimit } from '../src/daemon/plugins/rate-limit.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { phase, printRows, type Row, summary, writeFigures } from './support/load.ts';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    pg: { type: 'string', default: process.env.WAIAAS_BENCH_PG_URL },
    json: { type: 'string' },
  },
});
const MS = args.quick ? 1_500 : 5_000;
const HIGH = { max: 1_000_000_000, windowSeconds: 60 };

async function appWith(limits: RateLimitOptions | undefined): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  if (limits) registerRateLimit(app, limits);
  app.get('/bench', async (_request, reply) => reply.code(204).send());
  await app.ready();
  return app;
}

async function measure(label: string, app: FastifyInstance): Promise<Row[]> {
  const tokens = Array.from({ length: 32 }, () => `waiaas_own_${randomBytes(24).toString('base64url')}`);
  const one = (client: number) => async () => {
    const answer = await app.inject({
      method: 'GET',
      url: '/bench',
      headers: { authorization: `Bearer ${tokens[client]}` },
    });
    return answer.statusCode === 204;
  };
  // Warm-up: JIT, the pool's connections, the rows' first insert.
  await phase('warm-up', 4, 300, (client) => one(client)());
  return [
    await phase(`${label}, 1 client`, 1, MS, () => one(0)()),
    await phase(`${label}, 32 clients`, 32, MS, (client) => one(client)()),
  ];
}

async function main() {
  const rows: Row[] = [];
  rows.push(...(await measure('no limits (baseline)', await appWith(undefined))));
  rows.push(...(await measure('in-memory buckets', await appWith({ perToken: HIGH, perIp: HIGH }))));
  let store: Store | undefined;
  const schema = `waiaas_bench_${randomBytes(4).toString('hex')}`;
  if (args.pg) {
    store = await openStore({ url: args.pg, schema });
    try {
      rows.push(
        ...(await measure('shared in PostgreSQL', await appWith({ perToken: HIGH, perIp: HIGH, store }))),
      );
    } finally {
      await sql.raw(`drop schema if exists "${schema}" cascade`).execute(store.db);
      await store.close();
    }
  } else {
    console.log('(PostgreSQL: pass --pg URL or set WAIAAS_BENCH_PG_URL)');
  }
  printRows(rows);
  writeFigures(args.json, {
    phases: Object.fromEntries(
      rows.map((row) => {
        const { perSecond, p50, p99, count, failures } = summary(row);
        return [row.name, { perSecond, p50, p99, count, failures }];
      }),
    ),
  });
}

await main();
