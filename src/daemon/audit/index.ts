/**
 * The tamper-evident audit log: every security-relevant act, appended to a hash chain inside the
 * transaction that performs the act. See chain.ts for the hashing rule and verify.ts for what a walk
 * of the chain detects.
 */
export { type AuditEntry, type AuditInput, appendAudit } from './append.ts';
export { registerAuthFailureAudit } from './auth-failures.ts';
export { canonicalEntry, entryHash, GENESIS_HASH } from './chain.ts';
export {
  type AuditActor,
  type AuditActorRole,
  type AuditKind,
  auditActorRoles,
  auditKinds,
  isAuditKind,
} from './kinds.ts';
export { REDACTED, scrubDetails, scrubText } from './scrub.ts';
export { type AuditBreak, type AuditVerification, verifyAuditChain } from './verify.ts';
