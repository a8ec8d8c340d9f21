/** Owner-key acts on wallets (freeze, resume, rotation, withdrawal, policy), as recorded before their chain work. */
import type { Kysely, Selectable } from 'kysely';
import type { Database, OwnerActKind, OwnerActsTable } from './schema.ts';
import { nowMs } from './schema.ts';

export interface OwnerAct {
  id: string;
  walletId: string;
  kind: OwnerActKind;
  status: OwnerActsTable['status'];
  idempotencyKey: string | null;
  requestHash: string | null;
  /** Parsed JSON. */
  detail: Record<string, unknown>;
  signature: string | null;
  lastValidBlockHeight: bigint | null;
  errorCode: string | null;
  createdAt: bigint;
  updatedAt: bigint;
}

const actFromRow = (row: Selectable<OwnerActsTable>): OwnerAct => ({
  id: row.id,
  walletId: row.wallet_id,
  kind: row.kind,
  status: row.status,
  idempotencyKey: row.idempotency_key,
  requestHash: row.request_hash,
  detail: JSON.parse(row.detail) as Record<string, unknown>,
  signature: row.signature,
  lastValidBlockHeight: row.last_valid_block_height,
  errorCode: row.error_code,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export interface InsertOwnerActParams {
  id: string;
  walletId: string;
  kind: OwnerActKind;
  status?: OwnerActsTable['status'];
  idempotencyKey?: string | null;
  requestHash?: string | null;
  detail: Record<string, unknown>;
  signature?: string | null;
  lastValidBlockHeight?: bigint | null;
}

export const insertOwnerAct = async (
  db: Kysely<Database>,
  params: InsertOwnerActParams,
): Promise<OwnerAct> => {
  const now = nowMs();
  const row: Selectable<OwnerActsTable> = {
    id: params.id,
    wallet_id: params.walletId,
    kind: params.kind,
    status: params.status ?? 'pending',
    idempotency_key: params.idempotencyKey ?? null,
    request_hash: params.requestHash ?? null,
    detail: JSON.stringify(params.detail),
    signature: params.signature ?? null,
    last_valid_block_height: params.lastValidBlockHeight ?? null,
    error_code: null,
    created_at: now,
    updated_at: now,
  };
  await db.insertInto('owner_acts').values(row).execute();
  return actFromRow(row);
};

export interface OwnerActUpdate {
  status?: OwnerActsTable['status'];
  detail?: Record<string, unknown>;
  signature?: string | null;
  lastValidBlockHeight?: bigint | null;
  errorCode?: string | null;
}

export const updateOwnerAct = async (
  db: Kysely<Database>,
  id: string,
  update: OwnerActUpdate,
): Promise<void> => {
  await db
    .updateTable('owner_acts')
    .set({
      ...(update.status === undefined ? {} : { status: update.status }),
      ...(update.detail === undefined ? {} : { detail: JSON.stringify(update.detail) }),
      ...(update.signature === undefined ? {} : { signature: update.signature }),
      ...(update.lastValidBlockHeight === undefined
        ? {}
        : { last_valid_block_height: update.lastValidBlockHeight }),
      ...(update.errorCode === undefined ? {} : { error_code: update.errorCode }),
      updated_at: nowMs(),
    })
    .where('id', '=', id)
    .execute();
};

/** The wallet's most recent act of `kind` (ties in time broken by id, which only matters for display). */
export const latestOwnerAct = async (
  db: Kysely<Database>,
  walletId: string,
  kind: OwnerActKind,
): Promise<OwnerAct | undefined> => {
  const row = await db
    .selectFrom('owner_acts')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .where('kind', '=', kind)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && actFromRow(row);
};

/** How many acts of `kind` the wallet has had: a counter that only grows, to notice one arriving meanwhile. */
export const countOwnerActs = async (
  db: Kysely<Database>,
  walletId: string,
  kind: OwnerActKind,
): Promise<number> => {
  const row = await db
    .selectFrom('owner_acts')
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('count'))
    .where('wallet_id', '=', walletId)
    .where('kind', '=', kind)
    .executeTakeFirstOrThrow();
  return Number(row.count);
};

export const findOwnerActByKey = async (
  db: Kysely<Database>,
  walletId: string,
  idempotencyKey: string,
): Promise<OwnerAct | undefined> => {
  const row = await db
    .selectFrom('owner_acts')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .where('idempotency_key', '=', idempotencyKey)
    .executeTakeFirst();
  return row && actFromRow(row);
};

/**
 * What an act recorded of one asset's spending period before it sent its chain transaction (see
 * src/squads/owner-acts/budget-carry.ts): base units and cluster seconds.
 */
export interface PeriodRecordRow {
  readonly asset: string;
  readonly spent: bigint;
  readonly periodStart: bigint;
  readonly recordedAt: bigint;
}

interface StoredPeriod {
  readonly asset: string;
  readonly spent: string;
  readonly periodStart: string;
  readonly recordedAt: string;
}

const periodsOf = (detail: Record<string, unknown>): StoredPeriod[] =>
  Array.isArray(detail['periods']) ? (detail['periods'] as StoredPeriod[]) : [];

/** Adds `periods` to the act's `detail.periods` (every attempt of an act adds its own). */
export const appendActPeriods = async (
  db: Kysely<Database>,
  actId: string,
  periods: readonly PeriodRecordRow[],
): Promise<void> => {
  if (periods.length === 0) return;
  const row = await db.selectFrom('owner_acts').select('detail').where('id', '=', actId).executeTakeFirst();
  if (row === undefined) return;
  const detail = JSON.parse(row.detail) as Record<string, unknown>;
  const stored: StoredPeriod[] = periods.map((period) => ({
    asset: period.asset,
    spent: period.spent.toString(),
    periodStart: period.periodStart.toString(),
    recordedAt: period.recordedAt.toString(),
  }));
  await db
    .updateTable('owner_acts')
    .set({
      detail: JSON.stringify({ ...detail, periods: [...periodsOf(detail), ...stored] }),
      updated_at: nowMs(),
    })
    .where('id', '=', actId)
    .execute();
};

/**
 * The wallet's period records from acts touched since `sinceMs`, per asset, in the order they were
 * taken (cluster time, then the order acts and attempts wrote them).
 */
export const recentPeriodRecords = async (
  db: Kysely<Database>,
  walletId: string,
  sinceMs: bigint,
): Promise<Map<string, PeriodRecordRow[]>> => {
  const rows = await db
    .selectFrom('owner_acts')
    .select(['detail', 'created_at', 'id'])
    .where('wallet_id', '=', walletId)
    .where('updated_at', '>=', sinceMs)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const all = rows.flatMap((row) =>
    periodsOf(JSON.parse(row.detail) as Record<string, unknown>).map((period) => ({
      asset: period.asset,
      spent: BigInt(period.spent),
      periodStart: BigInt(period.periodStart),
      recordedAt: BigInt(period.recordedAt),
    })),
  );
  // A stable sort: records of one cluster second keep the order they were written in.
  all.sort((a, b) => (a.recordedAt < b.recordedAt ? -1 : a.recordedAt > b.recordedAt ? 1 : 0));
  const byAsset = new Map<string, PeriodRecordRow[]>();
  for (const record of all) {
    const list = byAsset.get(record.asset) ?? [];
    list.push(record);
    byAsset.set(record.asset, list);
  }
  return byAsset;
};

/** The wallet's latest act of `kind` that is done (a resume still under way has not resumed anything). */
export const latestDoneOwnerAct = async (
  db: Kysely<Database>,
  walletId: string,
  kind: OwnerActKind,
): Promise<OwnerAct | undefined> => {
  const row = await db
    .selectFrom('owner_acts')
    .selectAll()
    .where('wallet_id', '=', walletId)
    .where('kind', '=', kind)
    .where('status', '=', 'done')
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && actFromRow(row);
};
