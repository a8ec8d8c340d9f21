import { type Command, Option } from 'commander';
import { WaiaasError } from '../../core/errors.ts';
import { type ApiFlags, apiOptions, jsonOption, UNLOCK_STDIN_HELP } from '../flags.ts';
import { print } from '../output.ts';
import { promptSecret, readStdinLines } from '../prompt.ts';

interface CreateFlags extends ApiFlags {
  name: string;
  signer: string;
  unlockStdin?: boolean;
  passphraseStdin?: boolean;
  kmsKeyId?: string;
  kmsRegion?: string;
  kmsEndpoint?: string;
  mfaSerial?: string;
  stsEndpoint?: string;
}

export function register(program: Command): void {
  const owner = program
    .command('owner')
    .description('Owner Keys (local keystore or AWS KMS) and their tokens');

  apiOptions(
    owner
      .command('create')
      .description('create an owner: its Owner Key and its token (shown once)')
      .requiredOption('--name <name>', "the owner's name")
      .addOption(
        new Option('--signer <kind>', 'where the Owner Key lives')
          .choices(['local', 'aws-kms'])
          .default('local'),
      )
      .option('--unlock-stdin', `${UNLOCK_STDIN_HELP} (for a local keystore: its new passphrase)`)
      .addOption(new Option('--passphrase-stdin').hideHelp())
      .option('--kms-key-id <id>', 'aws-kms: an existing Ed25519 key (default: create one)')
      .option('--kms-region <region>', 'aws-kms: the region (default: AWS_REGION)')
      .option('--kms-endpoint <url>', 'aws-kms: another KMS endpoint')
      .option('--mfa-serial <arn>', 'aws-kms: the MFA device whose code unlocks owner acts')
      .option('--sts-endpoint <url>', 'aws-kms: another STS endpoint (without a running daemon only)')
      .addHelpText(
        'after',
        [
          '',
          'With --token (the operator token) or --url, the owner is created through the running daemon',
          '(POST /v1/owners); without, directly in the configured data directory and database. Either way',
          'the audit log records owner.created.',
        ].join('\n'),
      ),
    'operator',
  ).action(createOwnerCommand);

  jsonOption(
    owner
      .command('show')
      .description('the owners of this data directory and where their keys are')
      .argument('[owner-id]', 'one owner (default: all)'),
  ).action(showOwners);
}

async function newPassphrase(fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await readStdinLines())[0] ?? '';
  const first = await promptSecret('New keystore passphrase: ');
  const again = await promptSecret('Repeat the passphrase: ');
  if (first !== again) throw new WaiaasError('VALIDATION_FAILED', { message: 'The two passphrases differ.' });
  return first;
}

async function createOwnerCommand(flags: CreateFlags): Promise<void> {
  const name = flags.name.trim();
  if (!name) throw new WaiaasError('VALIDATION_FAILED', { message: '--name must not be empty.' });
  let signer: import('../../daemon/owners/create-owner.ts').NewOwnerSigner;
  if (flags.signer === 'local') {
    signer = {
      kind: 'local',
      passphrase: await newPassphrase(Boolean(flags.unlockStdin || flags.passphraseStdin)),
    };
  } else {
    const region = flags.kmsRegion ?? process.env.AWS_REGION;
    if (!region) {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: '--kms-region (or AWS_REGION) is required for --signer aws-kms.',
      });
    }
    signer = {
      kind: 'aws-kms',
      region,
      keyId: flags.kmsKeyId,
      endpoint: flags.kmsEndpoint,
      mfaSerial: flags.mfaSerial,
      stsEndpoint: flags.stsEndpoint,
    };
  }

  if (flags.token !== undefined || flags.url !== undefined) {
    if (signer.kind === 'aws-kms' && signer.stsEndpoint) {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: '--sts-endpoint cannot be sent to a daemon; create this owner without --token and --url.',
      });
    }
    const { apiClient } = await import('../api-client.ts');
    const { stsEndpoint: _unused, ...wireSigner } = signer as typeof signer & { stsEndpoint?: string };
    const created = await apiClient(flags, 'operator').owners.create({
      name,
      signer: JSON.parse(JSON.stringify(wireSigner)),
    });
    print(
      flags,
      () => describeCreated({ id: created.id, name, publicKey: created.publicKey, token: created.token }),
      { ...created, name, signer: { kind: signer.kind } },
    );
    return;
  }

  const { loadConfig } = await import('../../daemon/config.ts');
  const { createOwner } = await import('../../daemon/owners/create-owner.ts');
  const { describeOwnerKey } = await import('../../keys/index.ts');
  const { openStore } = await import('../../store/index.ts');
  const config = loadConfig();
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  let created: Awaited<ReturnType<typeof createOwner>>;
  try {
    created = await createOwner(store, config.dataDir, { name, signer });
  } finally {
    await store.close();
  }
  const description = await describeOwnerKey(created.signer);
  print(
    flags,
    () =>
      describeCreated({
        id: created.id,
        name,
        publicKey: created.publicKey,
        token: created.token,
        key:
          created.signer.kind === 'local'
            ? `local keystore ${created.signer.keystorePath}`
            : `aws-kms ${created.signer.keyId} (${created.signer.region})`,
        secondFactor: description.protection.secondFactor,
      }),
    { id: created.id, name, publicKey: created.publicKey, token: created.token, signer: description },
  );
}

function describeCreated(owner: {
  id: string;
  name: string;
  publicKey: string;
  token: string;
  key?: string;
  secondFactor?: string;
}): string {
  return [
    `owner           ${owner.id} (${owner.name})`,
    `public key      ${owner.publicKey}`,
    ...(owner.key ? [`owner key       ${owner.key}`] : []),
    ...(owner.secondFactor ? [`second factor   ${owner.secondFactor}`] : []),
    `owner token     ${owner.token}`,
    '                (shown once; store it now — only its hash is kept)',
  ].join('\n');
}

async function showOwners(ownerId: string | undefined, flags: { json?: boolean }): Promise<void> {
  const { loadConfig } = await import('../../daemon/config.ts');
  const { describeOwnerKey } = await import('../../keys/index.ts');
  const { findOwnerById, listOwners, openStore } = await import('../../store/index.ts');
  const config = loadConfig();
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  try {
    const owners = ownerId
      ? [await findOwnerById(store.db, ownerId)].filter((owner) => owner !== undefined)
      : await listOwners(store.db);
    if (ownerId && owners.length === 0)
      throw new WaiaasError('NOT_FOUND', { message: `No owner ${ownerId}.` });
    const described = await Promise.all(
      owners.map(async (owner) => ({
        id: owner.id,
        name: owner.name,
        publicKey: owner.publicKey,
        key: await describeOwnerKey(owner.signer),
      })),
    );
    const { table } = await import('../ui.ts');
    print(
      flags,
      () =>
        described.length === 0
          ? 'no owners yet: waiaas owner create --name NAME'
          : table(
              ['OWNER', 'NAME', 'PUBLIC KEY', 'KEY', 'SECOND FACTOR'],
              described.map((owner) => [
                owner.id,
                owner.name,
                owner.publicKey,
                owner.key.kind === 'local'
                  ? `local ${owner.key.keystorePath}`
                  : `aws-kms ${owner.key.keyId} (${owner.key.region})`,
                owner.key.protection.secondFactor,
              ]),
            ),
      described,
    );
  } finally {
    await store.close();
  }
}
