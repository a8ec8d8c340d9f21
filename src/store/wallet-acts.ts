/** What owner acts and the monitor change on a wallet's rows, each inside the caller's transaction. */
import type { Kysely } from 'kysely';
import type { StoreEngine } from './engine.ts';
import { type Database, nowMs, type TransferStatus, type WalletStatus } from './schema.ts';
import { insertAgentKey, retireAgentKey } from './wallets.ts';

/** Cancelled by a block: every state before signing. Signing and submitted ones cannot be called back. */
const CANCELLABLE: readonly TransferStatus[] = ['received', 'delayed', 'pending_approval'];
const IN_FLIGHT: readonly TransferStatus[] = ['signing', 'submitted'];

export interface WalletBlock {
  /** False when the wallet was frozen already. */
  readonly changed: boolean;
  /** The policy bundle in force when it was blocked (JSON). */
  readonly policyBundle: string;
  readonly cancelledTransfers: string[];
  readonly inFlightTransfers: string[];
}

/**
 * The wallet frozen and every transfer not yet signing cancelled (released from the daily budget),
 * under the wallet row's lock: SQLite's BEGIN IMMEDIATE holds the write lock already, PostgreSQL
 * takes the row's. `trx` must come from `store.writeTransaction`.
 */
export const blockWallet = async (
  trx: Kysely<Database>,
  engine: StoreEngine,
  walletId: string,
): Promise<WalletBlock> => {
  const row = await trx
    .selectFrom('wallets')
    .select(['status', 'policy_bundle'])
    .where('id', '=', walletId)
    .$if(engine === 'postgres', (query) => query.forUpdate())
    .executeTakeFirstOrThrow();
  const now = nowMs();
  const changed = row.status !== 'frozen';
  if (changed) {
    await trx
      .updateTable('wallets')
      .set({ status: 'frozen', updated_at: now })
      .where('id', '=', walletId)
      .execute();
  }
  const cancelled = await trx
    .updateTable('transfers')
    .set({ status: 'cancelled', counts_daily: 0n, error_code: 'WALLET_FROZEN', updated_at: now })
    .where('wallet_id', '=', walletId)
    .where('status', 'in', [...CANCELLABLE])
    .returning('id')
    .execute();
  const inFlight = await trx
    .selectFrom('transfers')
    .select('id')
    .where('wallet_id', '=', walletId)
    .where('status', 'in', [...IN_FLIGHT])
    .execute();
  return {
    changed,
    policyBundle: row.policy_bundle,
    cancelledTransfers: cancelled.map((transfer) => transfer.id),
    inFlightTransfers: inFlight.map((transfer) => transfer.id),
  };
};

/**
 * The end of a resume: the policy the enclave now holds stored, and the wallet active unless
 * `stayFrozen` (a freeze came in meanwhile and wins). Only a live or frozen wallet changes.
 */
export const settleResume = async (
  trx: Kysely<Database>,
  walletId: string,
  params: { policyBundle: string; policyVersion: number; stayFrozen: boolean },
): Promise<void> => {
  await trx
    .updateTable('wallets')
    .set({
      ...(params.stayFrozen ? {} : { status: 'active' as WalletStatus }),
      policy_bundle: params.policyBundle,
      policy_version: BigInt(params.policyVersion),
      updated_at: nowMs(),
    })
    .where('id', '=', walletId)
    .where('status', 'in', ['active', 'frozen'])
    .execute();
};

/**
 * A rotation's switch: the new agent key active (added unless it is there already), the old one
 * retired, and the wallet row touched so readers that cache it by updated_at (the transfer pipeline)
 * load its key again. True when the new key was already there (a repeat after a crash).
 */
export const switchAgentKey = async (
  trx: Kysely<Database>,
  walletId: string,
  keys: { oldPublicKey: string; newPublicKey: string; newSealed: string },
): Promise<boolean> => {
  const present = await trx
    .selectFrom('agent_keys')
    .select('public_key')
    .where('public_key', '=', keys.newPublicKey)
    .executeTakeFirst();
  if (present === undefined) {
    await insertAgentKey(trx, walletId, { publicKey: keys.newPublicKey, sealed: keys.newSealed });
  }
  await retireAgentKey(trx, keys.oldPublicKey);
  await trx.updateTable('wallets').set({ updated_at: nowMs() }).where('id', '=', walletId).execute();
  return present !== undefined;
};

/** Ids of the wallets that are active. */
export const activeWalletIds = async (db: Kysely<Database>): Promise<string[]> =>
  (await db.selectFrom('wallets').select('id').where('status', '=', 'active').execute()).map((row) => row.id);

/** What the monitor's chain check needs of each active wallet. */
export interface ActiveWalletRow {
  readonly id: string;
  readonly multisig: string;
  readonly policyBundle: string;
}

export const activeWalletsWithPolicy = async (db: Kysely<Database>): Promise<ActiveWalletRow[]> =>
  (
    await db
      .selectFrom('wallets')
      .select(['id', 'multisig', 'policy_bundle'])
      .where('status', '=', 'active')
      .orderBy('id')
      .execute()
  ).map((row) => ({ id: row.id, multisig: row.multisig, policyBundle: row.policy_bundle }));
