/**
 * A transfer's audit entry and webhook event are written in the database transaction of the state
 * change they describe. Read from inside the pipeline's fault hook, at the instant after a step (as a
 * crash there would leave the database): the entry and the outbox row exist exactly when the state
 * does. One entry per event (a notify-tier confirmation once), with the real actor (the owner who
 * cancels, rejects or approves).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PipelineHalt, type PipelineStep } from '../../src/daemon/transfers/index.ts';
import type { TransferRecord } from '../../src/store/transfers.ts';
import { bearer, OWNER_PASSPHRASE } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  createOwner,
  createWalletSession,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
} from '../transfers/harness.ts';

describeWithSquads('transfer events atomic with state', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;

  beforeAll(async () => {
    daemon = await startTransferDaemon();
    owner = await createOwner(daemon.app, daemon.store);
    const webhook = await daemon.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: bearer(owner.token),
      // Nobody listens there: the outbox rows are what this test reads.
      payload: { url: 'http://127.0.0.1:9/hook' },
    });
    expect(webhook.statusCode).toBe(201);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  /** What the database holds about one transfer: its status, its audit entries, its outbox events. */
  const recorded = async (transferId: string) => {
    const [row, audit, outbox] = await Promise.all([
      daemon.store.db
        .selectFrom('transfers')
        .select('status')
        .where('id', '=', transferId)
        .executeTakeFirst(),
      daemon.store.db
        .selectFrom('audit_log')
        .select(['kind', 'actor_role', 'actor_id'])
        .where('subject', '=', transferId)
        .orderBy('sequence')
        .execute(),
      daemon.store.db
        .selectFrom('webhook_outbox')
        .select(['type', 'body'])
        .where('body', 'like', `%${transferId}%`)
        .orderBy('created_at')
        .execute(),
    ]);
    return {
      status: row?.status,
      audit: audit.map(
        (entry) => `${entry.kind} by ${entry.actor_role}${entry.actor_id ? ` ${entry.actor_id}` : ''}`,
      ),
      // Sorted: two events of one millisecond have no order in the outbox (the audit log has one).
      events: outbox.map((event) => event.type).sort(),
    };
  };

  /** Stops the pipeline dead after `step` for transfers to `to`, reading the database at that instant. */
  const haltAfter = (to: string, step: PipelineStep) => {
    const seen: { step: PipelineStep; state: Awaited<ReturnType<typeof recorded>> }[] = [];
    daemon.transfers.setFaults(async (reached, transfer: TransferRecord) => {
      if (transfer.destination !== to) return;
      if (reached === 'confirmed' || reached === 'recorded')
        seen.push({ step: reached, state: await recorded(transfer.id) });
      if (reached === step) throw new PipelineHalt(step);
    });
    return seen;
  };

  it('a crash right after the confirmation is stored leaves its one audit entry and its outbox row (notify tier)', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const seen = haltAfter(to, 'recorded');
    try {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to,
        amount: String(SOL / 4n),
      });
      expect(response.statusCode).toBe(500);
    } finally {
      daemon.transfers.setFaults(undefined);
    }
    expect(seen).toEqual([
      // Sent and landed, not yet stored as confirmed: nothing recorded either.
      { step: 'confirmed', state: { status: 'submitted', audit: [], events: [] } },
      // Stored: the one entry and the one event are already committed with it.
      {
        step: 'recorded',
        state: {
          status: 'confirmed',
          audit: ['transfer.confirmed by system'],
          events: ['transfer.confirmed'],
        },
      },
    ]);
    const transfer = await daemon.store.db
      .selectFrom('transfers')
      .select(['id', 'tier'])
      .where('destination', '=', to)
      .executeTakeFirstOrThrow();
    expect(transfer.tier).toBe('notify');
    // And nothing is added later: one entry per event.
    await daemon.transfers.runWorkersOnce();
    expect(await recorded(transfer.id)).toEqual({
      status: 'confirmed',
      audit: ['transfer.confirmed by system'],
      events: ['transfer.confirmed'],
    });
  });

  it('a proposal that lands is pending approval with its entry and event, even if the process dies at once', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const seen = haltAfter(to, 'recorded');
    try {
      await postTransfer(daemon.app, session.token, wallet.id, { to, amount: String(SOL + 5n) });
    } finally {
      daemon.transfers.setFaults(undefined);
    }
    expect(seen.at(-1)).toEqual({
      step: 'recorded',
      state: {
        status: 'pending_approval',
        audit: ['approval.requested by system'],
        events: ['approval.requested'],
      },
    });
  });

  it("the owner's cancel, rejection and approval are recorded as the owner's, once each", async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const ownerPost = (path: string, unlock?: string) =>
      daemon.app.inject({
        method: 'POST',
        url: path,
        headers: bearer(owner.token, unlock ? { 'x-owner-unlock': unlock } : {}),
      });
    const send = async (amount: bigint) =>
      (
        await postTransfer(daemon.app, session.token, wallet.id, {
          to: newRecipient(),
          amount: String(amount),
        })
      ).json().id as string;

    const delayed = await send((SOL * 7n) / 10n);
    expect((await ownerPost(`/v1/transfers/${delayed}/cancel`)).statusCode).toBe(200);
    expect(await recorded(delayed)).toEqual({
      status: 'cancelled',
      audit: ['transfer.received by system', `transfer.cancelled by owner ${owner.id}`],
      events: ['transfer.cancelled', 'transfer.delayed'],
    });

    const rejected = await send(SOL + 7n);
    expect((await ownerPost(`/v1/transfers/${rejected}/reject`)).statusCode).toBe(200);
    expect((await recorded(rejected)).audit).toEqual([
      'approval.requested by system',
      `transfer.rejected by owner ${owner.id}`,
    ]);

    const approved = await send(SOL + 9n);
    expect((await ownerPost(`/v1/transfers/${approved}/approve`, OWNER_PASSPHRASE)).statusCode).toBe(200);
    expect(await recorded(approved)).toEqual({
      status: 'confirmed',
      audit: [
        'approval.requested by system',
        `approval.approved by owner ${owner.id}`,
        'transfer.confirmed by system',
      ],
      events: ['approval.approved', 'approval.requested', 'transfer.confirmed'],
    });
  });
});
