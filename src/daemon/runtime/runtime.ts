import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Keypair } from '@solana/web3.js';
import type { AwsCredentialsArgs } from '../../enclave/protocol.ts';
import { type ChainClient, createChainClient } from '../../solana/chain-client.ts';
import type { Store } from '../../store/index.ts';
import type { Config } from '../config.ts';
import { type EnclaveRouter, enclaveInstanceIdFor } from '../enclave-router.ts';
import type { EnclaveSupervisor } from '../enclave-supervisor.ts';
import { lockHolderFor, type MultisigLockOptions, MultisigLocks } from '../locks/multisig-locks.ts';
import type { Logger } from '../logger.ts';
import { buildServices, type ServiceOptions, type Services } from '../services.ts';
import { replicaIdFor } from '../transfers/replica.ts';
import { type DaemonSecret, enclaveChannelKey, loadDaemonSecret } from './daemon-secret.ts';
import { type DaemonEnclave, type StartEnclaveOptions, startEnclave } from './enclave.ts';
import { auditEnclaveRestarts } from './enclave-restarts.ts';
import { loadFeePayer } from './fee-payer.ts';
import { OwnerKeys } from './owner-keys.ts';

/** The runtime's parts: what the use cases (services.ts) are built from, and act through. */
export interface RuntimeParts {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly chain: ChainClient;
  readonly feePayer: Keypair;
  /** This replica's own enclave instance (its child process, or the attached Nitro Enclave). */
  readonly enclave: EnclaveSupervisor;
  /** The instance that serves a wallet, this replica's or another's: every per-wallet call goes here. */
  readonly signers: EnclaveRouter;
  /** How the enclave is isolated and its seeds sealed, and its checkpoints (see runtime/enclave.ts). */
  readonly enclaveRuntime: Pick<DaemonEnclave, 'identity' | 'checkpointer'>;
  readonly ownerKeys: OwnerKeys;
  readonly daemonSecret: DaemonSecret;
  /** One change at a time per wallet's multisig, across replicas (approval proposals, owner acts). */
  readonly multisigLocks: MultisigLocks;
  close(): Promise<void>;
}

/** Everything the routes, plugins and workers act through, built once per daemon: the parts and the use cases. */
export interface Runtime extends RuntimeParts {
  readonly services: Services;
}

export interface StartRuntimeOptions {
  config: Config;
  store: Store;
  rpcUrl: string;
  logger: Logger;
  /** AWS credentials for a KMS-sealing enclave; default: the SDK's chain (tests pass stand-in ones). */
  awsCredentials?: () => Promise<AwsCredentialsArgs>;
  /** Enclave overrides for tests: the checkpoint interval, the supervisor's command or bridge. */
  enclave?: Pick<StartEnclaveOptions, 'checkpointIntervalMs' | 'supervisor'>;
  /** Lease and wait lengths of the multisig locks (tests shorten them). */
  multisigLocks?: MultisigLockOptions;
  /** Options of the use cases, e.g. the transfer workers' poll interval (tests shorten it). */
  services?: ServiceOptions;
}

/** Below this the daemon tops its fee payer up on localnet, and health warns elsewhere. */
export const FEE_PAYER_LOW_LAMPORTS = 50_000_000n;
const LOCALNET_FEE_PAYER_FUNDING = 100_000_000_000;

export async function startRuntime(options: StartRuntimeOptions): Promise<Runtime> {
  const { config, store, rpcUrl, logger } = options;
  const keysDir = join(config.dataDir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const daemonSecret = loadDaemonSecret(config.dataDir);
  const feePayer = await loadFeePayer(join(keysDir, 'fee-payer.json'), daemonSecret.value);
  const chain = createChainClient(rpcUrl);

  if (config.network === 'localnet') await fundOnLocalnet(chain, feePayer, logger);

  mkdirSync(join(config.dataDir, 'enclave'), { recursive: true, mode: 0o700 });
  const daemonEnclave = await startEnclave({
    config,
    store,
    chain,
    logger,
    legacyPassphrase: daemonSecret.value,
    instanceId: enclaveInstanceIdFor(config.dataDir),
    channelKey: enclaveChannelKey(daemonSecret),
    ...(options.awsCredentials ? { awsCredentials: options.awsCredentials } : {}),
    ...options.enclave,
  });
  const enclave = daemonEnclave.supervisor;
  const stopAuditingRestarts = auditEnclaveRestarts(enclave, store, logger);
  try {
    await enclave.start();
  } catch (error) {
    stopAuditingRestarts();
    await daemonEnclave.close();
    chain.close();
    throw error;
  }
  const ownerKeys = new OwnerKeys({ store });
  const multisigLocks = new MultisigLocks(
    store,
    lockHolderFor(replicaIdFor(config.dataDir)),
    logger,
    options.multisigLocks,
  );

  const parts: RuntimeParts = {
    config,
    logger,
    store,
    chain,
    feePayer,
    enclave,
    signers: daemonEnclave.router,
    enclaveRuntime: daemonEnclave,
    ownerKeys,
    daemonSecret,
    multisigLocks,
    async close() {
      await daemonEnclave.close();
      stopAuditingRestarts();
      await ownerKeys.close();
      chain.close();
    },
  };
  // The same object, so that the services and the routes see one runtime.
  return Object.assign(parts, { services: buildServices(parts, options.services) });
}

async function fundOnLocalnet(chain: ChainClient, feePayer: Keypair, logger: Logger): Promise<void> {
  try {
    const balance = BigInt(await chain.connection.getBalance(feePayer.publicKey));
    if (balance >= FEE_PAYER_LOW_LAMPORTS * 10n) return;
    const signature = await chain.connection.requestAirdrop(feePayer.publicKey, LOCALNET_FEE_PAYER_FUNDING);
    await chain.confirm(signature, (await chain.recentBlockhash()).lastValidBlockHeight);
  } catch (error) {
    logger.warn({ err: error }, 'could not fund the fee payer on localnet');
  }
}
