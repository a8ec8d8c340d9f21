/**
 * The daemon's agent enclave, as its configuration says (config `enclave_*`):
 *   - process (embedded default): the enclave is the daemon's child; it keeps its own vault key in
 *     `<data>/enclave/` (or seals to KMS with `enclave_vault = "aws-kms"`); its attestation is the
 *     development one, pinned to this checkout's enclave code;
 *   - nitro: the enclave runs in a Nitro Enclave (nitro-cli, see docs/deploy-aws.md), reached over
 *     vsock through socat; its attestation must chain to the AWS Nitro root and carry the pinned
 *     image measurement (`enclave_pcr0`); its seeds are sealed by KMS to that image.
 * Either way the daemon passes it no secret that opens a seed: in process mode, on stdin, the
 * deployment's channel key (who may talk to it: src/enclave/channel.ts) and, once, the passphrase of
 * the legacy vault while that is migrated away (enclave-legacy-vault.ts).
 * Several replicas: each runs its own instance; enclave-router.ts sends each wallet's calls to the
 * one instance that serves it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyBundle, policyBundleSchema } from '../../core/policy.ts';
import { devPcrs } from '../../enclave/attestation/index.ts';
import { enclaveCodeBundle } from '../../enclave/code-bundle.ts';
import type { AwsCredentialsArgs, EnclaveStatus } from '../../enclave/protocol.ts';
import { parentBridgeCommand } from '../../enclave/vsock-bridge.ts';
import { createKmsClient } from '../../keys/aws/connection.ts';
import type { ChainClient } from '../../solana/chain-client.ts';
import {
  claimUnassignedWallets,
  policyBundlesOf,
  registerEnclaveInstance,
  retireEnclaveInstance,
  type Store,
  walletsServedBy,
} from '../../store/index.ts';
import type { Config } from '../config.ts';
import type { EnclaveClient } from '../enclave-client.ts';
import { EnclaveRouter } from '../enclave-router.ts';
import { EnclaveSupervisor } from '../enclave-supervisor.ts';
import type { Logger } from '../logger.ts';
import { checkAttestedStatement } from './attested-statement.ts';
import { attestEnclave } from './enclave-attestation.ts';
import { createEnclaveCheckpointer, type EnclaveCheckpointer } from './enclave-checkpoints.ts';
import { recordHalts } from './enclave-halt.ts';
import { legacyEnclaveVaultPath, migrateLegacyEnclaveVault } from './enclave-legacy-vault.ts';
import { recoverWallets } from './enclave-recovery.ts';

/** What the enclave said of itself at its last attested start (or what the configuration asks for). */
export type EnclaveIdentity = Pick<EnclaveStatus, 'isolation' | 'seedProtection' | 'attestation'>;

export interface DaemonEnclave {
  readonly supervisor: EnclaveSupervisor;
  /** Which instance serves each wallet, this replica's or another's (enclave-router.ts). */
  readonly router: EnclaveRouter;
  readonly checkpointer: EnclaveCheckpointer;
  identity(): EnclaveIdentity;
  close(): Promise<void>;
}

export interface StartEnclaveOptions {
  readonly config: Config;
  readonly store: Store;
  readonly chain: ChainClient;
  readonly logger: Logger;
  /** The passphrase of the legacy vault (the daemon secret), while there is one to migrate. */
  readonly legacyPassphrase: string;
  /** This replica's enclave instance, as other replicas find it in `enclave_instances`. */
  readonly instanceId: string;
  /** The deployment's channel key: every replica's, so any replica can reach any instance. */
  readonly channelKey: Uint8Array;
  /** AWS credentials for the enclave's KMS vault; default: the SDK's chain (env, profile, instance role). */
  readonly awsCredentials?: () => Promise<AwsCredentialsArgs>;
  /** Overrides for tests (command, bundle cache, backoff, timeouts, checkpoint interval). */
  readonly supervisor?: Partial<ConstructorParameters<typeof EnclaveSupervisor>[0]>;
  readonly checkpointIntervalMs?: number;
}

/** AWS credentials are handed to the enclave again this often (instance-role credentials rotate hourly). */
const CREDENTIALS_REFRESH_MS = 10 * 60_000;

const defaultAwsCredentials = (region: string) => async (): Promise<AwsCredentialsArgs> => {
  const client = createKmsClient({ region });
  try {
    const identity = await client.config.credentials();
    return {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken ? { sessionToken: identity.sessionToken } : {}),
      ...(identity.expiration ? { expiration: identity.expiration.toISOString() } : {}),
    };
  } finally {
    client.destroy();
  }
};

/**
 * The policy bundles the database holds for the wallets an instance serves. The enclave keeps the newest it has seen (its own or its
 * checkpoint's), so an older one from a stale or rolled-back database is refused, and skipped here.
 */
async function sendPolicies(
  client: EnclaveClient,
  store: Store,
  served: ReadonlySet<string>,
  log: (line: string) => void,
): Promise<void> {
  for (const text of await policyBundlesOf(store.db, [...served])) {
    let bundle: PolicyBundle;
    try {
      bundle = policyBundleSchema.parse(JSON.parse(text));
    } catch {
      continue;
    }
    try {
      await client.setPolicy(bundle);
    } catch (error) {
      if (!(error instanceof WaiaasError) || error.code === 'ENCLAVE_UNAVAILABLE') throw error;
      if (error.code !== 'POLICY_VERSION_NOT_NEWER')
        log(`enclave: policy for ${bundle.walletId} refused: ${error.code}`);
    }
  }
}

/**
 * Wallets frozen on the server stay halted in the enclave: a halt the monitor could not deliver
 * (the enclave was down), or one lost with a wiped enclave and no checkpoint, is made again. Only an
 * owner-signed newer policy (resume) lifts it; so a wallet whose enclave already holds a newer
 * policy than the database (a resume that stopped between the enclave and the database) is left as is.
 */
async function haltFrozenWallets(
  client: EnclaveClient,
  store: Store,
  served: ReadonlySet<string>,
): Promise<void> {
  const frozen = (
    await store.db
      .selectFrom('wallets')
      .select(['id', 'policy_version'])
      .where('status', '=', 'frozen')
      .execute()
  ).filter((row) => served.has(row.id));
  const held = new Map<string, EnclaveStatus['wallets'][number]>();
  for (let index = 0; index < frozen.length; index += 1_000) {
    const ids = frozen.slice(index, index + 1_000).map((row) => row.id);
    for (const wallet of (await client.status(ids)).wallets) held.set(wallet.walletId, wallet);
  }
  for (const { id, policy_version } of frozen) {
    const wallet = held.get(id);
    if (wallet === undefined || wallet.halted || (wallet.policyVersion ?? 0) > Number(policy_version))
      continue;
    const reason = 'frozen on the server';
    await recordHalts(store, await client.halt(id, reason), reason);
  }
}

export async function startEnclave(options: StartEnclaveOptions): Promise<DaemonEnclave> {
  const { config, store, logger } = options;
  const settings = config.enclave;
  const nitro = settings.isolation === 'nitro';
  const usesKms = nitro || settings.vault === 'aws-kms';
  const enclaveDir = join(config.dataDir, 'enclave');
  const legacyKeystore = legacyEnclaveVaultPath(config.dataDir);
  const devRootPath = join(enclaveDir, 'dev-attestation', 'dev-attestation-root.pem');
  // In process mode the enclave must run this repository's enclave code: its development PCR0 is
  // pinned to it. On Nitro, the image measurement the operator pinned.
  const expectedPcr0 = nitro ? settings.pcr0! : Buffer.from(devPcrs(enclaveCodeBundle())[0]!).toString('hex');
  const awsCredentials = usesKms
    ? (options.awsCredentials ?? defaultAwsCredentials(settings.kmsRegion ?? 'us-east-1'))
    : undefined;
  const log = (line: string) => logger.warn(line);
  let identity: EnclaveIdentity = {
    isolation: settings.isolation,
    seedProtection: usesKms ? 'kms-attested' : 'enclave-local-key',
    attestation: nitro ? 'nitro' : 'dev',
  };

  const pushCredentials = async (client: EnclaveClient) => {
    if (awsCredentials === undefined) return;
    const { accepted } = await client.call('SET_AWS_CREDENTIALS', await awsCredentials());
    if (!accepted) log('enclave: it has no KMS vault, yet the daemon is configured for one');
  };

  const ownRoot = (): string | undefined => {
    if (settings.attestationRoot !== undefined) return readFileSync(settings.attestationRoot, 'utf8');
    if (nitro) return undefined;
    if (!existsSync(devRootPath))
      throw new WaiaasError('ATTESTATION_INVALID', { details: { reason: 'dev root missing' } });
    return readFileSync(devRootPath, 'utf8');
  };
  const instanceId = options.instanceId;
  const socketPath = resolve(join(enclaveDir, 'enclave.sock'));
  /** The wallets this instance serves (restore first claims every one nobody serves yet). */
  const servedWallets = async (): Promise<Set<string>> =>
    new Set(await walletsServedBy(store.db, instanceId));

  const verify = async (client: EnclaveClient) => {
    const { statement, userData } = await attestEnclave(client, { root: ownRoot(), pcr0: expectedPcr0 });
    await checkAttestedStatement(statement, userData, store, await servedWallets());
    // Up and verified: other replicas may reach it now.
    await registerEnclaveInstance(
      store.db,
      { id: instanceId, endpoint: socketPath, attestationRoot: nitro ? null : (ownRoot() ?? null) },
      Date.now(),
    );
    const status = await client.status([]);
    identity = {
      isolation: status.isolation,
      seedProtection: status.seedProtection,
      attestation: status.attestation,
    };
  };

  const supervisor = new EnclaveSupervisor({
    mode: nitro ? 'attach' : 'process',
    socketPath,
    stateDir: enclaveDir,
    attestation: nitro ? 'nitro' : 'dev',
    enclaveArgs: () => [
      ...(settings.vault === 'aws-kms'
        ? [
            '--vault',
            'aws-kms',
            '--kms-key-id',
            settings.kmsKeyId!,
            '--kms-region',
            settings.kmsRegion!,
            ...(settings.kmsEndpoint ? ['--kms-endpoint', settings.kmsEndpoint] : []),
          ]
        : []),
      ...(nitro ? [] : ['--channel-key-stdin']),
      ...(existsSync(legacyKeystore) ? ['--legacy-vault-keystore', legacyKeystore] : []),
    ],
    stdinLine: () =>
      [
        ...(nitro ? [] : [Buffer.from(options.channelKey).toString('base64')]),
        ...(existsSync(legacyKeystore) ? [options.legacyPassphrase] : []),
      ].join('\n') || undefined,
    ...(nitro ? {} : { channelKey: options.channelKey }),
    ...(nitro
      ? {
          bridge: parentBridgeCommand(
            join(enclaveDir, 'enclave.sock'),
            settings.vsockCid,
            settings.vsockPort,
          ),
        }
      : {}),
    restore: async (client) => {
      await pushCredentials(client);
      if (!nitro) await migrateLegacyEnclaveVault({ client, store, keystorePath: legacyKeystore, log });
      await claimUnassignedWallets(store.db, instanceId, Date.now());
      const served = await servedWallets();
      await recoverWallets({ client, store, chain: options.chain.connection, walletIds: [...served], log });
      await sendPolicies(client, store, served, log);
      await haltFrozenWallets(client, store, served);
    },
    verify,
    log,
    ...options.supervisor,
  });
  const router = new EnclaveRouter({
    store,
    own: supervisor,
    instanceId,
    channelKey: options.channelKey,
    staleAfterMs: settings.instanceStaleMs,
    log,
    // Another replica's instance: the same code measurement, (process mode) the root it registered,
    // and every agent key of the wallets it serves, as its own replica checks it.
    verifyRemote: async (client, instance) => {
      const root = nitro ? ownRoot() : (instance.attestationRoot ?? undefined);
      if (!nitro && root === undefined)
        throw new WaiaasError('ATTESTATION_INVALID', { details: { reason: 'instance has no root' } });
      const { statement, userData } = await attestEnclave(client, { root, pcr0: expectedPcr0 });
      const served = new Set(await walletsServedBy(store.db, instance.id));
      await checkAttestedStatement(statement, userData, store, served);
    },
    takeOver: (walletId) =>
      supervisor.use(async (client) => {
        const served = new Set([walletId]);
        const report = await recoverWallets({
          client,
          store,
          chain: options.chain.connection,
          walletIds: [walletId],
          log,
        });
        const restored = report.wallets.find((wallet) => wallet.walletId === walletId);
        if (restored === undefined || restored.error !== undefined || restored.keys.loaded.length === 0) {
          // E.g. another deployment's vault key: its seeds do not open here.
          throw new WaiaasError('ENCLAVE_UNAVAILABLE', {
            message: `Wallet ${walletId} could not be taken over by this enclave instance`,
            details: {
              reason: 'takeover failed',
              walletId,
              cause: restored?.error?.code ?? restored?.keys.failed[0]?.code ?? 'NO_KEY',
            },
          });
        }
        await sendPolicies(client, store, served, log);
        await haltFrozenWallets(client, store, served);
      }),
  });
  router.startHeartbeat();
  const checkpointer = createEnclaveCheckpointer({
    store,
    enclave: supervisor,
    log,
    ...(options.checkpointIntervalMs === undefined ? {} : { intervalMs: options.checkpointIntervalMs }),
  });
  // What recovery restored is checkpointed as soon as the enclave serves.
  const onUp = () => {
    checkpointer.flush().catch(() => undefined);
  };
  supervisor.on('up', onUp);
  const credentialsTimer =
    awsCredentials === undefined
      ? undefined
      : setInterval(() => {
          supervisor.use(pushCredentials).catch((error: unknown) => {
            if (!(error instanceof WaiaasError && error.code === 'ENCLAVE_UNAVAILABLE'))
              logger.warn({ err: error }, 'could not hand AWS credentials to the enclave');
          });
        }, CREDENTIALS_REFRESH_MS);
  credentialsTimer?.unref();

  return {
    supervisor,
    router,
    checkpointer,
    identity: () => identity,
    async close() {
      if (credentialsTimer) clearInterval(credentialsTimer);
      supervisor.off('up', onUp);
      router.close();
      await checkpointer.flush().catch(() => undefined);
      await checkpointer.stop();
      await supervisor.stop();
      // Stopped on purpose, its last checkpoints stored: other replicas may take its wallets at once.
      await retireEnclaveInstance(store.db, instanceId).catch(() => undefined);
    },
  };
}
