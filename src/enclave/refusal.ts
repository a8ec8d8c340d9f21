/**
 * Why the enclave refused to sign a message, before any policy question: the message is not one of
 * the shapes an agent may sign (default deny). Sent as ENCLAVE_REFUSED with `details.reason`.
 */
import { WaiaasError } from '../core/errors.ts';

export type ShapeRefusalReason =
  | 'MESSAGE_TOO_LARGE'
  | 'MALFORMED_MESSAGE'
  | 'ADDRESS_LOOKUP_UNSUPPORTED'
  | 'AGENT_NOT_SIGNER'
  | 'AGENT_IS_FEE_PAYER'
  | 'AMBIGUOUS_SIGNER'
  | 'UNKNOWN_PROGRAM'
  | 'UNSUPPORTED_INSTRUCTION'
  | 'MALFORMED_INSTRUCTION'
  | 'WRONG_ACCOUNTS'
  | 'WRONG_MULTISIG'
  | 'WRONG_MEMBER'
  | 'WRONG_SPENDING_LIMIT'
  | 'WRONG_VAULT'
  | 'WRONG_MINT'
  | 'WRONG_DECIMALS'
  | 'AGENT_PAYS_RENT'
  | 'EPHEMERAL_SIGNERS'
  | 'MULTIPLE_TRANSFERS'
  | 'DUPLICATE_INSTRUCTION'
  | 'MIXED_ACTIONS'
  | 'NO_ACTION'
  | 'HIDDEN_TRANSFER'
  | 'FOREIGN_SOURCE'
  | 'NO_TRANSFER'
  | 'COMPUTE_BUDGET_TOO_HIGH'
  | 'TO_OWN_VAULT';

/** Refusals about the enclave's own state rather than the message. */
export type StateRefusalReason =
  | 'UNKNOWN_WALLET'
  | 'NO_POLICY'
  | 'REQUEST_ID_MISMATCH'
  | 'WALLET_BINDING_MISMATCH'
  | 'APPROVAL_REQUIRED'
  | 'DELAY_TRACKING_FULL'
  | 'AGENT_KEY_RETIRED';

export type RefusalReason = ShapeRefusalReason | StateRefusalReason;

export interface ShapeRefusal {
  readonly ok: false;
  readonly reason: ShapeRefusalReason;
  /** A short, non-secret explanation (which instruction, which slot). */
  readonly detail: string;
}

export const shapeRefusal = (reason: ShapeRefusalReason, detail: string): ShapeRefusal => ({
  ok: false,
  reason,
  detail,
});

export const enclaveRefused = (reason: RefusalReason, detail: string, extra: Record<string, unknown> = {}) =>
  new WaiaasError('ENCLAVE_REFUSED', {
    message: `The enclave refused to sign: ${detail}`,
    details: { reason, ...extra },
    layer: 'enclave',
  });
