/**
 * Retries against the real daemon, started as a user would (`waiaas start`) with a small per-token
 * rate limit: when the token's bucket runs dry the daemon answers 429 RATE_LIMITED with Retry-After,
 * and the SDK waits and retries reads by itself, while a POST without an idempotency key is handed
 * back as RateLimitedError at once.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, RateLimitedError, type WaiaasClient } from '../../src/sdk/index.ts';
import { freePortPair, type RunningCommand, runWaiaas } from '../support/processes.ts';

const PER_MINUTE = 60;

describe('the SDK against a rate-limited daemon', () => {
  let command: RunningCommand;
  let url: string;
  let owner: WaiaasClient;
  const statuses: number[] = [];

  beforeAll(async () => {
    command = runWaiaas(['start'], {
      WAIAAS_DATA_DIR: mkdtempSync(join(tmpdir(), 'waiaas-sdk-rate-')),
      WAIAAS_PORT: String(await freePortPair()),
      WAIAAS_LOCALNET_PORT: String(await freePortPair()),
      WAIAAS_LOG_LEVEL: 'warn',
      WAIAAS_RATE_LIMIT_PER_TOKEN: String(PER_MINUTE),
    });
    // Generous: the daemon starts its localnet and enclave, on a machine other suites share.
    const stdout = await command.waitForOutput(/data directory/, 150_000);
    url = /WAIaaS daemon\s+(\S+)/.exec(stdout)?.[1] ?? '';
    const operatorToken = /operator token\s+(\S+)/.exec(stdout)?.[1] ?? '';
    const operator = createClient({ url, token: operatorToken });
    const created = await operator.owners.create({
      name: 'Rate owner',
      signer: { kind: 'local', passphrase: 'rate owner passphrase' },
    });
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      return response;
    };
    owner = createClient({ url, token: created.token, fetch: recordingFetch });
  }, 180_000);
  afterAll(async () => {
    await command?.stop('SIGTERM');
  });

  it('rides out 429s on reads by waiting for Retry-After, and hands a non-idempotent POST back at once', async () => {
    const calls = PER_MINUTE + 2;
    for (let index = 0; index < calls; index++) await owner.wallets.list().toArray();
    // The bucket held PER_MINUTE; the rest were refused once, waited for and answered.
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.filter((status) => status === 200)).toHaveLength(calls);

    statuses.length = 0;
    const refused = await owner.sessions
      .create('wal_unknown', { ttlSeconds: 3600 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', status: 429, retryable: true });
    expect((refused as RateLimitedError).retryAfter).toBeGreaterThanOrEqual(1);
    expect(statuses).toEqual([429]);
  });
});
