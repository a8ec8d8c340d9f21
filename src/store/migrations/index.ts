import { initial } from './0001_initial.ts';
import { owners } from './0002_owners.ts';
import { wallets } from './0003_wallets.ts';
import type { Migration } from './migration.ts';

/** Every migration, in order. Append only. */
export const migrations: readonly Migration[] = [initial, owners, wallets];
