/**
 * The WAIaaS client: one object per resource (`client.wallets`, `client.transfers`, …) over one HTTP
 * transport. Works wherever the standard `fetch` does; no other dependency.
 *
 *   const client = createClient({ url: 'http://127.0.0.1:7700', token: process.env.WAIAAS_SESSION_TOKEN });
 *   const sent = await client.transfers.send(walletId, { to, amount: sol('0.05') });
 */
import { amountsFromWire } from './codec.ts';
import { type CallOptions, type ClientOptions, HttpTransport, path } from './http.ts';
import { approvalsApi } from './resources/approvals.ts';
import { auditApi } from './resources/audit.ts';
import { eventsApi } from './resources/events.ts';
import { operatorTokensApi } from './resources/operator-tokens.ts';
import { ownersApi } from './resources/owners.ts';
import { policyApi } from './resources/policy.ts';
import { sessionsApi } from './resources/sessions.ts';
import { transfersApi } from './resources/transfers.ts';
import { walletsApi } from './resources/wallets.ts';
import { webhooksApi } from './resources/webhooks.ts';
import { x402Api } from './resources/x402.ts';
import type { Attestation, Balance, Health, Usage } from './types.ts';

export class WaiaasClient {
  readonly http: HttpTransport;
  readonly owners;
  readonly wallets;
  readonly sessions;
  readonly policy;
  readonly transfers;
  readonly approvals;
  readonly audit;
  readonly webhooks;
  readonly events;
  readonly x402;
  readonly operatorTokens;

  constructor(options: ClientOptions) {
    this.http = new HttpTransport(options);
    this.owners = ownersApi(this.http);
    this.wallets = walletsApi(this.http);
    this.sessions = sessionsApi(this.http);
    this.policy = policyApi(this.http);
    this.transfers = transfersApi(this.http);
    this.approvals = approvalsApi(this.http);
    this.audit = auditApi(this.http);
    this.webhooks = webhooksApi(this.http);
    this.events = eventsApi(this.http);
    this.x402 = x402Api(this.http);
    this.operatorTokens = operatorTokensApi(this.http);
  }

  /** Status of the database, chain, Squads program, enclave and fee payer; needs no token. */
  async health(call?: CallOptions): Promise<Health> {
    // 503 carries a health document too (database down): answer it rather than throw.
    const response = await this.http.request<Health>(
      { method: 'GET', path: '/v1/health', auth: false, acceptStatuses: [503] },
      call,
    );
    return response.body;
  }

  /**
   * Readiness: every part read live now (health() answers from state refreshed in the background).
   * `ready` is true only when the status is ok; the document says what is not.
   */
  async ready(call?: CallOptions): Promise<Health & { ready: boolean }> {
    const response = await this.http.request<Health>(
      { method: 'GET', path: '/v1/ready', auth: false, acceptStatuses: [503] },
      call,
    );
    return { ...response.body, ready: response.body.status === 'ok' };
  }

  /** The enclave's attestation document; pass a hex nonce so it cannot be a replay. */
  async attestation(params: { nonce?: string } = {}, call?: CallOptions): Promise<Attestation> {
    const response = await this.http.request<Attestation>(
      { method: 'GET', path: '/v1/attestation', query: { nonce: params.nonce }, auth: false },
      call,
    );
    return response.body;
  }

  /** Spent and remaining per asset at each layer: server, enclave and the on-chain spending limit. */
  async usage(walletId: string, call?: CallOptions): Promise<Usage> {
    const response = await this.http.request(
      { method: 'GET', path: path`/v1/wallets/${walletId}/usage` },
      call,
    );
    return amountsFromWire(response.body);
  }

  /** The vault's SOL and token balances, read from the chain. */
  async balance(walletId: string, call?: CallOptions): Promise<Balance> {
    const response = await this.http.request(
      { method: 'GET', path: path`/v1/wallets/${walletId}/balance` },
      call,
    );
    return amountsFromWire(response.body);
  }

  /** Where to deposit: the Squads vault PDA, never the multisig account. */
  async depositAddress(walletId: string, call?: CallOptions): Promise<string> {
    const response = await this.http.request<{ address: string }>(
      { method: 'GET', path: path`/v1/wallets/${walletId}/deposit-address` },
      call,
    );
    return response.body.address;
  }

  /** The daemon's OpenAPI document. */
  async openapi(call?: CallOptions): Promise<OpenApiDocument> {
    return (
      await this.http.request<OpenApiDocument>({ method: 'GET', path: '/openapi.json', auth: false }, call)
    ).body;
  }

  /** Prometheus metrics (operator token). */
  async metrics(call?: CallOptions): Promise<string> {
    return (await this.http.request<string>({ method: 'GET', path: '/metrics' }, call)).body;
  }
}

export interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
}

export const createClient = (options: ClientOptions): WaiaasClient => new WaiaasClient(options);
