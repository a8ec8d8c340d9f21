/**
 * The agent enclave's state machine, apart from any transport: agent keys, owner-signed policies,
 * the L2 check of every message it signs, its counters and attestation. The server (server.ts) feeds
 * it decoded requests; tests drive it directly, as a compromised daemon would.
 *
 * `sign` is synchronous from inspection to signature, so two requests can never both pass a check
 * that only one of them fits (no await between reading and bumping a counter).
 */
import { sign as ed25519Sign, hash } from 'node:crypto';
import { isAddress } from '../core/address.ts';
import { WaiaasError } from '../core/errors.ts';
import {
  DAILY_WINDOW_SECONDS,
  decideTransfer,
  type PolicyBundle,
  type Tier,
  verifyPolicyBundle,
  walletIdSchema,
} from '../core/policy.ts';
import {
  type AgentKey,
  type EnclaveVault,
  generateAgentKey,
  openAgentKey,
  resealAgentKey,
  type SealedAgentKey,
} from './agent-keys.ts';
import type { AttestationProvider } from './attestation/provider.ts';
import { attestationStatement, attestationUserData } from './attestation-statement.ts';
import {
  CHECKPOINT_CONTEXT,
  type ChainLimit,
  type CheckpointBody,
  chainSpent,
  checkpointBodySchema,
} from './checkpoint.ts';
import { type InspectedTransfer, inspectTransaction, type SquadsAction } from './inspect-transaction.ts';
import {
  type AwsCredentialsArgs,
  CHECKPOINT_BATCH,
  type RecoveredWallet,
  type RecoverWallet,
  type SealedCheckpoint,
} from './protocol.ts';
import { enclaveRefused } from './refusal.ts';
import { MemoryStateStore, type StateRecord, type StateStore } from './state-journal.ts';
import { floatWindowKey, MAX_DELAY_ENTRIES, type WalletBinding, WalletState } from './wallet-state.ts';

export type Isolation = 'process' | 'nitro';
export type SeedProtection = 'enclave-local-key' | 'kms-attested' | 'kms';

export interface EnclaveOptions {
  readonly vault: EnclaveVault;
  readonly store?: StateStore;
  readonly attestation?: AttestationProvider;
  /** What isolates this process and protects its seeds, as STATUS reports it. */
  readonly isolation?: Isolation;
  readonly seedProtection?: SeedProtection;
  /**
   * The vault the daemon used to hold (before the enclave kept its own key): only to re-seal what it
   * sealed, once (MIGRATE_LEGACY_VAULT).
   */
  readonly legacyVault?: EnclaveVault;
  /** Takes the AWS credentials the host hands over for the KMS vault; absent: refused. */
  readonly onAwsCredentials?: (credentials: AwsCredentialsArgs) => void;
  /** Milliseconds since the epoch; injected for tests. */
  readonly now?: () => number;
}

export interface SignContext {
  /** The daemon's id for the transfer; the delay tier counts from when the enclave first saw it. */
  readonly requestId: string;
}

export interface SignResult {
  readonly signature: Uint8Array;
  /** base58 of the agent key that signed. */
  readonly publicKey: string;
  readonly publicKeyBytes: Uint8Array;
  readonly actions: readonly SquadsAction[];
  /** The tier L2 put the transfer in, when the message moves funds. */
  readonly tier: Tier | undefined;
  readonly transfer: InspectedTransfer | undefined;
  /** True when these exact bytes were already signed (a retried call): nothing was counted again. */
  readonly repeated: boolean;
}

export interface LoadResult {
  readonly loaded: { walletId: string; publicKey: string }[];
  readonly failed: { walletId: string; publicKey: string; code: string }[];
}

const COMPACT_AFTER_RECORDS = 10_000;
/** Delay entries are kept past the longest possible delay (7 days) by one day, then forgotten. */
const DELAY_ENTRY_MAX_AGE_MS = 8 * 86_400_000;
const MAX_REQUEST_ID_LENGTH = 128;

const invalid = (field: string, message: string) =>
  new WaiaasError('VALIDATION_FAILED', { message, details: { field } });

export class AgentEnclave {
  readonly #vault: EnclaveVault;
  readonly #store: StateStore;
  readonly #attestation: AttestationProvider | undefined;
  readonly #isolation: Isolation;
  readonly #seedProtection: SeedProtection;
  #legacyVault: EnclaveVault | undefined;
  readonly #onAwsCredentials: EnclaveOptions['onAwsCredentials'];
  readonly #now: () => number;
  /** The last checkpoint sequence sealed or seen: checkpoints of this instance only grow. */
  #checkpointSequence = 0;
  readonly #wallets = new Map<string, WalletState>();
  /** Journal records of wallets whose keys were not loaded yet (replayed when they are). */
  readonly #pending = new Map<string, StateRecord[]>();

  private constructor(options: EnclaveOptions) {
    this.#vault = options.vault;
    this.#store = options.store ?? new MemoryStateStore();
    this.#attestation = options.attestation;
    this.#isolation = options.isolation ?? 'process';
    this.#seedProtection = options.seedProtection ?? 'enclave-local-key';
    this.#legacyVault = options.legacyVault;
    this.#onAwsCredentials = options.onAwsCredentials;
    this.#now = options.now ?? Date.now;
  }

  static create(options: EnclaveOptions): AgentEnclave {
    const enclave = new AgentEnclave(options);
    for (const record of enclave.#store.load()) {
      let list = enclave.#pending.get(record.w);
      if (list === undefined) {
        list = [];
        enclave.#pending.set(record.w, list);
      }
      list.push(record);
    }
    return enclave;
  }

  // keys

  async createAgentKey(walletId: string, ownerPublicKey: string, multisig: string): Promise<SealedAgentKey> {
    const binding = this.#checkBinding({ walletId, ownerPublicKey, multisig });
    const { key, sealed } = await generateAgentKey(binding, this.#vault);
    this.#bind(binding).addKey(key);
    return sealed;
  }

  async loadAgentKeys(records: readonly SealedAgentKey[]): Promise<LoadResult> {
    const result: LoadResult = { loaded: [], failed: [] };
    for (const record of records) {
      const label = { walletId: String(record?.walletId ?? ''), publicKey: String(record?.publicKey ?? '') };
      let key: AgentKey;
      let binding: WalletBinding;
      try {
        if (typeof record?.sealedSeed !== 'string' || !isAddress(String(record.publicKey))) {
          throw invalid('sealedSeed', 'A sealed agent key record needs publicKey and sealedSeed');
        }
        binding = this.#checkBinding(record);
        key = await openAgentKey(record, this.#vault);
      } catch (error) {
        result.failed.push({ ...label, code: error instanceof WaiaasError ? error.code : 'INTERNAL' });
        continue;
      }
      const wallet = this.#bind(binding);
      if (wallet.isRetired(key.publicKeyBase58)) {
        result.failed.push({ ...label, code: 'AGENT_KEY_RETIRED' });
        continue;
      }
      wallet.addKey(key);
      result.loaded.push(label);
    }
    return result;
  }

  /**
   * Takes an agent key out of service after the owner rotated it out on chain: it is dropped from
   * memory, no message is signed with it again, and the journal remembers it so a host that hands the
   * sealed key back later (after a restart) gets it refused. Only ever narrows what can be signed.
   */
  retireAgentKey(
    walletId: string,
    publicKey: string,
  ): { walletId: string; publicKey: string; unchanged: boolean } {
    if (!isAddress(String(publicKey))) throw invalid('publicKey', 'Invalid agent public key');
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined)
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
    if (wallet.isRetired(publicKey)) return { walletId, publicKey, unchanged: true };
    this.#store.append([{ t: 'retire', w: walletId, key: publicKey }]);
    wallet.retireKey(publicKey);
    wallet.dirty = true;
    this.#maybeCompact();
    return { walletId, publicKey, unchanged: false };
  }

  #checkBinding(input: WalletBinding): WalletBinding {
    if (!walletIdSchema.safeParse(input.walletId).success) throw invalid('walletId', 'Invalid wallet id');
    if (!isAddress(String(input.ownerPublicKey))) throw invalid('ownerPublicKey', 'Invalid owner public key');
    if (!isAddress(String(input.multisig))) throw invalid('multisig', 'Invalid multisig address');
    const binding = {
      walletId: input.walletId,
      ownerPublicKey: input.ownerPublicKey,
      multisig: input.multisig,
    };
    const existing = this.#wallets.get(binding.walletId)?.binding;
    if (
      existing &&
      (existing.ownerPublicKey !== binding.ownerPublicKey || existing.multisig !== binding.multisig)
    ) {
      throw enclaveRefused('WALLET_BINDING_MISMATCH', 'the wallet is bound to another owner or multisig', {
        walletId: binding.walletId,
      });
    }
    return binding;
  }

  #bind(binding: WalletBinding): WalletState {
    let wallet = this.#wallets.get(binding.walletId);
    if (wallet === undefined) {
      wallet = new WalletState(binding);
      this.#wallets.set(binding.walletId, wallet);
      const pending = this.#pending.get(binding.walletId);
      this.#pending.delete(binding.walletId);
      if (pending) {
        wallet.fromJournal = true;
        this.#replay(wallet, pending);
      }
    }
    return wallet;
  }

  // policy

  setPolicy(bundle: unknown): {
    walletId: string;
    version: number;
    hash: string;
    unchanged: boolean;
    resumed: boolean;
  } {
    const walletId = (bundle as Partial<PolicyBundle> | null)?.walletId;
    const wallet = typeof walletId === 'string' ? this.#wallets.get(walletId) : undefined;
    if (wallet === undefined || walletId === undefined) {
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId: String(walletId) });
    }
    const check = verifyPolicyBundle(bundle, walletId, wallet.binding.ownerPublicKey);
    if (!check.ok) {
      if (check.reason === 'MALFORMED') {
        throw new WaiaasError('VALIDATION_FAILED', {
          message: 'Invalid policy bundle',
          details: { issues: check.issues },
        });
      }
      throw new WaiaasError('POLICY_SIGNATURE_INVALID', {
        layer: 'enclave',
        details: { walletId, reason: check.reason },
      });
    }
    const current = wallet.active;
    if (current && check.policy.version === current.policy.version && check.hash === current.hash) {
      return { walletId, version: check.policy.version, hash: check.hash, unchanged: true, resumed: false };
    }
    if (current && check.policy.version <= current.policy.version) {
      throw new WaiaasError('POLICY_VERSION_NOT_NEWER', {
        layer: 'enclave',
        details: { walletId, version: check.policy.version, current: current.policy.version },
      });
    }
    this.#store.append([{ t: 'policy', w: walletId, bundle: check.bundle }]);
    const halted = wallet.halt !== undefined;
    wallet.setPolicy({ bundleJson: JSON.stringify(check.bundle), policy: check.policy, hash: check.hash });
    wallet.dirty = true;
    this.#maybeCompact();
    return {
      walletId,
      version: check.policy.version,
      hash: check.hash,
      unchanged: false,
      resumed: halted && wallet.halt === undefined,
    };
  }

  // halting: anyone's; resuming: the owner's (a newer signed policy)

  /**
   * Stops signing for one wallet, or every wallet this enclave knows, at once and across restarts.
   * Needs no owner signature: it only narrows. Only an owner-signed policy of a higher version than
   * the one in force now lifts it (setPolicy).
   */
  /**
   * An owner act carried the spending of the chain period that began at `sinceSeconds` into a new one
   * that begins now (src/squads/owner-acts/budget-carry.ts): those spends count from now on here too,
   * so this window holds them as long as the chain does. It only ever moves spends forward in time, so
   * anyone may ask it (like a halt): the worst it does is make the agent wait longer.
   */
  holdSpends(walletId: string, asset: string, sinceSeconds: number): { walletId: string; held: string } {
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined)
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
    const at = Math.floor(this.#now() / 1000);
    if (!(Number.isInteger(sinceSeconds) && sinceSeconds >= 0 && sinceSeconds < at)) {
      throw invalid('sinceSeconds', 'A start in the past, in whole unix seconds, is required');
    }
    this.#store.append([{ t: 'hold', w: walletId, asset, since: sinceSeconds, at }]);
    const held = wallet.holdSpends(asset, sinceSeconds, at);
    if (held > 0n) wallet.dirty = true;
    this.#maybeCompact();
    return { walletId, held: held.toString() };
  }

  halt(walletId?: string): { walletId: string; policyVersion: number | null; unchanged: boolean }[] {
    const wallets =
      walletId === undefined
        ? [...this.#wallets.values()]
        : [
            this.#wallets.get(walletId) ??
              (() => {
                throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
              })(),
          ];
    const atMs = this.#now();
    const records: StateRecord[] = [];
    const result: { walletId: string; policyVersion: number | null; unchanged: boolean }[] = [];
    for (const wallet of wallets) {
      const version = wallet.active?.policy.version ?? 0;
      const id = wallet.binding.walletId;
      if (wallet.halt !== undefined && wallet.halt.version >= version) {
        result.push({ walletId: id, policyVersion: wallet.halt.version, unchanged: true });
        continue;
      }
      records.push({ t: 'halt', w: id, v: version, at: atMs });
      result.push({ walletId: id, policyVersion: version, unchanged: false });
    }
    if (walletId === undefined) {
      // Wallets the journal knows but whose keys are not loaded yet stay halted once they are.
      for (const [id, pending] of this.#pending) {
        // Replay clamps it to the policy in force then (see #replay).
        const version = Number.MAX_SAFE_INTEGER;
        records.push({ t: 'halt', w: id, v: version, at: atMs });
        pending.push({ t: 'halt', w: id, v: version, at: atMs });
        result.push({ walletId: id, policyVersion: null, unchanged: false });
      }
    }
    // On disk before it counts, as every record: a halt the enclave forgot on restart would be no halt.
    this.#store.append(records);
    for (const record of records) {
      if (record.t !== 'halt') continue;
      const wallet = this.#wallets.get(record.w);
      if (wallet === undefined) continue;
      wallet.halt = { version: record.v, atMs: record.at };
      wallet.dirty = true;
    }
    this.#maybeCompact();
    return result;
  }

  // signing

  sign(walletId: string, message: Uint8Array, context: SignContext): SignResult {
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined)
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
    const active = wallet.active;
    if (active === undefined)
      throw enclaveRefused('NO_POLICY', 'no owner-signed policy for this wallet', { walletId });
    const requestId = context.requestId;
    if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > MAX_REQUEST_ID_LENGTH) {
      throw invalid('requestId', `A request id of 1 to ${MAX_REQUEST_ID_LENGTH} characters is required`);
    }
    const inspection = inspectTransaction(message, wallet);
    if (!inspection.ok) throw enclaveRefused(inspection.reason, inspection.detail, { walletId });
    // Halted: nothing is signed but the one act that moves nothing out of the wallet, returning the
    // agent float to the vault (the owner's sweep must work on a frozen wallet).
    if (wallet.halt !== undefined && inspection.transfer?.purpose !== 'float-sweep') {
      throw new WaiaasError('WALLET_FROZEN', {
        message: 'The enclave halted signing for this wallet',
        layer: 'enclave',
        details: {
          walletId,
          reason: 'HALTED',
          haltedAt: new Date(wallet.halt.atMs).toISOString(),
          resumeAbovePolicyVersion: wallet.halt.version,
        },
      });
    }

    const key = wallet.keys[inspection.signerIndex]!;
    const nowMs = this.#now();
    const messageHash = hash('sha256', message, 'binary');
    const signed = (tier: Tier | undefined, repeated: boolean): SignResult => ({
      signature: new Uint8Array(ed25519Sign(null, message, key.privateKey)),
      publicKey: key.publicKeyBase58,
      publicKeyBytes: key.publicKey,
      actions: inspection.actions,
      tier,
      transfer: inspection.transfer,
      repeated,
    });
    // The same bytes can land on-chain once at most: signing them again grants nothing new.
    if (wallet.wasSigned(messageHash, nowMs)) return signed(undefined, true);

    const transfer = inspection.transfer;
    const nowSeconds = Math.floor(nowMs / 1000);
    const purpose = transfer?.purpose ?? 'transfer';
    let tier: Tier | undefined;
    let dailyAmount = 0n;
    // Returning the float to the vault moves nothing out of the wallet: signed under any policy, frozen too.
    if (transfer !== undefined && purpose !== 'float-sweep') {
      const route = transfer.route === 'vault-transaction' ? 'owner-approval' : 'by-amount';
      const decision = decideTransfer(
        active.policy,
        { asset: transfer.asset, amount: transfer.amount, recipient: transfer.recipient, purpose },
        nowMs,
        {
          spentInWindow: wallet.spentInWindow(transfer.asset, nowSeconds),
          transfersInLastHour: wallet.transfersInRateWindow(nowSeconds),
          floatHeld: wallet.spentInWindow(floatWindowKey(transfer.asset), nowSeconds),
        },
        route,
      );
      if (!decision.ok) {
        throw new WaiaasError(decision.code, {
          layer: 'enclave',
          details: { walletId, ...decision.details },
        });
      }
      if (route === 'by-amount' && decision.tier === 'approval') {
        throw enclaveRefused('APPROVAL_REQUIRED', 'above delayMax a transfer needs the owner’s approval', {
          walletId,
          asset: transfer.asset,
          amount: transfer.amount.toString(),
        });
      }
      if (decision.tier === 'delay')
        this.#checkDelay(wallet, requestId, transfer, decision.delaySeconds, nowMs);
      tier = decision.tier;
      if (decision.consumesDaily) dailyAmount = transfer.amount;
    }
    // Accounted for before the signature exists, so a crash right after cannot forget it.
    const floatFill = purpose === 'float-fill' ? transfer!.amount : 0n;
    this.#store.append([
      dailyAmount > 0n
        ? { t: 'sign', w: walletId, at: nowSeconds, asset: transfer!.asset, amount: dailyAmount.toString() }
        : { t: 'sign', w: walletId, at: nowSeconds },
      ...(floatFill > 0n
        ? [
            {
              t: 'spend' as const,
              w: walletId,
              at: nowSeconds,
              asset: floatWindowKey(transfer!.asset),
              amount: floatFill.toString(),
            },
          ]
        : []),
    ]);
    wallet.recordSignature(nowSeconds, transfer?.asset, dailyAmount);
    if (floatFill > 0n) wallet.addSpend(nowSeconds, floatWindowKey(transfer!.asset), floatFill);
    wallet.rememberSigned(messageHash, nowMs);
    wallet.dirty = true;
    this.#maybeCompact();
    return signed(tier, false);
  }

  #checkDelay(
    wallet: WalletState,
    requestId: string,
    transfer: InspectedTransfer,
    delaySeconds: number,
    nowMs: number,
  ) {
    const destination = Buffer.from(transfer.destination).toString('hex');
    let entry = wallet.delays.get(requestId);
    if (entry === undefined) {
      wallet.pruneDelays(nowMs, DELAY_ENTRY_MAX_AGE_MS);
      if (wallet.delays.size >= MAX_DELAY_ENTRIES) {
        throw enclaveRefused('DELAY_TRACKING_FULL', 'too many delayed requests pending', {
          walletId: wallet.binding.walletId,
        });
      }
      entry = { firstSeenMs: nowMs, asset: transfer.asset, amount: transfer.amount, destination };
      this.#store.append([
        {
          t: 'delay',
          w: wallet.binding.walletId,
          id: requestId,
          firstSeenMs: nowMs,
          asset: transfer.asset,
          amount: transfer.amount.toString(),
          destination,
        },
      ]);
      wallet.addDelay(requestId, entry);
    } else if (
      entry.asset !== transfer.asset ||
      entry.amount !== transfer.amount ||
      entry.destination !== destination
    ) {
      throw enclaveRefused('REQUEST_ID_MISMATCH', 'this request id was first seen with another transfer', {
        requestId,
      });
    }
    const executeAfterMs = entry.firstSeenMs + delaySeconds * 1000;
    if (nowMs < executeAfterMs) {
      throw new WaiaasError('DELAY_NOT_ELAPSED', {
        layer: 'enclave',
        details: { requestId, executeAfter: new Date(executeAfterMs).toISOString() },
      });
    }
  }

  // state across restarts

  #replay(wallet: WalletState, records: readonly StateRecord[]): void {
    for (const record of records) {
      switch (record.t) {
        case 'policy': {
          const check = verifyPolicyBundle(
            record.bundle,
            wallet.binding.walletId,
            wallet.binding.ownerPublicKey,
          );
          if (check.ok && (!wallet.active || check.policy.version > wallet.active.policy.version)) {
            wallet.setPolicy({
              bundleJson: JSON.stringify(check.bundle),
              policy: check.policy,
              hash: check.hash,
            });
          }
          break;
        }
        case 'sign':
          wallet.recordSignature(
            record.at,
            record.asset,
            record.amount === undefined ? 0n : BigInt(record.amount),
          );
          break;
        case 'spend':
          wallet.addSpend(record.at, record.asset, BigInt(record.amount));
          break;
        case 'rate':
          wallet.addTransfers(record.at, BigInt(record.n));
          break;
        case 'hold':
          wallet.holdSpends(record.asset, record.since, record.at);
          break;
        case 'retire':
          wallet.retireKey(record.key);
          break;
        case 'halt': {
          // A halt above the policy in force could never be lifted by the owner's next version:
          // a forged record may stop signing, never do more.
          const version = Math.min(record.v, wallet.active?.policy.version ?? 0);
          if (wallet.halt === undefined || wallet.halt.version < version)
            wallet.halt = { version, atMs: record.at };
          break;
        }
        case 'delay':
          if (!wallet.delays.has(record.id)) {
            wallet.addDelay(record.id, {
              firstSeenMs: record.firstSeenMs,
              asset: record.asset,
              amount: BigInt(record.amount),
              destination: record.destination,
            });
          }
          break;
      }
    }
  }

  #snapshot(wallet: WalletState, nowSeconds: number): StateRecord[] {
    const w = wallet.binding.walletId;
    const records: StateRecord[] = [];
    if (wallet.active)
      records.push({ t: 'policy', w, bundle: JSON.parse(wallet.active.bundleJson) as PolicyBundle });
    for (const key of wallet.retiredKeys()) records.push({ t: 'retire', w, key });
    if (wallet.halt) records.push({ t: 'halt', w, v: wallet.halt.version, at: wallet.halt.atMs });
    for (const { asset, buckets } of wallet.spendBuckets(nowSeconds)) {
      for (const [at, amount] of buckets)
        records.push({ t: 'spend', w, asset, at, amount: amount.toString() });
    }
    for (const [at, n] of wallet.rateBuckets(nowSeconds)) records.push({ t: 'rate', w, at, n: n.toString() });
    for (const [id, entry] of wallet.delays) {
      records.push({
        t: 'delay',
        w,
        id,
        firstSeenMs: entry.firstSeenMs,
        asset: entry.asset,
        amount: entry.amount.toString(),
        destination: entry.destination,
      });
    }
    return records;
  }

  #maybeCompact(): void {
    if (this.#store.recordsSinceRewrite >= COMPACT_AFTER_RECORDS) this.compact();
  }

  /** Rewrites the journal as one snapshot of the current state. */
  compact(): void {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const records: StateRecord[] = [];
    for (const wallet of this.#wallets.values()) records.push(...this.#snapshot(wallet, nowSeconds));
    for (const pending of this.#pending.values()) records.push(...pending);
    this.#store.rewrite(records);
  }

  // checkpoints and recovery

  /**
   * Seals the state of the named wallets, or of up to `limit` wallets whose state changed since their
   * last checkpoint, for the daemon to keep in its database (see checkpoint.ts).
   */
  async checkpoint(walletIds?: readonly string[], limit = CHECKPOINT_BATCH): Promise<SealedCheckpoint[]> {
    const wallets: WalletState[] = [];
    if (walletIds === undefined) {
      for (const wallet of this.#wallets.values()) {
        if (wallets.length >= limit) break;
        if (wallet.dirty) wallets.push(wallet);
      }
    } else {
      for (const walletId of walletIds) wallets.push(this.#walletOrRefuse(walletId));
    }
    const sealed: SealedCheckpoint[] = [];
    for (const wallet of wallets) sealed.push(await this.#sealCheckpoint(wallet));
    return sealed;
  }

  async #sealCheckpoint(wallet: WalletState): Promise<SealedCheckpoint> {
    // Cleared before the await: a change made while sealing marks the wallet again.
    wallet.dirty = false;
    const nowMs = this.#now();
    const nowSeconds = Math.floor(nowMs / 1000);
    const sequence = Math.max(this.#checkpointSequence + 1, nowMs);
    this.#checkpointSequence = sequence;
    const { walletId, ownerPublicKey, multisig } = wallet.binding;
    const body: CheckpointBody = {
      format: 1,
      walletId,
      ownerPublicKey,
      multisig,
      sequence,
      at: nowMs,
      policy: wallet.active ? (JSON.parse(wallet.active.bundleJson) as unknown) : null,
      halt: wallet.halt ? { version: wallet.halt.version, atMs: wallet.halt.atMs } : null,
      retired: [...wallet.retiredKeys()],
      spend: Object.fromEntries(
        wallet
          .spendBuckets(nowSeconds)
          .map(({ asset, buckets }) => [asset, buckets.map(([at, amount]) => [at, amount.toString()])]),
      ),
      rate: wallet.rateBuckets(nowSeconds).map(([at, n]) => [at, n.toString()]),
    };
    try {
      const blob = await this.#vault.seal(
        new TextEncoder().encode(JSON.stringify(body)),
        CHECKPOINT_CONTEXT(walletId),
      );
      return {
        walletId,
        sequence,
        policyVersion: wallet.active?.policy.version ?? null,
        sealed: Buffer.from(blob).toString('base64'),
      };
    } catch (error) {
      wallet.dirty = true;
      throw error;
    }
  }

  async #openCheckpoint(walletId: string, sealed: string): Promise<CheckpointBody> {
    const plaintext = await this.#vault.unseal(Buffer.from(sealed, 'base64'), CHECKPOINT_CONTEXT(walletId));
    let parsed: ReturnType<typeof checkpointBodySchema.safeParse>;
    try {
      parsed = checkpointBodySchema.safeParse(JSON.parse(new TextDecoder().decode(plaintext)));
    } catch {
      throw new WaiaasError('VAULT_CORRUPT', { details: { reason: 'checkpoint is not JSON' } });
    } finally {
      plaintext.fill(0);
    }
    if (!parsed.success || parsed.data.walletId !== walletId)
      throw new WaiaasError('VAULT_CORRUPT', { details: { reason: 'checkpoint is malformed' } });
    return parsed.data;
  }

  /** Merges a checkpoint into the live state; every part only raises what is there (or narrows). */
  #applyCheckpoint(wallet: WalletState, body: CheckpointBody): void {
    const { walletId, ownerPublicKey, multisig } = wallet.binding;
    if (body.ownerPublicKey !== ownerPublicKey || body.multisig !== multisig) {
      throw enclaveRefused('WALLET_BINDING_MISMATCH', 'the checkpoint is of another owner or multisig', {
        walletId,
      });
    }
    if (body.policy !== null) {
      const check = verifyPolicyBundle(body.policy, walletId, ownerPublicKey);
      if (check.ok && (!wallet.active || check.policy.version > wallet.active.policy.version)) {
        wallet.setPolicy({
          bundleJson: JSON.stringify(check.bundle),
          policy: check.policy,
          hash: check.hash,
        });
      }
    }
    for (const key of body.retired) wallet.retireKey(key);
    if (body.halt !== null) {
      const version = Math.min(body.halt.version, wallet.active?.policy.version ?? 0);
      if (wallet.halt === undefined || wallet.halt.version < version)
        wallet.halt = { version, atMs: body.halt.atMs };
    }
    for (const [asset, buckets] of Object.entries(body.spend))
      wallet.mergeSpendBuckets(
        asset,
        buckets.map(([at, amount]) => [at, BigInt(amount)] as const),
      );
    wallet.mergeRateBuckets(body.rate.map(([at, n]) => [at, BigInt(n)] as const));
    this.#checkpointSequence = Math.max(this.#checkpointSequence, body.sequence);
  }

  /** Counts at least what the chain shows spent in each limit's current period. */
  #raiseToChain(wallet: WalletState, chain: Readonly<Record<string, ChainLimit>>): Record<string, string> {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const raised: Record<string, string> = {};
    const records: StateRecord[] = [];
    for (const [asset, limit] of Object.entries(chain)) {
      const { spent, since } = chainSpent(limit, nowSeconds);
      const counted = wallet.spentInWindow(asset, nowSeconds);
      if (spent <= counted) continue;
      // Counted from the start of the chain's period: it stays in the window until that period ends.
      const at = Math.max(since, nowSeconds - DAILY_WINDOW_SECONDS + 1);
      wallet.addSpend(at, asset, spent - counted);
      records.push({
        t: 'spend',
        w: wallet.binding.walletId,
        asset,
        at,
        amount: (spent - counted).toString(),
      });
      raised[asset] = (spent - counted).toString();
    }
    this.#store.append(records);
    return raised;
  }

  /**
   * Takes wallets over from what the daemon stores: their sealed agent keys, their newest sealed
   * checkpoint and what the chain shows spent. For each wallet, the counters become the largest of
   * the enclave's own state, the checkpoint and the chain; the policy the highest owner-signed
   * version among its own and the checkpoint's; halts and retired keys are kept. One wallet's bad
   * checkpoint is reported in its entry and does not stop the others.
   */
  async recover(entries: readonly RecoverWallet[]): Promise<RecoveredWallet[]> {
    const results: RecoveredWallet[] = [];
    for (const entry of entries) results.push(await this.#recoverOne(entry));
    // What recovery restored goes to the journal in one rewrite.
    this.compact();
    return results;
  }

  async #recoverOne(entry: RecoverWallet): Promise<RecoveredWallet> {
    const { walletId } = entry;
    const knownBefore = this.#wallets.has(walletId);
    const keys = await this.loadAgentKeys(entry.keys.filter((key) => key.walletId === walletId));
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined) {
      return {
        walletId,
        keys,
        restoredFrom: 'none',
        checkpoint: null,
        policyVersion: null,
        halted: false,
        raisedToChain: {},
        error: { code: keys.failed[0]?.code ?? 'UNKNOWN_WALLET' },
      };
    }
    let checkpoint: RecoveredWallet['checkpoint'] = null;
    let error: RecoveredWallet['error'];
    if (entry.checkpoint !== undefined) {
      try {
        const body = await this.#openCheckpoint(walletId, entry.checkpoint);
        this.#applyCheckpoint(wallet, body);
        checkpoint = { sequence: body.sequence, at: body.at };
      } catch (caught) {
        error = { code: caught instanceof WaiaasError ? caught.code : 'INTERNAL' };
      }
    }
    const raisedToChain = this.#raiseToChain(wallet, entry.chain ?? {});
    wallet.dirty = true;
    return {
      walletId,
      keys,
      restoredFrom: knownBefore || wallet.fromJournal ? 'own-state' : checkpoint ? 'checkpoint' : 'none',
      checkpoint,
      policyVersion: wallet.active?.policy.version ?? null,
      halted: wallet.halt !== undefined,
      raisedToChain,
      ...(error ? { error } : {}),
    };
  }

  /**
   * Re-seals agent keys sealed by the vault the daemon used to hold (before the enclave kept its own
   * key) under this enclave's vault. The daemon stores the results in place of the old records.
   */
  async migrateLegacyVault(records: readonly SealedAgentKey[]): Promise<{
    resealed: SealedAgentKey[];
    failed: { walletId: string; publicKey: string; code: string }[];
  }> {
    const legacy = this.#legacyVault;
    if (legacy === undefined) {
      throw new WaiaasError('CONFLICT', {
        message: 'This enclave was started without a legacy vault to migrate from',
      });
    }
    const resealed: SealedAgentKey[] = [];
    const failed: { walletId: string; publicKey: string; code: string }[] = [];
    for (const record of records) {
      try {
        resealed.push(await resealAgentKey(record, legacy, this.#vault));
      } catch (error) {
        failed.push({
          walletId: String(record.walletId),
          publicKey: String(record.publicKey),
          code: error instanceof WaiaasError ? error.code : 'INTERNAL',
        });
      }
    }
    return { resealed, failed };
  }

  /**
   * Credentials for the KMS vault's calls. They are the parent's own (its role), so they prove
   * nothing and open nothing by themselves: KMS answers unseal requests only with this image's
   * attestation, and re-encrypts the answer to the key that never leaves the enclave.
   */
  setAwsCredentials(credentials: AwsCredentialsArgs): { accepted: boolean } {
    if (this.#onAwsCredentials === undefined) return { accepted: false };
    this.#onAwsCredentials(credentials);
    return { accepted: true };
  }

  #walletOrRefuse(walletId: string): WalletState {
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined)
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
    return wallet;
  }

  // attestation and status

  statement(walletIds?: readonly string[]): string {
    const wallets = [...this.#wallets.values()].filter(
      (wallet) => walletIds === undefined || walletIds.includes(wallet.binding.walletId),
    );
    return attestationStatement(
      wallets.map((wallet) => ({
        walletId: wallet.binding.walletId,
        agentKeys: wallet.keys.map((key) => key.publicKeyBase58),
        policyVersion: wallet.active?.policy.version ?? null,
        policyHash: wallet.active?.hash ?? null,
      })),
    );
  }

  async attest(
    nonce: Uint8Array | undefined,
    walletIds?: readonly string[],
  ): Promise<{ document: Uint8Array; statement: string }> {
    if (this.#attestation === undefined) {
      throw new WaiaasError('ENCLAVE_UNAVAILABLE', {
        message: 'This enclave runs without an attestation provider',
      });
    }
    const statement = this.statement(walletIds);
    const document = await this.#attestation.attest({
      ...(nonce === undefined ? {} : { nonce }),
      userData: attestationUserData(statement),
    });
    return { document, statement };
  }

  /** What this enclave is and holds: every wallet, or only the named ones. */
  status(walletIds?: readonly string[]): {
    isolation: Isolation;
    seedProtection: SeedProtection;
    attestation: 'dev' | 'nitro' | 'none';
    wallets: { walletId: string; agentKeys: string[]; policyVersion: number | null; halted: boolean }[];
  } {
    const wallets =
      walletIds === undefined
        ? [...this.#wallets.values()]
        : walletIds.flatMap((walletId) => this.#wallets.get(walletId) ?? []);
    return {
      isolation: this.#isolation,
      seedProtection: this.#seedProtection,
      attestation: this.#attestation?.kind ?? 'none',
      wallets: wallets.map((wallet) => ({
        walletId: wallet.binding.walletId,
        agentKeys: wallet.keys.map((key) => key.publicKeyBase58),
        policyVersion: wallet.active?.policy.version ?? null,
        halted: wallet.halt !== undefined,
      })),
    };
  }

  /** Spent in the daily window and transfers in the rate window, as the enclave counts them. */
  usage(walletId: string): { spent: Record<string, string>; transfersInLastHour: number } {
    const wallet = this.#wallets.get(walletId);
    if (wallet === undefined)
      throw enclaveRefused('UNKNOWN_WALLET', 'no agent key for this wallet', { walletId });
    const nowSeconds = Math.floor(this.#now() / 1000);
    const spent: Record<string, string> = {};
    for (const asset of wallet.active?.policy.assets.keys() ?? []) {
      spent[asset] = wallet.spentInWindow(asset, nowSeconds).toString();
    }
    return { spent, transfersInLastHour: wallet.transfersInRateWindow(nowSeconds) };
  }

  /**
   * Group commit for the server: journal records of the signatures made until `releaseJournal()` go
   * out in one write then, and the server sends none of those signatures before it returns.
   */
  holdJournal(): void {
    this.#store.hold();
  }

  /** Writes what `holdJournal()` queued; throws when the write fails (then no held signature may leave). */
  releaseJournal(): void {
    this.#store.release();
  }

  close(): void {
    this.#store.close();
  }
}
