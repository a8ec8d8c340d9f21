import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { verifyAttestation } from '../../src/attestation/index.ts';
import type { Address } from '../../src/core/address.ts';
import { isWaiaasError } from '../../src/core/errors.ts';
import { insertOwner } from '../../src/store/index.ts';
import { createOwnerWalletSession } from '../support/api.ts';
import { startTestDaemon, type TestDaemon } from '../support/daemon.ts';
import { describeWithSquads } from '../support/squads-binary.ts';

describeWithSquads('daemon runtime: health and attestation', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startTestDaemon();
  });
  afterAll(async () => {
    await daemon?.close();
  });

  it('health reports the enclave, the funded fee payer and how owner keys are protected', async () => {
    await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    // Health answers from state refreshed in the background: the new owner shows within a refresh.
    await expect
      .poll(
        async () => (await daemon.app.inject({ method: 'GET', url: '/v1/health' })).json().ownerKeys?.owners,
        {
          timeout: 10_000,
        },
      )
      .toBe(1);
    const health = (await daemon.app.inject({ method: 'GET', url: '/v1/health' })).json();
    expect(health.status).toBe('ok');
    // The two modes are named plainly: here a separate process, seeds sealed by its own key.
    expect(health.enclave).toMatchObject({
      state: 'up',
      restarts: 0,
      isolation: 'process',
      seedProtection: 'enclave-local-key',
    });
    expect(health.feePayer).toMatchObject({
      address: daemon.runtime.feePayer.publicKey.toBase58(),
      low: false,
    });
    expect(BigInt(health.feePayer.balanceLamports)).toBeGreaterThan(0n);
    expect(health.ownerKeys).toEqual({
      owners: 1,
      local: 1,
      awsKmsWithMfa: 0,
      awsKmsWithoutMfa: 0,
      daemonSecret: 'file',
    });
  });

  it('serves an attestation document that verifies against the dev root with the caller nonce', async () => {
    const { wallet, owner } = await createOwnerWalletSession(daemon.app, daemon.runtime.store);
    const nonce = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const response = await daemon.app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}` });
    expect(response.statusCode).toBe(200);
    const { document, statement } = response.json();
    const root = readFileSync(
      join(daemon.dataDir, 'enclave', 'dev-attestation', 'dev-attestation-root.pem'),
      'utf8',
    );
    const bytes = Buffer.from(document, 'base64');
    const verified = verifyAttestation(bytes, { root, expectedNonce: Buffer.from(nonce, 'hex') });
    expect(verified.moduleId).toMatch(/^waiaas-dev/);
    // Anonymous: the statement covers no wallet; the wallet's owner may ask for its own.
    expect(JSON.parse(statement).wallets).toEqual([]);
    const owned = await daemon.app.inject({
      method: 'GET',
      url: `/v1/attestation?nonce=${nonce}&walletId=${wallet.id}`,
      headers: { authorization: `Bearer ${owner.token}` },
    });
    expect(owned.json().statement).toContain(wallet.agentPublicKey);

    // The same document is refused for another nonce and against the AWS Nitro root.
    expect(() => verifyAttestation(bytes, { root, expectedNonce: Buffer.alloc(16, 1) })).toThrow();
    try {
      verifyAttestation(bytes, {});
      expect.unreachable();
    } catch (error) {
      expect(isWaiaasError(error, 'ATTESTATION_INVALID')).toBe(true);
    }
  });

  it('counts an AWS KMS owner as protected by MFA only when its key policy says so', async () => {
    const kmsOwner = (id: string, keyPolicyRequiresMfa?: boolean) =>
      insertOwner(daemon.runtime.store.db, {
        id,
        name: id,
        signer: {
          kind: 'aws-kms',
          region: 'us-east-1',
          keyId: `arn:aws:kms:us-east-1:111122223333:key/${id}`,
          mfaSerial: 'arn:aws:iam::111122223333:mfa/owner',
          ...(keyPolicyRequiresMfa === undefined ? {} : { keyPolicyRequiresMfa }),
        },
        publicKey: Keypair.generate().publicKey.toBase58() as Address,
        tokenHash: `hash-${id}`,
      });
    await kmsOwner('own_policy_says_mfa', true);
    await kmsOwner('own_policy_unknown');
    await kmsOwner('own_policy_without_mfa', false);
    // Health is read in the background (every 2 s): the new owners show within a few seconds.
    await vi.waitFor(
      async () => {
        const health = (await daemon.app.inject({ method: 'GET', url: '/v1/health' })).json();
        expect(health.ownerKeys).toMatchObject({ awsKmsWithMfa: 1, awsKmsWithoutMfa: 2 });
      },
      { timeout: 10_000, interval: 100 },
    );
  });

  it('refuses a malformed nonce with a 400 and its code', async () => {
    const response = await daemon.app.inject({ method: 'GET', url: '/v1/attestation?nonce=xyz' });
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('VALIDATION_FAILED');
  });
});
