/**
 * POST /v1/wallets/:id/transfers/dry-run: the transfer request checked at each layer as the real one
 * would be, with nothing reserved, signed, sent or written. The server layer reads the transfers
 * table as the reservation does; the enclave and chain layers read briefly cached figures (see their
 * files), so a dry run costs a few indexed queries and, at most once a second per wallet, an enclave
 * call and chain reads.
 */

import { type TransferIntent, type TransferRoute, tierFor } from '../../core/policy.ts';
import type { Wallet } from '../../store/index.ts';
import type { ChainSnapshots } from '../exposure/chain-snapshot.ts';
import type { RuntimeParts } from '../runtime/runtime.ts';
import type { TransferBody } from '../transfers/index.ts';
import { validateTransfer } from '../transfers/steps/validate.ts';
import { budgetOf } from './budget.ts';
import { type ChainLayer, chainLayer, chainUnavailable } from './chain-layer.ts';
import { type EnclaveLayer, EnclaveUsageCache, enclaveLayer } from './enclave-layer.ts';
import { PolicyCache } from './policy-cache.ts';
import { serverLayer } from './server-layer.ts';
import { type DryRunResult, LAYERS, type LayerName, type LayerVerdict } from './types.ts';
import { notChecked } from './verdict.ts';

const NOT_REQUESTED = ['Not requested (see the layers parameter).'];

export class DryRuns {
  readonly #runtime: Pick<RuntimeParts, 'store'>;
  readonly #policies = new PolicyCache();
  readonly #enclaveUsage: EnclaveUsageCache;
  readonly #chain: ChainSnapshots;

  constructor(runtime: Pick<RuntimeParts, 'store' | 'signers'>, chainSnapshots: ChainSnapshots) {
    this.#runtime = runtime;
    this.#enclaveUsage = new EnclaveUsageCache(runtime.signers);
    this.#chain = chainSnapshots;
  }

  /**
   * `wallet` must already be the caller's (routes/access.ts walletFor). `layers` chooses whether the
   * enclave and the chain are asked; the server layer is always checked.
   */
  async run(
    wallet: Wallet,
    body: TransferBody,
    layers: ReadonlySet<LayerName> = new Set(LAYERS),
    nowMs = Date.now(),
  ): Promise<DryRunResult> {
    const request = validateTransfer(wallet.id, body, wallet.vault);
    const { policy } = this.#policies.of(wallet);
    const asset = request.mint ?? 'SOL';
    const intent: TransferIntent = { asset, amount: request.amount, recipient: request.to };
    const limits = policy.assets.get(asset);
    // The tier decides the route on chain and in the enclave; by amount when the server refuses.
    const byAmount = limits ? tierFor(limits, request.amount) : 'instant';
    const route: TransferRoute = byAmount === 'approval' ? 'owner-approval' : 'by-amount';

    const [server, enclave, chain] = await Promise.all([
      serverLayer(this.#runtime.store.db, wallet, policy, intent, nowMs),
      layers.has('enclave')
        ? enclaveLayer(this.#enclaveUsage, wallet.id, policy, intent, route, nowMs)
        : Promise.resolve<EnclaveLayer>({ verdict: notChecked(NOT_REQUESTED), spent: null }),
      layers.has('chain')
        ? this.#chain
            .read(wallet.multisig, wallet.updatedAt.toString())
            .then(
              (snapshot) =>
                chainLayer(
                  snapshot,
                  { asset, amount: request.amount, to: request.to, tier: byAmount },
                  nowMs,
                ),
              chainUnavailable,
            )
        : Promise.resolve<ChainLayer>({ verdict: notChecked(NOT_REQUESTED), remaining: null, balance: null }),
    ]);

    const verdicts: Record<LayerName, LayerVerdict> = {
      // Always checked: it is the cheapest layer, and the real transfer meets it first.
      server: server.verdict,
      enclave: enclave.verdict,
      chain: chain.verdict,
    };
    // The first layer that would stop it, in the order the real transfer meets them.
    const stop = LAYERS.find((name) => verdicts[name].allowed === false || verdicts[name].code !== undefined);
    const stopped = stop === undefined ? undefined : verdicts[stop];
    const decision = server.decision;
    return {
      walletId: wallet.id,
      asset,
      amount: request.amount.toString(),
      to: request.to,
      allowed: stopped === undefined,
      ...(stopped === undefined && decision.ok
        ? {
            tier: decision.tier,
            ...(decision.tier === 'delay' ? { delaySeconds: decision.delaySeconds } : {}),
          }
        : {}),
      ...(stop !== undefined && stopped?.code !== undefined
        ? {
            code: stopped.code,
            layer: stop,
            ...(stopped.title === undefined ? {} : { title: stopped.title }),
            ...(stopped.action === undefined ? {} : { action: stopped.action }),
          }
        : {}),
      layers: verdicts,
      budget: budgetOf({
        policy,
        asset,
        nowMs,
        serverSpent: server.usage.spentInWindow,
        transfersInLastHour: server.usage.transfersInRateWindow,
        enclaveSpent: enclave.spent,
        chainRemaining: layers.has('chain') ? chain.remaining : null,
        balance: chain.balance,
      }),
      evaluatedAt: new Date(nowMs).toISOString(),
    };
  }
}
