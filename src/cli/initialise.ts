import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { generateToken, hashToken } from '../core/tokens.ts';
import { type Config, defaultConfigToml } from '../daemon/config.ts';
import type { Logger } from '../daemon/logger.ts';
import {
  adoptOperatorToken,
  hasActiveOperatorToken,
  insertOperatorToken,
  openStore,
  type Store,
} from '../store/index.ts';

export interface Initialised {
  readonly store: Store;
  /** The operator token issued by this call, to print once; undefined when one already existed. */
  readonly newMasterToken: string | undefined;
  /** Its id, so a start that fails before printing it can revoke it (the next start issues another). */
  readonly newMasterTokenId: string | undefined;
  readonly createdDataDir: boolean;
}

/**
 * The data directory holds keystores, the daemon secret and the database: owner-only, forced back to
 * 0700 at every start, with a warning when someone had opened it up.
 */
export function secureDataDir(dataDir: string, logger?: Pick<Logger, 'warn'>): void {
  const mode = statSync(dataDir).mode & 0o777;
  if (mode === 0o700) return;
  chmodSync(dataDir, 0o700);
  const message = `the data directory was mode ${mode.toString(8)}; set back to 700 (owner only)`;
  if (logger) logger.warn({ dataDir, mode: mode.toString(8) }, message);
  else process.stderr.write(`waiaas: warning: ${message} (${dataDir})\n`);
}

/**
 * First-run set-up, safe to repeat: the data directory (owner-only, it will hold keystores), a
 * commented config.toml, the database at the current schema, and one operator token.
 */
export async function initialise(config: Config, logger?: Logger): Promise<Initialised> {
  const createdDataDir = !existsSync(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  secureDataDir(config.dataDir, logger);
  if (!existsSync(config.configFile)) writeFileSync(config.configFile, defaultConfigToml, { mode: 0o600 });

  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
    ...(logger ? { logger } : {}),
  });
  try {
    const issued = await store.writeTransaction(async (trx) => {
      if (config.masterToken) {
        // A changed WAIAAS_MASTER_TOKEN replaces the one it was before; it does not add a second.
        const adopted = await adoptOperatorToken(trx, hashToken(config.masterToken), 'WAIAAS_MASTER_TOKEN');
        if (adopted.refused)
          (logger ?? console).warn(
            'WAIAAS_MASTER_TOKEN holds a token that was revoked: it is not accepted; set a new one',
          );
        if (adopted.revoked.length > 0)
          logger?.warn(
            { revoked: adopted.revoked.length },
            'WAIAAS_MASTER_TOKEN changed: the previous one is revoked',
          );
        return undefined;
      }
      if (await hasActiveOperatorToken(trx)) return undefined;
      const token = generateToken('waiaas_op_');
      const { id } = await insertOperatorToken(trx, { tokenHash: hashToken(token), label: 'waiaas init' });
      return { token, id };
    });
    return { store, newMasterToken: issued?.token, newMasterTokenId: issued?.id, createdDataDir };
  } catch (error) {
    await store.close();
    throw error;
  }
}
