import { initial } from './0001_initial.ts';
import { owners } from './0002_owners.ts';
import { wallets } from './0003_wallets.ts';
import { transferPipeline } from './0004_transfer_pipeline.ts';
import { ownerActs } from './0005_owner_acts.ts';
import { auditWebhooks } from './0006_audit_webhooks.ts';
import { enclaveCheckpoints } from './0007_enclave_checkpoints.ts';
import { feeSpends } from './0008_fee_spends.ts';
import { ownerUnlockThrottle } from './0009_owner_unlock_throttle.ts';
import { x402 } from './0012_x402.ts';
import { windowBucketsRevocationEpoch } from './0013_window_buckets_revocation_epoch.ts';
import { replicaLocks } from './0014_replica_locks.ts';
import { enclaveInstances } from './0015_enclave_instances.ts';
import type { Migration } from './migration.ts';

/** Every migration, in order. Append only. */
export const migrations: readonly Migration[] = [
  initial,
  owners,
  wallets,
  transferPipeline,
  ownerActs,
  auditWebhooks,
  enclaveCheckpoints,
  feeSpends,
  ownerUnlockThrottle,
  x402,
  windowBucketsRevocationEpoch,
  replicaLocks,
  enclaveInstances,
];
