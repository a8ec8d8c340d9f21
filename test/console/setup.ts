/** An owner as a person has one (their token), a wallet with the starter policy and an agent session. */
import { createClient, type WaiaasClient } from '../../src/sdk/index.ts';
import { OWNER_PASSPHRASE, starterPolicy } from '../support/api.ts';
import type { ListeningDaemon } from '../support/sdk-daemon.ts';

export interface OwnerSetup {
  readonly ownerId: string;
  readonly ownerToken: string;
  /** The owner's client, with the second factor for owner-key acts. */
  readonly owner: WaiaasClient;
  readonly agentToken: string;
  readonly agent: WaiaasClient;
  readonly walletId: string;
  readonly vault: string;
  readonly multisig: string;
}

export async function createOwnerSetup(
  listening: ListeningDaemon,
  walletName = 'Agent wallet',
): Promise<OwnerSetup> {
  const created = await listening.operator.owners.create({
    name: 'Console owner',
    signer: { kind: 'local', passphrase: OWNER_PASSPHRASE },
  });
  const owner = createClient({ url: listening.url, token: created.token, ownerUnlock: OWNER_PASSPHRASE });
  const wallet = await owner.wallets.create({ name: walletName, policy: starterPolicy() as never });
  const session = await owner.sessions.create(wallet.id, { ttlSeconds: 3600, label: 'trading agent' });
  return {
    ownerId: created.id,
    ownerToken: created.token,
    owner,
    agentToken: session.token,
    agent: createClient({ url: listening.url, token: session.token }),
    walletId: wallet.id,
    vault: wallet.vault,
    multisig: wallet.multisig,
  };
}
