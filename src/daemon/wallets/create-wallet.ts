import { randomBytes } from 'node:crypto';
import { Keypair, PublicKey } from '@solana/web3.js';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyDocument, parsePolicy, policyHashHex, signPolicyBundle } from '../../core/policy.ts';
import {
  buildCreateWallet,
  multisigAddress,
  readProgramConfig,
  spendingLimitSpecsFromPolicy,
} from '../../squads/index.ts';
import { insertWallet, type Owner, setWalletStatus, type Wallet } from '../../store/index.ts';
import { appendAudit } from '../audit/index.ts';
import type { Runtime } from '../runtime/runtime.ts';
import { signSendConfirm } from './send-signed.ts';

export interface CreateWalletParams {
  readonly owner: Owner;
  readonly name: string;
  readonly policy: unknown;
  /** The owner's second factor (X-Owner-Unlock). */
  readonly unlock: string | undefined;
}

export interface CreatedWallet extends Wallet {
  readonly agentPublicKey: string;
  readonly ownerPublicKey: string;
  readonly policy: PolicyDocument;
}

/** Counters and reservations are int8 in both databases: a policy amount must fit there. */
const INT8_MAX = 2n ** 63n - 1n;

export function validatePolicyInput(input: unknown): PolicyDocument {
  const parsed = parsePolicy(input);
  if (!parsed.ok) {
    throw new WaiaasError('VALIDATION_FAILED', {
      message: 'The policy is not valid.',
      details: { issues: parsed.issues },
    });
  }
  for (const [asset, limits] of parsed.policy.assets) {
    if (limits.perTransaction > INT8_MAX || limits.daily > INT8_MAX) {
      throw new WaiaasError('VALIDATION_FAILED', {
        message: `Limits for ${asset} above 2^63-1 base units are not supported.`,
        details: { asset },
      });
    }
  }
  return parsed.document;
}

/**
 * validate → agent key in the enclave → owner signs the policy bundle and the creation
 * transactions (one second-factor check) → policy to the enclave → wallet stored → chain.
 * The sealed agent key is stored before anything is sent, so it is never lost.
 */
export async function createWallet(runtime: Runtime, params: CreateWalletParams): Promise<CreatedWallet> {
  const name = params.name.trim();
  const policy = validatePolicyInput(params.policy);
  const parsed = parsePolicy(policy);
  if (!parsed.ok) throw new WaiaasError('INTERNAL');

  const walletId = `wal_${randomBytes(12).toString('base64url')}`;
  const createKey = Keypair.generate();
  const multisig = multisigAddress(createKey.publicKey);
  const owner = new PublicKey(params.owner.publicKey);
  const ownerKey = runtime.ownerKeys.of(params.owner);

  return ownerKey.withUnlock(params.unlock, async (ownerSigner) => {
    const bundle = await signPolicyBundle(walletId, policy, ownerSigner);
    const agentKey = await runtime.signers.useFor(walletId, (client) =>
      client.createAgentKey(walletId, params.owner.publicKey, multisig.toBase58()),
    );
    await runtime.signers.useFor(walletId, (client) => client.setPolicy(bundle));

    const { treasury } = await readProgramConfig(runtime.chain.connection);
    const { blockhash, lastValidBlockHeight } = await runtime.chain.recentBlockhash();
    const creation = buildCreateWallet({
      createKey: createKey.publicKey,
      owner,
      agent: new PublicKey(agentKey.publicKey),
      treasury,
      limits: spendingLimitSpecsFromPolicy(parsed.policy),
      feePayer: runtime.feePayer.publicKey,
      recentBlockhash: blockhash,
    });

    const wallet = await insertWallet(runtime.store.db, {
      id: walletId,
      ownerId: params.owner.id,
      name,
      status: 'creating',
      multisig: creation.multisig.toBase58(),
      vault: creation.vault.toBase58(),
      policyBundle: JSON.stringify(bundle),
      policyVersion: policy.version,
      agentKey: { publicKey: agentKey.publicKey, sealed: JSON.stringify(agentKey) },
    });
    try {
      for (const [index, transaction] of creation.transactions.entries()) {
        const keys = index === 0 ? [runtime.feePayer, createKey] : [runtime.feePayer];
        await signSendConfirm(runtime.chain, transaction, lastValidBlockHeight, keys, ownerSigner);
      }
    } catch (error) {
      await setWalletStatus(runtime.store.db, walletId, 'failed', 'creating');
      throw error;
    }
    await runtime.store.writeTransaction(async (trx) => {
      await setWalletStatus(trx, walletId, 'active', 'creating');
      await appendAudit(trx, {
        kind: 'wallet.created',
        actor: { role: 'owner', id: params.owner.id },
        walletId,
        subject: walletId,
        details: {
          multisig: wallet.multisig,
          vault: wallet.vault,
          agentPublicKey: agentKey.publicKey,
          policyVersion: policy.version,
          policyHash: policyHashHex(policy),
        },
      });
    });
    return {
      ...wallet,
      status: 'active',
      agentPublicKey: agentKey.publicKey,
      ownerPublicKey: params.owner.publicKey,
      policy,
    };
  });
}
