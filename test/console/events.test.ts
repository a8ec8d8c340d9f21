/**
 * GET /v1/events, the owner's live feed the console listens to, over real HTTP through the SDK: an
 * event arrives while the stream is open; an owner sees only entries about them and their wallets; an
 * entry another replica appends to the shared database arrives too (the feed tails the database, not
 * this process); a stream resumed from a cursor misses nothing; the JSON form pages after a cursor;
 * bad cursors are refused with VALIDATION_FAILED; closing the daemon ends open streams.
 */
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../src/daemon/audit/index.ts';
import { type AuditEntry, type OwnerEvent, sol, type WaiaasClient } from '../../src/sdk/index.ts';
import { ServerSentEventParser } from '../../src/sdk/sse.ts';
import { fundVault, type ListeningDaemon, startListeningDaemon } from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { createOwnerSetup, type OwnerSetup } from './setup.ts';

/** Reads a stream until `until` is satisfied by the entries seen; fails at the deadline. */
async function collect(
  client: WaiaasClient,
  options: { after?: string },
  until: (entries: AuditEntry[]) => boolean,
  act?: () => Promise<unknown>,
  timeoutMs = 20_000,
): Promise<{ entries: AuditEntry[]; ready: OwnerEvent[] }> {
  const abort = new AbortController();
  const timer = setTimeout(
    () => abort.abort(new Error(`no matching event within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const entries: AuditEntry[] = [];
  const ready: OwnerEvent[] = [];
  try {
    for await (const event of client.events.stream({ ...options, signal: abort.signal })) {
      if (event.type === 'ready') {
        ready.push(event);
        if (act) await act();
      } else entries.push(event.entry);
      if (until(entries)) break;
    }
    if (!until(entries)) throw abort.signal.reason ?? new Error('the stream ended early');
    return { entries, ready };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

describe('server-sent events, parsed from chunks as they arrive', () => {
  it('joins data lines, keeps the last id, reads retry, skips comments, and waits for the blank line', () => {
    const parser = new ServerSentEventParser();
    expect(parser.push(': keep-alive\n\nretry: 1500\nid: 7\nevent: ready\ndata: {"a"')).toEqual([]);
    expect(parser.push(':1}\r\n\r\ndata: one\ndata: two\n')).toEqual([
      { event: 'ready', data: '{"a":1}', id: '7' },
    ]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: 'one\ntwo', id: '7' }]);
    expect(parser.retryMs).toBe(1500);
    expect(parser.lastEventId).toBe('7');
  });
});

describeWithSquads('GET /v1/events', () => {
  let listening: ListeningDaemon;
  let a: OwnerSetup;
  let b: OwnerSetup;
  const recipient = Keypair.generate().publicKey.toBase58();

  beforeAll(async () => {
    listening = await startListeningDaemon();
    [a, b] = [await createOwnerSetup(listening), await createOwnerSetup(listening)];
    await fundVault(listening, a.vault, sol('5'));
  });
  let closed = false;
  afterAll(async () => {
    if (!closed) await listening?.close();
  });

  it('streams the owner’s entries as they happen, and none of another owner’s', async () => {
    const otherSeen: AuditEntry[] = [];
    const other = new AbortController();
    const otherStream = (async () => {
      for await (const event of b.owner.events.stream({ signal: other.signal }))
        if (event.type === 'entry') otherSeen.push(event.entry);
    })();

    let transferId = '';
    const { entries, ready } = await collect(
      a.owner,
      {},
      (seen) => seen.some((entry) => entry.kind === 'approval.requested' && entry.subject === transferId),
      async () => {
        transferId = (await a.agent.transfers.send(a.walletId, { to: recipient, amount: sol('1.5') })).id;
      },
    );
    expect(ready).toHaveLength(1);
    expect(entries.every((entry) => entry.walletId === a.walletId || entry.ownerId === a.ownerId)).toBe(true);
    const requested = entries.find((entry) => entry.kind === 'approval.requested')!;
    expect(requested.details).toMatchObject({ id: transferId, amount: '1500000000', to: recipient });

    // Owner B's stream saw nothing of it, though it was open all along.
    const bSession = await b.owner.sessions.create(b.walletId, { ttlSeconds: 600 });
    await expect
      .poll(() => otherSeen.map((entry) => entry.subject), { timeout: 10_000 })
      .toContain(bSession.id);
    other.abort();
    await otherStream.catch(() => undefined);
    expect(otherSeen.some((entry) => entry.walletId === a.walletId)).toBe(false);
  });

  it('delivers an entry another replica appends to the shared database', async () => {
    const { entries } = await collect(
      a.owner,
      {},
      (seen) => seen.some((entry) => entry.kind === 'monitor.alert'),
      () =>
        // What a replica's monitor writes; nothing in this process announces it.
        listening.daemon.runtime.store.writeTransaction((trx) =>
          appendAudit(trx, {
            kind: 'monitor.alert',
            actor: { role: 'system' },
            walletId: a.walletId,
            details: { rule: 'velocity', replica: 'elsewhere' },
          }),
        ),
    );
    expect(entries.find((entry) => entry.kind === 'monitor.alert')?.details).toMatchObject({
      replica: 'elsewhere',
    });
  });

  it('resumes after a cursor without missing an entry, as JSON pages and as a stream', async () => {
    const start = await a.owner.events.list();
    expect(start.items).toEqual([]);
    const s1 = await a.owner.sessions.create(a.walletId, { ttlSeconds: 600, label: 'one' });
    const s2 = await a.owner.sessions.create(a.walletId, { ttlSeconds: 600, label: 'two' });

    const page = await a.owner.events.list({ after: start.cursor });
    expect(page.items.map((entry) => entry.subject)).toEqual([s1.id, s2.id]);
    expect(page.cursor).toBe(page.items.at(-1)!.sequence);
    const firstOnly = await a.owner.events.list({ after: start.cursor, limit: 1 });
    expect(firstOnly.items.map((entry) => entry.subject)).toEqual([s1.id]);
    expect(
      (await a.owner.events.list({ after: firstOnly.cursor })).items.map((entry) => entry.subject),
    ).toEqual([s2.id]);

    // A stream from the same cursor replays both before anything new.
    const { entries } = await collect(a.owner, { after: start.cursor }, (seen) => seen.length >= 2);
    expect(entries.slice(0, 2).map((entry) => entry.subject)).toEqual([s1.id, s2.id]);
  });

  it('takes Last-Event-ID as the browser’s reconnection sends it, and refuses a cursor that is not one', async () => {
    const start = await a.owner.events.list();
    const session = await a.owner.sessions.create(a.walletId, { ttlSeconds: 600 });
    const abort = new AbortController();
    const response = await fetch(`${listening.url}/v1/events`, {
      headers: {
        authorization: `Bearer ${a.ownerToken}`,
        accept: 'text/event-stream',
        'last-event-id': start.cursor,
      },
      signal: abort.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const parser = new ServerSentEventParser();
    const reader = response.body!.getReader();
    const seen: string[] = [];
    const decoder = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (!seen.includes(session.id)) {
      if (Date.now() > deadline) throw new Error('the resumed stream did not replay the session entry');
      const { value, done } = await reader.read();
      if (done) break;
      for (const event of parser.push(decoder.decode(value, { stream: true })))
        if (event.event !== 'ready') seen.push((JSON.parse(event.data) as AuditEntry).subject ?? '');
    }
    abort.abort();
    expect(seen).toContain(session.id);

    for (const bad of ['abc', '-1', '01', '9'.repeat(30)]) {
      const refused = await fetch(`${listening.url}/v1/events?after=${encodeURIComponent(bad)}`, {
        headers: { authorization: `Bearer ${a.ownerToken}` },
      });
      expect([bad, refused.status, ((await refused.json()) as { code: string }).code]).toEqual([
        bad,
        400,
        'VALIDATION_FAILED',
      ]);
    }
    const badHeader = await fetch(`${listening.url}/v1/events`, {
      headers: { authorization: `Bearer ${a.ownerToken}`, accept: 'text/event-stream', 'last-event-id': 'x' },
    });
    expect([badHeader.status, ((await badHeader.json()) as { code: string }).code]).toEqual([
      400,
      'VALIDATION_FAILED',
    ]);
  });

  it('is for owners only: an agent is refused with FORBIDDEN, no token with UNAUTHORIZED', async () => {
    await expect(a.agent.events.list()).rejects.toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const anonymous = await fetch(`${listening.url}/v1/events`, { headers: { accept: 'text/event-stream' } });
    expect(anonymous.status).toBe(401);
  });

  it('closing the daemon ends an open stream instead of waiting on it forever', async () => {
    const response = await fetch(`${listening.url}/v1/events`, {
      headers: { authorization: `Bearer ${a.ownerToken}`, accept: 'text/event-stream' },
    });
    const reader = response.body!.getReader();
    expect((await reader.read()).done).toBe(false);
    closed = true;
    const closing = listening.close();
    const ended = (async () => {
      for (;;) if ((await reader.read().catch(() => ({ done: true }))).done) return 'ended';
    })();
    const deadline = new Promise((resolve) =>
      setTimeout(() => resolve('still open after 20 s'), 20_000).unref(),
    );
    expect(await Promise.race([ended, deadline])).toBe('ended');
    await closing;
  });
});
