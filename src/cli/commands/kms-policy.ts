/**
 * `waiaas kms-policy owner --account ID` and
 * `waiaas kms-policy seal --account ID --parent-role ARN --pcr0 HEX`: print the KMS key policies
 * WAIaaS relies on (src/keys/aws/key-policies.ts), to paste into `aws kms put-key-policy`:
 *   owner: kms:Sign only with aws:MultiFactorAuthPresent (what `owner create` puts on a key it creates
 *          for an owner with an MFA device);
 *   seal:  kms:Decrypt only for the enclave image whose PCR0 is given (KMS Recipient attestation).
 */
import { parseArgs } from 'node:util';
import type { Command } from 'commander';
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

export function register(program: Command): void {
  const policy = program
    .command('kms-policy')
    .description(
      'print the KMS key policies WAIaaS relies on (owner key: MFA to sign; seal key: the enclave image)',
    );
  policy
    .command('owner')
    .description('kms:Sign only with aws:MultiFactorAuthPresent (what owner create puts on a key it makes)')
    .requiredOption('--account <id>', 'the AWS account id')
    .action(async (flags: { account: string }) => {
      process.exitCode = await run(['owner', '--account', flags.account]);
    });
  policy
    .command('seal')
    .description('kms:Decrypt only for the enclave image whose PCR0 is given (KMS Recipient attestation)')
    .requiredOption('--account <id>', 'the AWS account id')
    .requiredOption('--parent-role <arn>', 'the role of the Nitro parent instance')
    .requiredOption('--pcr0 <hex>', 'the enclave image measurement (waiaas enclave measure --nitro)')
    .action(async (flags: { account: string; parentRole: string; pcr0: string }) => {
      process.exitCode = await run([
        'seal',
        '--account',
        flags.account,
        '--parent-role',
        flags.parentRole,
        '--pcr0',
        flags.pcr0,
      ]);
    });
}
