import type { Command } from 'commander';
import { type JsonFlags, jsonOption } from '../flags.ts';
import { print } from '../output.ts';

export function register(program: Command): void {
  jsonOption(
    program
      .command('init')
      .description(
        'create the data directory, its config.toml and database, and the operator token (shown once)',
      ),
  ).action(async (flags: JsonFlags) => {
    const { loadConfig } = await import('../../daemon/config.ts');
    const { initialise } = await import('../initialise.ts');
    const config = loadConfig();
    const { store, newMasterToken } = await initialise(config);
    try {
      const operatorToken = newMasterToken
        ? { status: 'issued', token: newMasterToken }
        : { status: config.masterToken ? 'environment' : 'existing' };
      print(
        flags,
        () =>
          [
            `data directory  ${config.dataDir}`,
            `config          ${config.configFile}`,
            `database        ${store.location}`,
            newMasterToken
              ? `operator token  ${newMasterToken}\n                (shown once; store it now — only its hash is kept)`
              : config.masterToken
                ? 'operator token  taken from WAIAAS_MASTER_TOKEN'
                : 'operator token  already issued (it was shown when it was created)',
          ].join('\n'),
        { dataDir: config.dataDir, configFile: config.configFile, database: store.location, operatorToken },
      );
    } finally {
      await store.close();
    }
  });
}
