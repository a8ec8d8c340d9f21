import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { generateToken, hashToken } from '../core/tokens.ts';
import { type Config, defaultConfigToml } from '../daemon/config.ts';
import type { Logger } from '../daemon/logger.ts';
import {
  findActiveOperatorTokenByHash,
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
 * First-run set-up, safe to repeat: the data directory (owner-only, it will hold keystores), a
 * commented config.toml, the database at the current schema, and one operator token.
 */
export async function initialise(config: Config, logger?: Logger): Promise<Initialised> {
  const createdDataDir = !existsSync(config.dataDir);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  if (createdDataDir) chmodSync(config.dataDir, 0o700);
  if (!existsSync(config.configFile)) writeFileSync(config.configFile, defaultConfigToml, { mode: 0o600 });

  const store = await openStore({
    ...(config.dbUrl ? { url: config.dbUrl } : {}),
    sqlitePath: config.sqlitePath,
    ...(logger ? { logger } : {}),
  });
  try {
    const issued = await store.writeTransaction(async (trx) => {
      if (config.masterToken) {
        const tokenHash = hashToken(config.masterToken);
        if (!(await findActiveOperatorTokenByHash(trx, tokenHash))) {
          await insertOperatorToken(trx, { tokenHash, label: 'WAIAAS_MASTER_TOKEN' });
        }
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
