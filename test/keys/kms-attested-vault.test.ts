/**
 * Nitro mode's seal, against the KMS stand-in enforcing the seal key policy WAIaaS prints
 * (`waiaas kms-policy seal`): KMS Encrypt seals; KMS Decrypt answers only a Recipient whose
 * attestation document chains to the pinned root and carries the pinned image measurement (PCR0),
 * and then only encrypted to the RSA key inside that document. Documents in the Nitro format come
 * from the development attestation provider with chosen PCRs (the stand-in pins its root as real KMS
 * pins the AWS Nitro root). What cannot run here: real KMS and a real NSM.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keypair } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateDevCa } from '../../src/enclave/attestation/dev-ca.ts';
import { createDevAttestationProvider } from '../../src/enclave/attestation/dev-provider.ts';
import { signAttestationDocument } from '../../src/enclave/attestation/document.ts';
import type { AttestationProvider } from '../../src/enclave/attestation/provider.ts';
import { AgentEnclave } from '../../src/enclave/enclave.ts';
import { createAttestedRecipient } from '../../src/enclave/kms-recipient.ts';
import { ownerKeyPolicy, sealKeyPolicy } from '../../src/keys/aws/key-policies.ts';
import { vaultWithRecipient } from '../../src/keys/vault/attested-vault.ts';
import { createAwsKmsVault, MAX_SEALED_PLAINTEXT_BYTES } from '../../src/keys/vault/kms-vault.ts';
import type { KeyVault } from '../../src/keys/vault/types.ts';
import { evaluateKeyPolicy } from '../support/kms-policy.ts';
import { startTestKms, type TestKms } from '../support/kms-server.ts';
import { BASE_CREDENTIALS, expectCode } from './support.ts';

const ACCOUNT = '111122223333';
const PARENT_ROLE = `arn:aws:iam::${ACCOUNT}:role/waiaas-parent`;
const PINNED = Buffer.alloc(48, 0x5a);
const OTHER = Buffer.alloc(48, 0x3c);
const context = { purpose: 'agent-seed', walletId: 'w-1' };

const tempDir = () => mkdtempSync(join(tmpdir(), 'waiaas-kms-attested-'));

/** A development provider signing Nitro-format documents with all PCRs zero: a debug-mode enclave. */
const debugModeProvider = async (dir: string): Promise<AttestationProvider> => {
  const authority = await loadOrCreateDevCa(dir, Date.now());
  return {
    kind: 'dev',
    attest: async (request = {}) =>
      signAttestationDocument(
        {
          moduleId: 'waiaas-dev-debug',
          timestamp: Date.now(),
          pcrs: Array.from({ length: 16 }, () => new Uint8Array(48)),
          certificate: authority.leafCertificate,
          cabundle: [authority.rootCertificate],
          publicKey: request.publicKey ?? null,
          userData: request.userData ?? null,
          nonce: request.nonce ?? null,
        },
        authority.leafKey,
      ),
  };
};

describe('the seal key: KMS answers only the pinned enclave image', () => {
  const caDir = tempDir();
  let kms: TestKms;
  let keyId: string;
  let kmsVault: KeyVault;
  /** The vault as an enclave with this PCR0 opens it. */
  const enclaveVault = async (provider: AttestationProvider) =>
    vaultWithRecipient(kmsVault, createAttestedRecipient(provider));

  beforeAll(async () => {
    const root = await createDevAttestationProvider({ dir: caDir, codeSha384: PINNED });
    kms = await startTestKms({ accountId: ACCOUNT, attestationRoot: root.rootCertificatePem });
    kms.setPrincipal(BASE_CREDENTIALS.accessKeyId, PARENT_ROLE);
    keyId = kms.createKey('SYMMETRIC_DEFAULT');
    kms.setKeyPolicyDocument(
      keyId,
      sealKeyPolicy({ accountId: ACCOUNT, parentRoleArn: PARENT_ROLE, imageSha384: PINNED.toString('hex') }),
    );
    kmsVault = createAwsKmsVault(
      {
        kind: 'aws-kms',
        keyId: kms.arnOf(keyId),
        region: kms.region,
        endpoint: kms.endpoint,
        maxAttempts: 1,
      },
      { credentials: BASE_CREDENTIALS },
    );
  });

  afterAll(async () => {
    await kmsVault?.close();
    await kms?.close();
  });

  it('an enclave whose attestation carries the pinned PCR0 seals and unseals its agent keys', async () => {
    const vault = await enclaveVault(await createDevAttestationProvider({ dir: caDir, codeSha384: PINNED }));
    const enclave = AgentEnclave.create({ vault });
    const owner = Keypair.generate().publicKey.toBase58();
    const sealed = await enclave.createAgentKey('w-pinned', owner, Keypair.generate().publicKey.toBase58());
    const fresh = AgentEnclave.create({ vault });
    expect(await fresh.loadAgentKeys([sealed])).toMatchObject({
      loaded: [{ walletId: 'w-pinned', publicKey: sealed.publicKey }],
      failed: [],
    });
    const decrypts = kms.requests.filter((request) => request.operation === 'Decrypt');
    expect(decrypts.at(-1)).toMatchObject({ outcome: 'ok', recipientImageSha384: PINNED.toString('hex') });
    // Above KMS's 4 KiB (a checkpoint of a busy wallet): a data key sealed the same way.
    const large = new Uint8Array(MAX_SEALED_PLAINTEXT_BYTES * 3).fill(7);
    const blob = await vault.seal(large, context);
    expect(Buffer.from(await vault.unseal(blob, context)).equals(Buffer.from(large))).toBe(true);
  });

  it('another image, a debug-mode enclave, no Recipient, or a forged document get nothing', async () => {
    const pinned = await enclaveVault(await createDevAttestationProvider({ dir: caDir, codeSha384: PINNED }));
    const blob = await pinned.seal(new Uint8Array(32).fill(1), context);
    const large = await pinned.seal(new Uint8Array(MAX_SEALED_PLAINTEXT_BYTES + 1).fill(2), context);

    const other = await enclaveVault(await createDevAttestationProvider({ dir: caDir, codeSha384: OTHER }));
    const debug = await enclaveVault(await debugModeProvider(caDir));
    // A document with the pinned PCR0 from a CA the stand-in does not trust: a host forging one.
    const forged = await enclaveVault(
      await createDevAttestationProvider({ dir: tempDir(), codeSha384: PINNED }),
    );
    for (const [who, vault] of [
      ['another PCR0', other],
      ['debug mode (PCRs zero)', debug],
      ['no Recipient: the parent itself', kmsVault],
      ['a forged document', forged],
    ] as const) {
      await expectCode(vault.unseal(blob, context), 'VAULT_ACCESS_DENIED').catch((error: unknown) => {
        throw new Error(`${who}: ${String(error)}`);
      });
      await expectCode(vault.unseal(large, context), 'VAULT_ACCESS_DENIED');
    }
    expect(Buffer.from(await pinned.unseal(blob, context))).toEqual(Buffer.alloc(32, 1));
  });

  it('the printed policies deny what would leak a seed, to every principal: re-encryption, grants, the admin’s Decrypt', () => {
    const policy = sealKeyPolicy({
      accountId: ACCOUNT,
      parentRoleArn: PARENT_ROLE,
      imageSha384: PINNED.toString('hex'),
    });
    const root = `arn:aws:iam::${ACCOUNT}:root`;
    const request = (action: string, principal: string, image?: Buffer) => ({
      action,
      principal,
      context: new Map(image ? [['kms:recipientattestation:imagesha384', image.toString('hex')]] : []),
    });
    for (const action of ['kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant'])
      for (const principal of [PARENT_ROLE, root])
        expect(evaluateKeyPolicy(policy, request(action, principal, PINNED))).toBe('deny');
    expect(evaluateKeyPolicy(policy, request('kms:Decrypt', root))).toBe('deny');
    expect(evaluateKeyPolicy(policy, request('kms:Decrypt', root, PINNED))).toBe('deny');
    expect(evaluateKeyPolicy(policy, request('kms:Decrypt', PARENT_ROLE, PINNED))).toBe('allow');
    expect(evaluateKeyPolicy(policy, request('kms:GenerateDataKey', PARENT_ROLE))).toBe('deny');
    expect(evaluateKeyPolicy(policy, request('kms:Encrypt', PARENT_ROLE))).toBe('allow');
    expect(evaluateKeyPolicy(policy, request('kms:PutKeyPolicy', root))).toBe('allow');

    const owner = ownerKeyPolicy({ accountId: ACCOUNT });
    const mfa = (present?: boolean) => ({
      action: 'kms:Sign',
      principal: root,
      context: new Map(present === undefined ? [] : [['aws:multifactorauthpresent', String(present)]]),
    });
    expect(evaluateKeyPolicy(owner, mfa())).toBe('deny');
    expect(evaluateKeyPolicy(owner, mfa(false))).toBe('deny');
    expect(evaluateKeyPolicy(owner, mfa(true))).toBe('allow');
    expect(evaluateKeyPolicy(owner, { ...mfa(), action: 'kms:GetPublicKey' })).toBe('allow');
  });
});
