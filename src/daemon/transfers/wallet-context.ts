/**
 * What the pipeline needs to know about a wallet, kept in memory: its addresses as PublicKeys, its
 * parsed policy, its agent key. Every reservation re-reads the wallet row (status, policy version,
 * updated_at) inside its own transaction and reloads the entry when any of them moved, so a freeze
 * or a policy change is never missed however long an entry lives.
 */
import { PublicKey } from '@solana/web3.js';
import type { Kysely } from 'kysely';
import { WaiaasError } from '../../core/errors.ts';
import { type Policy, parsePolicy, policyBundleSchema } from '../../core/policy.ts';
import type { Database, WalletStatus } from '../../store/schema.ts';
import type { WalletGate } from '../../store/transfers.ts';
import { activeAgentKeys, findWallet } from '../../store/wallets.ts';

export interface WalletContext {
  readonly id: string;
  readonly ownerId: string;
  /** As last read; the reservation checks the live value. */
  readonly status: WalletStatus;
  readonly policyVersion: bigint;
  readonly updatedAt: bigint;
  readonly multisig: PublicKey;
  readonly vault: PublicKey;
  readonly vaultAddress: string;
  readonly policy: Policy;
  /** The newest active agent key; undefined while none is (e.g. frozen and rotated out). */
  readonly agent: PublicKey | undefined;
  /** base58 of `agent`. */
  readonly agentAddress: string | undefined;
}

const MAX_ENTRIES = 10_000;

async function loadWalletContext(db: Kysely<Database>, walletId: string): Promise<WalletContext | undefined> {
  const wallet = await findWallet(db, walletId);
  if (wallet === undefined) return undefined;
  const keys = await activeAgentKeys(db, walletId);
  const bundle = policyBundleSchema.parse(JSON.parse(wallet.policyBundle));
  const parsed = parsePolicy(bundle.policy);
  if (!parsed.ok) {
    throw new WaiaasError('INTERNAL', { message: 'The stored policy of the wallet does not parse' });
  }
  const agent = keys.at(-1);
  const multisig = new PublicKey(wallet.multisig);
  return {
    id: wallet.id,
    ownerId: wallet.ownerId,
    status: wallet.status,
    policyVersion: BigInt(wallet.policyVersion),
    updatedAt: wallet.updatedAt,
    multisig,
    vault: new PublicKey(wallet.vault),
    vaultAddress: wallet.vault,
    policy: parsed.policy,
    agent: agent ? new PublicKey(agent.publicKey) : undefined,
    agentAddress: agent?.publicKey,
  };
}

export class WalletContexts {
  readonly #entries = new Map<string, WalletContext>();
  readonly #loading = new Map<string, Promise<WalletContext | undefined>>();

  /** The cached entry, or a fresh one from `db`; undefined when no such wallet exists. */
  async get(db: Kysely<Database>, walletId: string): Promise<WalletContext | undefined> {
    const cached = this.#entries.get(walletId);
    if (cached) return cached;
    let loading = this.#loading.get(walletId);
    if (!loading) {
      loading = loadWalletContext(db, walletId)
        .then((context) => {
          if (context) this.#remember(context);
          return context;
        })
        .finally(() => this.#loading.delete(walletId));
      this.#loading.set(walletId, loading);
    }
    return loading;
  }

  /**
   * The entry matching the row just read under lock, reloading through `trx` when the row moved.
   * Runs inside the reservation's transaction: it must not share a load started outside it.
   */
  async matching(trx: Kysely<Database>, walletId: string, gate: WalletGate): Promise<WalletContext> {
    const cached = this.#entries.get(walletId);
    if (cached && cached.policyVersion === gate.policyVersion && cached.updatedAt === gate.updatedAt) {
      return cached.status === gate.status ? cached : { ...cached, status: gate.status };
    }
    const context = await loadWalletContext(trx, walletId);
    if (context === undefined) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${walletId}.` });
    this.#remember(context);
    return context;
  }

  invalidate(walletId: string): void {
    this.#entries.delete(walletId);
  }

  #remember(context: WalletContext): void {
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.clear();
    this.#entries.set(context.id, context);
  }
}
