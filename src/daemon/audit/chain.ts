/**
 * The audit chain's hashing rule, pure:
 *
 *   hash(n) = hex(sha256(utf8(hash(n-1) + canonicalJson(entry(n)))))
 *
 * with hash(0) = 64 zeros, and entry(n) the JSON object
 *   {sequence, at, kind, actor: {role, id}, ownerId, walletId, subject, details}
 * where sequence and at (epoch ms) are decimal strings, absent values are null, and details is the
 * stored canonical-JSON text itself (hashed byte for byte, so even a whitespace edit breaks the chain).
 * canonicalJson sorts keys at every level (core/canonical-json.ts). The previous hash has a fixed
 * length, so the concatenation is unambiguous.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from '../../core/canonical-json.ts';
import type { AuditRow } from '../../store/audit.ts';

export const GENESIS_HASH = '0'.repeat(64);

export type HashedFields = Omit<AuditRow, 'hash' | 'prev_hash'>;

export const canonicalEntry = (row: HashedFields): string =>
  canonicalJson({
    sequence: row.sequence.toString(),
    at: row.at.toString(),
    kind: row.kind,
    actor: { role: row.actor_role, id: row.actor_id },
    ownerId: row.owner_id,
    walletId: row.wallet_id,
    subject: row.subject,
    details: row.details,
  });

export const entryHash = (prevHash: string, row: HashedFields): string =>
  createHash('sha256')
    .update(prevHash + canonicalEntry(row), 'utf8')
    .digest('hex');
