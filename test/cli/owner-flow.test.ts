import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection, Keypair, PublicKey } from '@solana/web3.js';
import { afterAll, expect, it } from 'vitest';
import { createClient, sol } from '../../src/sdk/index.ts';
import { readWallet } from '../../src/squads/index.ts';
import { freePortPair, type RunningCommand, runWaiaas } from '../support/processes.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

const running: RunningCommand[] = [];
afterAll(async () => {
  await Promise.all(running.map((command) => command.stop('SIGKILL')));
});

const field = (text: string, label: string): string => {
  const value = new RegExp(`${label}\\s+(\\S+)`).exec(text)?.[1];
  if (!value) throw new Error(`no "${label}" in:\n${text}`);
  return value;
};

describeWithSquads('the owner CLI as a user drives it', () => {
  it('quickstart sets up a funded wallet; approvals approve executes a large transfer; wallet freeze stops the agent on chain', async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'waiaas-quickstart-')), 'data');
    const port = await freePortPair();
    const localnetPort = await freePortPair();
    const env = {
      WAIAAS_DATA_DIR: dataDir,
      WAIAAS_PORT: String(port),
      WAIAAS_LOCALNET_PORT: String(localnetPort),
      WAIAAS_LOG_LEVEL: 'warn',
    };
    const quickstart = runWaiaas(['quickstart'], env);
    running.push(quickstart);
    const printed = await quickstart.waitForOutput(/await waiaas\.transfers\.send/, 120_000);
    expect(printed).toContain('Quickstart ready');
    expect(printed).toContain('"mcpServers"');
    const ownerToken = field(printed, 'owner token');
    const passphrase = field(printed, 'owner passphrase');
    const walletId = field(printed, 'wallet ');
    const vault = field(printed, 'wallet address');
    const agentToken = field(printed, 'agent token');

    const connection = new Connection(`http://127.0.0.1:${localnetPort}`, 'confirmed');
    expect(await connection.getBalance(new PublicKey(vault))).toBe(10_000_000_000);

    // The agent asks for 1.5 SOL: above the delay tier, so it waits for the owner.
    const agent = createClient({ url: `http://127.0.0.1:${port}`, token: agentToken });
    const recipient = Keypair.generate().publicKey.toBase58();
    const pending = await agent.transfers.send(walletId, { to: recipient, amount: sol('1.5') });
    expect(pending.status).toBe('pending_approval');

    const ownerEnv = { ...env, WAIAAS_TOKEN: ownerToken };
    const list = runWaiaas(['approvals', 'list', '--json'], ownerEnv);
    await list.exited;
    expect(JSON.parse(list.stdout()).map((transfer: { id: string }) => transfer.id)).toEqual([pending.id]);

    const approve = runWaiaas(
      ['approvals', 'approve', pending.id, '--yes', '--unlock-stdin'],
      ownerEnv,
      `${passphrase}\n`,
    );
    const approved = await approve.exited;
    expect(approve.stderr()).toBe('');
    expect(approved.code).toBe(0);
    expect(approve.stdout()).toContain('1.5 SOL');
    expect(approve.stdout()).toContain(recipient);
    expect(approve.stdout()).toContain(`${pending.id}: confirmed`);
    expect(await connection.getBalance(new PublicKey(recipient))).toBe(1_500_000_000);

    const freeze = runWaiaas(['wallet', 'freeze', walletId, '--unlock-stdin'], ownerEnv, `${passphrase}\n`);
    expect((await freeze.exited).code).toBe(0);
    expect(freeze.stdout()).toContain(`frozen ${walletId}`);
    const wallet = await createClient({ url: `http://127.0.0.1:${port}`, token: ownerToken }).wallets.get(
      walletId,
    );
    const state = await readWallet(connection, new PublicKey(wallet.multisig));
    expect(state.multisig.threshold).toBe(1);
    expect(state.spendingLimits).toHaveLength(0);
    expect(state.multisig.members.map((member) => member.key.toBase58())).not.toContain(
      wallet.agentPublicKey,
    );

    await expect(
      agent.transfers.send(walletId, { to: recipient, amount: sol('0.01') }),
    ).rejects.toMatchObject({
      code: 'WALLET_FROZEN',
    });

    // A second start finds the set-up done and prints no secrets again.
    expect(await quickstart.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    const again = runWaiaas(['quickstart'], env);
    running.push(again);
    const second = await again.waitForOutput(/quickstart wallet/, 120_000);
    expect(second).not.toContain(agentToken);
    expect(second).not.toContain(passphrase);
    expect(await again.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  }, 300_000);
});
