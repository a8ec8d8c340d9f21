/**
 * After the paid request: what the resource answered about the payment, checked against the chain,
 * and the payment's row moved on accordingly, with the events a transfer emits (audit, webhooks,
 * notify tier).
 *
 * The facilitator holds a signed transaction until its blockhash expires, whatever it answered, and
 * the enclave has counted it; so a payment that did not settle stays counted against the daily
 * budget (stricter than the chain, never looser than the enclave). A settlement is believed only once
 * the transaction it names is confirmed on chain and carries exactly the message the enclave signed.
 */
import { isWaiaasError, WaiaasError } from '../../core/errors.ts';
import type { ChainClient } from '../../solana/chain-client.ts';
import { type TransferRecord, transitionTransfer } from '../../store/transfers.ts';
import { nowBig, type PipelineContext } from '../transfers/context.ts';
import { transitionRecorded } from '../transfers/steps/record-event.ts';
import { storedError } from '../transfers/stored-error.ts';
import { headerOf, type ResourceResponse } from './fetch-resource.ts';
import { httpClient } from './offers.ts';

/**
 * Reasons the maintainers' facilitator gives when it verifies only a top-level TransferChecked (its
 * static path) and the payment is a smart wallet's: the float is the way to pay such a facilitator.
 */
const STATIC_ONLY_REASONS = [
  'invalid_exact_svm_payload_no_transfer_instruction',
  'invalid_exact_svm_payload_transaction_instructions_length',
  'invalid_exact_svm_payload_unknown_',
  'invalid_exact_svm_smart_wallet_program_not_allowed',
];

export const saysStaticOnly = (reason: string | undefined): boolean =>
  reason !== undefined && STATIC_ONLY_REASONS.some((known) => reason.startsWith(known));

export interface Settlement {
  readonly transaction: string;
  readonly network: string;
  readonly payer: string | undefined;
}

export type PaymentAnswer =
  | { readonly kind: 'settled'; readonly settlement: Settlement }
  /** Refused before settlement (verify failed, or no settlement header): `reason` as the resource gave it. */
  | { readonly kind: 'refused'; readonly reason: string };

/** What the resource's answer says about the payment, per the x402 HTTP transport. */
export function readPaymentAnswer(response: ResourceResponse): PaymentAnswer {
  const getHeader = (name: string) => headerOf(response, name);
  if (getHeader('payment-response') !== undefined || getHeader('x-payment-response') !== undefined) {
    try {
      const settled = httpClient.getPaymentSettleResponse(getHeader);
      if (settled.success && settled.transaction) {
        return {
          kind: 'settled',
          settlement: { transaction: settled.transaction, network: settled.network, payer: settled.payer },
        };
      }
      return { kind: 'refused', reason: settled.errorReason ?? 'settlement failed' };
    } catch {
      return { kind: 'refused', reason: 'unreadable PAYMENT-RESPONSE header' };
    }
  }
  if (response.status === 402) {
    try {
      const required = httpClient.getPaymentRequiredResponse(getHeader);
      return { kind: 'refused', reason: required.error ?? 'payment required again' };
    } catch {
      return { kind: 'refused', reason: 'payment required again' };
    }
  }
  return { kind: 'refused', reason: `answered ${response.status} without a settlement` };
}

/** The message of a confirmed transaction, or undefined when it is not confirmed (or failed). */
async function landedMessage(chain: ChainClient, signature: string): Promise<Uint8Array | undefined> {
  const found = await chain.rpc.call<{ transaction: [string, string]; meta: { err: unknown } | null } | null>(
    'getTransaction',
    [signature, { encoding: 'base64', commitment: 'confirmed', maxSupportedTransactionVersion: 0 }],
  );
  if (found === null || found.meta === null || found.meta.err !== null) return undefined;
  const wire = Buffer.from(found.transaction[0], 'base64');
  const signatures = wire[0] ?? 0;
  if (signatures >= 0x80) return undefined;
  return new Uint8Array(wire.subarray(1 + signatures * 64));
}

export async function confirmSettled(
  ctx: PipelineContext,
  record: TransferRecord,
  message: Uint8Array,
  settlement: Settlement,
): Promise<TransferRecord> {
  let landed: Uint8Array | undefined;
  try {
    landed = await landedMessage(ctx.chain, settlement.transaction);
  } catch (error) {
    throw new WaiaasError('CHAIN_UNAVAILABLE', {
      message: 'The settlement could not be looked up on chain',
      details: { transferId: record.id, transaction: settlement.transaction },
      cause: error,
    });
  }
  if (landed === undefined || !Buffer.from(landed).equals(Buffer.from(message))) {
    throw await failPayment(ctx, record, 'the settlement names a transaction that is not this payment', {
      transaction: settlement.transaction,
    });
  }
  const nowMs = nowBig(ctx);
  const done: TransferRecord = {
    ...record,
    status: 'confirmed',
    signature: settlement.transaction,
    updatedAt: nowMs,
  };
  const moved = await transitionRecorded(
    ctx,
    record.id,
    { from: ['submitted', 'cancelled'] },
    { status: 'confirmed', signature: settlement.transaction, updated_at: nowMs },
    { type: 'transfer.confirmed', transfer: done },
  );
  if (moved) {
    ctx.events.emit('transfer.confirmed', done);
    if (done.tier === 'notify') ctx.events.emit('transfer.notify', done);
  }
  return done;
}

/** Marks the payment failed (its amount still counted: see the module note) and returns the error. */
export async function failPayment(
  ctx: PipelineContext,
  record: TransferRecord,
  reason: string,
  extra: Record<string, unknown> = {},
): Promise<WaiaasError> {
  const error = new WaiaasError('X402_PAYMENT_FAILED', {
    message: `The payment was not settled: ${reason}.`,
    details: { reason, transferId: record.id, ...extra },
  });
  const nowMs = nowBig(ctx);
  const stored = storedError(error);
  const failed: TransferRecord = {
    ...record,
    status: 'failed',
    errorCode: stored.error_code,
    errorDetail: stored.error_detail,
    updatedAt: nowMs,
  };
  const moved = await transitionRecorded(
    ctx,
    record.id,
    { from: ['submitted', 'signing'] },
    { status: 'failed', ...stored, updated_at: nowMs },
    { type: 'transfer.failed', transfer: failed },
  );
  if (moved) ctx.events.emit('transfer.failed', failed);
  return error;
}

/** Stores the enclave-signed transaction before it leaves for the resource (`submitted`). */
export async function storeSigned(
  ctx: PipelineContext,
  record: TransferRecord,
  wire: Uint8Array,
  lastValidBlockHeight: bigint,
): Promise<TransferRecord> {
  const nowMs = nowBig(ctx);
  const signedTransaction = Buffer.from(wire).toString('base64');
  const stored = await transitionTransfer(
    ctx.store.db,
    record.id,
    { from: ['signing'], claimedBy: ctx.replicaId },
    {
      status: 'submitted',
      signed_transaction: signedTransaction,
      last_valid_block_height: lastValidBlockHeight,
      updated_at: nowMs,
    },
  );
  if (!stored)
    throw new WaiaasError('CONFLICT', {
      message: 'The payment was moved on meanwhile',
      details: { transferId: record.id },
    });
  return { ...record, status: 'submitted', signedTransaction, lastValidBlockHeight, updatedAt: nowMs };
}

export const isRefusal = (error: unknown): error is WaiaasError => isWaiaasError(error) && error.status < 500;
