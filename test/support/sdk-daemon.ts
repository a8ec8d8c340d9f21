/**
 * A whole test daemon listening on a loopback port, with SDK clients for each role, so the SDK and the
 * MCP server are tested over real HTTP as an agent or owner would use them.
 */
import { PublicKey } from '@solana/web3.js';
import type { PolicyInput } from '../../src/sdk/index.ts';
import { createClient, type WaiaasClient } from '../../src/sdk/index.ts';
import { OWNER_PASSPHRASE, operatorToken, starterPolicy } from './api.ts';
import { startTestDaemon, type TestDaemon } from './daemon.ts';

export interface ListeningDaemon {
  readonly daemon: TestDaemon;
  readonly url: string;
  readonly operator: WaiaasClient;
  /** Paths (OpenAPI form, e.g. "POST /v1/wallets/{id}/transfers") the daemon serves. */
  readonly served: ReadonlySet<string>;
  close(): Promise<void>;
}

export async function startListeningDaemon(): Promise<ListeningDaemon> {
  const daemon = await startTestDaemon();
  await daemon.app.listen({ host: '127.0.0.1', port: 0 });
  const address = daemon.app.server.address();
  if (typeof address !== 'object' || address === null) throw new Error('daemon did not listen');
  const url = `http://127.0.0.1:${address.port}`;
  const operator = createClient({ url, token: await operatorToken(daemon.runtime.store) });
  const served = new Set<string>();
  for (const [path, operations] of Object.entries((await operator.openapi()).paths)) {
    for (const method of Object.keys(operations)) served.add(`${method.toUpperCase()} ${path}`);
  }
  return { daemon, url, operator, served, close: () => daemon.close() };
}

export interface OwnerWalletAgent {
  readonly owner: WaiaasClient;
  readonly agent: WaiaasClient;
  readonly ownerId: string;
  readonly ownerToken: string;
  readonly ownerPublicKey: string;
  readonly walletId: string;
  readonly vault: string;
  readonly multisig: string;
  readonly agentPublicKey: string;
  readonly sessionId: string;
  readonly sessionToken: string;
}

/** operator → owner (local keystore) → wallet → agent session, all through the SDK. */
export async function createOwnerWalletAgent(
  listening: ListeningDaemon,
  policy: PolicyInput = starterPolicy() as unknown as PolicyInput,
): Promise<OwnerWalletAgent> {
  const created = await listening.operator.owners.create({
    name: 'Owner',
    signer: { kind: 'local', passphrase: OWNER_PASSPHRASE },
  });
  const owner = createClient({ url: listening.url, token: created.token, ownerUnlock: OWNER_PASSPHRASE });
  const wallet = await owner.wallets.create({ name: 'Agent wallet', policy });
  const session = await owner.sessions.create(wallet.id, { ttlSeconds: 3600, label: 'sdk test' });
  return {
    owner,
    agent: createClient({ url: listening.url, token: session.token }),
    ownerId: created.id,
    ownerToken: created.token,
    ownerPublicKey: created.publicKey,
    walletId: wallet.id,
    vault: wallet.vault,
    multisig: wallet.multisig,
    agentPublicKey: wallet.agentPublicKey ?? '',
    sessionId: session.id,
    sessionToken: session.token,
  };
}

export async function fundVault(listening: ListeningDaemon, vault: string, lamports: bigint): Promise<void> {
  const { connection } = listening.daemon.runtime.chain;
  const signature = await connection.requestAirdrop(new PublicKey(vault), Number(lamports));
  await connection.confirmTransaction({ signature, ...(await connection.getLatestBlockhash()) });
}

export const lamportsOf = async (listening: ListeningDaemon, address: string): Promise<bigint> =>
  BigInt(await listening.daemon.runtime.chain.connection.getBalance(new PublicKey(address), 'confirmed'));
