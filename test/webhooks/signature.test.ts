import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  generateWebhookSecret,
  signWebhookBody,
  verifyWebhookSignature,
} from '../../src/daemon/notifier/index.ts';

const secret = generateWebhookSecret();
const body = JSON.stringify({ id: 'evt_1', type: 'transfer.confirmed', data: { amount: '5' } });
const now = 1_700_000_000;

describe('webhook signatures', () => {
  it('follow the documented scheme: v1=hex HMAC-SHA256(secret, timestamp + "." + body)', () => {
    const expected = createHmac('sha256', secret).update(`${now}.${body}`).digest('hex');
    expect(signWebhookBody(secret, String(now), body)).toBe(`v1=${expected}`);
  });

  it('verify an untouched delivery', () => {
    const signature = signWebhookBody(secret, String(now), body);
    expect(
      verifyWebhookSignature({ secret, timestamp: String(now), signature, body, nowSeconds: now + 10 }),
    ).toEqual({
      ok: true,
    });
  });

  it.each([
    ['a changed body', { body: body.replace('"5"', '"500"') }],
    ['a replayed timestamp', { timestamp: String(now + 60) }],
    ['another secret', { secret: generateWebhookSecret() }],
    ['no signature', { signature: undefined }],
  ])('refuse %s', (_name, change) => {
    const signature = signWebhookBody(secret, String(now), body);
    const result = verifyWebhookSignature({
      secret,
      timestamp: String(now),
      signature,
      body,
      nowSeconds: now,
      ...change,
    });
    expect(result.ok).toBe(false);
  });

  it('refuse a stale delivery even when correctly signed', () => {
    const signature = signWebhookBody(secret, String(now), body);
    expect(
      verifyWebhookSignature({ secret, timestamp: String(now), signature, body, nowSeconds: now + 301 }),
    ).toEqual({ ok: false, reason: 'timestamp too old or in the future' });
  });
});
