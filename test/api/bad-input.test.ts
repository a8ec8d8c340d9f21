/**
 * The bad-input battery, against a whole daemon (localnet with the real Squads program, the enclave as
 * its own process): malformed JSON, a wrong content type, a body over the size limit, unknown fields,
 * invalid base58, addresses of the wrong length, negative, zero, fractional, non-numeric and > u64
 * amounts, unknown assets and unicode look-alikes in names, sent to every route that takes them. Each
 * answer is a 4xx with its stable code (never a 500), declared in the route's OpenAPI responses, and
 * the database is unchanged afterwards. Last, the OpenAPI document is checked to declare every route's
 * failure modes as problem responses.
 */

import { Keypair } from '@solana/web3.js';
import bs58 from 'bs58';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bodyLimitBytes } from '../../src/daemon/app.ts';
import { bearer, createOwnerWalletSession, OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { quiescent, stateOf } from './helpers.ts';

type Setup = Awaited<ReturnType<typeof createOwnerWalletSession>>;

interface Case {
  readonly name: string;
  /** "METHOD /path/{id}" as the OpenAPI document names the operation. */
  readonly operation: string;
  /** An object is sent as JSON; a string is sent as it is. */
  readonly body: unknown;
  readonly contentType?: string;
  readonly as: 'owner' | 'agent' | 'operator';
  readonly unlock?: boolean;
  readonly expect: readonly [number, string];
}

const VALIDATION = [400, 'VALIDATION_FAILED'] as const;
const INVALID_ADDRESS = [400, 'INVALID_ADDRESS'] as const;
const INVALID_AMOUNT = [400, 'INVALID_AMOUNT'] as const;

const valid = Keypair.generate().publicKey.toBase58();
const addressOf = (bytes: number) => bs58.encode(Buffer.alloc(bytes, 7));
const badAddresses: [string, string][] = [
  ['invalid base58 (0, O, I, l)', '0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl0OIl'],
  ['31-byte address', addressOf(31)],
  ['33-byte address', addressOf(33)],
  ['empty address', ''],
  ['address with a space', `${valid.slice(0, 20)} ${valid.slice(21)}`],
];
const badAmounts: [string, unknown][] = [
  ['negative amount', '-1'],
  ['zero amount', '0'],
  ['fractional amount', '1.5'],
  ['non-numeric amount', 'abc'],
  ['amount with a leading zero', '0100'],
  ['amount as a JSON number', 1000],
  ['amount above u64', '18446744073709551616'],
  ['amount of 30 digits', '1'.repeat(30)],
  ['amount in exponent form', '1e9'],
];
const badNames: [string, string][] = [
  ['Cyrillic look-alike in a Latin name', 'W\u0430llet'],
  ['Greek look-alike in a Latin name', 'Wall\u03b5t'],
  ['zero-width space', 'Wal\u200blet'],
  ['right-to-left override', 'Wallet\u202etxt.exe'],
  ['not NFKC (ligature)', 'O\ufb03ce'],
  ['control character', 'Wallet\u0007'],
  ['leading space', ' Wallet'],
  ['empty name', ''],
  ['name of 65 characters', 'W'.repeat(65)],
];

describeWithSquads('the bad-input battery', () => {
  let daemon: TestDaemon;
  let main: Setup;
  let documented: Record<string, Record<string, { responses: Record<string, unknown> }>>;

  beforeAll(async () => {
    daemon = await startTestDaemon();
    main = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    documented = (await daemon.app.inject('/openapi.json')).json().paths;
  });
  afterAll(async () => {
    await daemon?.close();
  });

  const cases = (): Case[] => {
    const transfer = 'POST /v1/wallets/{id}/transfers';
    const dryRun = 'POST /v1/wallets/{id}/transfers/dry-run';
    const withdraw = 'POST /v1/wallets/{id}/withdraw';
    const list: Case[] = [];
    const both = (name: string, body: unknown, expected: readonly [number, string], contentType?: string) => {
      for (const operation of [transfer, dryRun])
        list.push({
          name,
          operation,
          body,
          as: 'agent',
          expect: expected,
          ...(contentType ? { contentType } : {}),
        });
    };
    both('malformed JSON', '{"to": "', VALIDATION);
    both('a JSON array', '[1, 2]', VALIDATION);
    both('an empty body', '', VALIDATION, 'application/json');
    both('text/plain', 'to=x&amount=1', [415, 'UNSUPPORTED_MEDIA_TYPE'], 'text/plain');
    both(
      'form encoding',
      'to=x&amount=1',
      [415, 'UNSUPPORTED_MEDIA_TYPE'],
      'application/x-www-form-urlencoded',
    );
    both('a body over the size limit', { to: valid, amount: '1', memo: 'x'.repeat(bodyLimitBytes) }, [
      413,
      'PAYLOAD_TOO_LARGE',
    ]);
    both('an unknown field', { to: valid, amount: '1000', extra: true }, VALIDATION);
    both(
      'a prototype-polluting field',
      '{"to":"' + valid + '","amount":"1000","__proto__":{"admin":true}}',
      VALIDATION,
    );
    both('a missing amount', { to: valid }, VALIDATION);
    for (const [name, address] of badAddresses) {
      both(name, { to: address, amount: '1000' }, INVALID_ADDRESS);
      both(`${name} as the mint`, { to: valid, amount: '1000', mint: address }, INVALID_ADDRESS);
    }
    for (const [name, amount] of badAmounts) {
      both(name, { to: valid, amount }, typeof amount === 'string' ? INVALID_AMOUNT : VALIDATION);
    }
    // Fits in u64 but above any policy's int8 limits: refused by the pipeline's own check.
    both('amount above 2^63-1', { to: valid, amount: '9223372036854775808' }, [400, 'INVALID_AMOUNT']);
    both('a transfer to the wallet itself', { to: main.wallet.vault, amount: '1000' }, [
      400,
      'INVALID_ADDRESS',
    ]);
    both('a memo with a control character', { to: valid, amount: '1000', memo: 'pay\u0000' }, VALIDATION);
    list.push({
      name: 'an asset not in the policy',
      operation: transfer,
      body: { to: valid, amount: '1000', mint: Keypair.generate().publicKey.toBase58() },
      as: 'agent',
      expect: [403, 'ASSET_NOT_ALLOWED'],
    });

    for (const [name, address] of badAddresses)
      list.push({
        name,
        operation: withdraw,
        body: { to: address, amount: '1000' },
        as: 'owner',
        expect: INVALID_ADDRESS,
      });
    for (const [name, amount] of badAmounts)
      list.push({
        name,
        operation: withdraw,
        body: { to: valid, amount },
        as: 'owner',
        expect: typeof amount === 'string' ? INVALID_AMOUNT : VALIDATION,
      });
    list.push({
      name: 'a mint that is no token',
      operation: withdraw,
      body: { to: valid, amount: '1000', mint: Keypair.generate().publicKey.toBase58() },
      as: 'owner',
      unlock: true,
      expect: VALIDATION,
    });

    for (const [name, walletName] of badNames) {
      list.push({
        name,
        operation: 'POST /v1/wallets',
        body: { name: walletName, policy: starterPolicy() },
        as: 'owner',
        unlock: true,
        expect: VALIDATION,
      });
      list.push({
        name,
        operation: 'POST /v1/owners',
        body: { name: walletName, signer: { kind: 'local', passphrase: 'a passphrase' } },
        as: 'operator',
        expect: VALIDATION,
      });
    }

    const policyWith = (limit: unknown) =>
      starterPolicy({
        version: 2,
        assets: {
          SOL: {
            perTransaction: limit,
            daily: '5000000000',
            tiers: {
              instantMax: '100000000',
              notifyMax: '500000000',
              delayMax: '1000000000',
              delaySeconds: 900,
            },
          },
        },
      });
    for (const [name, amount] of [...badAmounts, ['amount above 2^63-1', '9223372036854775808'] as const])
      list.push({
        name: `policy: ${name}`,
        operation: 'PUT /v1/wallets/{id}/policy',
        body: { policy: policyWith(amount) },
        as: 'owner',
        expect: VALIDATION,
      });
    list.push({
      name: 'policy: an unknown asset key',
      operation: 'PUT /v1/wallets/{id}/policy',
      body: { policy: starterPolicy({ version: 2, assets: { DOGE: { perTransaction: '1', daily: '1' } } }) },
      as: 'owner',
      expect: VALIDATION,
    });
    list.push({
      name: 'policy: an unknown field',
      operation: 'PUT /v1/wallets/{id}/policy',
      body: { policy: { ...starterPolicy({ version: 2 }), admin: true } },
      as: 'owner',
      expect: VALIDATION,
    });

    list.push({
      name: 'session: a TTL that is a string',
      operation: 'POST /v1/wallets/{id}/sessions',
      body: { ttlSeconds: '600' },
      as: 'owner',
      expect: VALIDATION,
    });
    list.push({
      name: 'session: a negative TTL',
      operation: 'POST /v1/wallets/{id}/sessions',
      body: { ttlSeconds: -1 },
      as: 'owner',
      expect: VALIDATION,
    });
    const x402 = 'POST /v1/wallets/{id}/x402/pay';
    const payCase = (name: string, body: unknown, expected: readonly [number, string]) =>
      list.push({ name: `x402: ${name}`, operation: x402, body, as: 'agent', expect: expected });
    payCase('an unknown field', { url: 'https://example.com/', maxAmount: '1', extra: 1 }, VALIDATION);
    payCase('a missing maxAmount', { url: 'https://example.com/' }, VALIDATION);
    for (const [name, amount] of badAmounts)
      payCase(
        name,
        { url: 'https://example.com/', maxAmount: amount },
        typeof amount === 'string' ? INVALID_AMOUNT : VALIDATION,
      );
    payCase('a javascript: URL', { url: 'javascript:alert(1)', maxAmount: '1' }, VALIDATION);
    payCase('a file: URL', { url: 'file:///etc/passwd', maxAmount: '1' }, VALIDATION);
    payCase('credentials in the URL', { url: 'https://user:pw@example.com/', maxAmount: '1' }, VALIDATION);
    payCase(
      'a Host header',
      { url: 'https://example.com/', maxAmount: '1', headers: { Host: 'x' } },
      VALIDATION,
    );
    payCase(
      'a payment header',
      { url: 'https://example.com/', maxAmount: '1', headers: { 'X-PAYMENT': 'x' } },
      VALIDATION,
    );
    payCase(
      'a header with a line break',
      { url: 'https://example.com/', maxAmount: '1', headers: { a: 'b\r\nc: d' } },
      VALIDATION,
    );
    payCase(
      'an unknown method',
      { url: 'https://example.com/', maxAmount: '1', method: 'TRACE' },
      VALIDATION,
    );
    payCase('a loopback URL the operator did not allow', { url: 'http://127.0.0.1:9/', maxAmount: '1' }, [
      403,
      'X402_URL_NOT_ALLOWED',
    ]);
    payCase('a link-local (metadata) URL', { url: 'http://169.254.169.254/latest', maxAmount: '1' }, [
      403,
      'X402_URL_NOT_ALLOWED',
    ]);
    list.push({
      name: 'webhook: not a URL',
      operation: 'POST /v1/webhooks',
      body: { url: 'javascript:alert(1)' },
      as: 'owner',
      expect: VALIDATION,
    });
    for (const [name, url] of [
      ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
      // (loopback itself is allowed on the test daemon, for its receivers)
      ['a private address in decimal', 'http://167772161:8080/hook'],
      ['the metadata address as IPv4-mapped IPv6', 'http://[::ffff:a9fe:a9fe]/hook'],
      ['a private address', 'https://10.0.0.7/hook'],
      ['localhost', 'http://localhost./hook'],
    ]) {
      list.push({
        name: `webhook: ${name}`,
        operation: 'POST /v1/webhooks',
        body: { url },
        as: 'owner',
        expect: [422, 'WEBHOOK_URL_FORBIDDEN'],
      });
    }
    for (const [name, body] of [
      ['no label', {}],
      ['an empty label', { label: '' }],
      ['a label of 65 characters', { label: 'x'.repeat(65) }],
      ['a control character in the label', { label: 'a\u0000b' }],
      ['an unknown field', { label: 'ok', scope: 'all' }],
    ] as const) {
      list.push({
        name: `operator token: ${name}`,
        operation: 'POST /v1/operator-tokens',
        body,
        as: 'operator',
        expect: VALIDATION,
      });
    }
    list.push({
      name: 'webhook: an unknown event type',
      operation: 'POST /v1/webhooks',
      body: { url: 'http://127.0.0.1:1/hook', events: ['wallet.stolen'] },
      as: 'owner',
      expect: VALIDATION,
    });
    return list;
  };

  const send = (item: Case) => {
    const [method, template] = item.operation.split(' ') as [string, string];
    const url = template.replace('{id}', main.wallet.id);
    const token =
      item.as === 'agent' ? main.session.token : item.as === 'owner' ? main.owner.token : main.operator;
    const raw = typeof item.body === 'string';
    return daemon.app.inject({
      method: method as 'POST',
      url,
      headers: bearer(token, {
        'content-type': item.contentType ?? 'application/json',
        ...(item.unlock ? { 'x-owner-unlock': OWNER_PASSPHRASE } : {}),
      }),
      payload: raw ? (item.body as string) : JSON.stringify(item.body),
    });
  };

  it('answers each bad input with its 4xx and stable code, declared in the route’s OpenAPI responses, and writes nothing', async () => {
    const withoutAudit = (state: Awaited<ReturnType<typeof stateOf>>) => {
      const { audit_log: _log, ...counts } = state.counts;
      return { ...state, counts, head: undefined };
    };
    await quiescent(daemon.runtime.store);
    const before = await stateOf(daemon.runtime.store);
    const wrong: string[] = [];
    const all = cases();
    for (const item of all) {
      const response = await send(item);
      const problem = response.headers['content-type']?.toString().startsWith('application/problem+json')
        ? (response.json() as { code?: string })
        : {};
      const label = `${item.operation} ${item.name}`;
      if (response.statusCode !== item.expect[0] || problem.code !== item.expect[1])
        wrong.push(
          `${label}: expected ${item.expect.join(' ')}, got ${response.statusCode} ${problem.code ?? response.body.slice(0, 80)}`,
        );
      const [method, path] = item.operation.split(' ') as [string, string];
      if (documented[path]?.[method.toLowerCase()]?.responses[String(response.statusCode)] === undefined)
        wrong.push(`${label}: ${response.statusCode} is not declared in the OpenAPI document`);
    }
    expect(wrong).toEqual([]);
    expect(all.length).toBeGreaterThan(100);

    const after = await stateOf(daemon.runtime.store);
    expect(withoutAudit(after)).toEqual(withoutAudit(before));
    // The only entries appended: the refusal of the transfer of an asset the policy does not name.
    const appended = await daemon.runtime.store.db
      .selectFrom('audit_log')
      .select(['kind', 'details'])
      .where('sequence', '>', before.head[0]!.sequence)
      .execute();
    expect(appended.map((row) => [row.kind, JSON.parse(row.details).code])).toEqual([
      ['transfer.refused', 'ASSET_NOT_ALLOWED'],
    ]);
  });

  it('declares every route’s failure modes in the OpenAPI document, each as a problem response', () => {
    const wrong: string[] = [];
    for (const [path, methods] of Object.entries(documented)) {
      for (const [method, operation] of Object.entries(methods)) {
        const op = operation as {
          responses: Record<string, unknown>;
          security?: unknown[];
          parameters?: { in: string }[];
          requestBody?: unknown;
        };
        const label = `${method.toUpperCase()} ${path}`;
        const statuses = Object.keys(op.responses);
        const need = (status: number, why: string) => {
          if (!statuses.includes(String(status))) wrong.push(`${label}: no ${status} (${why})`);
        };
        if ((op.security ?? []).length > 0) {
          need(401, 'it needs a token');
          need(403, 'it is for some roles only');
        }
        if (op.requestBody) {
          need(400, 'it takes a body');
          need(413, 'bodies have a size limit');
          need(415, 'it takes JSON only');
        }
        if ((op.parameters ?? []).length > 0) need(400, 'it takes parameters');
        if ((op.parameters ?? []).some((parameter) => parameter.in === 'path'))
          need(404, 'it names a resource');
        if (path !== '/v1/health') need(429, 'it is rate limited');
        // Health and readiness answer 503 with their own status document (what is down), not a problem.
        const errors = statuses.filter(
          (status) =>
            Number(status) >= 400 && !((path === '/v1/health' || path === '/v1/ready') && status === '503'),
        );
        for (const status of errors) {
          if (!JSON.stringify(op.responses[status]).includes('#/components/schemas/Problem'))
            wrong.push(`${label}: ${status} is not a Problem`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
