/**
 * `waiaas kms-policy owner --account ID` and
 * `waiaas kms-policy seal --account ID --parent-role ARN --pcr0 HEX`: print the KMS key policies
 * WAIaaS relies on (src/keys/aws/key-policies.ts), to paste into `aws kms put-key-policy`:
 *   owner: kms:Sign only with aws:MultiFactorAuthPresent (what `owner create` puts on a key it creates
 *          for an owner with an MFA device);
 *   seal:  kms:Decrypt only for the enclave image whose PCR0 is given (KMS Recipient attestation).
 */
import { parseArgs } from 'node:util';
import { ownerKeyPolicy, sealKeyPolicy } from '../../keys/aws/key-policies.ts';
import { printError } from '../output.ts';

const help = `Usage:
  waiaas kms-policy owner --account ACCOUNT_ID
  waiaas kms-policy seal --account ACCOUNT_ID --parent-role ROLE_ARN --pcr0 HEX`;

export async function run(args: string[]): Promise<number> {
  const [which, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    strict: true,
    options: {
      account: { type: 'string' },
      'parent-role': { type: 'string' },
      pcr0: { type: 'string' },
    },
  });
  if (which === 'owner' && values.account) {
    console.log(JSON.stringify(ownerKeyPolicy({ accountId: values.account }), null, 2));
    return 0;
  }
  if (which === 'seal' && values.account && values['parent-role'] && values.pcr0) {
    console.log(
      JSON.stringify(
        sealKeyPolicy({
          accountId: values.account,
          parentRoleArn: values['parent-role'],
          imageSha384: values.pcr0,
        }),
        null,
        2,
      ),
    );
    return 0;
  }
  printError(help);
  return 2;
}
