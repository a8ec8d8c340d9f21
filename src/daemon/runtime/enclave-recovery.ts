/**
 * Recovery: an enclave instance takes wallets over from what the daemon stores (their sealed agent
 * keys and newest sealed checkpoint) and from what the chain shows spent. Runs after every start of
 * the enclave (the supervisor's restore) and on demand for named wallets (`waiaas enclave recover`,
 * and an instance told to take wallets X, Y over).
 *
 * Two passes: the first hands over keys and checkpoints; the enclave answers, per wallet, whether it
 * still had its own state (journal). Only for wallets it did not, the daemon reads the spending
 * limits on chain and hands them over in a second pass, so a healthy restart costs no chain reads,
 * and a wiped enclave never counts less than the chain shows spent in the current period. Every
 * wallet restored from anything but its own state gets an `enclave.recovered` audit entry.
 */
import { PublicKey } from '@solana/web3.js';
import { type PolicyBundle, policyBundleSchema } from '../../core/policy.ts';
import type { SealedAgentKey } from '../../enclave/agent-keys.ts';
import {
  type ChainLimit,
  type RecoveredWallet,
  type RecoverWallet,
  sealedAgentKeySchema,
} from '../../enclave/protocol.ts';
import type { SquadsAccountReader } from '../../squads/account-reader.ts';
import { readSpendingLimitsOf } from '../../squads/read-wallet.ts';
import { enclaveCheckpointsOf } from '../../store/enclave-checkpoints.ts';
import { activeAgentKeys, type Store } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { EnclaveClient } from '../enclave-client.ts';

/** Squads v4 periods in seconds (OneTime, Day, Week, Month), as the program resets them. */
const PERIOD_SECONDS = [0, 86_400, 7 * 86_400, 30 * 86_400] as const;
/** A RECOVER request stays well within the protocol's 1 MiB frame: at most this many wallets… */
const BATCH_WALLETS = 500;
/** …and about this many bytes of sealed data. */
const BATCH_BYTES = 512 * 1024;

/** Splits recovery entries into requests that each fit one frame. */
const batches = (entries: readonly RecoverWallet[]): RecoverWallet[][] => {
  const out: RecoverWallet[][] = [];
  let current: RecoverWallet[] = [];
  let bytes = 0;
  for (const entry of entries) {
    const size =
      256 +
      (entry.checkpoint?.length ?? 0) +
      entry.keys.reduce((sum, key) => sum + key.sealedSeed.length + 256, 0);
    if (current.length > 0 && (current.length >= BATCH_WALLETS || bytes + size > BATCH_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(entry);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
};

export interface RecoverWalletsDeps {
  readonly client: Pick<EnclaveClient, 'recover'>;
  readonly store: Store;
  /** The chain, for the spending limits; without it no chain floor is applied (tests only). */
  readonly chain?: SquadsAccountReader;
  /** Only these wallets; default every wallet with an active agent key. */
  readonly walletIds?: readonly string[];
  readonly log?: (line: string) => void;
}

export interface RecoveryReport {
  readonly wallets: readonly RecoveredWallet[];
  /** Wallets the enclave did not find in its own state. */
  readonly recovered: readonly RecoveredWallet[];
}

const parseSealed = (text: string): SealedAgentKey | undefined => {
  try {
    const parsed = sealedAgentKeySchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

/** The wallet's spending limits on chain, by asset, as the enclave takes them (RECOVER `chain`). */
export async function readChainLimits(
  chain: SquadsAccountReader,
  multisig: string,
  assets: readonly string[],
): Promise<Record<string, ChainLimit>> {
  const limits = await readSpendingLimitsOf(
    chain,
    new PublicKey(multisig),
    assets.map((asset) => (asset === 'SOL' ? 'SOL' : new PublicKey(asset))),
  );
  const out: Record<string, ChainLimit> = {};
  for (const limit of limits) {
    const asset = limit.asset === 'SOL' ? 'SOL' : limit.asset.toBase58();
    out[asset] = {
      amount: limit.amount.toString(),
      remaining: limit.remainingAmount.toString(),
      lastReset: Number(limit.lastReset),
      periodSeconds: PERIOD_SECONDS[limit.period as number] ?? 0,
    };
  }
  return out;
}

export async function recoverWallets(deps: RecoverWalletsDeps): Promise<RecoveryReport> {
  const { store } = deps;
  const only = deps.walletIds === undefined ? undefined : new Set(deps.walletIds);
  const keysByWallet = new Map<string, SealedAgentKey[]>();
  for (const record of await activeAgentKeys(store.db)) {
    if (only && !only.has(record.walletId)) continue;
    const sealed = parseSealed(record.sealed);
    if (sealed === undefined) {
      deps.log?.(`enclave recovery: the stored agent key ${record.publicKey} is unreadable; skipped`);
      continue;
    }
    const list = keysByWallet.get(record.walletId) ?? [];
    list.push(sealed);
    keysByWallet.set(record.walletId, list);
  }
  const walletIds = [...keysByWallet.keys()];
  const checkpoints = await enclaveCheckpointsOf(store.db, walletIds);
  const entries: RecoverWallet[] = walletIds.map((walletId) => {
    const checkpoint = checkpoints.get(walletId);
    return {
      walletId,
      keys: keysByWallet.get(walletId)!,
      ...(checkpoint ? { checkpoint: checkpoint.sealed } : {}),
    };
  });

  const first: RecoveredWallet[] = [];
  for (const batch of batches(entries)) first.push(...(await deps.client.recover(batch)));
  const fresh = first.filter((wallet) => wallet.restoredFrom !== 'own-state' && wallet.error === undefined);

  // The chain floor, for the wallets the enclave had no state of its own for.
  const raised = new Map<string, RecoveredWallet>();
  if (deps.chain !== undefined && fresh.length > 0) {
    const rows = await store.db
      .selectFrom('wallets')
      .select(['id', 'multisig', 'policy_bundle'])
      .where(
        'id',
        'in',
        fresh.map((wallet) => wallet.walletId),
      )
      .execute();
    const second: RecoverWallet[] = [];
    for (const row of rows) {
      let bundle: PolicyBundle;
      try {
        bundle = policyBundleSchema.parse(JSON.parse(row.policy_bundle));
      } catch {
        continue;
      }
      const chain = await readChainLimits(deps.chain, row.multisig, Object.keys(bundle.policy.assets));
      if (Object.keys(chain).length > 0)
        second.push({ walletId: row.id, keys: keysByWallet.get(row.id) ?? [], chain });
    }
    for (const batch of batches(second))
      for (const wallet of await deps.client.recover(batch)) raised.set(wallet.walletId, wallet);
  }

  const recovered = first
    .filter((wallet) => wallet.restoredFrom !== 'own-state' || wallet.error !== undefined)
    .map((wallet) => ({
      ...wallet,
      raisedToChain: raised.get(wallet.walletId)?.raisedToChain ?? wallet.raisedToChain,
    }));
  if (recovered.length > 0) {
    await store.writeTransaction(async (trx) => {
      for (const wallet of recovered) {
        await appendAudit(trx, {
          kind: 'enclave.recovered',
          actor: { role: 'system' },
          walletId: wallet.walletId,
          details: {
            restoredFrom: wallet.restoredFrom,
            checkpointSequence: wallet.checkpoint?.sequence ?? null,
            policyVersion: wallet.policyVersion,
            halted: wallet.halted,
            raisedToChain: wallet.raisedToChain,
            keysLoaded: wallet.keys.loaded.length,
            keysFailed: wallet.keys.failed.map((key) => `${key.publicKey} ${key.code}`),
            error: wallet.error?.code ?? null,
          },
        });
      }
    });
    deps.log?.(
      `enclave recovery: ${recovered.length} wallet(s) restored without the enclave's own state (${recovered.map((wallet) => `${wallet.walletId}: ${wallet.restoredFrom}`).join(', ')})`,
    );
  }
  return { wallets: first, recovered };
}
