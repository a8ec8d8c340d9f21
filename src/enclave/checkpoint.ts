/**
 * A checkpoint: one wallet's L2 state sealed by the enclave's vault, which the daemon stores in its
 * database so that another enclave instance (or this one after its disk was wiped, or a Nitro
 * enclave after any restart: it has no disk) can take the wallet over.
 *
 * What it holds: the wallet's binding, the owner-signed policy bundle in force (the highest version
 * the enclave had seen, so an older one is refused after recovery), a halt, retired agent keys, and
 * the spend and rate buckets. Delay first sightings are left out: without them a delayed transfer
 * waits its delay again (stricter).
 *
 * The host cannot forge or alter a checkpoint (sealed, bound to the wallet in the vault context);
 * it can only withhold one or hand back an older one. Recovery therefore also takes what the chain
 * shows spent in the spending limit's current period, and counts the larger of the two
 * (`chainSpent`). A host that lies about the chain as well gains nothing over the chain itself:
 * L3 refuses beyond the real remaining amount. See docs/deploy-aws.md, "What a wiped enclave keeps".
 */
import { z } from 'zod';
import type { ChainLimit } from './protocol.ts';

export type { ChainLimit };

/** The vault context of every checkpoint of `walletId`. */
export const CHECKPOINT_CONTEXT = (walletId: string) => ({ purpose: 'enclave-checkpoint', walletId });

const amountText = z.string().regex(/^[0-9]{1,20}$/);
const unixSeconds = z.number().int().min(0).max(1e11);
const bucket = z.tuple([unixSeconds, amountText]);

export const checkpointBodySchema = z.object({
  format: z.literal(1),
  walletId: z.string(),
  ownerPublicKey: z.string(),
  multisig: z.string(),
  sequence: z.number().int().min(0),
  /** Milliseconds since the epoch, enclave clock. */
  at: z.number().int().min(0),
  /** The owner-signed bundle in force, checked again on recovery. */
  policy: z.unknown().nullable(),
  halt: z.object({ version: z.number().int().min(0), atMs: z.number().int().min(0) }).nullable(),
  retired: z.array(z.string()).max(10_000),
  spend: z.record(z.string(), z.array(bucket).max(10_000)),
  rate: z.array(bucket).max(10_000),
});

export type CheckpointBody = z.infer<typeof checkpointBodySchema>;

/**
 * What the chain shows spent of one limit in its current period, at `nowSeconds` (enclave clock).
 * Squads resets `remainingAmount` lazily, on the first use after the period ended: a limit whose
 * period is over has nothing spent in the current one, whatever `remaining` still says.
 */
export const chainSpent = (limit: ChainLimit, nowSeconds: number): { spent: bigint; since: number } => {
  const amount = BigInt(limit.amount);
  const remaining = BigInt(limit.remaining);
  const spent = amount > remaining ? amount - remaining : 0n;
  if (limit.periodSeconds > 0 && nowSeconds - limit.lastReset > limit.periodSeconds)
    return { spent: 0n, since: nowSeconds };
  return { spent, since: limit.lastReset };
};
