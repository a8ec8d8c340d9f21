/**
 * The KMS key policies WAIaaS relies on, as documents (printed by `waiaas kms-policy`, put on the
 * owner key by `owner create`, and enforced by the KMS stand-in in tests).
 *
 * Both follow one pattern: the account root keeps administration (without it a key can be locked out
 * for good; it is also why the account's administrators remain the root of trust: they can change the
 * policy), the working permission is allowed only under its condition, and an explicit Deny makes the
 * condition hold whatever IAM policies in the account allow.
 *
 * Owner key (ECC_NIST_EDWARDS25519, SIGN_VERIFY): `kms:Sign` only with `aws:MultiFactorAuthPresent`,
 * i.e. with STS session credentials bought with the owner's MFA code. The daemon's own credentials
 * can read the public key, never sign.
 *
 * Seal key (SYMMETRIC_DEFAULT): `kms:Encrypt` for the parent instance's role (sealing needs no
 * attestation); `kms:Decrypt` and data-key generation only with a `Recipient` attestation whose image
 * measurement (`kms:RecipientAttestation:ImageSha384`, PCR0) is the pinned enclave image; re-encryption
 * and grants denied to everyone, since either would hand the plaintext to a key or principal outside
 * this policy.
 */
import { WaiaasError } from '../../core/errors.ts';

export interface KeyPolicyStatement {
  readonly Sid: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal: '*' | { readonly AWS: string | readonly string[] };
  readonly Action: string | readonly string[];
  readonly Resource: '*';
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

export interface KeyPolicy {
  readonly Version: '2012-10-17';
  readonly Id: string;
  readonly Statement: readonly KeyPolicyStatement[];
}

/** Administration without use: what the account root keeps on both keys. */
export const KEY_ADMINISTRATION_ACTIONS = [
  'kms:Create*',
  'kms:Describe*',
  'kms:Enable*',
  'kms:List*',
  'kms:Put*',
  'kms:Update*',
  'kms:Revoke*',
  'kms:Disable*',
  'kms:Get*',
  'kms:Delete*',
  'kms:TagResource',
  'kms:UntagResource',
  'kms:ScheduleKeyDeletion',
  'kms:CancelKeyDeletion',
] as const;

const ACCOUNT_ID = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;
const SHA384_HEX = /^[0-9a-f]{96}$/;

const invalid = (field: string, message: string) =>
  new WaiaasError('VALIDATION_FAILED', { message, details: { field } });

const rootOf = (accountId: string) => {
  if (!ACCOUNT_ID.test(accountId)) throw invalid('accountId', 'An AWS account id is 12 digits');
  return `arn:aws:iam::${accountId}:root`;
};

/** The account id in a key ARN (`arn:aws:kms:region:account:key/id`), if it is one. */
export const accountOfKeyArn = (arn: string): string | undefined =>
  /^arn:aws[a-z-]*:kms:[^:]+:(\d{12}):key\//.exec(arn)?.[1];

export const ownerKeyPolicy = (params: { accountId: string }): KeyPolicy => {
  const root = rootOf(params.accountId);
  return {
    Version: '2012-10-17',
    Id: 'waiaas-owner-key',
    Statement: [
      {
        Sid: 'KeyAdministration',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: KEY_ADMINISTRATION_ACTIONS,
        Resource: '*',
      },
      {
        Sid: 'ReadThePublicKey',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: ['kms:GetPublicKey', 'kms:Verify'],
        Resource: '*',
      },
      {
        Sid: 'SignOnlyWithMfa',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: 'kms:Sign',
        Resource: '*',
        Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
      },
      {
        Sid: 'DenySignWithoutMfa',
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:Sign',
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } },
      },
    ],
  };
};

export const sealKeyPolicy = (params: {
  accountId: string;
  /** The parent EC2 instance's role: it seals (Encrypt) and relays the enclave's unseal requests. */
  parentRoleArn: string;
  /** The enclave image measurement, PCR0 (hex SHA-384), as `waiaas enclave measure --nitro` prints it. */
  imageSha384: string;
}): KeyPolicy => {
  const root = rootOf(params.accountId);
  if (!ROLE_ARN.test(params.parentRoleArn)) throw invalid('parentRoleArn', 'Expected an IAM role ARN');
  const image = params.imageSha384.toLowerCase();
  if (!SHA384_HEX.test(image)) throw invalid('imageSha384', 'PCR0 is 96 hex digits');
  const unseal = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:GenerateDataKeyPair', 'kms:GenerateRandom'];
  return {
    Version: '2012-10-17',
    Id: 'waiaas-seal-key',
    Statement: [
      {
        Sid: 'KeyAdministration',
        Effect: 'Allow',
        Principal: { AWS: root },
        Action: KEY_ADMINISTRATION_ACTIONS,
        Resource: '*',
      },
      {
        Sid: 'SealFromTheParent',
        Effect: 'Allow',
        Principal: { AWS: params.parentRoleArn },
        Action: ['kms:Encrypt', 'kms:DescribeKey'],
        Resource: '*',
      },
      {
        Sid: 'UnsealOnlyInTheEnclaveImage',
        Effect: 'Allow',
        Principal: { AWS: params.parentRoleArn },
        Action: unseal,
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': image } },
      },
      {
        Sid: 'DenyUnsealOutsideTheEnclaveImage',
        Effect: 'Deny',
        Principal: '*',
        Action: unseal,
        Resource: '*',
        Condition: { StringNotEqualsIgnoreCase: { 'kms:RecipientAttestation:ImageSha384': image } },
      },
      {
        Sid: 'DenyReEncryptAndGrants',
        Effect: 'Deny',
        Principal: '*',
        Action: ['kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:CreateGrant'],
        Resource: '*',
      },
    ],
  };
};

const list = (value: string | readonly string[] | undefined): readonly string[] =>
  value === undefined ? [] : typeof value === 'string' ? [value] : value;

const coversAction = (patterns: readonly string[], action: string): boolean =>
  patterns.some((pattern) => {
    const lower = pattern.toLowerCase();
    if (lower === '*' || lower === 'kms:*') return true;
    if (lower.endsWith('*')) return action.toLowerCase().startsWith(lower.slice(0, -1));
    return lower === action.toLowerCase();
  });

/**
 * True when a key policy makes `kms:Sign` need MFA whatever IAM allows: an explicit Deny of Sign to
 * every principal when `aws:MultiFactorAuthPresent` is false or absent (BoolIfExists), and no Allow
 * of Sign without that condition. What health counts as an owner key "with MFA".
 */
export const keyPolicyRequiresMfaForSign = (document: string | KeyPolicy): boolean => {
  let policy: KeyPolicy;
  try {
    policy = typeof document === 'string' ? (JSON.parse(document) as KeyPolicy) : document;
  } catch {
    return false;
  }
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [];
  const denies = statements.some(
    (statement) =>
      statement.Effect === 'Deny' &&
      statement.Principal === '*' &&
      coversAction(list(statement.Action), 'kms:Sign') &&
      Object.keys(statement.Condition ?? {}).length === 1 &&
      String(statement.Condition?.['BoolIfExists']?.['aws:MultiFactorAuthPresent']).toLowerCase() === 'false',
  );
  const allowsWithout = statements.some(
    (statement) =>
      statement.Effect === 'Allow' &&
      coversAction(list(statement.Action), 'kms:Sign') &&
      String(statement.Condition?.['Bool']?.['aws:MultiFactorAuthPresent']).toLowerCase() !== 'true',
  );
  return denies && !allowsWithout;
};
