/**
 * The transfer API's contract around the pipeline: idempotency keys (the same request gets the same
 * transfer, even while the first is in flight; another request under the key gets 409 and changes
 * nothing), bad input refused before anything is stored, who may see and act on what, and the
 * history's cursor pagination.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listWalletTransfers } from '../../src/store/transfers.ts';
import { bearer } from '../support/api.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import {
  balanceOf,
  createOwner,
  createWalletSession,
  getTransfer,
  newRecipient,
  policy,
  postTransfer,
  SOL,
  startTransferDaemon,
  type TestOwner,
  type TransferDaemon,
} from './harness.ts';

describeWithSquads('transfer API', () => {
  let daemon: TransferDaemon;
  let owner: TestOwner;

  beforeAll(async () => {
    daemon = await startTransferDaemon();
    owner = await createOwner(daemon.app, daemon.store);
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('the same idempotency key and body twice at once: one transfer, one movement, the same answer', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const body = { to, amount: String(SOL / 20n), idempotencyKey: 'order-1' };
    const [first, second] = await Promise.all([
      postTransfer(daemon.app, session.token, wallet.id, body),
      postTransfer(daemon.app, session.token, wallet.id, body),
    ]);
    expect(first.statusCode).toBe(200);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    const later = await postTransfer(daemon.app, session.token, wallet.id, body);
    expect(later.json()).toMatchObject({ id: first.json().id, signature: first.json().signature });
    expect(await balanceOf(daemon, to)).toBe(SOL / 20n);
    expect(await listWalletTransfers(daemon.store.db, wallet.id, 10)).toHaveLength(1);
  });

  it('a retry while the first is still in flight waits for it and answers the same', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let firstHeld!: () => void;
    const held = new Promise<void>((resolve) => (firstHeld = resolve));
    let secondWaits!: () => void;
    const waiting = new Promise<void>((resolve) => (secondWaits = resolve));
    daemon.transfers.setFaults(async (step, transfer) => {
      if (transfer.destination !== to) return;
      if (step === 'persisted') {
        firstHeld();
        await gate;
      }
      if (step === 'retry-waiting') secondWaits();
    });
    try {
      const body = { to, amount: String(SOL / 20n), idempotencyKey: 'slow-order' };
      const first = postTransfer(daemon.app, session.token, wallet.id, body);
      await held;
      let secondDone = false;
      const second = postTransfer(daemon.app, session.token, wallet.id, body).then((response) => {
        secondDone = true;
        return response;
      });
      // The retry found the first in flight and is waiting for it: it cannot have answered.
      await waiting;
      expect(secondDone).toBe(false);
      expect(await balanceOf(daemon, to)).toBe(0n);
      release();
      const [a, b] = await Promise.all([first, second]);
      expect(a.statusCode).toBe(200);
      expect(b.json()).toEqual(a.json());
      expect(await balanceOf(daemon, to)).toBe(SOL / 20n);
    } finally {
      daemon.transfers.setFaults(undefined);
    }
  });

  it('the same key with another body is 409 IDEMPOTENCY_CONFLICT and changes nothing', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const first = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 20n),
      idempotencyKey: 'order-2',
    });
    expect(first.statusCode).toBe(200);
    const conflict = await postTransfer(daemon.app, session.token, wallet.id, {
      to,
      amount: String(SOL / 10n),
      idempotencyKey: 'order-2',
    });
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json()).toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
      details: { transferId: first.json().id },
    });
    expect(await balanceOf(daemon, to)).toBe(SOL / 20n);
    expect(await listWalletTransfers(daemon.store.db, wallet.id, 10)).toHaveLength(1);
  });

  it('separate requests alike in every field are separate transfers: both move funds', async () => {
    // Built on one blockhash they would be the same bytes and land once for both without a variant.
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const body = { to, amount: String(SOL / 20n) };
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => postTransfer(daemon.app, session.token, wallet.id, body)),
    );
    expect(answers.map((answer) => answer.statusCode)).toEqual([200, 200, 200, 200]);
    expect(new Set(answers.map((answer) => answer.json().signature)).size).toBe(4);
    expect(await balanceOf(daemon, to)).toBe(4n * (SOL / 20n));
  });

  it('bad input is refused with a 4xx code before anything is stored', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy(), 0n);
    const to = newRecipient();
    const cases: [Record<string, unknown>, string][] = [
      [{ to, amount: '0' }, 'INVALID_AMOUNT'],
      [{ to, amount: '-5' }, 'INVALID_AMOUNT'],
      [{ to, amount: '1.5' }, 'INVALID_AMOUNT'],
      [{ to, amount: 1000 }, 'VALIDATION_FAILED'],
      [{ to, amount: '99999999999999999999999' }, 'INVALID_AMOUNT'],
      [{ to: 'not-an-address', amount: '1000' }, 'INVALID_ADDRESS'],
      [{ to: wallet.vault, amount: '1000000' }, 'INVALID_ADDRESS'],
      [{ to, amount: '1000', extra: true }, 'VALIDATION_FAILED'],
      [{ to, amount: '1000', memo: 'x'.repeat(257) }, 'VALIDATION_FAILED'],
      [{ to, amount: '1000', idempotencyKey: 'has space' }, 'VALIDATION_FAILED'],
      [{ to, amount: String(2n ** 63n) }, 'INVALID_AMOUNT'],
    ];
    for (const [payload, code] of cases) {
      const response = await postTransfer(daemon.app, session.token, wallet.id, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBeGreaterThanOrEqual(400);
      expect(response.statusCode, JSON.stringify(payload)).toBeLessThan(500);
      expect(response.json().code, JSON.stringify(payload)).toBe(code);
    }
    expect(await listWalletTransfers(daemon.store.db, wallet.id, 10)).toEqual([]);
  });

  it('only the wallet’s agent and owner see its transfers; only the owner acts on them', async () => {
    const first = await createWalletSession(daemon, owner, policy());
    const otherOwner = await createOwner(daemon.app, daemon.store);
    const second = await createWalletSession(daemon, otherOwner, policy(), 0n);
    const to = newRecipient();
    const made = await postTransfer(daemon.app, first.session.token, first.wallet.id, {
      to,
      amount: String(SOL / 20n),
    });
    expect(made.statusCode).toBe(200);
    const id = made.json().id;

    const foreignPost = await postTransfer(daemon.app, second.session.token, first.wallet.id, {
      to,
      amount: '1000000',
    });
    expect(foreignPost.statusCode).toBe(404);
    expect((await getTransfer(daemon.app, second.session.token, id)).statusCode).toBe(404);
    expect((await getTransfer(daemon.app, otherOwner.token, id)).statusCode).toBe(404);
    expect((await getTransfer(daemon.app, owner.token, id)).statusCode).toBe(200);
    expect((await getTransfer(daemon.app, first.session.token, id)).statusCode).toBe(200);
    const anonymous = await daemon.app.inject({ method: 'GET', url: `/v1/transfers/${id}` });
    expect(anonymous.statusCode).toBe(401);
    const foreignCancel = await daemon.app.inject({
      method: 'POST',
      url: `/v1/transfers/${id}/cancel`,
      headers: bearer(otherOwner.token),
    });
    expect(foreignCancel.statusCode).toBe(404);
    const byOwner = await postTransfer(daemon.app, owner.token, first.wallet.id, {
      to,
      amount: String(SOL / 20n),
    });
    expect(byOwner.statusCode).toBe(200);
    expect(await balanceOf(daemon, to)).toBe(SOL / 10n);
  });

  it('lists a wallet’s transfers newest first, a page at a time', async () => {
    const { wallet, session } = await createWalletSession(daemon, owner, policy());
    const to = newRecipient();
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) {
      const response = await postTransfer(daemon.app, session.token, wallet.id, {
        to,
        amount: String(SOL / 100n + BigInt(index)),
      });
      ids.push(response.json().id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await daemon.app.inject({
        method: 'GET',
        url: `/v1/wallets/${wallet.id}/transfers${query}`,
        headers: bearer(session.token),
      });
      expect(page.statusCode).toBe(200);
      const body = page.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(body.items.length).toBeLessThanOrEqual(2);
      seen.push(...body.items.map((item) => item.id));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    const bad = await daemon.app.inject({
      method: 'GET',
      url: `/v1/wallets/${wallet.id}/transfers?cursor=bm9wZQ`,
      headers: bearer(session.token),
    });
    expect(bad.statusCode).toBe(400);
  });
});
