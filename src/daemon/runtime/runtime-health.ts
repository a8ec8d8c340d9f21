import { listOwners } from '../../store/index.ts';
import type { Health } from '../routes/health.ts';
import { FEE_PAYER_LOW_LAMPORTS, type Runtime } from './runtime.ts';

const mfaEnforced = (signer: { mfaSerial?: string; keyPolicyRequiresMfa?: boolean }): boolean =>
  signer.mfaSerial !== undefined && signer.keyPolicyRequiresMfa === true;

/** Health of the daemon's own parts: the enclave, the fee payer's balance, how owner keys are protected. */
export async function readRuntimeHealth(
  runtime: Runtime,
): Promise<Pick<Health, 'enclave' | 'feePayer' | 'ownerKeys'>> {
  const enclave = runtime.enclave.status();
  const identity = runtime.enclaveRuntime.identity();
  let balanceLamports: bigint | undefined;
  try {
    balanceLamports = BigInt(await runtime.chain.connection.getBalance(runtime.feePayer.publicKey));
  } catch {
    balanceLamports = undefined;
  }
  const owners = await listOwners(runtime.store.db);
  const count = (test: (owner: (typeof owners)[number]) => boolean) => owners.filter(test).length;
  return {
    enclave: {
      state: enclave.state,
      restarts: enclave.restarts,
      since: enclave.since.toISOString(),
      isolation: identity.isolation,
      seedProtection: identity.seedProtection,
    },
    feePayer: {
      address: runtime.feePayer.publicKey.toBase58(),
      ...(balanceLamports === undefined ? {} : { balanceLamports: balanceLamports.toString() }),
      low: balanceLamports !== undefined && balanceLamports < FEE_PAYER_LOW_LAMPORTS,
    },
    ownerKeys: {
      owners: owners.length,
      local: count((owner) => owner.signer.kind === 'local'),
      // MFA only when the key policy itself refuses Sign without it (read at owner creation).
      awsKmsWithMfa: count((owner) => owner.signer.kind === 'aws-kms' && mfaEnforced(owner.signer)),
      awsKmsWithoutMfa: count((owner) => owner.signer.kind === 'aws-kms' && !mfaEnforced(owner.signer)),
      daemonSecret: runtime.daemonSecret.source,
    },
  };
}
