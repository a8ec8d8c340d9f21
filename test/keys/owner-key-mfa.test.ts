import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyPolicyRequiresMfaForSign, ownerKeyPolicy } from '../../src/keys/aws/key-policies.ts';
import type { AwsKmsOwnerKeyConfig } from '../../src/keys/aws/kms-owner-key.ts';
import { createOwnerSigner, provisionOwnerKey } from '../../src/keys/owner-signer.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { startTestSts, type TestSts } from '../support/sts-server.ts';
import { BASE_CREDENTIALS, expectCode, manualClock, verifies } from './support.ts';

const credentials = BASE_CREDENTIALS;
const MFA_SERIAL = 'arn:aws:iam::111122223333:mfa/owner';
const message = new TextEncoder().encode('kill switch: wallet 7');
let kms: TestKms;
let sts: TestSts;
let owner: AwsKmsOwnerKeyConfig;

const lastSign = () => kms.requests.filter((request) => request.operation === 'Sign').at(-1);

beforeAll(async () => {
  kms = await startTestKms();
  sts = await startTestSts();
  const { config } = await provisionOwnerKey(
    {
      kind: 'aws-kms',
      region: kms.region,
      endpoint: kms.endpoint,
      mfaSerial: MFA_SERIAL,
      stsEndpoint: sts.endpoint,
    },
    { credentials },
  );
  owner = config as AwsKmsOwnerKeyConfig;
  // `owner create` put the owner key policy on the key it created (Sign only with
  // aws:MultiFactorAuthPresent); the stand-in enforces that document, with MFA as STS issued it.
  kms.setMfaCheck(sts.isMfaSession);
});

afterAll(async () => {
  await kms.close();
  await sts.close();
});

describe('aws-kms owner key with MFA', () => {
  it("the daemon's own credentials cannot sign: KMS refuses them", async () => {
    const { mfaSerial: _mfa, ...withoutMfa } = owner;
    const daemonOnly = createOwnerSigner(withoutMfa, { credentials });
    await expectCode(daemonOnly.sign(message), 'OWNER_KEY_ACCESS_DENIED');
    expect(lastSign()).toMatchObject({
      accessKeyId: credentials.accessKeyId,
      outcome: 'AccessDeniedException',
    });
    await daemonOnly.close();
  });

  it('an MFA code buys STS session credentials, and those sign', async () => {
    const key = createOwnerSigner(owner, { credentials });
    expect(key.protection()).toEqual({ kind: 'aws-kms', secondFactor: 'mfa' });
    sts.setMfaCode(MFA_SERIAL, '123456');
    const signature = await key.sign(message, '123456');
    expect(verifies(owner.publicKey!, message, signature)).toBe(true);
    const session = sts.issued.at(-1);
    expect(session).toMatchObject({ serialNumber: MFA_SERIAL, durationSeconds: 900 });
    expect(lastSign()).toMatchObject({ accessKeyId: session?.accessKeyId, outcome: 'ok' });
    expect(session?.accessKeyId).toMatch(/^ASIA/);
    await key.close();
  });

  it('refuses a missing, malformed, wrong or reused code, and nothing is signed', async () => {
    const key = createOwnerSigner(owner, { credentials });
    const signsBefore = kms.requests.filter((request) => request.operation === 'Sign').length;
    const callsBefore = sts.calls();
    await expectCode(key.sign(message), 'OWNER_UNLOCK_REQUIRED');
    await expectCode(key.sign(message, '12ab56'), 'OWNER_UNLOCK_INVALID');
    expect(sts.calls()).toBe(callsBefore);

    sts.setMfaCode(MFA_SERIAL, '222222');
    await expectCode(key.sign(message, '333333'), 'OWNER_UNLOCK_INVALID');
    await key.sign(message, '222222');
    await expectCode(key.sign(message, '222222'), 'OWNER_UNLOCK_INVALID');
    expect(kms.requests.filter((request) => request.operation === 'Sign').length).toBe(signsBefore + 1);
    await key.close();
  });

  it('an explicit unlock holds one STS session until it lapses (injected clock)', async () => {
    const clock = manualClock();
    const key = createOwnerSigner(owner, { credentials, now: clock.now });
    sts.setMfaCode(MFA_SERIAL, '444444');
    const until = await key.unlockFor(600, '444444');
    expect(until.getTime()).toBe(clock.now() + 600_000);
    expect(key.protection()).toEqual({
      kind: 'aws-kms',
      secondFactor: 'mfa',
      unlockedUntil: until.toISOString(),
    });
    const callsAfterUnlock = sts.calls();

    for (let index = 0; index < 3; index++) {
      expect(verifies(owner.publicKey!, message, await key.sign(message))).toBe(true);
    }
    expect(sts.calls()).toBe(callsAfterUnlock);
    expect(lastSign()?.accessKeyId).toBe(sts.issued.at(-1)?.accessKeyId);

    clock.advance(600_000);
    await expectCode(key.sign(message), 'OWNER_UNLOCK_REQUIRED');
    expect(key.protection()).toEqual({ kind: 'aws-kms', secondFactor: 'mfa' });
    await key.close();
  });
});

describe('the owner key policy', () => {
  it('owner create puts "Sign only with MFA" on the key it creates, and records that the policy says so', async () => {
    expect(owner.keyPolicyRequiresMfa).toBe(true);
    const { GetKeyPolicyCommand } = await import('@aws-sdk/client-kms');
    const { createKmsClient } = await import('../../src/keys/aws/connection.ts');
    const client = createKmsClient({ region: kms.region, endpoint: kms.endpoint }, credentials);
    const { Policy } = await client.send(
      new GetKeyPolicyCommand({ KeyId: owner.keyId, PolicyName: 'default' }),
    );
    client.destroy();
    expect(JSON.parse(Policy!)).toEqual(ownerKeyPolicy({ accountId: '111122223333' }));
    expect(keyPolicyRequiresMfaForSign(Policy!)).toBe(true);
  });

  it('an existing key whose policy lets anyone in the account sign is recorded as not protected by MFA', async () => {
    const keyId = kms.createKey('ECC_NIST_EDWARDS25519');
    const { config } = await provisionOwnerKey(
      {
        kind: 'aws-kms',
        region: kms.region,
        endpoint: kms.endpoint,
        keyId,
        mfaSerial: MFA_SERIAL,
        stsEndpoint: sts.endpoint,
      },
      { credentials },
    );
    expect((config as AwsKmsOwnerKeyConfig).keyPolicyRequiresMfa).toBe(false);
    // And the daemon's credentials can indeed sign with it: health must not call that MFA.
    const { mfaSerial: _mfa, ...withoutMfa } = config as AwsKmsOwnerKeyConfig;
    const key = createOwnerSigner(withoutMfa, { credentials });
    expect((await key.sign(message)).length).toBe(64);
    await key.close();
  });

  it('reads a policy as requiring MFA only with the explicit deny and no unconditional allow of Sign', () => {
    const policy = ownerKeyPolicy({ accountId: '111122223333' });
    expect(keyPolicyRequiresMfaForSign(policy)).toBe(true);
    expect(keyPolicyRequiresMfaForSign({ ...policy, Statement: policy.Statement.slice(0, 3) })).toBe(false);
    expect(
      keyPolicyRequiresMfaForSign({
        ...policy,
        Statement: [
          ...policy.Statement,
          { Sid: 'x', Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' },
        ],
      }),
    ).toBe(false);
    expect(keyPolicyRequiresMfaForSign('not json')).toBe(false);
  });
});
