/** Rent the fee payer spends for a wallet's agent: the ledger behind the policy's fee budget. */
import { randomBytes } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Database, FeeSpendsTable } from './schema.ts';

export type FeeSpendKind = FeeSpendsTable['kind'];

export interface FeeSpend {
  readonly id: string;
  readonly walletId: string;
  readonly transferId: string;
  readonly kind: FeeSpendKind;
  readonly lamports: bigint;
  readonly createdAt: bigint;
  readonly closedAt: bigint | null;
}

export interface FeeCounts {
  /** Lamports charged since the window's start. */
  readonly spentInWindow: bigint;
  /** Approval requests whose rent has not come back. */
  readonly openApprovals: number;
}

/** Both counters the fee decision needs, in one round trip. */
export const feeCounts = async (
  db: Kysely<Database>,
  walletId: string,
  sinceMs: bigint,
): Promise<FeeCounts> => {
  const { rows } = await sql<{ spent: bigint | string | null; open: bigint | string | null }>`
    select
      (select cast(coalesce(sum(lamports), 0) as bigint) from fee_spends
        where wallet_id = ${walletId} and created_at >= ${sinceMs}) as spent,
      (select count(*) from fee_spends inner join transfers on transfers.id = fee_spends.transfer_id
        where fee_spends.wallet_id = ${walletId} and fee_spends.kind = 'approval'
          and fee_spends.closed_at is null) as open`.execute(db);
  return { spentInWindow: BigInt(rows[0]?.spent ?? 0), openApprovals: Number(rows[0]?.open ?? 0) };
};

/** Records a charge; false when this transfer was charged for this kind already. */
export const insertFeeSpend = async (
  db: Kysely<Database>,
  params: { walletId: string; transferId: string; kind: FeeSpendKind; lamports: bigint; nowMs: bigint },
): Promise<boolean> => {
  const result = await db
    .insertInto('fee_spends')
    .values({
      id: `fee_${randomBytes(12).toString('base64url')}`,
      wallet_id: params.walletId,
      transfer_id: params.transferId,
      kind: params.kind,
      lamports: params.lamports,
      created_at: params.nowMs,
      closed_at: null,
    })
    .onConflict((conflict) => conflict.columns(['transfer_id', 'kind']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
};

export const hasFeeSpend = async (
  db: Kysely<Database>,
  transferId: string,
  kind: FeeSpendKind,
): Promise<boolean> =>
  (await db
    .selectFrom('fee_spends')
    .select('id')
    .where('transfer_id', '=', transferId)
    .where('kind', '=', kind)
    .executeTakeFirst()) !== undefined;

/** The charge made the actual rent once it is known (the estimate was an upper bound). */
export const setFeeSpendLamports = async (
  db: Kysely<Database>,
  transferId: string,
  kind: FeeSpendKind,
  lamports: bigint,
): Promise<void> => {
  await db
    .updateTable('fee_spends')
    .set({ lamports })
    .where('transfer_id', '=', transferId)
    .where('kind', '=', kind)
    .execute();
};

/** The approval request's rent came back (or it never locked any): no longer open. */
export const closeApprovalSpend = async (
  db: Kysely<Database>,
  transferId: string,
  nowMs: bigint,
): Promise<void> => {
  await db
    .updateTable('fee_spends')
    .set({ closed_at: nowMs })
    .where('transfer_id', '=', transferId)
    .where('kind', '=', 'approval')
    .where('closed_at', 'is', null)
    .execute();
};

/** An open approval request with what its transfer says of it. */
export interface OpenApproval {
  readonly transferId: string;
  readonly walletId: string;
  readonly status: string;
  readonly transactionIndex: bigint | null;
  readonly asset: string;
  readonly amount: bigint;
  readonly destination: string;
}

/** Approval requests whose rent has not come back, oldest first; of one wallet, or of all. */
export const openApprovals = async (
  db: Kysely<Database>,
  walletId?: string,
  limit = 1_000,
): Promise<OpenApproval[]> => {
  let query = db
    .selectFrom('fee_spends')
    .innerJoin('transfers', 'transfers.id', 'fee_spends.transfer_id')
    .select([
      'fee_spends.transfer_id',
      'fee_spends.wallet_id',
      'transfers.status',
      'transfers.transaction_index',
      'transfers.asset',
      'transfers.amount',
      'transfers.destination',
    ])
    .where('fee_spends.kind', '=', 'approval')
    .where('fee_spends.closed_at', 'is', null);
  if (walletId !== undefined) query = query.where('fee_spends.wallet_id', '=', walletId);
  const rows = await query.orderBy('fee_spends.created_at').limit(limit).execute();
  return rows.map((row) => ({
    transferId: row.transfer_id,
    walletId: row.wallet_id,
    status: row.status,
    transactionIndex: row.transaction_index,
    asset: row.asset,
    amount: row.amount,
    destination: row.destination,
  }));
};
