/**
 * Transfers: one row per accepted request, moved through the states of DESIGN.md §3. Every update is
 * conditional on the state it leaves (`from`), so a row another actor moved on (a freeze cancelling
 * it, another replica claiming it) is never dragged back: the update simply matches nothing.
 */
import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { StoreEngine } from './engine.ts';
import type { Database, TransferKind, TransferStatus, TransfersTable, WalletStatus } from './schema.ts';

export type TransferTier = TransfersTable['tier'];

export interface TransferRecord {
  id: string;
  walletId: string;
  idempotencyKey: string | null;
  requestHash: string;
  /** "SOL" or a base58 mint. */
  asset: string;
  amount: bigint;
  destination: string;
  memo: string | null;
  tier: TransferTier;
  status: TransferStatus;
  countsDaily: boolean;
  countedAt: bigint;
  executeAfter: bigint | null;
  expiresAt: bigint | null;
  agentPublicKey: string | null;
  signature: string | null;
  /** base64 wire bytes, stored before the first send. */
  signedTransaction: string | null;
  lastValidBlockHeight: bigint | null;
  transactionIndex: bigint | null;
  proposalSignature: string | null;
  errorCode: string | null;
  /** JSON of { message, layer?, details? } of the error that ended the transfer. */
  errorDetail: string | null;
  claimedBy: string | null;
  claimedUntil: bigint | null;
  createdAt: bigint;
  updatedAt: bigint;
  kind: TransferKind;
  /** x402 payments: JSON of what was paid for and how it settled. */
  x402Detail: string | null;
}

export const transferFromRow = (row: Selectable<TransfersTable>): TransferRecord => ({
  id: row.id,
  walletId: row.wallet_id,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  asset: row.asset,
  amount: row.amount,
  destination: row.destination,
  memo: row.memo,
  tier: row.tier,
  status: row.status,
  countsDaily: row.counts_daily !== 0n,
  countedAt: row.counted_at,
  executeAfter: row.execute_after,
  expiresAt: row.expires_at,
  agentPublicKey: row.agent_public_key,
  signature: row.signature,
  signedTransaction: row.signed_transaction,
  lastValidBlockHeight: row.last_valid_block_height,
  transactionIndex: row.transaction_index,
  proposalSignature: row.proposal_signature,
  errorCode: row.error_code,
  errorDetail: row.error_detail,
  claimedBy: row.claimed_by,
  claimedUntil: row.claimed_until,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  kind: row.kind,
  x402Detail: row.x402_detail,
});

/** What a new row states; the rest (signature, counted/created/updated times…) follows from `nowMs`. */
export type NewTransfer = Pick<
  TransferRecord,
  | 'id'
  | 'walletId'
  | 'idempotencyKey'
  | 'requestHash'
  | 'asset'
  | 'amount'
  | 'destination'
  | 'memo'
  | 'tier'
  | 'status'
  | 'countsDaily'
  | 'executeAfter'
  | 'expiresAt'
  | 'agentPublicKey'
  | 'claimedBy'
  | 'claimedUntil'
> &
  Partial<Pick<TransferRecord, 'kind' | 'x402Detail'>> & { nowMs: bigint };

export const insertTransfer = async (db: Kysely<Database>, params: NewTransfer): Promise<TransferRecord> => {
  const row: Selectable<TransfersTable> = {
    id: params.id,
    wallet_id: params.walletId,
    idempotency_key: params.idempotencyKey,
    request_hash: params.requestHash,
    asset: params.asset,
    amount: params.amount,
    destination: params.destination,
    memo: params.memo,
    tier: params.tier,
    status: params.status,
    counts_daily: params.countsDaily ? 1n : 0n,
    counted_at: params.nowMs,
    execute_after: params.executeAfter,
    expires_at: params.expiresAt,
    agent_public_key: params.agentPublicKey,
    signature: null,
    signed_transaction: null,
    last_valid_block_height: null,
    transaction_index: null,
    proposal_signature: null,
    error_code: null,
    error_detail: null,
    claimed_by: params.claimedBy,
    claimed_until: params.claimedUntil,
    created_at: params.nowMs,
    updated_at: params.nowMs,
    kind: params.kind ?? 'transfer',
    x402_detail: params.x402Detail ?? null,
  };
  await db.insertInto('transfers').values(row).execute();
  return transferFromRow(row);
};

export const findTransfer = async (db: Kysely<Database>, id: string): Promise<TransferRecord | undefined> => {
  const row = await db.selectFrom('transfers').selectAll().where('id', '=', id).executeTakeFirst();
  return row && transferFromRow(row);
};

export const findTransferByIdempotencyKey = async (
  db: Kysely<Database>,
  walletId: string,
  idempotencyKey: string,
): Promise<TransferRecord | undefined> => {
  const row = await db
    .selectFrom('transfers')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
  return row && transferFromRow(row);
};

export interface WalletGate {
  status: WalletStatus;
  policyVersion: bigint;
  updatedAt: bigint;
}

/**
 * The wallet row a reservation is made against, locked until the transaction ends: `FOR UPDATE` on
 * PostgreSQL serialises reservations of one wallet across replicas; on SQLite the caller's
 * BEGIN IMMEDIATE already holds the only write lock.
 */
export const lockWalletGate = async (
  trx: Kysely<Database>,
  engine: StoreEngine,
  walletId: string,
): Promise<WalletGate | undefined> => {
  let query = trx
    .selectFrom('wallets')
    .select(['status', 'policy_version', 'updated_at'])
    .where('id', '=', walletId);
  if (engine === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  return row && { status: row.status, policyVersion: row.policy_version, updatedAt: row.updated_at };
};

export interface WindowUsage {
  /** Sum of `asset` amounts still counting against the daily budget since `dailySinceMs`. */
  spentInWindow: bigint;
  /** Transfers of any asset created since `rateSinceMs` (every accepted one counts: stricter). */
  transfersInRateWindow: number;
}

/**
 * Both counters summed from the transfer rows themselves: the exact reference the window buckets
 * (window-buckets.ts, which reservations read) are tested and benchmarked against. Its cost grows with
 * the rows in the window.
 */
export const windowUsage = async (
  db: Kysely<Database>,
  walletId: string,
  asset: string,
  dailySinceMs: bigint,
  rateSinceMs: bigint,
): Promise<WindowUsage> => {
  const { rows } = await sql<{ spent: bigint | string | null; recent: bigint | string | null }>`
    select
      (select cast(coalesce(sum(amount), 0) as bigint) from transfers
        where wallet_id = ${walletId} and asset = ${asset} and counts_daily = 1 and counted_at >= ${dailySinceMs}) as spent,
      (select count(*) from transfers
        where wallet_id = ${walletId} and created_at >= ${rateSinceMs}) as recent`.execute(db);
  const row = rows[0];
  return {
    spentInWindow: BigInt(row?.spent ?? 0),
    transfersInRateWindow: Number(row?.recent ?? 0),
  };
};

type TransferChanges = Omit<Updateable<TransfersTable>, 'id' | 'wallet_id' | 'created_at'>;

export interface TransitionGuard {
  /** The states the row may be in; anything else and nothing changes. */
  from: readonly TransferStatus[];
  /** Only if this replica holds the claim. */
  claimedBy?: string;
  /** Only if the stored signature is this one. */
  signature?: string;
  /** Only if `expires_at` is still after this time (an approval the owner may still decide). */
  unexpiredAt?: bigint;
}

/** Moves one transfer on; false when the guard did not match (someone else moved it first). */
export const transitionTransfer = async (
  db: Kysely<Database>,
  id: string,
  guard: TransitionGuard,
  changes: TransferChanges & { updated_at: bigint },
): Promise<boolean> => {
  let query = db.updateTable('transfers').set(changes).where('id', '=', id).where('status', 'in', guard.from);
  if (guard.claimedBy !== undefined) query = query.where('claimed_by', '=', guard.claimedBy);
  if (guard.signature !== undefined) query = query.where('signature', '=', guard.signature);
  if (guard.unexpiredAt !== undefined) query = query.where('expires_at', '>', guard.unexpiredAt);
  const result = await query.executeTakeFirst();
  return result.numUpdatedRows > 0n;
};

/** A write refused by a unique index (e.g. a signature another transfer already holds), on either engine. */
export const isUniqueViolation = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** Removes a transfer that never reached the chain nor the enclave's signature (a retryable failure). */
export const deleteUnsignedTransfer = async (
  db: Kysely<Database>,
  id: string,
  from: readonly TransferStatus[],
): Promise<boolean> => {
  const result = await db
    .deleteFrom('transfers')
    .where('id', '=', id)
    .where('status', 'in', from)
    .where('signed_transaction', 'is', null)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
};

export interface ClaimParams {
  claimer: string;
  nowMs: bigint;
  leaseUntil: bigint;
  limit: number;
}

/**
 * Claims delayed transfers that are due, of active wallets, moving them to `signing`: each is claimed
 * by exactly one replica. PostgreSQL picks rows with FOR UPDATE SKIP LOCKED (replicas skip each
 * other's picks); SQLite runs one UPDATE … RETURNING, atomic under its single writer.
 */
export const claimDueDelayed = async (
  db: Kysely<Database>,
  engine: StoreEngine,
  params: ClaimParams,
): Promise<TransferRecord[]> => {
  const due = (trx: Kysely<Database>) => {
    let pick = trx
      .selectFrom('transfers')
      .select('id')
      .where('status', '=', 'delayed')
      .where('execute_after', '<=', params.nowMs)
      .where('wallet_id', 'in', trx.selectFrom('wallets').select('id').where('status', '=', 'active'))
      .orderBy('execute_after')
      .limit(params.limit);
    if (engine === 'postgres') pick = pick.forUpdate().skipLocked();
    return pick;
  };
  const run = (trx: Kysely<Database>) =>
    trx
      .updateTable('transfers')
      .set({
        status: 'signing',
        claimed_by: params.claimer,
        claimed_until: params.leaseUntil,
        updated_at: params.nowMs,
      })
      .where('id', 'in', due(trx))
      .where('status', '=', 'delayed')
      .returningAll()
      .execute();
  // One statement either way: the picked rows are locked (PostgreSQL) or written (SQLite) atomically.
  return (await run(db)).map(transferFromRow);
};

/** States whose work is under way; a row in one of them with a lapsed lease was abandoned. */
export const IN_FLIGHT_STATUSES: readonly TransferStatus[] = ['received', 'signing', 'submitted'];

/**
 * Kinds the workers may resume: a spendingLimitUse the daemon builds and sends itself. An x402
 * payment's transaction is the facilitator's to send, and a sweep is not a spendingLimitUse; they
 * are settled by the request that made them (src/daemon/x402).
 */
export const RESUMABLE_KINDS: readonly TransferKind[] = ['transfer', 'float_fill'];

/**
 * Claims abandoned in-flight transfers: those whose lease lapsed, and (at start-up) those this
 * replica held before it stopped. Same exactly-once rule as claimDueDelayed.
 */
export const claimAbandoned = async (
  db: Kysely<Database>,
  engine: StoreEngine,
  params: ClaimParams & { previousClaimer?: string },
): Promise<TransferRecord[]> => {
  const abandoned = (trx: Kysely<Database>) => {
    let pick = trx
      .selectFrom('transfers')
      .select('id')
      .where('status', 'in', IN_FLIGHT_STATUSES)
      .where('kind', 'in', RESUMABLE_KINDS)
      .where((eb) => {
        const lapsed = eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', params.nowMs)]);
        return params.previousClaimer === undefined
          ? lapsed
          : eb.or([lapsed, eb('claimed_by', '=', params.previousClaimer)]);
      })
      .orderBy('created_at')
      .limit(params.limit);
    if (engine === 'postgres') pick = pick.forUpdate().skipLocked();
    return pick;
  };
  const run = (trx: Kysely<Database>) =>
    trx
      .updateTable('transfers')
      .set({ claimed_by: params.claimer, claimed_until: params.leaseUntil, updated_at: params.nowMs })
      .where('id', 'in', abandoned(trx))
      .where('status', 'in', IN_FLIGHT_STATUSES)
      .returningAll()
      .execute();
  return (await run(db)).map(transferFromRow);
};

/** Approval-tier transfers the owner did not decide in time; one statement, so exactly once. */
export const expireOverdueApprovals = async (
  db: Kysely<Database>,
  nowMs: bigint,
): Promise<TransferRecord[]> =>
  (
    await db
      .updateTable('transfers')
      .set({ status: 'expired', updated_at: nowMs })
      .where('status', '=', 'pending_approval')
      .where('expires_at', '<=', nowMs)
      .returningAll()
      .execute()
  ).map(transferFromRow);

export interface TransferCursor {
  createdAt: bigint;
  id: string;
}

/** Newest first; `cursor` is the last row of the previous page. */
export const listWalletTransfers = async (
  db: Kysely<Database>,
  walletId: string,
  limit: number,
  cursor?: TransferCursor,
): Promise<TransferRecord[]> => {
  let query = db.selectFrom('transfers').selectAll().where('wallet_id', '=', walletId);
  if (cursor) {
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', cursor.createdAt),
        eb.and([eb('created_at', '=', cursor.createdAt), eb('id', '<', cursor.id)]),
      ]),
    );
  }
  const rows = await query.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map(transferFromRow);
};

/** Transfers waiting for `ownerId`'s decision, oldest first. */
export const listPendingApprovals = async (
  db: Kysely<Database>,
  ownerId: string,
  limit: number,
  cursor?: TransferCursor,
): Promise<TransferRecord[]> => {
  let query = db
    .selectFrom('transfers')
    .selectAll('transfers')
    .innerJoin('wallets', 'wallets.id', 'transfers.wallet_id')
    .where('wallets.owner_id', '=', ownerId)
    .where('transfers.status', '=', 'pending_approval');
  if (cursor) {
    query = query.where((eb) =>
      eb.or([
        eb('transfers.created_at', '>', cursor.createdAt),
        eb.and([eb('transfers.created_at', '=', cursor.createdAt), eb('transfers.id', '>', cursor.id)]),
      ]),
    );
  }
  const rows = await query
    .orderBy('transfers.created_at', 'asc')
    .orderBy('transfers.id', 'asc')
    .limit(limit)
    .execute();
  return rows.map(transferFromRow);
};
