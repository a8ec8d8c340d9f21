import { copyFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Address } from '../../src/core/address.ts';
import { createOwnerSigner, describeOwnerKey, provisionOwnerKey } from '../../src/keys/owner-signer.ts';
import { expectCode, manualClock, verifies } from './support.ts';

const PASSPHRASE = 'owner passphrase 1';
const fast = { insecureKdfForTests: true } as const;
const bundle = new TextEncoder().encode('{"version":4}');

let dir: string;
let keystorePath: string;
let publicKey: Address;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'waiaas-owner-'));
  keystorePath = join(dir, 'owner.keystore.json');
  ({ publicKey } = await provisionOwnerKey({ kind: 'local', keystorePath, passphrase: PASSPHRASE }, fast));
});

describe('local owner key', () => {
  it('needs the passphrase for each act, and its signatures verify', async () => {
    const key = createOwnerSigner({ kind: 'local', keystorePath, publicKey });
    expect(await key.publicKey()).toBe(publicKey);
    await expectCode(key.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
    expect(verifies(publicKey, bundle, await key.sign(bundle, PASSPHRASE))).toBe(true);
    // One act, one proof of the factor, several signatures.
    const [a, b] = await key.withUnlock(PASSPHRASE, async (signer) => [
      await signer.sign(bundle),
      await signer.sign(bundle),
    ]);
    expect(a && verifies(publicKey, bundle, a)).toBe(true);
    expect(b).toEqual(a);
    await expectCode(key.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
  });

  it('a signer lent to an act stops signing once the act is over', async () => {
    const key = createOwnerSigner({ kind: 'local', keystorePath });
    const leaked = await key.withUnlock(PASSPHRASE, async (signer) => signer);
    await expectCode(leaked.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
  });

  it('an explicit unlock window lets acts sign without the factor until it lapses', async () => {
    const clock = manualClock();
    const key = createOwnerSigner({ kind: 'local', keystorePath }, { now: clock.now });
    expect(key.protection()).toEqual({ kind: 'local', secondFactor: 'passphrase' });

    const until = await key.unlockFor(600, PASSPHRASE);
    expect(until.getTime()).toBe(clock.now() + 600_000);
    expect(key.protection()).toEqual({
      kind: 'local',
      secondFactor: 'passphrase',
      unlockedUntil: until.toISOString(),
    });
    expect(verifies(publicKey, bundle, await key.sign(bundle))).toBe(true);

    clock.advance(599_999);
    expect(verifies(publicKey, bundle, await key.sign(bundle))).toBe(true);
    clock.advance(1);
    await expectCode(key.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
    expect(key.protection()).toEqual({ kind: 'local', secondFactor: 'passphrase' });
    await key.close();
  });

  it('lock() ends the window at once; windows are bounded and need the right factor', async () => {
    const key = createOwnerSigner({ kind: 'local', keystorePath });
    await key.unlockFor(60, PASSPHRASE);
    key.lock();
    await expectCode(key.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
    await expectCode(key.unlockFor(3601, PASSPHRASE), 'VALIDATION_FAILED');
    await expectCode(key.unlockFor(60, 'wrong passphrase!'), 'KEYSTORE_WRONG_PASSPHRASE');
    await expectCode(key.unlockFor(60, ''), 'OWNER_UNLOCK_REQUIRED');
    await expectCode(key.sign(bundle), 'OWNER_UNLOCK_REQUIRED');
  });

  it('refuses a keystore that holds another key than the owner recorded', async () => {
    const otherPath = join(dir, 'other.keystore.json');
    await provisionOwnerKey({ kind: 'local', keystorePath: otherPath, passphrase: PASSPHRASE }, fast);
    const swapped = join(dir, 'swapped.keystore.json');
    await copyFile(otherPath, swapped);
    const key = createOwnerSigner({ kind: 'local', keystorePath: swapped, publicKey });
    await expectCode(key.publicKey(), 'KEYSTORE_CORRUPT');
    await expectCode(key.sign(bundle, PASSPHRASE), 'KEYSTORE_CORRUPT');
  });

  it('describes itself for `waiaas owner show` without any secret', async () => {
    const description = await describeOwnerKey({ kind: 'local', keystorePath });
    expect(description).toEqual({
      kind: 'local',
      publicKey,
      keystorePath,
      protection: { kind: 'local', secondFactor: 'passphrase' },
    });
  });
});
