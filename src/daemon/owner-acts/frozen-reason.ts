/**
 * Why a wallet is frozen, as GET /v1/wallets/:id, the `wallet.frozen` event and the audit log say it:
 * a stable code, facts, and when. Kept with the freeze act that first froze it.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database, Wallet } from '../../store/index.ts';
import { latestOwnerAct } from '../../store/owner-acts.ts';

export const frozenReasonCodes = [
  /** The owner's kill switch (POST /v1/wallets/:id/freeze). */
  'OWNER_FREEZE',
  /** The chain shows the vault spent more under the agent's limit than the daemon sent: a leaked agent key. */
  'SPEND_BYPASSED_DAEMON',
  /** Monitor rules (src/daemon/monitor/rules.ts). */
  'MONITOR_REPEATED_REFUSALS',
  'MONITOR_OUTSIDE_HOURS',
  'MONITOR_VELOCITY',
  'MONITOR_ENCLAVE_RESTARTS',
  /** Frozen before the daemon kept reasons. */
  'UNRECORDED',
] as const;

export type FrozenReasonCode = (typeof frozenReasonCodes)[number];

export interface FrozenReason {
  readonly code: FrozenReasonCode;
  /** Facts for the owner: counts, thresholds, amounts (base units as strings). */
  readonly detail: Readonly<Record<string, unknown>>;
  /** ISO 8601. */
  readonly at: string;
}

export const frozenReasonSchema = z
  .object({
    code: z.enum(frozenReasonCodes),
    detail: z.record(z.string(), z.unknown()),
    at: z.string(),
  })
  .meta({ id: 'FrozenReason' });

export const frozenReason = (
  code: FrozenReasonCode,
  detail: Record<string, unknown> = {},
  atMs = Date.now(),
): FrozenReason => ({ code, detail, at: new Date(atMs).toISOString() });

export const ownerFreezeReason = (): FrozenReason => frozenReason('OWNER_FREEZE');

/** The reason kept in a freeze act's detail; acts from before reasons were kept read as the owner's. */
export function frozenReasonOf(detail: Readonly<Record<string, unknown>>): FrozenReason | undefined {
  const parsed = frozenReasonSchema.safeParse(detail['reason']);
  return parsed.success ? (parsed.data as FrozenReason) : undefined;
}

/** Why `wallet` is frozen (the reason its latest freeze kept), or null when it is not frozen. */
export async function readFrozenReason(
  db: Kysely<Database>,
  wallet: Pick<Wallet, 'id' | 'status'>,
): Promise<FrozenReason | null> {
  if (wallet.status !== 'frozen') return null;
  const act = await latestOwnerAct(db, wallet.id, 'freeze');
  if (act === undefined) return frozenReason('UNRECORDED');
  return frozenReasonOf(act.detail) ?? frozenReason('UNRECORDED', {}, Number(act.createdAt));
}
