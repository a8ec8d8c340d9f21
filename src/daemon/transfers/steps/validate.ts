/** Step 1: the request as the pipeline uses it, after what the route's schema cannot check. */
import { createHash } from 'node:crypto';
import { WaiaasError } from '../../../core/errors.ts';
import type { TransferRequest } from '../types.ts';

export interface TransferBody {
  readonly to: string;
  readonly amount: string;
  readonly mint?: string | undefined;
  readonly memo?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

/** Accepted amounts are stored as int8; a larger one is over any policy anyway. */
const INT8_MAX = 2n ** 63n - 1n;
const MAX_MEMO_BYTES = 256;

export function requestHash(walletId: string, body: TransferBody): string {
  const canonical = JSON.stringify([walletId, body.to, body.amount, body.mint ?? null, body.memo ?? null]);
  return createHash('sha256').update(canonical).digest('base64url');
}

/** `vault` is the wallet's own address: sending to it would move nothing. */
export function validateTransfer(walletId: string, body: TransferBody, vault: string): TransferRequest {
  const amount = BigInt(body.amount);
  if (amount <= 0n || amount > INT8_MAX) {
    throw new WaiaasError('INVALID_AMOUNT', { details: { amount: body.amount, max: INT8_MAX.toString() } });
  }
  if (body.to === vault) {
    throw new WaiaasError('INVALID_ADDRESS', {
      message: 'The recipient is the wallet itself',
      details: { field: 'to' },
    });
  }
  if (body.mint === 'SOL' || body.mint === body.to) {
    throw new WaiaasError('INVALID_ADDRESS', { details: { field: 'mint' } });
  }
  if (body.memo !== undefined && Buffer.byteLength(body.memo, 'utf8') > MAX_MEMO_BYTES) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: `The memo is longer than ${MAX_MEMO_BYTES} bytes`,
      details: { field: 'memo' },
    });
  }
  return {
    walletId,
    to: body.to,
    amount,
    mint: body.mint,
    memo: body.memo,
    idempotencyKey: body.idempotencyKey,
    requestHash: requestHash(walletId, body),
  };
}
