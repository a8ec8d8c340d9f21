/**
 * The MCP handlers when the daemon is in trouble (a scripted stand-in, see test/support): a send whose
 * outcome is unknown hands the model the idempotency key to retry safely, and a daemon that is down
 * still lets the client list tools, while calls say the daemon did not answer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentWallet } from '../../src/mcp/agent-wallet.ts';
import { createHandlers, UnknownToolError } from '../../src/mcp/handlers.ts';
import { createClient } from '../../src/sdk/index.ts';
import { problemBody, type ScriptedServer, startScriptedServer } from '../support/scripted-http-server.ts';

const WALLET = 'wal_mcp';
const TO = '9WzDXwBbmkg8ZTbNMqUxvQRAyrZzDsGYdLVL9zYtAWWM';
const policy = {
  version: 1,
  assets: {
    SOL: {
      perTransaction: '2000000000',
      daily: '5000000000',
      tiers: { instantMax: '100000000', notifyMax: '500000000', delayMax: '1000000000', delaySeconds: 900 },
    },
  },
  recipients: { mode: 'any' },
  hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
  rate: { maxPerHour: 100 },
  approvalTimeoutSeconds: 3600,
};

let server: ScriptedServer;
beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});

const handlersFor = (url: string) =>
  createHandlers(
    new AgentWallet(
      createClient({ url, token: 'waiaas_ses_x', retry: { attempts: 3, baseDelayMs: 1 } }),
      WALLET,
    ),
  );

describe('MCP handlers with a daemon in trouble', () => {
  it('a send with no answer gives the model the key to retry at most once; the retry carries it', async () => {
    server.script((request) => {
      if (request.method === 'GET' && request.url.endsWith('/policy')) {
        return {
          status: 200,
          body: {
            walletId: WALLET,
            status: 'active',
            version: 1,
            policy,
            ownerPublicKey: TO,
            signature: 's',
          },
        };
      }
      return { status: 503, body: problemBody('ENCLAVE_UNAVAILABLE', 503, true) };
    });
    const handlers = handlersFor(server.url);
    const result = await handlers.callTool('send', { to: TO, amount: '0.05' });
    expect(result.isError).toBe(true);
    const key = /idempotency_key "([^"]+)"/.exec(result.content[0]!.text)?.[1];
    expect(key).toBeTruthy();
    expect(result.content[0]!.text).toContain('may or may not have been made');
    const posts = server.requests.filter((request) => request.method === 'POST');
    expect(posts).toHaveLength(3);
    expect(new Set(posts.map((request) => request.headers['idempotency-key']))).toEqual(new Set([key]));
    expect(JSON.parse(posts[0]!.body)).toMatchObject({ to: TO, amount: '50000000', idempotencyKey: key });

    server.script((request) =>
      request.method === 'POST'
        ? {
            status: 200,
            body: {
              id: 'trf_1',
              walletId: WALLET,
              status: 'confirmed',
              tier: 'instant',
              asset: 'SOL',
              amount: '50000000',
              to: TO,
              signature: 'sig',
              createdAt: 'now',
              updatedAt: 'now',
            },
          }
        : {
            status: 200,
            body: {
              walletId: WALLET,
              status: 'active',
              version: 1,
              policy,
              ownerPublicKey: TO,
              signature: 's',
            },
          },
    );
    const retried = await handlers.callTool('send', { to: TO, amount: '0.05', idempotency_key: key });
    expect(retried.isError).toBeUndefined();
    expect(retried.content[0]!.text).toContain('Sent 0.05 SOL');
    expect(server.requests.find((request) => request.method === 'POST')?.headers['idempotency-key']).toBe(
      key,
    );
  });

  it('with the daemon down, tools still list (without numbers) and calls say the daemon did not answer', async () => {
    const handlers = handlersFor('http://127.0.0.1:9');
    const tools = await handlers.listTools();
    expect(tools.find((tool) => tool.name === 'send')?.description).toContain(
      'Call get_policy for your limits.',
    );
    const balance = await handlers.callTool('get_balance', {});
    expect(balance.isError).toBe(true);
    expect(balance.content[0]!.text).toContain('The WAIaaS daemon did not answer');
    await expect(handlers.callTool('drain_wallet', {})).rejects.toBeInstanceOf(UnknownToolError);
  });

  it('refuses malformed arguments before calling the daemon', async () => {
    server.script({ status: 500, body: problemBody('INTERNAL', 500, true) });
    const handlers = handlersFor(server.url);
    const noRecipient = await handlers.callTool('send', { amount: '1' });
    expect(noRecipient).toMatchObject({ isError: true });
    expect(noRecipient.content[0]!.text).toBe('"to" is required.');
    const badAddress = await handlers.callTool('send', { to: 'not-an-address!', amount: '1' });
    expect(badAddress.content[0]!.text).toContain('"to" is not valid');
    const numberAmount = await handlers.callTool('send', { to: TO, amount: 0.25 });
    expect(numberAmount.content[0]!.text).toBe('"amount" must be a string.');
    expect(server.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
  });
});
