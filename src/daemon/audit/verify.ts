import type { Kysely } from 'kysely';
import { type AuditRow, auditRowsAfter, readAuditHead } from '../../store/audit.ts';
import type { Database } from '../../store/schema.ts';
import { entryHash, GENESIS_HASH } from './chain.ts';

export interface AuditBreak {
  /** The first entry that is missing or does not verify. */
  readonly sequence: number;
  readonly reason: string;
}

export interface AuditVerification {
  readonly ok: boolean;
  /** Entries walked (up to the first break, or all of them). */
  readonly entries: number;
  /** The chain head when the walk began: record it elsewhere to anchor the chain in time. */
  readonly head: { readonly sequence: number; readonly hash: string };
  readonly firstBroken?: AuditBreak;
}

const PAGE = 1000;

/** Why `row` does not follow an intact chain ending at (`sequence`, `hash`), or undefined. */
const checkRow = (row: AuditRow, expected: bigint, prevHash: string): AuditBreak | undefined => {
  const sequence = Number(row.sequence);
  if (row.sequence > expected)
    return { sequence: Number(expected), reason: `entry ${expected} is missing (the next is ${sequence})` };
  if (row.sequence < expected) return { sequence, reason: `unexpected sequence number ${sequence}` };
  if (row.prev_hash !== prevHash)
    return { sequence, reason: `does not chain from entry ${sequence - 1} (previous hash differs)` };
  if (row.hash !== entryHash(prevHash, row))
    return { sequence, reason: 'contents do not match its hash (the entry was edited)' };
  return undefined;
};

/**
 * Walks the chain from its first entry to the head as it stood when the walk began. Entries appended
 * meanwhile are left for the next walk: the head and its entry commit together, so every entry up to
 * the head read first is already there, unless someone removed it.
 *
 * Detected: an edited field of any entry (its hash no longer matches), a deleted entry (a gap in the
 * sequence, or a tail shorter than the head), an entry re-hashed after an edit (the next entry no
 * longer chains from it). Not detected by the chain alone: someone with write access rewriting the
 * whole chain and the head from the edit onwards; anchor `head.hash` outside the database (print it,
 * log it elsewhere) to catch that too.
 */
export async function verifyAuditChain(db: Kysely<Database>): Promise<AuditVerification> {
  const headRow = await readAuditHead(db);
  const head = { sequence: Number(headRow.sequence), hash: headRow.hash };
  let prevHash = GENESIS_HASH;
  let last = 0n;
  let entries = 0;
  const broken = (firstBroken: AuditBreak): AuditVerification => ({ ok: false, entries, head, firstBroken });

  while (last < headRow.sequence) {
    const rows = await auditRowsAfter(db, last, PAGE);
    const inRange = rows.filter((row) => row.sequence <= headRow.sequence);
    if (inRange.length === 0) {
      return broken({
        sequence: Number(last + 1n),
        reason: `entries ${last + 1n} to ${headRow.sequence} are missing (the chain head is at ${headRow.sequence})`,
      });
    }
    for (const row of inRange) {
      const problem = checkRow(row, last + 1n, prevHash);
      if (problem) return broken(problem);
      prevHash = row.hash;
      last = row.sequence;
      entries += 1;
    }
  }
  if (prevHash !== headRow.hash) {
    return broken({ sequence: head.sequence, reason: 'the chain head does not match the last entry' });
  }
  return { ok: true, entries, head };
}
