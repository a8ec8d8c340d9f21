/**
 * One chain (LiteSVM + real Squads) and one enclave, with helpers that create WAIaaS wallets the way
 * the daemon will: multisig address first, agent key bound to it, multisig and spending limits on
 * chain, owner-signed policy into the enclave. `api` is what the tests call: the enclave in-process or
 * a client over its socket, both reached directly, as a compromised daemon would.
 */
import { getAssociatedTokenAddressSync } from '@solana/spl-token';
import {
  type Keypair,
  PublicKey,
  SystemProgram,
  type TransactionInstruction,
  TransactionMessage,
  type VersionedTransaction,
} from '@solana/web3.js';
import * as multisig from '@sqds/multisig';
import type { PolicyBundle, PolicyDocument } from '../../../src/core/policy.ts';
import type { SealedAgentKey } from '../../../src/enclave/agent-keys.ts';
import { createOwner, type TestOwner } from './fixtures.ts';
import { type ChainWallet, SquadsChain } from './squads-chain.ts';

export interface SignedSummary {
  readonly signature: Uint8Array;
  readonly publicKey: string;
  readonly tier: string | undefined;
  readonly transfer: { asset: string; amount: bigint; route: string } | undefined;
}

/** The calls the tests make, satisfied by AgentEnclave (wrapped) and by EnclaveClient. */
export interface EnclaveApi {
  createAgentKey(walletId: string, ownerPublicKey: string, multisig: string): Promise<SealedAgentKey>;
  setPolicy(bundle: PolicyBundle): Promise<unknown>;
  sign(walletId: string, message: Uint8Array, context: { requestId: string }): Promise<SignedSummary>;
  usage(walletId: string): Promise<{ spent: Record<string, string>; transfersInLastHour: number }>;
}

export interface HarnessWallet {
  readonly walletId: string;
  readonly agent: PublicKey;
  readonly chain: ChainWallet;
  readonly policy: PolicyDocument;
  readonly sealed: SealedAgentKey;
}

let walletCounter = 0;

export class L2Harness {
  readonly chain: SquadsChain;
  readonly owner: TestOwner;
  readonly api: EnclaveApi;

  constructor(squadsSo: string, api: EnclaveApi) {
    this.chain = new SquadsChain(squadsSo);
    this.owner = createOwner(this.chain.owner.secretKey.subarray(0, 32));
    this.api = api;
  }

  async wallet(
    policy: PolicyDocument,
    options: { mints?: PublicKey[]; limitAssets?: string[] } = {},
  ): Promise<HarnessWallet> {
    const walletId = `wallet-${++walletCounter}-${Date.now().toString(36)}`;
    const { createKey, multisig: address } = SquadsChain.newMultisigAddress();
    const sealed = await this.api.createAgentKey(walletId, this.owner.publicKey, address.toBase58());
    const agent = new PublicKey(sealed.publicKey);
    const destinations =
      policy.recipients.mode === 'allowlist'
        ? policy.recipients.addresses.map((item) => new PublicKey(item))
        : [];
    const chainWallet = this.chain.createWallet({
      createKey,
      agent,
      limits: (options.limitAssets ?? Object.keys(policy.assets)).map((asset) => ({
        asset,
        amount: BigInt(policy.assets[asset]!.daily),
        destinations,
      })),
    });
    await this.api.setPolicy(await this.owner.signPolicy(walletId, policy));
    return { walletId, agent, chain: chainWallet, policy, sealed };
  }

  spendingLimitUse(
    wallet: HarnessWallet,
    amount: bigint,
    destination: PublicKey,
    asset = 'SOL',
    decimals = 9,
  ) {
    return multisig.instructions.spendingLimitUse({
      multisigPda: wallet.chain.multisig,
      member: wallet.agent,
      spendingLimit: wallet.chain.spendingLimits.get(asset)!,
      mint: asset === 'SOL' ? undefined : new PublicKey(asset),
      vaultIndex: 0,
      amount: Number(amount),
      decimals,
      destination,
    });
  }

  /** vaultTransactionCreate + proposalCreate + proposalApprove by the agent for `inner` from the vault. */
  proposal(
    wallet: HarnessWallet,
    index: bigint,
    inner: TransactionInstruction[],
    rentPayer = this.chain.feePayer.publicKey,
  ) {
    return [
      multisig.instructions.vaultTransactionCreate({
        multisigPda: wallet.chain.multisig,
        transactionIndex: index,
        creator: wallet.agent,
        rentPayer,
        vaultIndex: 0,
        ephemeralSigners: 0,
        transactionMessage: new TransactionMessage({
          payerKey: wallet.chain.vault,
          recentBlockhash: this.chain.svm.latestBlockhash(),
          instructions: inner,
        }),
      }),
      multisig.instructions.proposalCreate({
        multisigPda: wallet.chain.multisig,
        transactionIndex: index,
        creator: wallet.agent,
        rentPayer,
      }),
      multisig.instructions.proposalApprove({
        multisigPda: wallet.chain.multisig,
        transactionIndex: index,
        member: wallet.agent,
      }),
    ];
  }

  vaultTransfer(wallet: HarnessWallet, to: PublicKey, lamports: bigint, from = wallet.chain.vault) {
    return SystemProgram.transfer({ fromPubkey: from, toPubkey: to, lamports });
  }

  ata(mint: PublicKey, owner: PublicKey) {
    return getAssociatedTokenAddressSync(mint, owner, true);
  }

  /** Asks the enclave to sign `transaction`'s message, then sends it with the fee payer's signature. */
  async signAndSend(
    wallet: HarnessWallet,
    transaction: VersionedTransaction,
    requestId: string,
    extraSigners: Keypair[] = [],
  ) {
    const signed = await this.api.sign(wallet.walletId, transaction.message.serialize(), { requestId });
    const sent = this.chain.send(
      transaction,
      [this.chain.feePayer, ...extraSigners],
      [{ publicKey: wallet.agent, signature: signed.signature }],
    );
    return { signed, sent };
  }
}
