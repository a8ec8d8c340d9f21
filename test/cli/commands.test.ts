/**
 * The owner's commands as a user types them: the built CLI (`bin/waiaas.mjs`) against a whole daemon
 * (localnet with the real Squads program, the enclave as its own process) over HTTP. Amounts read in
 * SOL in tables and stay base units in --json; policies are set, edited in $EDITOR and refused field
 * by field; delayed transfers are cancelled; sessions and webhooks are listed; a withdrawal says what
 * moved; an owner created with the operator token goes through the API and is in the audit log.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyDiff } from '../../src/cli/commands/policy.ts';
import { describeWallet } from '../../src/cli/describe.ts';
import { describeFailure } from '../../src/cli/failure.ts';
import { errorFromResponse, sol, type Wallet } from '../../src/sdk/index.ts';
import { OWNER_PASSPHRASE, operatorToken, starterPolicy } from '../support/api.ts';
import { runWaiaas } from '../support/processes.ts';
import {
  createOwnerWalletAgent,
  fundVault,
  type ListeningDaemon,
  lamportsOf,
  type OwnerWalletAgent,
  startListeningDaemon,
} from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver, waitFor } from '../webhooks/receiver.ts';

describeWithSquads('the owner commands against a running daemon', () => {
  let listening: ListeningDaemon;
  let setup: OwnerWalletAgent;
  let receiver: Receiver;
  let env: NodeJS.ProcessEnv;
  const recipient = Keypair.generate().publicKey.toBase58();
  const work = mkdtempSync(join(tmpdir(), 'waiaas-cli-commands-'));

  /** Runs the CLI; the owner's passphrase on stdin when asked for with --unlock-stdin. */
  const waiaas = async (args: string[], extra: NodeJS.ProcessEnv = {}, input?: string) => {
    const command = runWaiaas(args, { ...env, ...extra }, input);
    const { code } = await command.exited;
    return { code, stdout: command.stdout(), stderr: command.stderr() };
  };
  const unlocked = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    waiaas([...args, '--unlock-stdin'], extra, `${OWNER_PASSPHRASE}\n`);

  beforeAll(async () => {
    listening = await startListeningDaemon();
    setup = await createOwnerWalletAgent(listening);
    await fundVault(listening, setup.vault, sol('4'));
    receiver = await startReceiver();
    env = {
      WAIAAS_URL: listening.url,
      WAIAAS_TOKEN: setup.ownerToken,
      WAIAAS_DATA_DIR: join(work, 'data'),
    };
  }, 180_000);
  afterAll(async () => {
    await receiver?.close();
    await listening?.close();
  });

  it('policy show: the limits in SOL for people, base units in --json', async () => {
    const human = await waiaas(['policy', 'show', setup.walletId]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('SOL: up to 2 SOL a transfer, 5 SOL a day on its own');
    expect(human.stdout).toContain('instant ≤ 0.1 SOL, notify ≤ 0.5 SOL, delayed 15 min ≤ 1 SOL');
    const machine = JSON.parse((await waiaas(['policy', 'show', setup.walletId, '--json'])).stdout);
    expect(machine).toMatchObject({ walletId: setup.walletId, version: 1 });
    expect(machine.policy.assets.SOL.daily).toBe('5000000000');
  });

  it('policy set: the file shown is signed as the next version; an invalid one is refused field by field', async () => {
    // What `policy show --json` printed, fed back unchanged but for one limit: signed as v2 for you.
    const shown = JSON.parse((await waiaas(['policy', 'show', setup.walletId, '--json'])).stdout);
    shown.policy.assets.SOL.daily = '4000000000';
    const file = join(work, 'shown.json');
    writeFileSync(file, JSON.stringify(shown));
    const set = await unlocked(['policy', 'set', setup.walletId, file]);
    expect(set.stderr).toContain('v1 is in force: this one is signed as v2');
    expect(set.code).toBe(0);
    expect(set.stdout).toContain(`policy v2 in force for ${setup.walletId}`);

    // The same file again is version 1, older than the one in force: refused, nothing asked or signed.
    writeFileSync(file, JSON.stringify({ ...shown.policy, version: 1 }));
    const stale = await waiaas(['policy', 'set', setup.walletId, file]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('version 2 is in force');

    const invalid = join(work, 'invalid.json');
    writeFileSync(
      invalid,
      JSON.stringify({
        ...shown.policy,
        version: 3,
        assets: { SOL: { ...shown.policy.assets.SOL, daily: '-5' } },
        hours: { utc: [9, 5], days: [1, 2] },
      }),
    );
    const refused = await waiaas(['policy', 'set', setup.walletId, invalid]);
    expect(refused.code).toBe(1);
    const lines = refused.stderr.trim().split('\n');
    expect(lines[0]).toContain('The policy is not valid: [VALIDATION_FAILED]');
    expect(lines).toContain(
      '  assets.SOL.daily: a positive integer string in base units, without leading zeros',
    );
    expect(lines).toContain('  hours.utc: utc must be [start, end) with start < end');
    expect((await setup.owner.policy.get(setup.walletId)).version).toBe(2);
  });

  it('policy edit: $EDITOR edits the policy in force, the difference is shown in SOL, then it is signed', async () => {
    // An "editor" that raises the daily budget to 4.5 SOL, as a person would in vi.
    const editor = join(work, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i \'s/"daily": "4000000000"/"daily": "4500000000"/\' "$1"\n');
    chmodSync(editor, 0o755);
    const edited = await unlocked(['policy', 'edit', setup.walletId, '--yes'], {
      EDITOR: editor,
      VISUAL: '',
    });
    expect(edited.stderr).toBe('');
    expect(edited.code).toBe(0);
    expect(edited.stdout).toContain(`policy of ${setup.walletId}: v2 → v3`);
    expect(edited.stdout).toMatch(/~ assets\.SOL\.daily\s+4 SOL \(4000000000\) → 4\.5 SOL \(4500000000\)/);
    expect(edited.stdout).toContain(`policy v3 in force for ${setup.walletId}`);
    expect((await setup.owner.policy.get(setup.walletId)).policy.assets.SOL?.daily).toBe(sol('4.5'));

    // An editor that changes nothing: nothing to sign.
    const unchanged = await waiaas(['policy', 'edit', setup.walletId, '--yes'], {
      EDITOR: 'true',
      VISUAL: '',
    });
    expect(unchanged.code).toBe(0);
    expect(unchanged.stdout).toContain('no change: nothing to sign');
    expect((await setup.owner.policy.get(setup.walletId)).version).toBe(3);
  });

  it('transfers list in SOL, show, and cancel of a delayed transfer', async () => {
    const instant = await setup.agent.transfers.send(setup.walletId, { to: recipient, amount: sol('0.05') });
    const delayed = await setup.agent.transfers.send(setup.walletId, { to: recipient, amount: sol('0.8') });
    expect([instant.status, delayed.status]).toEqual(['confirmed', 'delayed']);

    const list = await waiaas(['transfers', 'list', setup.walletId]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${delayed.id}.*0\\.8 SOL.*delay\\s+delayed`));
    expect(list.stdout).toMatch(new RegExp(`${instant.id}.*0\\.05 SOL.*instant\\s+confirmed`));
    const json = JSON.parse((await waiaas(['transfers', 'list', setup.walletId, '--json'])).stdout);
    expect(json.map((transfer: { amount: string }) => transfer.amount)).toEqual(['800000000', '50000000']);

    const show = await waiaas(['transfers', 'show', instant.id]);
    expect(show.stdout).toContain(`signature    ${instant.signature}`);

    const cancel = await waiaas(['transfers', 'cancel', delayed.id, '--yes']);
    expect(cancel.code).toBe(0);
    expect(cancel.stdout).toContain(`${delayed.id}: cancelled`);
    expect((await setup.owner.transfers.get(delayed.id)).status).toBe('cancelled');
  });

  it('session list: the wallet’s sessions with their status, never a token', async () => {
    const created = JSON.parse(
      (await waiaas(['session', 'create', setup.walletId, '--label', 'ci', '--json'])).stdout,
    );
    expect((await waiaas(['session', 'revoke', created.id])).code).toBe(0);
    const list = await waiaas(['session', 'list', setup.walletId]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${created.id}\\s+ci\\s+revoked`));
    expect(list.stdout).toMatch(new RegExp(`${setup.sessionId}\\s+sdk test\\s+active`));
    expect(list.stdout).not.toContain(created.token);
  });

  it('webhooks add, list, deliveries, and redeliver of a dead-lettered delivery', async () => {
    const added = JSON.parse(
      (await waiaas(['webhooks', 'add', receiver.url, '--events', 'transfer.confirmed', '--json'])).stdout,
    );
    expect(added).toMatchObject({ url: receiver.url, events: ['transfer.confirmed'] });
    expect(added.secret).toEqual(expect.any(String));
    receiver.secret = added.secret;
    const listed = await waiaas(['webhooks', 'list']);
    expect(listed.stdout).toContain(added.id);
    expect(listed.stdout).not.toContain(added.secret);

    await setup.agent.transfers.send(setup.walletId, { to: recipient, amount: sol('0.01') });
    const store = listening.daemon.runtime.store;
    // Delivered first (its final state), so the worker has let go of it.
    const delivery = await waitFor(
      async () =>
        (await store.db
          .selectFrom('webhook_outbox')
          .select(['id', 'status'])
          .where('webhook_id', '=', added.id)
          .where('status', '=', 'delivered')
          .executeTakeFirst()) ?? undefined,
      60_000,
    );
    const table = await waiaas(['webhooks', 'deliveries', added.id]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`${delivery.id}\\s+transfer\\.confirmed\\s+${setup.walletId}`));

    // Dead-lettered (as after its last failed attempt): the one state a delivery is sent again from.
    await store.db
      .updateTable('webhook_outbox')
      .set({ status: 'failed', attempts: 10n })
      .where('id', '=', delivery.id)
      .execute();
    const failed = JSON.parse(
      (await waiaas(['webhooks', 'deliveries', added.id, '--status', 'failed', '--json'])).stdout,
    );
    expect(failed.map((item: { id: string }) => item.id)).toEqual([delivery.id]);
    const again = await waiaas(['webhooks', 'redeliver', added.id, delivery.id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`delivery ${delivery.id}: pending`);
    await waitFor(() => receiver.processed.find((event) => event.type === 'transfer.confirmed'), 60_000);
  });

  it('wallet withdraw prints what moved: amount in SOL, to where, the signature', async () => {
    const to = Keypair.generate().publicKey.toBase58();
    const result = await unlocked([
      'wallet',
      'withdraw',
      setup.walletId,
      '--to',
      to,
      '--amount',
      '0.25',
      '--yes',
    ]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`withdrew 0.25 SOL from ${setup.walletId} to ${to}`);
    expect(result.stdout).toMatch(/^signature [1-9A-HJ-NP-Za-km-z]{64,88}$/m);
    expect(await lamportsOf(listening, to)).toBe(sol('0.25'));
  });

  it('owner create --token: through the running daemon, and the audit log has owner.created', async () => {
    const token = await operatorToken(listening.daemon.runtime.store);
    const created = await waiaas(
      ['owner', 'create', '--name', 'Second owner', '--token', token, '--json'],
      {},
      'second owner passphrase\n',
    );
    // The passphrase comes from the prompt-less path only with --unlock-stdin: without it, no terminal.
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('pass --unlock-stdin');
    const viaApi = await waiaas(
      ['owner', 'create', '--name', 'Second owner', '--token', token, '--unlock-stdin', '--json'],
      {},
      'second owner passphrase\n',
    );
    expect(viaApi.stderr).toBe('');
    expect(viaApi.code).toBe(0);
    const owner = JSON.parse(viaApi.stdout);
    expect(owner).toMatchObject({ name: 'Second owner', token: expect.stringMatching(/^waiaas_own_/) });
    const audit = await listening.operator.audit.list({ kind: 'owner.created' }).toArray(100);
    expect(audit.map((entry) => entry.subject)).toContain(owner.id);
  });
});

describe('how the CLI describes things', () => {
  const wallet = {
    id: 'wal_1',
    name: 'Demo',
    status: 'frozen',
    multisig: 'M',
    vault: 'V',
    ownerPublicKey: 'O',
    policy: {
      version: 2,
      assets: {
        SOL: {
          perTransaction: sol('5'),
          daily: sol('2'),
          tiers: { instantMax: sol('0.1'), notifyMax: sol('0.5'), delayMax: sol('1'), delaySeconds: 900 },
        },
      },
      recipients: { mode: 'any' },
      hours: { utc: [0, 24], days: [0, 1, 2, 3, 4, 5, 6] },
      rate: { maxPerHour: 120 },
      approvalTimeoutSeconds: 3600,
    },
    createdAt: '2026-01-01T00:00:00.000Z',
    frozenReason: null,
  } satisfies Wallet;

  it('wallet show says why a frozen wallet is frozen, when the API says', () => {
    const shown = describeWallet({
      ...wallet,
      frozenReason: {
        code: 'MONITOR_VELOCITY',
        detail: { asset: 'SOL', percent: 60 },
        at: '2026-01-01T00:05:00.000Z',
      },
    });
    expect(shown).toMatch(
      /frozen because\s+MONITOR_VELOCITY: asset SOL, percent 60 \(2026-01-01T00:05:00\.000Z\)/,
    );
    expect(describeWallet(wallet)).not.toContain('frozen because');
  });

  it("an API refusal is told with its code, what to do, and the API's details.issues field by field", () => {
    const refusal = errorFromResponse(400, {
      type: 'https://waiaas.dev/problems/validation-failed',
      title: 'Validation failed',
      status: 400,
      code: 'VALIDATION_FAILED',
      detail: 'The policy is not valid.',
      retryable: false,
      action: 'Fix the named fields.',
      details: {
        issues: [
          { path: 'assets.SOL.daily', message: 'a positive integer string in base units' },
          { path: ['hours', 'utc'], message: 'utc must be [start, end) with start < end' },
        ],
      },
    });
    expect(describeFailure(refusal).split('\n')).toEqual([
      'The policy is not valid. [VALIDATION_FAILED] Fix the named fields.',
      '  assets.SOL.daily: a positive integer string in base units',
      '  hours.utc: utc must be [start, end) with start < end',
    ]);
  });

  it('a policy difference names each changed field, what was added and what was removed', () => {
    const before = starterPolicy() as never;
    const after = {
      ...starterPolicy({ version: 2, recipients: { mode: 'allowlist', addresses: ['A1'] } }),
    } as never;
    expect(policyDiff(before, after)).toEqual([
      { path: 'recipients.addresses[0]', after: 'A1' },
      { path: 'recipients.mode', before: 'any', after: 'allowlist' },
    ]);
  });
});
