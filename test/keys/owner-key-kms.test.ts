import {
  DescribeKeyCommand,
  KMSClient,
  type KMSServiceException,
  SignCommand,
  VerifyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsKmsOwnerKeyConfig } from '../../src/keys/aws/kms-owner-key.ts';
import { createOwnerSigner, describeOwnerKey, provisionOwnerKey } from '../../src/keys/owner-signer.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { BASE_CREDENTIALS, caught, expectCode, verifies } from './support.ts';

const credentials = BASE_CREDENTIALS;
const message = new TextEncoder().encode('approve transfer 42');
let kms: TestKms;
let sdk: KMSClient;
let owner: AwsKmsOwnerKeyConfig;

const configFor = (keyId: string, extra: Partial<AwsKmsOwnerKeyConfig> = {}): AwsKmsOwnerKeyConfig => ({
  kind: 'aws-kms',
  region: kms.region,
  endpoint: kms.endpoint,
  keyId,
  ...extra,
});

const signRequests = () => kms.requests.filter((request) => request.operation === 'Sign').length;

beforeAll(async () => {
  kms = await startTestKms();
  sdk = new KMSClient({ region: kms.region, endpoint: kms.endpoint, credentials });
  const created = await provisionOwnerKey(
    { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
    { credentials },
  );
  owner = created.config as AwsKmsOwnerKeyConfig;
});

afterAll(async () => {
  sdk.destroy();
  await kms.close();
});

describe('aws-kms owner key', () => {
  it('creates an ECC_NIST_EDWARDS25519 SIGN_VERIFY key and signs with ED25519_SHA_512 / RAW', async () => {
    const { KeyMetadata } = await sdk.send(new DescribeKeyCommand({ KeyId: owner.keyId }));
    expect(KeyMetadata).toMatchObject({
      KeySpec: 'ECC_NIST_EDWARDS25519',
      KeyUsage: 'SIGN_VERIFY',
      Enabled: true,
    });

    const key = createOwnerSigner(owner, { credentials });
    expect(key.protection()).toEqual({ kind: 'aws-kms', secondFactor: 'none' });
    const signature = await key.sign(message);
    expect(signature).toHaveLength(64);
    expect(verifies(await key.publicKey(), message, signature)).toBe(true);
    const { SignatureValid } = await sdk.send(
      new VerifyCommand({
        KeyId: owner.keyId,
        Message: message,
        MessageType: 'RAW',
        Signature: signature,
        SigningAlgorithm: 'ED25519_SHA_512',
      }),
    );
    expect(SignatureValid).toBe(true);
    const signs = kms.requests.filter((request) => request.operation === 'Sign');
    expect(signs.at(-1)).toMatchObject({ accessKeyId: credentials.accessKeyId, outcome: 'ok' });
    await key.close();
  });

  it('uses an existing key id and reads its public key from GetPublicKey when none is pinned', async () => {
    const { publicKey, config } = await provisionOwnerKey(
      { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint, keyId: owner.keyId },
      { credentials },
    );
    expect(publicKey).toBe(owner.publicKey);
    expect(config).toMatchObject({ keyId: owner.keyId, publicKey });
    const { publicKey: _pinned, ...unpinned } = owner;
    const key = createOwnerSigner(unpinned, { credentials });
    expect(await key.publicKey()).toBe(publicKey);
    expect(await describeOwnerKey(unpinned, { credentials })).toMatchObject({
      kind: 'aws-kms',
      publicKey,
      keyId: owner.keyId,
      protection: { kind: 'aws-kms', secondFactor: 'none' },
    });
    await key.close();
  });

  it('refuses keys of another spec with OWNER_KEY_INVALID', async () => {
    for (const spec of ['ECC_NIST_P256', 'SYMMETRIC_DEFAULT'] as const) {
      const keyId = kms.createKey(spec);
      await expectCode(
        provisionOwnerKey(
          { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint, keyId },
          { credentials },
        ),
        'OWNER_KEY_INVALID',
      );
      await expectCode(createOwnerSigner(configFor(keyId), { credentials }).publicKey(), 'OWNER_KEY_INVALID');
    }
  });

  it('refuses messages over 4096 bytes before calling KMS (and the KMS stand-in refuses them too)', async () => {
    const key = createOwnerSigner(owner, { credentials });
    const before = signRequests();
    await expectCode(key.sign(new Uint8Array(4097)), 'MESSAGE_TOO_LARGE');
    expect(signRequests()).toBe(before);
    expect(verifies(owner.publicKey!, new Uint8Array(4096), await key.sign(new Uint8Array(4096)))).toBe(true);

    const direct = (await caught(
      sdk.send(
        new SignCommand({
          KeyId: owner.keyId,
          Message: new Uint8Array(4097),
          MessageType: 'RAW',
          SigningAlgorithm: 'ED25519_SHA_512',
        }),
      ),
    )) as KMSServiceException;
    expect(direct.name).toBe('ValidationException');
    await key.close();
  });

  it('the KMS stand-in refuses a signing algorithm the key spec does not support', async () => {
    const error = (await caught(
      sdk.send(
        new SignCommand({
          KeyId: owner.keyId,
          Message: message,
          MessageType: 'RAW',
          SigningAlgorithm: 'ECDSA_SHA_256',
        }),
      ),
    )) as KMSServiceException;
    expect(error.name).toBe('InvalidKeyUsageException');
  });

  it('maps access denied, a disabled key and an unknown key to their codes, and returns no signature', async () => {
    const deniedCredentials = { accessKeyId: 'AKIATESTDENIED000001', secretAccessKey: 'x' };
    kms.denyAccessKey(deniedCredentials.accessKeyId);
    const denied = createOwnerSigner(owner, { credentials: deniedCredentials });
    const error = await expectCode(denied.sign(message), 'OWNER_KEY_ACCESS_DENIED');
    expect(error.details).toMatchObject({ operation: 'Sign', awsError: 'AccessDeniedException' });
    expect(kms.requests.at(-1)).toMatchObject({ operation: 'Sign', outcome: 'AccessDeniedException' });

    const spare = await provisionOwnerKey(
      { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
      { credentials },
    );
    const spareKeyId = (spare.config as AwsKmsOwnerKeyConfig).keyId;
    kms.disableKey(spareKeyId);
    await expectCode(createOwnerSigner(spare.config, { credentials }).sign(message), 'OWNER_KEY_DISABLED');
    expect(kms.requests.at(-1)).toMatchObject({ operation: 'Sign', outcome: 'DisabledException' });
    kms.enableKey(spareKeyId);
    expect(await createOwnerSigner(spare.config, { credentials }).sign(message)).toHaveLength(64);

    await expectCode(
      createOwnerSigner(configFor('2b3c4d5e-0000-4000-8000-000000000000', { publicKey: owner.publicKey }), {
        credentials,
      }).sign(message),
      'OWNER_KEY_NOT_FOUND',
    );
  });

  it('refuses a signature that does not verify (SIGNATURE_INVALID), so nothing is handed out', async () => {
    const key = createOwnerSigner(owner, { credentials });
    kms.corruptSignatures(owner.keyId);
    try {
      await expectCode(key.sign(message), 'SIGNATURE_INVALID');
      await expectCode(
        key.withUnlock(undefined, (signer) => signer.sign(message)),
        'SIGNATURE_INVALID',
      );
    } finally {
      kms.corruptSignatures(owner.keyId, false);
    }
    // A config pointing at another key while pinning this owner's public key: KMS signs, we refuse.
    const other = await provisionOwnerKey(
      { kind: 'aws-kms', region: kms.region, endpoint: kms.endpoint },
      { credentials },
    );
    const swapped = { ...(other.config as AwsKmsOwnerKeyConfig), publicKey: owner.publicKey };
    await expectCode(createOwnerSigner(swapped, { credentials }).sign(message), 'SIGNATURE_INVALID');
  });

  it('retries throttling and 5xx a bounded number of times, then reports OWNER_KEY_UNAVAILABLE', async () => {
    const key = createOwnerSigner({ ...owner, maxAttempts: 3 }, { credentials });
    let before = signRequests();
    kms.failNext('Sign', 2, 'internal');
    expect(verifies(owner.publicKey!, message, await key.sign(message))).toBe(true);
    expect(signRequests() - before).toBe(3);

    before = signRequests();
    kms.failNext('Sign', 5, 'internal');
    const error = await expectCode(key.sign(message), 'OWNER_KEY_UNAVAILABLE');
    expect(error).toMatchObject({ retryable: true, status: 503 });
    expect(signRequests() - before).toBe(3);

    const once = createOwnerSigner({ ...owner, maxAttempts: 1 }, { credentials });
    before = signRequests();
    kms.failNext('Sign', 1, 'throttle');
    await expectCode(once.sign(message), 'OWNER_KEY_UNAVAILABLE');
    expect(signRequests() - before).toBe(1);
    kms.failNext('Sign', 0, 'internal');
    await key.close();
    await once.close();
  });

  it('times out a KMS that does not answer, and reports an unreachable endpoint as unavailable', async () => {
    const slow = createOwnerSigner({ ...owner, requestTimeoutMs: 300, maxAttempts: 1 }, { credentials });
    kms.failNext('Sign', 1, 'hang');
    const started = performance.now();
    await expectCode(slow.sign(message), 'OWNER_KEY_UNAVAILABLE');
    expect(performance.now() - started).toBeLessThan(5_000);
    await slow.close();

    const gone = await startTestKms();
    const endpoint = gone.endpoint;
    await gone.close();
    const unreachable = createOwnerSigner({ ...owner, endpoint, maxAttempts: 1 }, { credentials });
    await expectCode(unreachable.sign(message), 'OWNER_KEY_UNAVAILABLE');
    await unreachable.close();
  });
});
