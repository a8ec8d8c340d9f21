/** Wallets and their agent keys. */
import type { Kysely, Selectable } from 'kysely';
import type { AgentKeysTable, Database, WalletStatus, WalletsTable } from './schema.ts';
import { nowMs } from './schema.ts';

export interface Wallet {
  id: string;
  ownerId: string;
  name: string;
  status: WalletStatus;
  multisig: string;
  vault: string;
  /** JSON of the owner-signed policy bundle in force. */
  policyBundle: string;
  policyVersion: number;
  createdAt: bigint;
  updatedAt: bigint;
}

export interface AgentKeyRecord {
  publicKey: string;
  walletId: string;
  sealed: string;
  status: 'active' | 'retired';
  createdAt: bigint;
}

const walletFromRow = (row: Selectable<WalletsTable>): Wallet => ({
  id: row.id,
  ownerId: row.owner_id,
  name: row.name,
  status: row.status,
  multisig: row.multisig,
  vault: row.vault,
  policyBundle: row.policy_bundle,
  policyVersion: Number(row.policy_version),
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const agentKeyFromRow = (row: Selectable<AgentKeysTable>): AgentKeyRecord => ({
  publicKey: row.public_key,
  walletId: row.wallet_id,
  sealed: row.sealed,
  status: row.status,
  createdAt: row.created_at,
});

export interface InsertWalletParams {
  id: string;
  ownerId: string;
  name: string;
  status: WalletStatus;
  multisig: string;
  vault: string;
  policyBundle: string;
  policyVersion: number;
  agentKey: { publicKey: string; sealed: string };
}

/** The wallet and its first agent key together, so a wallet never exists without its key. */
export const insertWallet = async (db: Kysely<Database>, params: InsertWalletParams): Promise<Wallet> => {
  const now = nowMs();
  await db
    .insertInto('wallets')
    .values({
      id: params.id,
      owner_id: params.ownerId,
      name: params.name,
      status: params.status,
      multisig: params.multisig,
      vault: params.vault,
      policy_bundle: params.policyBundle,
      policy_version: BigInt(params.policyVersion),
      created_at: now,
      updated_at: now,
    })
    .execute();
  await db
    .insertInto('agent_keys')
    .values({
      public_key: params.agentKey.publicKey,
      wallet_id: params.id,
      sealed: params.agentKey.sealed,
      status: 'active',
      created_at: now,
    })
    .execute();
  return {
    id: params.id,
    ownerId: params.ownerId,
    name: params.name,
    status: params.status,
    multisig: params.multisig,
    vault: params.vault,
    policyBundle: params.policyBundle,
    policyVersion: params.policyVersion,
    createdAt: now,
    updatedAt: now,
  };
};

export const findWallet = async (db: Kysely<Database>, id: string): Promise<Wallet | undefined> => {
  const row = await db.selectFrom('wallets').selectAll().where('id', '=', id).executeTakeFirst();
  return row && walletFromRow(row);
};

export const listWalletsOfOwner = async (db: Kysely<Database>, ownerId: string): Promise<Wallet[]> =>
  (
    await db
      .selectFrom('wallets')
      .selectAll()
      .where('owner_id', '=', ownerId)
      .orderBy('created_at')
      .orderBy('id')
      .execute()
  ).map(walletFromRow);

export const setWalletStatus = async (
  db: Kysely<Database>,
  id: string,
  status: WalletStatus,
  expected?: WalletStatus,
): Promise<boolean> => {
  let query = db.updateTable('wallets').set({ status, updated_at: nowMs() }).where('id', '=', id);
  if (expected) query = query.where('status', '=', expected);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

export const setWalletPolicy = async (
  db: Kysely<Database>,
  id: string,
  policyBundle: string,
  policyVersion: number,
): Promise<void> => {
  await db
    .updateTable('wallets')
    .set({ policy_bundle: policyBundle, policy_version: BigInt(policyVersion), updated_at: nowMs() })
    .where('id', '=', id)
    .execute();
};

export const activeAgentKeys = async (db: Kysely<Database>, walletId?: string): Promise<AgentKeyRecord[]> => {
  let query = db.selectFrom('agent_keys').selectAll().where('status', '=', 'active');
  if (walletId) query = query.where('wallet_id', '=', walletId);
  return (await query.orderBy('created_at').execute()).map(agentKeyFromRow);
};

export const insertAgentKey = async (
  db: Kysely<Database>,
  walletId: string,
  key: { publicKey: string; sealed: string },
): Promise<void> => {
  await db
    .insertInto('agent_keys')
    .values({
      public_key: key.publicKey,
      wallet_id: walletId,
      sealed: key.sealed,
      status: 'active',
      created_at: nowMs(),
    })
    .execute();
};

export const retireAgentKey = async (db: Kysely<Database>, publicKey: string): Promise<void> => {
  await db.updateTable('agent_keys').set({ status: 'retired' }).where('public_key', '=', publicKey).execute();
};

/** The policy bundles (JSON) of the named wallets, a thousand ids per query. */
export const policyBundlesOf = async (
  db: Kysely<Database>,
  walletIds: readonly string[],
): Promise<string[]> => {
  const bundles: string[] = [];
  for (let index = 0; index < walletIds.length; index += 1_000) {
    const rows = await db
      .selectFrom('wallets')
      .select('policy_bundle')
      .where('id', 'in', walletIds.slice(index, index + 1_000))
      .execute();
    bundles.push(...rows.map((row) => row.policy_bundle));
  }
  return bundles;
};
