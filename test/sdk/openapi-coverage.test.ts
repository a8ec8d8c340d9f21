/**
 * The SDK cannot drift from the API: the daemon's own /openapi.json is fetched from a running daemon
 * and compared with what every SDK method actually sends (recorded through the SDK's `fetch` option).
 * A documented operation without an SDK method fails; an SDK method whose route is served must match
 * its documented method, path, query parameters and body fields. SDK methods for routes of the
 * DESIGN.md §5 contract that the daemon does not serve yet are skipped, each naming its route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type WaiaasClient, WaiaasNetworkError } from '../../src/sdk/index.ts';
import { type ListeningDaemon, startListeningDaemon } from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const ID = 'ID0';
const ID2 = 'ID1';
const ADDRESS = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const POLICY = {
  version: 1,
  assets: {
    SOL: {
      perTransaction: 2n,
      daily: 2n,
      tiers: { instantMax: 1n, notifyMax: 1n, delayMax: 1n, delaySeconds: 0 },
    },
  },
  recipients: { mode: 'any' as const },
  hours: { utc: [0, 24] as [number, number], days: [0] },
  rate: { maxPerHour: 1 },
  approvalTimeoutSeconds: 60,
};

type Invocation = (client: WaiaasClient) => Promise<unknown>;

/** Every SDK method, called with every optional parameter it can send. */
const invocations: Record<string, Invocation> = {
  health: (c) => c.health(),
  ready: (c) => c.ready(),
  attestation: (c) => c.attestation({ nonce: 'ab' }),
  usage: (c) => c.usage(ID),
  balance: (c) => c.balance(ID),
  depositAddress: (c) => c.depositAddress(ID),
  openapi: (c) => c.openapi(),
  metrics: (c) => c.metrics(),
  'owners.create': (c) => c.owners.create({ name: 'n', signer: { kind: 'local', passphrase: 'p' } }),
  'wallets.create': (c) => c.wallets.create({ name: 'n', policy: POLICY }),
  'wallets.list': (c) => c.wallets.list().firstPage(),
  'wallets.get': (c) => c.wallets.get(ID),
  'wallets.freeze': (c) => c.wallets.freeze(ID),
  'wallets.resume': (c) => c.wallets.resume(ID, { policy: POLICY }),
  'wallets.rotateAgentKey': (c) => c.wallets.rotateAgentKey(ID),
  'wallets.withdraw': (c) => c.wallets.withdraw(ID, { to: ADDRESS, amount: 1n, mint: ADDRESS }),
  'sessions.create': (c) => c.sessions.create(ID, { ttlSeconds: 60, label: 'l' }),
  'sessions.list': (c) => c.sessions.list(ID),
  'sessions.revoke': (c) => c.sessions.revoke(ID),
  'sessions.current': (c) => c.sessions.current(),
  'policy.get': (c) => c.policy.get(ID),
  'policy.set': (c) => c.policy.set(ID, POLICY),
  'transfers.send': (c) => c.transfers.send(ID, { to: ADDRESS, amount: 1n, mint: ADDRESS, memo: 'm' }),
  'transfers.dryRun': (c) =>
    c.transfers.dryRun(
      ID,
      { to: ADDRESS, amount: 1n, mint: ADDRESS, memo: 'm' },
      { layers: ['server', 'chain'] },
    ),
  'transfers.get': (c) => c.transfers.get(ID),
  'transfers.list': (c) => c.transfers.list(ID, { limit: 1, cursor: 'c' }).firstPage(),
  'approvals.list': (c) => c.approvals.list({ limit: 1, cursor: 'c' }).firstPage(),
  'approvals.approve': (c) => c.approvals.approve(ID),
  'approvals.reject': (c) => c.approvals.reject(ID),
  'approvals.cancel': (c) => c.approvals.cancel(ID),
  'audit.list': (c) => c.audit.list({ limit: 1, cursor: 'c', walletId: 'w', kind: 'k' }).firstPage(),
  'audit.verify': (c) => c.audit.verify(),
  'webhooks.create': (c) => c.webhooks.create({ url: 'http://x', events: ['e'], secret: 's' }),
  'webhooks.list': (c) => c.webhooks.list().firstPage(),
  'webhooks.delete': (c) => c.webhooks.delete(ID),
  'webhooks.deliveries': (c) =>
    c.webhooks.deliveries(ID, { limit: 1, cursor: 'c', status: 'failed' }).firstPage(),
  'webhooks.redeliver': (c) => c.webhooks.redeliver(ID, ID2),
  'events.list': (c) => c.events.list({ after: '1', limit: 1 }),
  'events.stream': async (c) => {
    for await (const _event of c.events.stream({ after: '1' })) break;
  },
  'x402.pay': (c) =>
    c.x402.pay(ID, { url: 'http://x', method: 'POST', headers: { a: 'b' }, body: '{}', maxAmount: 1n }),
  'x402.sweepFloat': (c) => c.x402.sweepFloat(ID),
  'operatorTokens.create': (c) => c.operatorTokens.create({ label: 'l' }),
  'operatorTokens.list': (c) => c.operatorTokens.list(),
  'operatorTokens.revoke': (c) => c.operatorTokens.revoke(ID),
};

/** Served but not in the OpenAPI document by design (DESIGN.md §5: GET /metrics, /openapi.json). */
const UNDOCUMENTED = new Set(['GET /openapi.json', 'GET /metrics']);

class RecordedOnly extends Error {}

interface Sent {
  operation: string;
  query: string[];
  body: string[];
}

/** What one SDK method sends: "METHOD /path/{}" (ids as {}), its query names and top-level body fields. */
async function record(invoke: Invocation): Promise<Sent> {
  const sent: Sent[] = [];
  const fetch = async (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(String(input));
    const path = url.pathname
      .split('/')
      .map((segment) => (segment === ID || segment === ID2 ? '{}' : segment))
      .join('/');
    sent.push({
      operation: `${init?.method ?? 'GET'} ${path}`,
      query: [...url.searchParams.keys()].sort(),
      body: typeof init?.body === 'string' ? Object.keys(JSON.parse(init.body)).sort() : [],
    });
    // Nothing needs answering: what was sent is all this looks at.
    throw new RecordedOnly();
  };
  const client = createClient({
    url: 'http://sdk.test',
    token: 't',
    fetch: fetch as typeof globalThis.fetch,
    retry: false,
  });
  await invoke(client).catch((error: unknown) => {
    if (!(error instanceof WaiaasNetworkError && error.cause instanceof RecordedOnly)) throw error;
  });
  expect(sent).toHaveLength(1);
  return sent[0]!;
}

const sdkMethodNames = (client: WaiaasClient): string[] => {
  const names: string[] = [];
  const prototype = Object.getPrototypeOf(client) as object;
  for (const name of Object.getOwnPropertyNames(prototype)) {
    if (name !== 'constructor') names.push(name);
  }
  for (const [resource, value] of Object.entries(client)) {
    if (resource === 'http' || typeof value !== 'object' || value === null) continue;
    for (const [method, fn] of Object.entries(value))
      if (typeof fn === 'function') names.push(`${resource}.${method}`);
  }
  return names.sort();
};

const normalise = (openapiPath: string) => openapiPath.replace(/\{[^}]+\}/g, '{}');

describe('the SDK method inventory', () => {
  it('covers every method of the client, so the comparison below sees all of them', () => {
    expect(Object.keys(invocations).sort()).toEqual(sdkMethodNames(createClient({ url: 'http://sdk.test' })));
  });
});

describeWithSquads('the SDK against the daemon’s OpenAPI document', () => {
  let listening: ListeningDaemon;
  // biome-ignore lint/suspicious/noExplicitAny: the OpenAPI document is walked as plain JSON.
  let operations: Map<string, any>;
  // biome-ignore lint/suspicious/noExplicitAny: idem.
  let components: Record<string, any>;
  const sentBy = new Map<string, Sent>();

  beforeAll(async () => {
    listening = await startListeningDaemon();
    const document = await listening.operator.openapi();
    operations = new Map();
    for (const [path, byMethod] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(byMethod)) {
        operations.set(`${method.toUpperCase()} ${normalise(path)}`, operation);
      }
    }
    components = ((document.components as { schemas?: object } | undefined)?.schemas ?? {}) as Record<
      string,
      unknown
    >;
    for (const [name, invoke] of Object.entries(invocations)) sentBy.set(name, await record(invoke));
  });
  afterAll(async () => {
    await listening?.close();
  });

  it('has an SDK method for every documented operation', () => {
    const covered = new Set([...sentBy.values()].map((sent) => sent.operation));
    const uncovered = [...operations.keys()].filter((operation) => !covered.has(operation));
    expect(uncovered).toEqual([]);
  });

  it('the routes served outside the document are served', async () => {
    expect((await fetch(`${listening.url}/openapi.json`)).status).toBe(200);
    expect((await fetch(`${listening.url}/metrics`)).status).toBe(401);
    expect(await listening.operator.metrics()).toContain('# HELP');
  });

  for (const name of Object.keys(invocations)) {
    it(`${name} sends a documented method, path, query and body`, (context) => {
      const sent = sentBy.get(name)!;
      if (UNDOCUMENTED.has(sent.operation)) return;
      const operation = operations.get(sent.operation);
      if (operation === undefined) {
        context.skip(`route not served yet: ${sent.operation}`);
        return;
      }
      const queryNames = new Set(
        // biome-ignore lint/suspicious/noExplicitAny: OpenAPI JSON.
        (operation.parameters ?? []).filter((p: any) => p.in === 'query').map((p: any) => p.name as string),
      );
      expect(sent.query.filter((query) => !queryNames.has(query))).toEqual([]);

      let schema = operation.requestBody?.content?.['application/json']?.schema;
      if (schema?.$ref) schema = components[String(schema.$ref).split('/').pop()!];
      if (sent.body.length > 0) {
        expect(schema, `${sent.operation} takes no body`).toBeDefined();
        if (schema.properties) {
          expect(sent.body.filter((field) => !(field in schema.properties))).toEqual([]);
        }
      }
      for (const required of (schema?.required ?? []) as string[]) expect(sent.body).toContain(required);
    });
  }
});
