import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WaiaasError } from '../../core/errors.ts';
import { generateToken, hashToken } from '../../core/tokens.ts';
import { loadConfig } from '../../daemon/config.ts';
import { describeOwnerKey, type OwnerKeySpec, provisionOwnerKey } from '../../keys/index.ts';
import { findOwnerById, insertOwner, listOwners, openStore } from '../../store/index.ts';
import { printError } from '../output.ts';
import { promptSecret, readStdinLines } from '../prompt.ts';

const help = `Usage:
  waiaas owner create --name NAME [--signer local|aws-kms] [--passphrase-stdin]
                      [--kms-key-id ID] [--kms-region REGION] [--kms-endpoint URL]
                      [--mfa-serial ARN] [--sts-endpoint URL] [--json]
  waiaas owner show [OWNER_ID] [--json]`;

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === 'create') return create(rest);
  if (subcommand === 'show') return show(rest);
  printError(help);
  return 2;
}

async function readNewPassphrase(fromStdin: boolean): Promise<string> {
  if (fromStdin) return (await readStdinLines())[0] ?? '';
  const first = await promptSecret('New keystore passphrase: ');
  const again = await promptSecret('Repeat the passphrase: ');
  if (first !== again) throw new WaiaasError('VALIDATION_FAILED', { message: 'The two passphrases differ.' });
  return first;
}

async function create(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    strict: true,
    options: {
      name: { type: 'string' },
      signer: { type: 'string', default: 'local' },
      'passphrase-stdin': { type: 'boolean', default: false },
      'kms-key-id': { type: 'string' },
      'kms-region': { type: 'string' },
      'kms-endpoint': { type: 'string' },
      'mfa-serial': { type: 'string' },
      'sts-endpoint': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.name?.trim()) {
    printError(`--name is required\n${help}`);
    return 2;
  }
  if (values.signer !== 'local' && values.signer !== 'aws-kms') {
    printError(`--signer must be local or aws-kms\n${help}`);
    return 2;
  }
  const config = loadConfig();
  const id = `own_${randomBytes(9).toString('base64url')}`;

  let spec: OwnerKeySpec;
  if (values.signer === 'local') {
    const keysDir = join(config.dataDir, 'keys');
    mkdirSync(keysDir, { recursive: true, mode: 0o700 });
    spec = {
      kind: 'local',
      keystorePath: join(keysDir, `owner-${id}.json`),
      passphrase: await readNewPassphrase(values['passphrase-stdin']),
    };
  } else {
    const region = values['kms-region'] ?? process.env.AWS_REGION;
    if (!region) {
      printError('--kms-region (or AWS_REGION) is required for --signer aws-kms');
      return 2;
    }
    spec = {
      kind: 'aws-kms',
      region,
      ...(values['kms-key-id'] ? { keyId: values['kms-key-id'] } : {}),
      ...(values['kms-endpoint'] ? { endpoint: values['kms-endpoint'] } : {}),
      ...(values['mfa-serial'] ? { mfaSerial: values['mfa-serial'] } : {}),
      ...(values['sts-endpoint'] ? { stsEndpoint: values['sts-endpoint'] } : {}),
    };
  }

  const { config: signer, publicKey } = await provisionOwnerKey(spec);
  const token = generateToken('waiaas_own_');
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  try {
    await insertOwner(store.db, {
      id,
      name: values.name.trim(),
      signer,
      publicKey,
      tokenHash: hashToken(token),
    });
  } finally {
    await store.close();
  }
  const description = await describeOwnerKey(signer);
  if (values.json) {
    console.log(JSON.stringify({ id, name: values.name.trim(), publicKey, token, signer: description }));
  } else {
    console.log(`owner           ${id} (${values.name.trim()})`);
    console.log(`public key      ${publicKey}`);
    console.log(
      `owner key       ${signer.kind === 'local' ? `local keystore ${signer.keystorePath}` : `aws-kms ${signer.keyId} (${signer.region})`}`,
    );
    console.log(`second factor   ${description.protection.secondFactor}`);
    console.log(`owner token     ${token}`);
    console.log('                (shown once; store it now — only its hash is kept)');
  }
  return 0;
}

async function show(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: { json: { type: 'boolean', default: false } },
  });
  const config = loadConfig();
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  try {
    const owners = positionals[0]
      ? [await findOwnerById(store.db, positionals[0])].filter((owner) => owner !== undefined)
      : await listOwners(store.db);
    if (positionals[0] && owners.length === 0) {
      throw new WaiaasError('NOT_FOUND', { message: `No owner ${positionals[0]}.` });
    }
    const described = await Promise.all(
      owners.map(async (owner) => ({
        id: owner.id,
        name: owner.name,
        publicKey: owner.publicKey,
        key: await describeOwnerKey(owner.signer),
      })),
    );
    if (values.json) {
      console.log(JSON.stringify(described));
    } else if (described.length === 0) {
      console.log('no owners yet: waiaas owner create --name NAME');
    } else {
      for (const owner of described) {
        const where =
          owner.key.kind === 'local' ? owner.key.keystorePath : `${owner.key.keyId} (${owner.key.region})`;
        console.log(
          `${owner.id}  ${owner.name}  ${owner.publicKey}  ${owner.key.kind} ${where}  second factor: ${owner.key.protection.secondFactor}`,
        );
      }
    }
  } finally {
    await store.close();
  }
  return 0;
}
