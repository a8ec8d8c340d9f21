/**
 * Checkpoints the agent enclave sealed: one row per wallet, the newest by its sequence. The daemon
 * cannot read them (sealed by the enclave's vault); it keeps them so that an enclave instance with
 * nothing on its disk can take the wallet over (src/daemon/runtime/enclave-recovery.ts).
 */
import { type Kysely, sql } from 'kysely';
import type { Database, Int8 } from './schema.ts';
import { nowMs } from './schema.ts';

export interface EnclaveCheckpointsTable {
  wallet_id: string;
  sequence: Int8;
  policy_version: Int8 | null;
  /** base64 of the sealed blob. */
  sealed: string;
  updated_at: Int8;
}

declare module './schema.ts' {
  interface Database {
    enclave_checkpoints: EnclaveCheckpointsTable;
  }
}

export interface StoredCheckpoint {
  readonly walletId: string;
  readonly sequence: number;
  readonly policyVersion: number | null;
  readonly sealed: string;
}

/** Keeps each checkpoint unless the row already holds one of a higher sequence. */
export const saveEnclaveCheckpoints = async (
  db: Kysely<Database>,
  checkpoints: readonly StoredCheckpoint[],
): Promise<void> => {
  for (const checkpoint of checkpoints) {
    const row = {
      wallet_id: checkpoint.walletId,
      sequence: BigInt(checkpoint.sequence),
      policy_version: checkpoint.policyVersion === null ? null : BigInt(checkpoint.policyVersion),
      sealed: checkpoint.sealed,
      updated_at: nowMs(),
    };
    await db
      .insertInto('enclave_checkpoints')
      .values(row)
      .onConflict((conflict) =>
        conflict
          .column('wallet_id')
          .doUpdateSet({
            sequence: row.sequence,
            policy_version: row.policy_version,
            sealed: row.sealed,
            updated_at: row.updated_at,
          })
          .where(sql.ref('enclave_checkpoints.sequence'), '<', row.sequence),
      )
      .execute();
  }
};

/** The stored checkpoints of the given wallets (all when none are named). */
export const enclaveCheckpointsOf = async (
  db: Kysely<Database>,
  walletIds?: readonly string[],
): Promise<Map<string, StoredCheckpoint>> => {
  if (walletIds !== undefined && walletIds.length === 0) return new Map();
  let query = db.selectFrom('enclave_checkpoints').selectAll();
  if (walletIds !== undefined) query = query.where('wallet_id', 'in', [...walletIds]);
  const rows = await query.execute();
  return new Map(
    rows.map((row) => [
      row.wallet_id,
      {
        walletId: row.wallet_id,
        sequence: Number(row.sequence),
        policyVersion: row.policy_version === null ? null : Number(row.policy_version),
        sealed: row.sealed,
      },
    ]),
  );
};
