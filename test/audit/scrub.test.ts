import { describe, expect, it } from 'vitest';
import { generateToken } from '../../src/core/tokens.ts';
import { REDACTED, scrubDetails, scrubText } from '../../src/daemon/audit/index.ts';
import { generateWebhookSecret } from '../../src/daemon/notifier/index.ts';

describe('audit scrubber', () => {
  it('drops every field named like a secret, at any depth, whatever its value', () => {
    const scrubbed = scrubDetails({
      amount: 5n,
      token: 'x',
      ownerToken: 'x',
      passphrase: 'correct horse',
      clientSecret: 'x',
      seed: [1, 2, 3],
      unlock: '123456',
      Authorization: 'Bearer x',
      password: 'x',
      privateKey: 'x',
      access_tokens: ['x'],
      apiKey: 'x',
      nested: { deeper: [{ sessionToken: 'x', keep: 'yes', X_OWNER_UNLOCK: 'x' }] },
      tokenMint: 'So11111111111111111111111111111111111111112',
    });
    expect(scrubbed).toEqual({
      amount: '5',
      nested: { deeper: [{ keep: 'yes' }] },
      tokenMint: 'So11111111111111111111111111111111111111112',
    });
  });

  it('never keeps a value that looks like one of our tokens or webhook secrets', () => {
    const tokens = [
      generateToken('waiaas_op_'),
      generateToken('waiaas_own_'),
      generateToken('waiaas_ses_'),
      generateWebhookSecret(),
    ];
    for (const token of tokens) {
      const scrubbed = scrubDetails({ memo: token, note: `pasted by mistake: ${token}`, list: [token] });
      expect(JSON.stringify(scrubbed)).not.toContain(token.slice(-20));
      expect(scrubbed).toEqual({ memo: REDACTED, note: REDACTED, list: [REDACTED] });
      expect(scrubText(`subject ${token}`)).toBe(REDACTED);
    }
    // The prefix alone, or an id, is not a token.
    expect(scrubDetails({ bearer: 'waiaas_ses_', id: 'ses_abc' })).toEqual({
      bearer: 'waiaas_ses_',
      id: 'ses_abc',
    });
  });

  it('replaces bytes (key material travels as bytes) and makes other values plain JSON', () => {
    const scrubbed = scrubDetails({
      key: new Uint8Array(64),
      buffer: Buffer.alloc(32, 7),
      at: new Date(0),
      big: 2n ** 70n,
      fraction: 0.5,
      missing: undefined,
      fn: () => 1,
    });
    expect(scrubbed).toEqual({
      key: REDACTED,
      buffer: REDACTED,
      at: '1970-01-01T00:00:00.000Z',
      big: '1180591620717411303424',
      fraction: '0.5',
    });
  });

  it('bounds what a caller can make the chain carry', () => {
    const scrubbed = scrubDetails({
      text: 'a'.repeat(10_000),
      list: Array.from({ length: 1000 }, (_, i) => i),
    });
    expect((scrubbed.text as string).length).toBeLessThanOrEqual(2001);
    expect((scrubbed.list as unknown[]).length).toBe(100);
  });
});
