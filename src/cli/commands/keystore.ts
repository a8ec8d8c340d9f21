import { type Command, Option } from 'commander';
import { WaiaasError } from '../../core/errors.ts';
import { type JsonFlags, jsonOption } from '../flags.ts';
import { print } from '../output.ts';
import { promptSecret, readStdinLines } from '../prompt.ts';

interface ChangeFlags extends JsonFlags {
  owner?: string;
  unlockStdin?: boolean;
  passphraseStdin?: boolean;
}

export function register(program: Command): void {
  const keystore = program
    .command('keystore')
    .description('local keystore files (an owner key, the daemon’s)');
  jsonOption(
    keystore
      .command('change-passphrase')
      .description('re-encrypt a keystore under a new passphrase (the current one is needed)')
      .argument('[keystore-path]', 'the keystore file (or give --owner)')
      .option('--owner <owner-id>', "the owner's keystore")
      .option(
        '--unlock-stdin',
        'read the current passphrase from the first line of standard input and the new one from the second',
      )
      .addOption(new Option('--passphrase-stdin').hideHelp()),
  ).action(async (path: string | undefined, flags: ChangeFlags) => {
    const keystorePath = flags.owner ? await keystoreOfOwner(flags.owner) : path;
    if (!keystorePath) {
      throw new WaiaasError('VALIDATION_FAILED', { message: 'Give a KEYSTORE_PATH or --owner OWNER_ID.' });
    }
    let current: string;
    let next: string;
    if (flags.unlockStdin || flags.passphraseStdin) {
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
    const { changeKeystorePassphrase } = await import('../../keys/index.ts');
    await changeKeystorePassphrase(keystorePath, current, next);
    print(flags, () => `passphrase changed for ${keystorePath}`, { keystore: keystorePath, changed: true });
  });
}

async function keystoreOfOwner(ownerId: string): Promise<string> {
  const { loadConfig } = await import('../../daemon/config.ts');
  const { findOwnerById, openStore } = await import('../../store/index.ts');
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
