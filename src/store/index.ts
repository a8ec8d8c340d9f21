export type { StoreEngine, StoreLogger } from './engine.ts';
export * from './meta.ts';
export type { MigrateOptions, MigrationResult } from './migrate.ts';
export { migrations } from './migrations/index.ts';
export type { Migration, MigrationDb } from './migrations/migration.ts';
export * from './operator-tokens.ts';
export * from './owners.ts';
export * from './schema.ts';
export { openStore, type Store, type StoreHealth, type StoreOptions } from './store.ts';
