/**
 * A 402 answer read with the maintainers' HTTP client (@x402/core: the PAYMENT-REQUIRED header,
 * protocol v2, checked against their schema), and the one offer this wallet will pay: scheme `exact`
 * on the wallet's own network, well-formed, allowed by the policy as an x402 payment (asset, x402
 * limits, per-payment cap, payees, recipients) and within the caller's `maxAmount`. The budget, rate
 * and hours are decided at the reservation, under the wallet's lock.
 */
import { x402Client } from '@x402/core/client';
import { x402HTTPClient } from '@x402/core/http';
import { PaymentRequiredV2Schema } from '@x402/core/schemas';
import type { PaymentRequired, PaymentRequirements } from '@x402/core/types';
import { isAddress } from '../../core/address.ts';
import { type ErrorCode, WaiaasError } from '../../core/errors.ts';
import { decideTransfer, type Policy } from '../../core/policy.ts';
import { headerOf, type ResourceResponse } from './fetch-resource.ts';

/** Amounts are stored as int8, like any transfer's. */
const INT8_MAX = 2n ** 63n - 1n;
const BASE_UNITS = /^[1-9][0-9]{0,18}$/;

export const httpClient = new x402HTTPClient(new x402Client());

const invalidAnswer = (reason: string) =>
  new WaiaasError('X402_INVALID_RESPONSE', {
    message: `The 402 answer is not x402 v2: ${reason}.`,
    details: { reason },
  });

export function readPaymentRequired(response: ResourceResponse): PaymentRequired {
  let body: unknown;
  try {
    body = response.body.length > 0 ? JSON.parse(response.body.toString('utf8')) : undefined;
  } catch {
    body = undefined;
  }
  let decoded: unknown;
  try {
    decoded = httpClient.getPaymentRequiredResponse((name) => headerOf(response, name), body);
  } catch (error) {
    throw invalidAnswer(error instanceof Error ? error.message : 'no payment requirements');
  }
  const parsed = PaymentRequiredV2Schema.safeParse(decoded);
  if (!parsed.success) {
    const version = (decoded as { x402Version?: unknown } | null)?.x402Version;
    throw invalidAnswer(version === 2 ? 'malformed requirements' : `protocol version ${String(version)}`);
  }
  return decoded as PaymentRequired;
}

export type PaymentPath = 'vault' | 'float';

export interface Offer {
  readonly requirements: PaymentRequirements;
  /** The mint. */
  readonly asset: string;
  readonly amount: bigint;
  readonly payTo: string;
  /** The facilitator's fee payer, who signs first and pays the fee. */
  readonly feePayer: string;
  /**
   * `float` when the requirements say the facilitator verifies only plain transfers
   * (`extra.features.smartWalletSupported: false`); otherwise the vault pays, and a failed verify
   * that says so sends the payment to the float.
   */
  readonly path: PaymentPath;
}

export interface OfferContext {
  readonly network: string;
  readonly policy: Policy;
  readonly maxAmount: bigint;
  readonly vault: string;
  readonly agent: string;
  readonly nowMs: number;
}

const summary = (requirements: PaymentRequirements) => ({
  scheme: requirements.scheme,
  network: requirements.network,
  asset: requirements.asset,
  amount: requirements.amount,
  payTo: requirements.payTo,
});

type Verdict = { offer: Offer } | { refusal: WaiaasError };

/** Policy codes a payment itself can earn, before any counter: the rest is the reservation's. */
const STATIC_CODES = new Set<ErrorCode>([
  'ASSET_NOT_ALLOWED',
  'X402_NOT_ENABLED',
  'POLICY_X402_PER_PAYMENT',
  'POLICY_PER_TX_LIMIT',
  'RECIPIENT_NOT_ALLOWED',
  'INVALID_AMOUNT',
]);

function judge(requirements: PaymentRequirements, context: OfferContext): Verdict {
  const feePayer = requirements.extra?.['feePayer'];
  const malformed = (what: string) => ({
    refusal: new WaiaasError('X402_NO_ACCEPTABLE_OFFER', {
      message: `The payment option is malformed: ${what}.`,
      details: { reason: what, offer: summary(requirements) },
    }),
  });
  if (!isAddress(requirements.asset)) return malformed('the asset is not a mint address');
  if (!isAddress(requirements.payTo)) return malformed('payTo is not an address');
  if (typeof feePayer !== 'string' || !isAddress(feePayer))
    return malformed('extra.feePayer is not an address');
  if (!BASE_UNITS.test(requirements.amount) || BigInt(requirements.amount) > INT8_MAX)
    return malformed('the amount is not a positive integer in base units');
  // The enclave never signs as fee payer, and the wallet does not pay itself.
  if (feePayer === context.agent || feePayer === context.vault)
    return malformed('the fee payer is this wallet');
  if (requirements.payTo === context.vault || requirements.payTo === context.agent)
    return malformed('the payee is this wallet');
  const amount = BigInt(requirements.amount);
  const decision = decideTransfer(
    context.policy,
    { asset: requirements.asset, amount, recipient: requirements.payTo, purpose: 'x402' },
    context.nowMs,
    { spentInWindow: 0n, transfersInLastHour: 0 },
  );
  if (!decision.ok && STATIC_CODES.has(decision.code)) {
    return { refusal: new WaiaasError(decision.code, { layer: 'server', details: decision.details }) };
  }
  if (amount > context.maxAmount) {
    return {
      refusal: new WaiaasError('X402_PRICE_ABOVE_MAX', {
        details: {
          amount: requirements.amount,
          maxAmount: context.maxAmount.toString(),
          asset: requirements.asset,
        },
      }),
    };
  }
  const features = requirements.extra?.['features'] as { smartWalletSupported?: unknown } | undefined;
  return {
    offer: {
      requirements,
      asset: requirements.asset,
      amount,
      payTo: requirements.payTo,
      feePayer,
      path: features?.smartWalletSupported === false ? 'float' : 'vault',
    },
  };
}

/** The first offer this wallet will pay, or the reason the first payable-looking one is refused. */
export function chooseOffer(paymentRequired: PaymentRequired, context: OfferContext): Offer {
  const candidates = paymentRequired.accepts.filter(
    (requirements) => requirements.scheme === 'exact' && requirements.network === context.network,
  );
  if (candidates.length === 0) {
    throw new WaiaasError('X402_NO_ACCEPTABLE_OFFER', {
      details: { network: context.network, offers: paymentRequired.accepts.map(summary) },
    });
  }
  const verdicts = candidates.map((requirements) => judge(requirements, context));
  const chosen = verdicts.find((verdict): verdict is { offer: Offer } => 'offer' in verdict);
  if (chosen) return chosen.offer;
  throw (verdicts[0] as { refusal: WaiaasError }).refusal;
}
