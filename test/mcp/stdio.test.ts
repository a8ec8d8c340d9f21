/**
 * `waiaas mcp` end to end, as an MCP client runs it: spawned over stdio with the real client of
 * @modelcontextprotocol/sdk, against a whole daemon (localnet with the real Squads program, the
 * enclave as its own process), configured as quickstart prints it: the daemon's URL and the agent's
 * token, nothing else. The agent lists its tools, sends an instant transfer that confirms on
 * chain, gets a policy refusal back as a tool error saying why and what would pass, and reads its budget.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it, type TestContext } from 'vitest';
import { sol } from '../../src/sdk/index.ts';
import { binPath, repoRoot } from '../support/processes.ts';
import {
  createOwnerWalletAgent,
  fundVault,
  type ListeningDaemon,
  lamportsOf,
  type OwnerWalletAgent,
  startListeningDaemon,
} from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

interface TextResult {
  isError?: boolean;
  content: { type: string; text?: string }[];
}

const textOf = (result: unknown): string =>
  (result as TextResult).content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');

describeWithSquads('waiaas mcp over stdio', () => {
  let listening: ListeningDaemon;
  let setup: OwnerWalletAgent;
  let client: Client;
  let stderr = '';
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    listening = await startListeningDaemon();
    setup = await createOwnerWalletAgent(listening);
    await fundVault(listening, setup.vault, sol('3'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [binPath, 'mcp'],
      cwd: repoRoot,
      env: {
        ...getDefaultEnvironment(),
        WAIAAS_URL: listening.url,
        // No WAIAAS_WALLET_ID: the server asks the daemon which wallet the token is bound to.
        WAIAAS_SESSION_TOKEN: setup.sessionToken,
      },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    client = new Client({ name: 'waiaas-test-agent', version: '1.0.0' });
    await client.connect(transport);
  });
  afterAll(async () => {
    await client?.close();
    await listening?.close();
  });

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = (await client.callTool({ name, arguments: args })) as TextResult;
    return { isError: result.isError === true, text: textOf(result) };
  };

  /** Skips only while the daemon does not serve the route at all; a served route that misbehaves fails. */
  const needs = (context: TestContext, ...routes: string[]) => {
    const missing = routes.filter((route) => !listening.served.has(route));
    if (missing.length > 0) context.skip(`route not served yet: ${missing.join(', ')}`);
  };

  it('introduces itself with the limits, and lists its tools with the limits in UI units', async () => {
    expect(client.getServerVersion()?.name).toBe('waiaas');
    expect(client.getInstructions()).toContain('SOL: instant up to 0.1 SOL');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual([
      'get_balance',
      'get_policy',
      'get_budget',
      'send',
      'dry_run_send',
      'get_transfer',
      'list_transfers',
      'get_deposit_address',
      'pay_for_url',
    ]);
    const send = tools.find((tool) => tool.name === 'send')!;
    expect(send.description).toContain('instant up to 0.1 SOL');
    expect(send.description).toContain('never more than 2 SOL in one transfer');
    expect(send.description).toContain('5 SOL per rolling day');
    expect(send.inputSchema.required).toEqual(['to', 'amount']);
    expect(send.annotations?.readOnlyHint).toBe(false);
    expect(tools.find((tool) => tool.name === 'get_budget')?.annotations?.readOnlyHint).toBe(true);
  });

  it('sends an instant transfer in UI units that confirms on chain, exactly', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers', 'GET /v1/transfers/{id}');
    const sent = await call('send', { to: recipient, amount: '0.05' });
    expect(sent.isError, sent.text).toBe(false);
    expect(sent.text).toContain(`Sent 0.05 SOL to ${recipient}: confirmed on chain (instant tier)`);
    expect(await lamportsOf(listening, recipient)).toBe(50_000_000n);

    const id = /Transfer (\S+),/.exec(sent.text)?.[1];
    expect(id).toBeTruthy();
    const fetched = await call('get_transfer', { id });
    expect(fetched.text).toContain('confirmed on chain');
    expect((await call('list_transfers', { limit: 5 })).text).toContain(id);
  });

  it('a refusal is a tool error that says why and what would pass', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers');
    const before = await lamportsOf(listening, setup.vault);
    const refused = await call('send', { to: recipient, amount: '3' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('3 SOL is over the per-transaction limit of 2 SOL');
    expect(refused.text).toContain('up to 0.1 SOL would be instant');
    expect(refused.text).toContain('refused by the server policy check');
    expect(await lamportsOf(listening, setup.vault)).toBe(before);

    const tooPrecise = await call('send', { to: recipient, amount: '0.0000000001' });
    expect(tooPrecise).toMatchObject({ isError: true });
    expect(tooPrecise.text).toContain('9 decimals');
    const exponent = await call('send', { to: recipient, amount: '1e-3' });
    expect(exponent.text).toContain('exponent notation is not allowed');
    const otherAsset = await call('send', {
      to: recipient,
      amount: '1',
      asset: Keypair.generate().publicKey.toBase58(),
    });
    expect(otherAsset.text).toContain('is not in your policy');
  });

  it('reads its budget: what is left today and the largest transfer per tier', async (context) => {
    needs(
      context,
      'GET /v1/wallets/{id}/usage',
      'GET /v1/wallets/{id}/policy',
      'POST /v1/wallets/{id}/transfers',
    );
    const budget = await call('get_budget');
    expect(budget.isError, budget.text).toBe(false);
    expect(budget.text).toContain('SOL: 4.95 SOL left of 5 SOL in the rolling');
    expect(budget.text).toContain('spent 0.05 SOL');
    expect(budget.text).toContain('now up to 0.1 SOL instant; up to 1 SOL without the owner');
    expect(budget.text).toContain("up to 2 SOL with the owner's approval");
  });

  it('checks a transfer without sending it', async (context) => {
    needs(context, 'POST /v1/wallets/{id}/transfers/dry-run');
    const before = await lamportsOf(listening, setup.vault);
    const delayed = await call('dry_run_send', { to: recipient, amount: '0.7' });
    expect(delayed.isError, delayed.text).toBe(false);
    expect(delayed.text).toContain(`0.7 SOL to ${recipient} would be delay tier`);
    expect(delayed.text).toContain('(900 s)');
    expect(delayed.text).toContain('Right now: instant up to 0.1 SOL');
    const refused = await call('dry_run_send', { to: recipient, amount: '2.5' });
    expect(refused.isError).toBe(true);
    expect(refused.text).toContain('Would be refused. Refused (refused by the server policy check)');
    expect(refused.text).toContain('over the per-transaction limit of 2 SOL');
    expect(await lamportsOf(listening, setup.vault)).toBe(before);
  });

  it('reads balance, policy and deposit address; resources for the wallet status and the policy', async () => {
    expect((await call('get_deposit_address')).text).toBe(`Deposit address: ${setup.vault}`);
    const balance = await call('get_balance');
    expect(balance.text).toMatch(new RegExp(`The vault ${setup.vault} holds 2\\.9\\d* SOL`));
    expect((await call('get_policy')).text).toContain('Recipients: any address.');

    const { resources } = await client.listResources();
    expect(resources.map((resource) => resource.uri)).toEqual([
      'waiaas://wallet/status',
      'waiaas://wallet/policy',
    ]);
    const status = await client.readResource({ uri: 'waiaas://wallet/status' });
    const statusText = (status.contents[0] as { text: string }).text;
    expect(statusText).toContain(`Wallet ${setup.walletId} is active`);
    expect(statusText).toContain(`Deposit address (vault): ${setup.vault}`);
    const policy = await client.readResource({ uri: 'waiaas://wallet/policy' });
    expect((policy.contents[0] as { text: string }).text).toContain('Policy version 1.');
    await expect(client.readResource({ uri: 'waiaas://nope' })).rejects.toThrow(/No resource/);
    await expect(client.callTool({ name: 'drain_wallet', arguments: {} })).rejects.toThrow(/No tool/);
  });

  it('says nothing alarming on stderr (stdout carries only the protocol, or the client would have failed)', () => {
    expect(stderr).not.toMatch(/error|warn/i);
  });
});
