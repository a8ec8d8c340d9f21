/**
 * POST /v1/wallets/:id/x402/pay: the daemon requests the URL; on 402 it reads the requirements (x402
 * v2), picks the one offer the policy allows, pays it as the exact scheme specifies and requests the
 * URL again with the payment, then answers the resource's response and the settlement.
 *
 *   vault (default): L1 + reservation (kind x402, counted in `daily`) → spendingLimitUse + memo, the
 *     facilitator as fee payer → the enclave inspects it and runs L2 → stored → sent with the request;
 *     the facilitator verifies it by simulation (its smart-wallet path) and settles it; the chain's
 *     spending limit bounds it.
 *   float (requirements say the facilitator takes only plain transfers, or a verify says so): the
 *     float is filled through the spending limit when it lacks the price (kind float_fill, counted in
 *     `daily` at all three layers) → TransferChecked from the float + memo → enclave (L2) → sent.
 *
 * A payment that fails after the enclave signed it stays counted (see settle.ts). Every row is
 * audited and notified like a transfer through the transfer service's events.
 */
import { PublicKey } from '@solana/web3.js';
import { x402Client } from '@x402/core/client';
import type { Network, PaymentRequired } from '@x402/core/types';
import { WaiaasError } from '../../core/errors.ts';
import type { TokenAsset } from '../../squads/index.ts';
import type { TransferRecord } from '../../store/transfers.ts';
import type { Principal } from '../auth.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { PipelineContext } from '../transfers/context.ts';
import { enclaveSign } from '../transfers/steps/enclave-sign.ts';
import { ensureTokenAccount } from '../transfers/steps/ensure-token-account.ts';
import { settleUnsigned } from '../transfers/steps/settle-unsigned.ts';
import type { BuiltTransaction } from '../transfers/steps/signed-message.ts';
import type { WalletContext } from '../transfers/wallet-context.ts';
import { buildFloatPayment, buildVaultPayment, memoFor, partiallySignedWire } from './build.ts';
import { fetchResource, headerOf, type ResourceRequest, type ResourceResponse } from './fetch-resource.ts';
import { fillFloat, floatAccountOf, tokenAccountBalance } from './float.ts';
import { walletNetwork } from './network.ts';
import { chooseOffer, httpClient, type Offer, type PaymentPath, readPaymentRequired } from './offers.ts';
import { reserveSpend } from './reserve.ts';
import {
  confirmSettled,
  failPayment,
  readPaymentAnswer,
  type Settlement,
  saysStaticOnly,
  storeSigned,
} from './settle.ts';
import { parsePaymentUrl } from './url-guard.ts';

export interface PayRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | undefined;
  readonly maxAmount: bigint;
}

export interface PaymentView {
  readonly transferId: string;
  readonly path: PaymentPath;
  readonly asset: string;
  readonly amount: string;
  readonly payTo: string;
  readonly network: string;
  readonly transaction: string;
  readonly payer: string | undefined;
  /** The float fill this payment needed first, if any. */
  readonly fill: { readonly transferId: string; readonly amount: string } | undefined;
  /** A vault payment the facilitator would not take, before the float paid. */
  readonly declined: { readonly transferId: string; readonly reason: string } | undefined;
}

export interface PayResult {
  readonly paid: boolean;
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: string;
  readonly bodyEncoding: 'utf8' | 'base64';
  readonly payment: PaymentView | undefined;
}

const TEXTUAL = /^(text\/|application\/(json|xml|javascript|[\w.+-]+\+(json|xml))\b)/i;

function answerOf(response: ResourceResponse, payment: PaymentView | undefined): PayResult {
  const contentType = headerOf(response, 'content-type');
  const textual = contentType === undefined ? response.body.length === 0 : TEXTUAL.test(contentType);
  return {
    paid: payment !== undefined,
    status: response.status,
    contentType,
    body: response.body.toString(textual ? 'utf8' : 'base64'),
    bodyEncoding: textual ? 'utf8' : 'base64',
    payment,
  };
}

/** The URL as stored and audited: without its query, which may carry the resource's credentials. */
const describeUrl = (url: URL) => `${url.origin}${url.pathname}`;

async function visibleWallet(
  ctx: PipelineContext,
  principal: Principal | undefined,
  walletId: string,
): Promise<WalletContext> {
  const wallet = await ctx.wallets.get(ctx.store.db, walletId);
  const visible =
    wallet !== undefined &&
    ((principal?.role === 'owner' && wallet.ownerId === principal.owner.id) ||
      (principal?.role === 'agent' && principal.session.walletId === wallet.id));
  if (!visible) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
  return wallet;
}

/** The maintainers' client assembles the payload (resource, accepted, extensions) around our transaction. */
async function paymentHeaders(
  paymentRequired: PaymentRequired,
  offer: Offer,
  wire: Uint8Array,
): Promise<Record<string, string>> {
  const transaction = Buffer.from(wire).toString('base64');
  const client = x402Client.fromConfig({
    schemes: [
      {
        network: offer.requirements.network as Network,
        client: {
          scheme: 'exact',
          createPaymentPayload: async (x402Version) => ({ x402Version, payload: { transaction } }),
        },
      },
    ],
    spendControls: false,
  });
  const payload = await client.createPaymentPayload({ ...paymentRequired, accepts: [offer.requirements] });
  return httpClient.encodePaymentSignatureHeader(payload);
}

interface Attempt {
  readonly request: ResourceRequest;
  readonly allowedOrigins: readonly string[];
  readonly paymentRequired: PaymentRequired;
  readonly offer: Offer;
  readonly token: TokenAsset;
  readonly network: string;
  readonly detail: Record<string, unknown>;
}

type AttemptResult =
  | { kind: 'settled'; record: TransferRecord; settlement: Settlement; response: ResourceResponse }
  | { kind: 'static-only'; record: TransferRecord; reason: string };

/** Signs, stores, sends with the request, and settles one payment whose row is reserved. */
async function sendPayment(
  ctx: PipelineContext,
  attempt: Attempt,
  record: TransferRecord,
  build: () => Promise<BuiltTransaction>,
): Promise<AttemptResult> {
  let built: BuiltTransaction;
  try {
    await ensureTokenAccount(ctx, attempt.offer.payTo, attempt.token);
    built = await build();
    await enclaveSign(ctx, record.walletId, record.id, built);
  } catch (error) {
    await settleUnsigned(ctx, record, error, 'withdraw');
    throw error;
  }
  const wire = partiallySignedWire(built);
  const stored = await storeSigned(ctx, record, wire, built.lastValidBlockHeight);
  let response: ResourceResponse;
  try {
    const payment = await paymentHeaders(attempt.paymentRequired, attempt.offer, wire);
    response = await fetchResource(
      { ...attempt.request, headers: { ...attempt.request.headers, ...payment } },
      attempt.allowedOrigins,
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    await failPayment(ctx, stored, `the paid request failed: ${reason}`);
    throw error;
  }
  const answer = readPaymentAnswer(response);
  if (answer.kind === 'settled') {
    const confirmed = await confirmSettled(ctx, stored, built.message, answer.settlement);
    return { kind: 'settled', record: confirmed, settlement: answer.settlement, response };
  }
  const failure = await failPayment(ctx, stored, answer.reason, { status: response.status });
  if (saysStaticOnly(answer.reason)) return { kind: 'static-only', record: stored, reason: answer.reason };
  throw failure;
}

async function payFromVault(ctx: PipelineContext, wallet: WalletContext, attempt: Attempt) {
  const { offer } = attempt;
  const { record, wallet: current } = await reserveSpend(ctx, {
    walletId: wallet.id,
    purpose: 'x402',
    asset: offer.asset,
    amount: offer.amount,
    recipient: offer.payTo,
    detail: { ...attempt.detail, path: 'vault' },
  });
  return sendPayment(ctx, attempt, record, async () =>
    buildVaultPayment({
      multisig: current.multisig,
      agent: current.agent!,
      token: attempt.token,
      amount: offer.amount,
      payTo: new PublicKey(offer.payTo),
      feePayer: new PublicKey(offer.feePayer),
      memo: memoFor(offer.requirements.extra),
      blockhash: await ctx.chain.recentBlockhash(),
    }),
  );
}

async function payFromFloat(ctx: PipelineContext, wallet: WalletContext, attempt: Attempt) {
  const { offer, token } = attempt;
  const limits = wallet.policy.assets.get(offer.asset);
  if (limits?.float === undefined) {
    throw new WaiaasError('FLOAT_NOT_ENABLED', { layer: 'server', details: { asset: offer.asset } });
  }
  if (wallet.agent === undefined) {
    throw new WaiaasError('CONFLICT', {
      message: 'The wallet has no active agent key',
      details: { walletId: wallet.id },
    });
  }
  const agent = wallet.agent;
  const balance = await tokenAccountBalance(ctx.chain, floatAccountOf(agent, token));
  let fill: TransferRecord | undefined;
  if (balance < offer.amount) {
    const room = limits.float.max > balance ? limits.float.max - balance : 0n;
    fill = await fillFloat(ctx, {
      walletId: wallet.id,
      agent,
      token,
      balance,
      wanted: room > offer.amount - balance ? room : offer.amount - balance,
      needed: offer.amount - balance,
    });
  }
  const { record, wallet: current } = await reserveSpend(ctx, {
    walletId: wallet.id,
    purpose: 'float-payment',
    asset: offer.asset,
    amount: offer.amount,
    recipient: offer.payTo,
    detail: { ...attempt.detail, path: 'float', ...(fill && { fill: fill.id }) },
  });
  const result = await sendPayment(ctx, attempt, record, async () =>
    buildFloatPayment({
      agent: current.agent!,
      token,
      amount: offer.amount,
      payTo: new PublicKey(offer.payTo),
      feePayer: new PublicKey(offer.feePayer),
      memo: memoFor(offer.requirements.extra),
      blockhash: await ctx.chain.recentBlockhash(),
    }),
  );
  if (result.kind !== 'settled') {
    throw new WaiaasError('X402_PAYMENT_FAILED', {
      message: `The payment from the float was not settled: ${result.reason}.`,
      details: { reason: result.reason, transferId: result.record.id },
    });
  }
  return { ...result, fill };
}

export async function payForUrl(
  runtime: Runtime,
  principal: Principal | undefined,
  walletId: string,
  request: PayRequest,
): Promise<PayResult> {
  const ctx = runtime.services.payments;
  const wallet = await visibleWallet(ctx, principal, walletId);
  const url = parsePaymentUrl(request.url);
  const allowedOrigins = runtime.config.x402AllowedOrigins;
  const resourceRequest: ResourceRequest = {
    url,
    method: request.method,
    headers: request.headers,
    body: request.body,
  };
  const first = await fetchResource(resourceRequest, allowedOrigins);
  if (first.status !== 402) return answerOf(first, undefined);

  const paymentRequired = readPaymentRequired(first);
  const network = await walletNetwork(ctx.chain);
  if (wallet.agentAddress === undefined) {
    throw new WaiaasError('CONFLICT', {
      message: 'The wallet has no active agent key',
      details: { walletId },
    });
  }
  const offer = chooseOffer(paymentRequired, {
    network,
    policy: wallet.policy,
    maxAmount: request.maxAmount,
    vault: wallet.vaultAddress,
    agent: wallet.agentAddress,
    nowMs: ctx.now(),
  });
  const asset = await ctx.tokens.transferAsset(ctx.chain, offer.asset);
  if (asset === 'SOL') throw new WaiaasError('INTERNAL', { message: 'An x402 asset resolved to SOL' });
  const attempt: Attempt = {
    request: resourceRequest,
    allowedOrigins,
    paymentRequired,
    offer,
    token: asset,
    network,
    detail: {
      url: describeUrl(url),
      method: request.method,
      network,
      payTo: offer.payTo,
      feePayer: offer.feePayer,
    },
  };

  let declined: PaymentView['declined'];
  if (offer.path === 'vault') {
    const result = await payFromVault(ctx, wallet, attempt);
    if (result.kind === 'settled')
      return answerOf(result.response, paymentView(result, 'vault', offer, undefined, undefined));
    declined = { transferId: result.record.id, reason: result.reason };
    if (wallet.policy.assets.get(offer.asset)?.float === undefined) {
      throw new WaiaasError('X402_PAYMENT_FAILED', {
        message: 'The facilitator verifies only plain transfers and this asset has no float.',
        details: { reason: result.reason, transferId: result.record.id, asset: offer.asset },
      });
    }
  }
  const paid = await payFromFloat(ctx, wallet, attempt);
  return answerOf(paid.response, paymentView(paid, 'float', offer, paid.fill, declined));
}

function paymentView(
  result: { record: TransferRecord; settlement: Settlement },
  path: PaymentPath,
  offer: Offer,
  fill: TransferRecord | undefined,
  declined: PaymentView['declined'],
): PaymentView {
  return {
    transferId: result.record.id,
    path,
    asset: offer.asset,
    amount: offer.amount.toString(),
    payTo: offer.payTo,
    network: result.settlement.network,
    transaction: result.settlement.transaction,
    payer: result.settlement.payer,
    fill: fill && { transferId: fill.id, amount: fill.amount.toString() },
    declined,
  };
}
