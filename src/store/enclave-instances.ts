/**
 * Enclave instances and which one serves each wallet (DESIGN §6: daemon replicas are stateless, the
 * enclaves are the signers, each wallet served by exactly one instance at a time). The rules (when an
 * instance counts as gone, who takes its wallets) live in src/daemon/enclave-router.ts.
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Int8 } from './schema.ts';

export interface EnclaveInstancesTable {
  id: string;
  endpoint: string;
  attestation_root: string | null;
  heartbeat_at: Int8;
  started_at: Int8;
}

export interface WalletAssignmentsTable {
  wallet_id: string;
  instance_id: string;
  assigned_at: Int8;
}

declare module './schema.ts' {
  interface Database {
    enclave_instances: EnclaveInstancesTable;
    wallet_assignments: WalletAssignmentsTable;
  }
}

export interface EnclaveInstance {
  readonly id: string;
  readonly endpoint: string;
  readonly attestationRoot: string | null;
  readonly heartbeatAt: number;
}

/** Registers (or re-registers, after a restart) an instance as up now. */
export const registerEnclaveInstance = async (
  db: Kysely<Database>,
  instance: { id: string; endpoint: string; attestationRoot: string | null },
  now: number,
): Promise<void> => {
  const values = {
    endpoint: instance.endpoint,
    attestation_root: instance.attestationRoot,
    heartbeat_at: BigInt(now),
    started_at: BigInt(now),
  };
  await db
    .insertInto('enclave_instances')
    .values({ id: instance.id, ...values })
    .onConflict((conflict) => conflict.column('id').doUpdateSet(values))
    .execute();
};

export const heartbeatEnclaveInstance = async (
  db: Kysely<Database>,
  id: string,
  now: number,
): Promise<void> => {
  await db
    .updateTable('enclave_instances')
    .set({ heartbeat_at: BigInt(now) })
    .where('id', '=', id)
    .execute();
};

/** An instance stopped on purpose: marked gone at once, so its wallets move without waiting. */
export const retireEnclaveInstance = async (db: Kysely<Database>, id: string): Promise<void> => {
  await db.updateTable('enclave_instances').set({ heartbeat_at: 0n }).where('id', '=', id).execute();
};

export const enclaveInstanceById = async (
  db: Kysely<Database>,
  id: string,
): Promise<EnclaveInstance | undefined> => {
  const row = await db.selectFrom('enclave_instances').selectAll().where('id', '=', id).executeTakeFirst();
  return (
    row && {
      id: row.id,
      endpoint: row.endpoint,
      attestationRoot: row.attestation_root,
      heartbeatAt: Number(row.heartbeat_at),
    }
  );
};

/** The instance serving the wallet; a wallet nobody serves yet goes to `claimant`. */
export const assignWallet = async (
  db: Kysely<Database>,
  walletId: string,
  claimant: string,
  now: number,
): Promise<string> => {
  const current = await db
    .selectFrom('wallet_assignments')
    .select('instance_id')
    .where('wallet_id', '=', walletId)
    .executeTakeFirst();
  if (current) return current.instance_id;
  await db
    .insertInto('wallet_assignments')
    .values({ wallet_id: walletId, instance_id: claimant, assigned_at: BigInt(now) })
    .onConflict((conflict) => conflict.column('wallet_id').doNothing())
    .execute();
  const row = await db
    .selectFrom('wallet_assignments')
    .select('instance_id')
    .where('wallet_id', '=', walletId)
    .executeTakeFirstOrThrow();
  return row.instance_id;
};

/** Moves a wallet from `from` to `to`; false when someone else moved it first. */
export const moveWallet = async (
  db: Kysely<Database>,
  walletId: string,
  from: string,
  to: string,
  now: number,
): Promise<boolean> => {
  const result = await db
    .updateTable('wallet_assignments')
    .set({ instance_id: to, assigned_at: BigInt(now) })
    .where('wallet_id', '=', walletId)
    .where('instance_id', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** Every wallet nobody serves yet (made before instances were tracked) goes to `claimant`. */
export const claimUnassignedWallets = async (
  db: Kysely<Database>,
  claimant: string,
  now: number,
): Promise<void> => {
  await sql`insert into wallet_assignments (wallet_id, instance_id, assigned_at)
    select w.id, ${claimant}, ${BigInt(now)} from wallets w
    where not exists (select 1 from wallet_assignments a where a.wallet_id = w.id)
    on conflict (wallet_id) do nothing`.execute(db);
};

/** The wallets an instance serves. */
export const walletsServedBy = async (db: Kysely<Database>, instanceId: string): Promise<string[]> => {
  const served = await db
    .selectFrom('wallet_assignments')
    .select('wallet_id')
    .where('instance_id', '=', instanceId)
    .execute();
  return served.map((row) => row.wallet_id);
};
