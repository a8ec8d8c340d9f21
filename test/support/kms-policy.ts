/**
 * TEST STAND-IN: evaluates a KMS key policy document the way AWS does for the parts WAIaaS's own
 * policies use (src/keys/aws/key-policies.ts), so the stand-in KMS enforces the very documents
 * `waiaas kms-policy` prints and `owner create` puts on a key:
 *   - an explicit Deny that matches wins; otherwise an Allow must match; otherwise denied;
 *   - Principal `*`, an ARN, or an account root (`arn:aws:iam::ACCOUNT:root`, which delegates to the
 *     account's IAM policies: the stand-in treats every principal of that account as allowed by IAM);
 *   - Action `kms:Op`, with `*` wildcards;
 *   - condition operators StringEquals, StringNotEquals, StringEqualsIgnoreCase,
 *     StringNotEqualsIgnoreCase, Bool, BoolIfExists and Null, with AWS's rules for a key missing from
 *     the request (negated operators and …IfExists match; the others do not).
 * Not modelled: NotAction/NotPrincipal, ForAnyValue/ForAllValues, IAM identity policies, SCPs.
 */
import type { KeyPolicy, KeyPolicyStatement } from '../../src/keys/aws/key-policies.ts';

export interface PolicyRequest {
  /** e.g. kms:Decrypt */
  readonly action: string;
  /** ARN of the caller. */
  readonly principal: string;
  /** Condition keys present in the request (lower-cased names), with their values. */
  readonly context: ReadonlyMap<string, string>;
}

const list = <T>(value: T | readonly T[] | undefined): readonly T[] =>
  value === undefined ? [] : Array.isArray(value) ? (value as readonly T[]) : [value as T];

const wildcard = (pattern: string, value: string): boolean => {
  const expression = new RegExp(
    `^${pattern
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
    'i',
  );
  return expression.test(value);
};

const accountOf = (arn: string) => /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1];

const principalMatches = (principal: KeyPolicyStatement['Principal'], caller: string): boolean => {
  if (principal === '*') return true;
  return list(principal.AWS).some((arn) => {
    if (arn === '*' || arn === caller) return true;
    const root = /^arn:aws[a-z-]*:iam::(\d{12}):root$/.exec(arn);
    return root !== null && accountOf(caller) === root[1];
  });
};

const conditionHolds = (
  operator: string,
  key: string,
  expected: readonly string[],
  context: ReadonlyMap<string, string>,
): boolean => {
  const actual = context.get(key.toLowerCase());
  switch (operator) {
    case 'StringEquals':
      return actual !== undefined && expected.includes(actual);
    case 'StringNotEquals':
      return actual === undefined || !expected.includes(actual);
    case 'StringEqualsIgnoreCase':
      return actual !== undefined && expected.some((value) => value.toLowerCase() === actual.toLowerCase());
    case 'StringNotEqualsIgnoreCase':
      return actual === undefined || !expected.some((value) => value.toLowerCase() === actual.toLowerCase());
    case 'Bool':
      return actual !== undefined && expected.some((value) => value.toLowerCase() === actual.toLowerCase());
    case 'BoolIfExists':
      return actual === undefined || expected.some((value) => value.toLowerCase() === actual.toLowerCase());
    case 'Null':
      return expected.some((value) => (value.toLowerCase() === 'true') === (actual === undefined));
    default:
      throw new Error(`the KMS stand-in does not model the condition operator ${operator}`);
  }
};

const statementMatches = (statement: KeyPolicyStatement, request: PolicyRequest): boolean =>
  principalMatches(statement.Principal, request.principal) &&
  list(statement.Action).some((action) => wildcard(action, request.action)) &&
  Object.entries(statement.Condition ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, values]) =>
      conditionHolds(operator, key, list(values), request.context),
    ),
  );

/** AWS's verdict for one request under one key policy. */
export const evaluateKeyPolicy = (policy: KeyPolicy, request: PolicyRequest): 'allow' | 'deny' => {
  const matching = policy.Statement.filter((statement) => statementMatches(statement, request));
  if (matching.some((statement) => statement.Effect === 'Deny')) return 'deny';
  return matching.some((statement) => statement.Effect === 'Allow') ? 'allow' : 'deny';
};

/** The policy AWS gives a key created without one: the account root may do everything (through IAM). */
export const defaultKeyPolicy = (accountId: string): KeyPolicy => ({
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});
