/**
 * The owner's policy (DESIGN.md §4): parsing, its canonical bytes and hash, and the owner-signed bundle
 * that carries it to the enclave. The decision itself is in policy-decision.ts, the windows it counts
 * in are in policy-window.ts; both are re-exported here.
 *
 * Bundle signature: the owner signs, with Ed25519, the UTF-8 bytes of
 *   "waiaas:policy:v1\n" + walletId + "\n" + hex(sha256(canonical policy JSON))
 * The prefix keeps a policy signature from ever being valid as a Solana transaction or any other
 * statement; the wallet id binds it to one wallet; signing the hash rather than the document keeps the
 * message under the 4096-byte limit of KMS RAW signing however long the allowlist is.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import bs58 from 'bs58';
import { z } from 'zod';
import { isAddress } from './address.ts';
import { canonicalJsonBytes } from './canonical-json.ts';
import { type PolicyDocument, policyDocumentSchema } from './policy-schema.ts';
import {
  type AssetLimits,
  DEFAULT_FEE_DAILY_LAMPORTS,
  DEFAULT_MAX_OPEN_APPROVALS,
  type Policy,
} from './policy-types.ts';

export * from './policy-decision.ts';
export * from './policy-schema.ts';
export * from './policy-types.ts';
export * from './policy-window.ts';

export const POLICY_SIGNATURE_DOMAIN = 'waiaas:policy:v1';

/** Wallet ids are opaque to the policy, but never contain a newline (the signed message is line-based). */
export const walletIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'a wallet id');

export const policyBundleSchema = z.strictObject({
  walletId: walletIdSchema,
  policy: policyDocumentSchema,
  /** base58 Ed25519 public key of the owner who signed. */
  ownerPublicKey: z.string().refine((text): boolean => isAddress(text), 'a base58 Ed25519 public key'),
  /** base64 of the 64-byte Ed25519 signature. */
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'base64 of a 64-byte signature'),
});

export type PolicyBundle = z.infer<typeof policyBundleSchema>;

export const toPolicy = (document: PolicyDocument): Policy => {
  const assets = new Map<string, AssetLimits>();
  for (const [asset, limits] of Object.entries(document.assets)) {
    assets.set(asset, {
      perTransaction: BigInt(limits.perTransaction),
      daily: BigInt(limits.daily),
      tiers: {
        instantMax: BigInt(limits.tiers.instantMax),
        notifyMax: BigInt(limits.tiers.notifyMax),
        delayMax: BigInt(limits.tiers.delayMax),
        delaySeconds: limits.tiers.delaySeconds,
      },
      ...(limits.x402 && {
        x402: {
          perPayment: BigInt(limits.x402.perPayment),
          payees: limits.x402.payees ? new Set(limits.x402.payees) : undefined,
        },
      }),
      ...(limits.float && { float: { max: BigInt(limits.float.max) } }),
    });
  }
  return {
    version: document.version,
    assets,
    recipients:
      document.recipients.mode === 'any'
        ? { mode: 'any' }
        : { mode: 'allowlist', addresses: new Set(document.recipients.addresses) },
    hours: { utc: [document.hours.utc[0], document.hours.utc[1]], days: [...document.hours.days] },
    rate: { maxPerHour: document.rate.maxPerHour },
    approvalTimeoutSeconds: document.approvalTimeoutSeconds,
    ...(document.fees && {
      fees: {
        dailyLamports:
          document.fees.dailyLamports === undefined
            ? DEFAULT_FEE_DAILY_LAMPORTS
            : BigInt(document.fees.dailyLamports),
        maxOpenApprovals: document.fees.maxOpenApprovals ?? DEFAULT_MAX_OPEN_APPROVALS,
      },
    }),
  };
};

export type PolicyParseResult =
  | { readonly ok: true; readonly document: PolicyDocument; readonly policy: Policy }
  | { readonly ok: false; readonly issues: { path: string; message: string }[] };

export const parsePolicy = (input: unknown): PolicyParseResult => {
  const result = policyDocumentSchema.safeParse(input);
  if (!result.success) {
    return {
      ok: false,
      issues: result.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    };
  }
  return { ok: true, document: result.data, policy: toPolicy(result.data) };
};

/** Sorted-key JSON of a validated document; equal documents give equal bytes. */
export const canonicalPolicyBytes = (document: PolicyDocument): Uint8Array => canonicalJsonBytes(document);

/** sha256 of the canonical bytes, as 32 bytes. */
export const policyHash = (document: PolicyDocument): Uint8Array =>
  new Uint8Array(createHash('sha256').update(canonicalPolicyBytes(document)).digest());

export const policyHashHex = (document: PolicyDocument): string =>
  Buffer.from(policyHash(document)).toString('hex');

/** The exact bytes the owner signs for `walletId` and `document`. */
export const policySigningMessage = (walletId: string, document: PolicyDocument): Uint8Array =>
  new TextEncoder().encode(`${POLICY_SIGNATURE_DOMAIN}\n${walletId}\n${policyHashHex(document)}`);

/** The subset of an OwnerSigner this needs (keys/ implements it; core depends on nothing of ours). */
export interface PolicySigner {
  publicKey(): Promise<string>;
  sign(message: Uint8Array): Promise<Uint8Array>;
}

export const signPolicyBundle = async (
  walletId: string,
  document: PolicyDocument,
  signer: PolicySigner,
): Promise<PolicyBundle> => {
  const signature = await signer.sign(policySigningMessage(walletId, document));
  return {
    walletId,
    policy: document,
    ownerPublicKey: await signer.publicKey(),
    signature: Buffer.from(signature).toString('base64'),
  };
};

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export const verifyEd25519Signature = (
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean => {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, message, key, signature);
  } catch {
    return false;
  }
};

export type PolicyBundleCheck =
  | {
      readonly ok: true;
      readonly bundle: PolicyBundle;
      readonly policy: Policy;
      /** hex sha256 of the canonical policy. */
      readonly hash: string;
    }
  | {
      readonly ok: false;
      readonly reason: 'MALFORMED' | 'WRONG_WALLET' | 'WRONG_OWNER' | 'BAD_SIGNATURE';
      readonly issues?: { path: string; message: string }[];
    };

/**
 * Checks a bundle for `walletId` against the owner it must come from. Only a signature by
 * `expectedOwner` over this wallet id and this exact policy passes; version ordering is the caller's.
 */
export const verifyPolicyBundle = (
  input: unknown,
  walletId: string,
  expectedOwner: string,
): PolicyBundleCheck => {
  const parsed = policyBundleSchema.safeParse(input);
  if (!parsed.success) {
    return {
      ok: false,
      reason: 'MALFORMED',
      issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    };
  }
  const bundle = parsed.data;
  if (bundle.walletId !== walletId) return { ok: false, reason: 'WRONG_WALLET' };
  if (bundle.ownerPublicKey !== expectedOwner) return { ok: false, reason: 'WRONG_OWNER' };
  const signature = Buffer.from(bundle.signature, 'base64');
  const message = policySigningMessage(walletId, bundle.policy);
  if (!verifyEd25519Signature(bs58.decode(expectedOwner), message, signature)) {
    return { ok: false, reason: 'BAD_SIGNATURE' };
  }
  return { ok: true, bundle, policy: toPolicy(bundle.policy), hash: policyHashHex(bundle.policy) };
};
