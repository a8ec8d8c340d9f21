import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Keypair } from '@solana/web3.js';
import { verifyAttestation } from '../../attestation/index.ts';
import { WaiaasError } from '../../core/errors.ts';
import { type PolicyBundle, policyBundleSchema } from '../../core/policy.ts';
import { devPcrs } from '../../enclave/attestation/index.ts';
import { enclaveCodeBundle } from '../../enclave/code-bundle.ts';
import { type ChainClient, createChainClient } from '../../solana/chain-client.ts';
import { activeAgentKeys, allPolicyBundles, type Store } from '../../store/index.ts';
import type { Config } from '../config.ts';
import { EnclaveSupervisor } from '../enclave-supervisor.ts';
import type { Logger } from '../logger.ts';
import { checkAttestedStatement } from './attested-statement.ts';
import { type DaemonSecret, loadDaemonSecret } from './daemon-secret.ts';
import { auditEnclaveRestarts } from './enclave-restarts.ts';
import { loadFeePayer } from './fee-payer.ts';
import { OwnerKeys } from './owner-keys.ts';

/** Everything the routes and the pipeline act through, built once per daemon. */
export interface Runtime {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly chain: ChainClient;
  readonly feePayer: Keypair;
  readonly enclave: EnclaveSupervisor;
  readonly ownerKeys: OwnerKeys;
  readonly daemonSecret: DaemonSecret;
  close(): Promise<void>;
}

export interface StartRuntimeOptions {
  config: Config;
  store: Store;
  rpcUrl: string;
  logger: Logger;
}

/** Below this the daemon tops its fee payer up on localnet, and health warns elsewhere. */
export const FEE_PAYER_LOW_LAMPORTS = 50_000_000n;
const LOCALNET_FEE_PAYER_FUNDING = 100_000_000_000;

export async function startRuntime({ config, store, rpcUrl, logger }: StartRuntimeOptions): Promise<Runtime> {
  const keysDir = join(config.dataDir, 'keys');
  mkdirSync(keysDir, { recursive: true, mode: 0o700 });
  const daemonSecret = loadDaemonSecret(config.dataDir);
  const feePayer = await loadFeePayer(join(keysDir, 'fee-payer.json'), daemonSecret.value);
  const chain = createChainClient(rpcUrl);

  if (config.network === 'localnet') await fundOnLocalnet(chain, feePayer, logger);

  const enclaveDir = join(config.dataDir, 'enclave');
  mkdirSync(enclaveDir, { recursive: true, mode: 0o700 });
  const devRootPath = join(enclaveDir, 'dev-attestation', 'dev-attestation-root.pem');
  // The enclave must run this repository's enclave code: its development PCR0 is pinned to it.
  const expectedPcr0 = Buffer.from(devPcrs(enclaveCodeBundle())[0]!).toString('hex');

  const enclave = new EnclaveSupervisor({
    socketPath: join(enclaveDir, 'enclave.sock'),
    stateDir: enclaveDir,
    vaultPassphrase: daemonSecret.value,
    // Beside the other keystores: replicas sharing one database must share the vault that seals agent keys.
    vaultKeystore: join(keysDir, 'enclave-vault.keystore'),
    attestation: 'dev',
    sealedKeys: async () => (await activeAgentKeys(store.db)).map((record) => JSON.parse(record.sealed)),
    policies: async () =>
      (await allPolicyBundles(store.db)).map(
        (text): PolicyBundle => policyBundleSchema.parse(JSON.parse(text)),
      ),
    verify: async (client) => {
      const nonce = randomBytes(32);
      const { document, statement } = await client.attest({ nonce });
      if (!existsSync(devRootPath)) {
        throw new WaiaasError('ATTESTATION_INVALID', { details: { reason: 'dev root missing' } });
      }
      const verified = verifyAttestation(document, {
        root: readFileSync(devRootPath, 'utf8'),
        expectedNonce: nonce,
        pcrs: { 0: [expectedPcr0] },
      });
      await checkAttestedStatement(statement, verified.userData, store);
    },
    log: (line) => logger.warn(line),
  });
  const stopAuditingRestarts = auditEnclaveRestarts(enclave, store, logger);
  await enclave.start();
  const ownerKeys = new OwnerKeys({ store });

  return {
    config,
    logger,
    store,
    chain,
    feePayer,
    enclave,
    ownerKeys,
    daemonSecret,
    async close() {
      await enclave.stop();
      stopAuditingRestarts();
      await ownerKeys.close();
      chain.close();
    },
  };
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
