import { describe, expect, it } from 'vitest';
import { constantTimeEqual, generateToken, hashToken } from '../../src/core/tokens.ts';
import { getMeta, setMeta } from '../../src/store/meta.ts';
import {
  findActiveOperatorTokenByHash,
  findOperatorTokenByHash,
  insertOperatorToken,
  revokeOperatorToken,
} from '../../src/store/operator-tokens.ts';
import { forEachEngine } from '../support/databases.ts';

forEachEngine((_engine, { makeStore }) => {
  it('finds an operator token by the hash of what the operator presents, and stores no plaintext', async () => {
    const store = await makeStore();
    const token = generateToken('waiaas_op_');

    const inserted = await insertOperatorToken(store.db, { tokenHash: hashToken(token), label: 'master' });

    const found = await findActiveOperatorTokenByHash(store.db, hashToken(token));
    expect(found).toEqual(inserted);
    expect(found).toMatchObject({ label: 'master', revokedAt: null });
    expect(typeof found?.createdAt).toBe('bigint');
    const rows = await store.db.selectFrom('operator_tokens').selectAll().execute();
    expect(JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
      token.slice('waiaas_op_'.length),
    );
  });

  it('does not accept a wrong token, nor the stored hash presented as a token', async () => {
    const store = await makeStore();
    const token = generateToken('waiaas_op_');
    await insertOperatorToken(store.db, { tokenHash: hashToken(token), label: 'master' });

    expect(
      await findActiveOperatorTokenByHash(store.db, hashToken(generateToken('waiaas_op_'))),
    ).toBeUndefined();
    expect(await findActiveOperatorTokenByHash(store.db, hashToken(hashToken(token)))).toBeUndefined();
  });

  it('stops accepting a token once revoked, and says whether a revoke changed anything', async () => {
    const store = await makeStore();
    const token = generateToken('waiaas_op_');
    const { id } = await insertOperatorToken(store.db, { tokenHash: hashToken(token), label: 'master' });

    expect(await revokeOperatorToken(store.db, id, 1_700_000_000_000n)).toBe(true);

    expect(await findActiveOperatorTokenByHash(store.db, hashToken(token))).toBeUndefined();
    expect(await findOperatorTokenByHash(store.db, hashToken(token))).toMatchObject({
      id,
      revokedAt: 1_700_000_000_000n,
    });
    expect(await revokeOperatorToken(store.db, id)).toBe(false);
    expect(await revokeOperatorToken(store.db, 'no-such-id')).toBe(false);
    expect((await findOperatorTokenByHash(store.db, hashToken(token)))?.revokedAt).toBe(1_700_000_000_000n);
  });

  it('refuses a second token with the same hash', async () => {
    const store = await makeStore();
    await insertOperatorToken(store.db, { tokenHash: hashToken('t'), label: 'one' });

    await expect(
      insertOperatorToken(store.db, { tokenHash: hashToken('t'), label: 'two' }),
    ).rejects.toThrow();
    expect(await store.db.selectFrom('operator_tokens').select('label').execute()).toEqual([
      { label: 'one' },
    ]);
  });

  it('reads, writes and overwrites meta values', async () => {
    const store = await makeStore();

    expect(await getMeta(store.db, 'missing')).toBeUndefined();
    await setMeta(store.db, 'k', 'first');
    await setMeta(store.db, 'k', 'second');

    expect(await getMeta(store.db, 'k')).toBe('second');
  });
});

describe('tokens', () => {
  it('generates distinct tokens carrying 256 random bits after the prefix', () => {
    const tokens = Array.from({ length: 200 }, () => generateToken('waiaas_op_'));
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(token).toMatch(/^waiaas_op_[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token.slice('waiaas_op_'.length), 'base64url')).toHaveLength(32);
    }
  });

  it('hashes to a stable lowercase hex SHA-256 that differs from the token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = generateToken();
    expect(hashToken(token)).toBe(hashToken(token));
    expect(hashToken(token)).not.toContain(token);
  });

  it('compares secrets of any lengths', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-longer')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
  });
});
