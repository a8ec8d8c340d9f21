import type { Kysely } from 'kysely';
import { canonicalJson } from '../../core/canonical-json.ts';
import { WaiaasError } from '../../core/errors.ts';
import { type AuditRow, claimAuditSequence, insertAuditRow, setAuditHeadHash } from '../../store/audit.ts';
import type { Database } from '../../store/schema.ts';
import { entryHash } from './chain.ts';
import { type AuditActor, type AuditKind, auditActorRoles, isAuditKind } from './kinds.ts';
import { scrubDetails, scrubText } from './scrub.ts';

export interface AuditInput {
  readonly kind: AuditKind;
  readonly actor: AuditActor;
  readonly walletId?: string | undefined;
  /**
   * The owner the entry concerns; defaults to the actor when the actor is an owner. Entries about a
   * wallet are shown to its owner through walletId, so this is for owner-level acts.
   */
  readonly ownerId?: string | undefined;
  /** What was acted on: a transfer id, session id, owner id… (scrubbed like details). */
  readonly subject?: string | undefined;
  /** Facts about the act; scrubbed of secrets before anything is written (see scrub.ts). */
  readonly details?: Record<string, unknown> | undefined;
}

export interface AuditEntry {
  readonly sequence: bigint;
  readonly hash: string;
}

/**
 * Appends one entry to the audit chain, inside the caller's write transaction so that the entry
 * exists exactly when the act it records does (a rollback takes both).
 *
 * Cost: three statements (claim the sequence on the head row, insert, store the new head hash).
 * The head row is locked until the transaction ends, so appends from every replica queue on it:
 * call this as the LAST statement of the transaction, after the slow parts.
 *
 * `trx` must come from `store.writeTransaction` (never `db.transaction()`, and never the store's
 * bare `db`: the sequence claim and the insert must commit together).
 */
export async function appendAudit(trx: Kysely<Database>, input: AuditInput): Promise<AuditEntry> {
  if (!isAuditKind(input.kind)) {
    throw new WaiaasError('INTERNAL', { message: 'Unknown audit kind.', details: { kind: input.kind } });
  }
  if (!auditActorRoles.includes(input.actor.role)) {
    throw new WaiaasError('INTERNAL', {
      message: 'Unknown audit actor role.',
      details: { role: input.actor.role },
    });
  }
  const details = canonicalJson(scrubDetails(input.details));
  const { sequence, prevHash } = await claimAuditSequence(trx);
  const fields = {
    sequence,
    at: BigInt(Date.now()),
    kind: input.kind,
    actor_role: input.actor.role,
    actor_id: input.actor.id ?? null,
    owner_id: input.ownerId ?? (input.actor.role === 'owner' ? (input.actor.id ?? null) : null),
    wallet_id: input.walletId ?? null,
    subject: scrubText(input.subject),
    details,
  };
  const hash = entryHash(prevHash, fields);
  const row: AuditRow = { ...fields, prev_hash: prevHash, hash };
  await insertAuditRow(trx, row);
  await setAuditHeadHash(trx, hash);
  return { sequence, hash };
}
