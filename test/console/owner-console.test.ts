/**
 * The owner console in a real browser (Debian's chromium driven by playwright-core) against a whole
 * daemon on the localnet with the real Squads program, as an owner uses it: sign in; an agent's
 * request above the delay ceiling arrives in the inbox by itself; approve it with the second factor
 * and see it confirmed with its signature; an invalid policy value is refused beside its field and
 * changes nothing; a valid change is put in force and the chain's limit read back; sessions, webhooks
 * and the audit log; the kill switch freezes the wallet and the agent is refused. Every page is
 * screenshotted (test-results/console), once at phone width, and no request leaves for another origin.
 *
 * The steps share one browser and one daemon and run in order, each building on the one before. UI
 * state is waited for with Playwright's auto-waiting locators (each with a deadline that fails).
 */
import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, PolicyRefusedError, sol, type WaiaasClient } from '../../src/sdk/index.ts';
import { readWallet } from '../../src/squads/index.ts';
import { insertDeliveries } from '../../src/store/outbox.ts';
import { OWNER_PASSPHRASE } from '../support/api.ts';
import { fundVault, type ListeningDaemon, lamportsOf, startListeningDaemon } from '../support/sdk-daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';
import { type Receiver, startReceiver } from '../webhooks/receiver.ts';
import { type ConsoleBrowser, openBrowser } from './browser.ts';
import { ensureConsoleBuilt } from './build.ts';
import { createOwnerSetup } from './setup.ts';

// What the callbacks of page.evaluate touch in the browser (this tsconfig has no DOM types).
declare const window: { location: { hash: string }; innerWidth: number };
declare const document: { cookie: string; documentElement: { scrollWidth: number } };
declare const localStorage: object;
declare const sessionStorage: object;
declare const navigator: { clipboard: { readText(): Promise<string> } };

const UI_TIMEOUT = 30_000;
/** Waits until the locator shows; fails at the deadline. */
const shows = (locator: Locator, timeout = UI_TIMEOUT) =>
  locator.first().waitFor({ state: 'visible', timeout });
const gone = (locator: Locator, timeout = UI_TIMEOUT) =>
  locator.first().waitFor({ state: 'detached', timeout });

/** Marks the document; the mark survives only while the page is neither reloaded nor left. */
const markDocument = (page: Page) => page.evaluate(() => Object.assign(window, { __sameDocument: true }));
const sameDocument = (page: Page) =>
  page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);

/** Answers the open dialog: the second factor (when given), then the button named `confirm`. */
async function answerDialog(page: Page, confirm: string | RegExp, factor?: string) {
  const dialog = page.locator('dialog[open]');
  await shows(dialog);
  if (factor !== undefined) await dialog.getByLabel(/Second factor/).fill(factor);
  await dialog.getByRole('button', { name: confirm }).click();
}

const WALLET_NAME = 'Treasury bot';

describeWithSquads('the owner console in a real browser', () => {
  let listening: ListeningDaemon;
  let receiver: Receiver;
  let browser: ConsoleBrowser;
  let page: Page;
  let ownerToken: string;
  let owner: WaiaasClient;
  let agent: WaiaasClient;
  let agentToken: string;
  let walletId: string;
  let multisig: string;
  const recipient = Keypair.generate().publicKey.toBase58();
  const started = Date.now();

  const visit = async (hash: string) => {
    await page.evaluate((target) => {
      window.location.hash = target;
    }, hash);
  };

  beforeAll(async () => {
    await ensureConsoleBuilt();
    listening = await startListeningDaemon();
    receiver = await startReceiver();
    const setup = await createOwnerSetup(listening, WALLET_NAME);
    ({ ownerToken, owner, agent, agentToken, walletId, multisig } = setup);
    await fundVault(listening, setup.vault, sol('10'));
    browser = await openBrowser(listening.url);
    page = browser.page;
  });
  afterAll(async () => {
    await browser?.close();
    await receiver?.close();
    await listening?.close();
    process.stdout.write(`owner console e2e: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  });

  it('serves the console under a strict CSP; an agent token is refused at sign-in; the owner signs in by keyboard', async () => {
    const response = await page.goto(`${listening.url}/console/`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");

    const token = page.getByLabel('Owner token');
    await shows(token);
    await token.fill(agentToken);
    await page.keyboard.press('Enter');
    await shows(page.getByRole('alert').filter({ hasText: 'not an owner token' }));
    await browser.screenshot('sign-in');

    // Keyboard only: the field has the focus after the error? Focus it by Tab order from the top.
    await token.focus();
    await token.fill(ownerToken);
    await page.keyboard.press('Enter');
    await shows(page.getByRole('heading', { name: 'Wallets', level: 1 }));
    await shows(page.locator(`[data-wallet="${walletId}"]`).getByText(WALLET_NAME));
    await shows(page.locator('[data-feed="live"]'));
    // The token lives in memory only.
    const stored = await page.evaluate(() => ({
      local: Object.keys(localStorage).length,
      session: Object.keys(sessionStorage).length,
      cookies: document.cookie,
    }));
    expect(stored).toEqual({ local: 0, session: 0, cookies: '' });
    await browser.screenshot('wallets');
  });

  it('an agent request above the delay ceiling appears in the inbox without a reload, with what the owner needs to decide', async () => {
    await visit('#/approvals');
    await shows(page.getByRole('heading', { name: 'Approvals', level: 1 }));
    await shows(page.getByText('Nothing waiting for your approval.'));
    await markDocument(page);

    const pending = await agent.transfers.send(walletId, {
      to: recipient,
      amount: sol('1.5'),
      memo: 'invoice 42',
    });
    expect(pending.status).toBe('pending_approval');
    const delayed = await agent.transfers.send(walletId, { to: recipient, amount: sol('0.6') });
    expect(delayed.status).toBe('delayed');

    const card = page.locator(`[data-pending="${pending.id}"]`);
    await shows(card);
    expect(await sameDocument(page)).toBe(true);
    const text = await card.textContent();
    expect(text).toContain('1.5 SOL');
    expect(text).toContain(recipient);
    expect(text).toContain('new recipient');
    expect(text).toContain('above the delay ceiling of 1 SOL');
    expect(text).toMatch(/Time left\s*(59|60) min/);
    expect(text).toContain('invoice 42');
    await shows(card.locator(`[data-activity="${pending.id}"]`).getByText(/1 other request/));
    await shows(page.locator(`[data-delayed="${delayed.id}"]`).getByText('0.6 SOL'));
    await browser.screenshot('approvals');

    // The delayed one is cancelled from the inbox (no second factor: nothing is signed).
    await page
      .locator(`[data-delayed="${delayed.id}"]`)
      .getByRole('button', { name: 'Cancel this transfer' })
      .click();
    await answerDialog(page, 'Cancel 0.6 SOL');
    await gone(page.locator(`[data-delayed="${delayed.id}"]`));
    expect((await owner.transfers.get(delayed.id)).status).toBe('cancelled');
  });

  it('approving asks for the second factor each time, refuses a wrong one, and shows the transfer confirmed with its signature', async () => {
    const [pending] = (await owner.approvals.list().firstPage()).items;
    const card = page.locator(`[data-pending="${pending!.id}"]`);

    // No second factor: the dialog says so and sends nothing.
    await card.getByRole('button', { name: 'Approve' }).click();
    await answerDialog(page, 'Approve 1.5 SOL', '');
    await shows(page.locator('#second-factor-error'));
    await page.locator('dialog[open]').getByRole('button', { name: 'Cancel' }).click();

    // A wrong one: the daemon refuses, nothing moves.
    await card.getByRole('button', { name: 'Approve' }).click();
    await answerDialog(page, 'Approve 1.5 SOL', 'not the passphrase');
    await shows(card.getByRole('alert').filter({ hasText: 'Wrong second factor' }));
    expect((await owner.transfers.get(pending!.id)).status).toBe('pending_approval');
    // The factor is not kept: the next dialog's field is empty.
    await card.getByRole('button', { name: 'Approve' }).click();
    expect(
      await page
        .locator('dialog[open]')
        .getByLabel(/Second factor/)
        .inputValue(),
    ).toBe('');
    await answerDialog(page, 'Approve 1.5 SOL', OWNER_PASSPHRASE);

    const decided = page.locator(`[data-decided="${pending!.id}"]`);
    await shows(decided.locator('[data-status="confirmed"]'), 60_000);
    const confirmed = await owner.transfers.get(pending!.id);
    expect(confirmed.status).toBe('confirmed');
    expect(confirmed.signature).toBeDefined();
    const link = decided.locator('a.signature-link');
    expect(await link.textContent()).toBe(confirmed.signature);
    // On the localnet no explorer sees the chain: the signature links to the transfer's own page.
    expect(await link.getAttribute('href')).toBe(`#/transfers/${pending!.id}`);
    expect(await lamportsOf(listening, recipient)).toBe(sol('1.5'));
    await gone(page.locator(`[data-pending="${pending!.id}"]`));
    await browser.screenshot('approvals-decided');

    await link.click();
    await shows(
      page.getByRole('heading', { name: /Transfer/, level: 1 }).locator('[data-status="confirmed"]'),
    );
    await shows(page.getByText(confirmed.signature!));
    await browser.screenshot('transfer');
  });

  it('the wallet page shows balances, spending at each layer side by side, the worst case and spending by tier', async () => {
    await visit(`#/wallets/${walletId}`);
    await shows(page.getByRole('heading', { name: WALLET_NAME, level: 1 }));
    const row = page.locator('table.usage tr[data-asset="SOL"]');
    await shows(row);
    // The 1.5 SOL was approved by the owner: it does not consume the agent's daily budget at any layer.
    for (const layer of ['server', 'enclave', 'chain']) await shows(row.locator(`[data-layer="${layer}"]`));
    expect(await row.locator('[data-chain-amount]').getAttribute('data-chain-amount')).toBe('5000000000');
    await shows(page.locator('[data-balance="SOL"]').getByText('8.5 SOL'));
    await shows(page.locator('[data-exposure="SOL"]').getByText(/5 SOL.*at risk now/));
    await shows(page.locator('.chart canvas'));
    await shows(page.locator('[data-tier-total="approval"]').getByText('approval 1.5 SOL'));
    await shows(page.locator('tr[data-transfer] [data-status="confirmed"]'));
    await browser.screenshot('wallet');
  });

  it('an invalid policy value shows its error beside the field, cannot be signed, and changes nothing', async () => {
    await visit(`#/wallets/${walletId}/policy`);
    await shows(page.locator('[data-version-in-force="1"]'));
    await shows(page.locator('[data-chain-limit="SOL"][data-amount="5000000000"]'));

    const daily = page.getByLabel('Daily budget (on-chain limit)');
    await daily.fill('5 SOL');
    const dailyError = page.locator('[data-field="assets.SOL.daily"] [data-error-for="assets.SOL.daily"]');
    await shows(dailyError);
    expect(await dailyError.textContent()).toContain('a positive integer string in base units');
    expect(await daily.getAttribute('aria-invalid')).toBe('true');
    // The error is named by the field, for screen readers.
    expect(await daily.getAttribute('aria-describedby')).toContain('policy-assets-SOL-daily-error');

    // A relation between fields, checked by the same schema as the API: delayMax above daily.
    await daily.fill('800000000');
    const delayError = page.locator('[data-error-for="assets.SOL.tiers.delayMax"]');
    await shows(delayError);
    expect(await delayError.textContent()).toContain('delayMax must be ≤ daily');
    await gone(dailyError);
    // The JSON beside the form is the same draft.
    expect(JSON.parse(await page.locator('#policy-json').inputValue()).assets.SOL.daily).toBe('800000000');
    const signButton = page.getByRole('button', { name: /Sign and put v2 in force/ });
    expect(await signButton.isDisabled()).toBe(true);
    await browser.screenshot('policy-invalid');

    // Editing the JSON shows its errors beside the form's fields too.
    const json = JSON.parse(await page.locator('#policy-json').inputValue());
    json.rate.maxPerHour = 0;
    await page.locator('#policy-json').fill(JSON.stringify(json, null, 2));
    await shows(page.locator('[data-error-for="rate.maxPerHour"]'));

    // Nothing changed anywhere: the daemon's policy and the chain's limit are those of v1.
    expect((await owner.policy.get(walletId)).version).toBe(1);
    const state = await readWallet(listening.daemon.runtime.chain.connection, new PublicKey(multisig));
    expect(state.spendingLimits.map((limit) => limit.amount)).toEqual([sol('5')]);
  });

  it('a valid change shows its diff and what it does on chain, is signed with the second factor, and is in force (the chain limit read back)', async () => {
    await visit(`#/wallets/${walletId}`);
    await visit(`#/wallets/${walletId}/policy`);
    await shows(page.locator('[data-version-in-force="1"]'));
    await page.getByLabel('Daily budget (on-chain limit)').fill('6000000000');
    await shows(page.locator('[data-change="assets.SOL.daily"]'));
    expect(await page.locator('[data-change="assets.SOL.daily"] del').textContent()).toBe('5000000000');
    expect(await page.locator('[data-change="assets.SOL.daily"] ins').textContent()).toBe('6000000000');
    const effect = page.locator('[data-effect="changed"]');
    await shows(effect);
    expect(await effect.textContent()).toContain('from 5 SOL to 6 SOL a day');
    await browser.screenshot('policy-diff');

    await page.getByRole('button', { name: 'Sign and put v2 in force' }).click();
    await answerDialog(page, 'Sign v2', OWNER_PASSPHRASE);
    await shows(page.locator('[data-version-in-force="2"]'), 60_000);
    await shows(page.locator('[data-step="chain"] [data-status="done"]'));
    await shows(page.locator('[data-chain-limit="SOL"][data-amount="6000000000"]'));
    await browser.screenshot('policy-signed');

    expect((await owner.policy.get(walletId)).policy.assets.SOL?.daily).toBe(sol('6'));
    const state = await readWallet(listening.daemon.runtime.chain.connection, new PublicKey(multisig));
    expect(state.spendingLimits.map((limit) => limit.amount)).toEqual([sol('6')]);
  });

  it('sessions: issue one with its token shown once and copyable; list; revoke, after which the agent is refused', async () => {
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: listening.url });
    await visit(`#/wallets/${walletId}/sessions`);
    await shows(page.locator('tr[data-session]').getByText('trading agent'));
    await page.getByLabel('Label (optional)').fill('reporting agent');
    await page.getByLabel('Valid for').selectOption({ label: '7 days' });
    await page.getByRole('button', { name: 'Issue session' }).click();
    const tokenField = page.getByLabel(/Token of session/);
    await shows(tokenField);
    const token = await tokenField.inputValue();
    expect(token).toMatch(/^waiaas_ses_/);
    await page.getByRole('button', { name: 'Copy token' }).click();
    await shows(page.getByRole('button', { name: 'Copied' }));
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);
    await browser.screenshot('sessions');

    const fresh = createClient({ url: listening.url, token });
    expect((await fresh.usage(walletId)).walletId).toBe(walletId);
    await page.getByRole('button', { name: 'I have copied it: hide it' }).click();
    await gone(tokenField);
    const row = page.locator('tr[data-session]').filter({ hasText: 'reporting agent' });
    await row.getByRole('button', { name: /Revoke/ }).click();
    await answerDialog(page, 'Revoke');
    await shows(row.locator('[data-status="revoked"]'));
    await expect(fresh.usage(walletId)).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    // The token was shown once: nothing on the page holds it any more.
    expect(await page.content()).not.toContain(token);
  });

  it('webhooks: add one (its secret shown once), see a dead-lettered delivery and send it again', async () => {
    await visit('#/webhooks');
    await page.getByLabel('URL that receives the events').fill(receiver.url);
    await page.getByLabel('approval.requested').check();
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secretField = page.getByLabel(/Secret of webhook/);
    await shows(secretField);
    receiver.secret = await secretField.inputValue();
    const [webhook] = (await owner.webhooks.list().firstPage()).items;
    expect(webhook?.events).toEqual(['approval.requested']);

    // A delivery that failed for good (the receiver was down for days), as the outbox keeps it.
    const deliveryId = `whd_${randomBytes(9).toString('base64url')}`;
    await listening.daemon.runtime.store.writeTransaction(async (trx) => {
      await insertDeliveries(trx, [
        {
          id: deliveryId,
          eventId: `evt_${randomBytes(6).toString('hex')}`,
          webhookId: webhook!.id,
          walletId,
          type: 'approval.requested',
          body: JSON.stringify({ id: 'evt_console', type: 'approval.requested', walletId, data: {} }),
          now: BigInt(Date.now()),
        },
      ]);
      await trx
        .updateTable('webhook_outbox')
        .set({ status: 'failed', attempts: 10n })
        .where('id', '=', deliveryId)
        .execute();
    });
    const card = page.locator(`[data-webhook="${webhook!.id}"]`);
    await card.getByRole('button', { name: 'Show deliveries' }).click();
    const delivery = card.locator(`tr[data-delivery="${deliveryId}"]`);
    await shows(delivery.locator('[data-status="failed"]'));
    await browser.screenshot('webhooks');
    await delivery.getByRole('button', { name: /Redeliver/ }).click();
    await gone(delivery.locator('[data-status="failed"]'));
    await expect.poll(() => receiver.requests.length, { timeout: 30_000 }).toBeGreaterThan(0);
  });

  it('the audit log filters by kind and verifies its hash chain', async () => {
    await visit('#/audit');
    await shows(page.locator('tr[data-kind="policy.changed"]'));
    await page.getByLabel('Kind').selectOption('approval.requested');
    await gone(page.locator('tr[data-kind="policy.changed"]'));
    await shows(page.locator('tr[data-kind="approval.requested"]'));
    await page.getByRole('button', { name: 'Verify the hash chain' }).click();
    const verdict = page.locator('[data-verified]');
    await shows(verdict);
    expect(await verdict.getAttribute('data-verified')).toBe('true');
    expect(await verdict.textContent()).toMatch(/^Intact: \d+ entries/);
    await browser.screenshot('audit');
  });

  it('the kill switch names the wallet, shows each step’s result, and the agent is refused; resume brings it back', async () => {
    await visit(`#/wallets/${walletId}`);
    await page.getByRole('button', { name: `Freeze ${WALLET_NAME}` }).click();
    const dialog = page.locator('dialog[open]');
    await shows(dialog.getByRole('heading', { name: `Freeze ${WALLET_NAME}?` }));
    await answerDialog(page, `Freeze ${WALLET_NAME}`, OWNER_PASSPHRASE);

    const result = page.getByRole('status', { name: 'Freeze result' });
    await shows(result.locator('[data-step="chain"] [data-status="done"]'), 60_000);
    await shows(result.locator('[data-step="server"] [data-status="done"]'));
    await shows(result.locator('[data-step="enclave"] [data-status="done"]'));
    const signature = await result.locator('[data-step="chain"] code.signature').textContent();
    expect(signature).toMatch(/^[1-9A-HJ-NP-Za-km-z]{64,88}$/);
    await shows(page.getByRole('heading', { name: WALLET_NAME, level: 1 }).locator('[data-status="frozen"]'));
    await shows(page.locator('.frozen-reason').getByText(/Why: .+/));
    expect(await page.locator('.frozen-reason').textContent()).not.toContain('not recorded');

    const state = await readWallet(listening.daemon.runtime.chain.connection, new PublicKey(multisig));
    expect(state.spendingLimits).toHaveLength(0);
    expect(state.multisig.threshold).toBe(1);

    // The agent tries: refused, and the refusal shows on the page without a reload.
    await markDocument(page);
    const refused = await agent.transfers
      .send(walletId, { to: recipient, amount: sol('0.05') })
      .catch((error) => error);
    expect(refused).toBeInstanceOf(PolicyRefusedError);
    expect(refused).toMatchObject({ code: 'WALLET_FROZEN', layer: 'server' });
    await shows(page.locator('tr[data-refusal="WALLET_FROZEN"]'));
    expect(await sameDocument(page)).toBe(true);
    await browser.screenshot('wallet-frozen');

    await page.getByRole('button', { name: `Resume ${WALLET_NAME}` }).click();
    await answerDialog(page, `Resume ${WALLET_NAME}`, OWNER_PASSPHRASE);
    await shows(
      page.getByRole('status', { name: 'Resume result' }).locator('[data-step="chain"] [data-status="done"]'),
      60_000,
    );
    await shows(page.getByRole('heading', { name: WALLET_NAME, level: 1 }).locator('[data-status="active"]'));
    expect((await agent.transfers.send(walletId, { to: recipient, amount: sol('0.05') })).status).toBe(
      'confirmed',
    );
  });

  it('is usable at phone width: no sideways scrolling of the page', async () => {
    const phone = await openBrowser(listening.url, { width: 375, height: 812 });
    try {
      await phone.page.goto(`${listening.url}/console/#/wallets/${walletId}`);
      await phone.page.getByLabel('Owner token').fill(ownerToken);
      await phone.page.getByRole('button', { name: 'Sign in' }).click();
      await shows(phone.page.getByRole('heading', { name: WALLET_NAME, level: 1 }));
      await shows(phone.page.locator('.chart canvas'));
      const widths = await phone.page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
      }));
      expect(widths.page).toBeLessThanOrEqual(widths.viewport);
      await phone.screenshot('wallet-phone');
      expect(phone.foreign).toEqual([]);
    } finally {
      await phone.close();
    }
  });

  it('no request of the console went anywhere but the daemon, and the page met no CSP violation or script error', () => {
    const origin = new URL(listening.url).origin;
    expect(browser.requests.length).toBeGreaterThan(20);
    expect(browser.foreign).toEqual([]);
    expect(browser.requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(
      browser.errors.filter((text) => /Content Security Policy|Uncaught|TypeError|ReferenceError/.test(text)),
    ).toEqual([]);
  });
});
