import { parseArgs } from 'node:util';
import { WaiaasError } from '../../core/errors.ts';
import { loadConfig } from '../../daemon/config.ts';
import { changeKeystorePassphrase } from '../../keys/index.ts';
import { findOwnerById, openStore } from '../../store/index.ts';
import { printError } from '../output.ts';
import { promptSecret, readStdinLines } from '../prompt.ts';

const help = `Usage: waiaas keystore change-passphrase (--owner OWNER_ID | KEYSTORE_PATH) [--passphrase-stdin]
  With --passphrase-stdin, standard input holds the current passphrase on the first line and the new one on the second.`;

export async function run(args: string[]): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand !== 'change-passphrase') {
    printError(help);
    return 2;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    strict: true,
    allowPositionals: true,
    options: { owner: { type: 'string' }, 'passphrase-stdin': { type: 'boolean', default: false } },
  });
  const path = values.owner ? await keystoreOfOwner(values.owner) : positionals[0];
  if (!path) {
    printError(help);
    return 2;
  }

  let current: string;
  let next: string;
  if (values['passphrase-stdin']) {
    const lines = await readStdinLines();
    current = lines[0] ?? '';
    next = lines[1] ?? '';
  } else {
    current = await promptSecret('Current passphrase: ');
    next = await promptSecret('New passphrase: ');
    if ((await promptSecret('Repeat the new passphrase: ')) !== next) {
      throw new WaiaasError('VALIDATION_FAILED', { message: 'The two new passphrases differ.' });
    }
  }
  await changeKeystorePassphrase(path, current, next);
  console.log(`passphrase changed for ${path}`);
  return 0;
}

async function keystoreOfOwner(ownerId: string): Promise<string> {
  const config = loadConfig();
  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
  });
  try {
    const owner = await findOwnerById(store.db, ownerId);
    if (!owner) throw new WaiaasError('NOT_FOUND', { message: `No owner ${ownerId}.` });
    if (owner.signer.kind !== 'local') {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: `Owner ${ownerId} keeps its key in AWS KMS, not a keystore.`,
      });
    }
    return owner.signer.keystorePath;
  } finally {
    await store.close();
  }
}
