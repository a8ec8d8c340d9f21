/** What the audit log records: the kinds of security-relevant acts and who can act. */

export const auditKinds = [
  'auth.failure',
  'session.created',
  'session.revoked',
  'owner.created',
  'wallet.created',
  'policy.changed',
  'transfer.received',
  'transfer.refused',
  'transfer.confirmed',
  'transfer.failed',
  'transfer.cancelled',
  'transfer.rejected',
  'transfer.expired',
  'approval.requested',
  'approval.approved',
  'approval.rejected',
  'owner.freeze',
  'owner.resume',
  'owner.rotate',
  'owner.withdraw',
  'enclave.restarted',
  'monitor.alert',
  'webhook.created',
  'webhook.deleted',
  'owner.unlock_failed',
  'operator_token.created',
  'operator_token.revoked',
  'enclave.recovered',
  'enclave.halted',
  'enclave.vault-migrated',
] as const;

export type AuditKind = (typeof auditKinds)[number];

/** `system` is the daemon itself (expiry sweeps, the monitor, enclave supervision). */
export const auditActorRoles = ['operator', 'owner', 'agent', 'system', 'anonymous'] as const;

export type AuditActorRole = (typeof auditActorRoles)[number];

export interface AuditActor {
  readonly role: AuditActorRole;
  /** Owner id, session id, or nothing for the operator, the system and the anonymous. */
  readonly id?: string | undefined;
}

export const isAuditKind = (value: string): value is AuditKind =>
  (auditKinds as readonly string[]).includes(value);
