import { WaiaasError } from '../../core/errors.ts';
import { findWallet, type Store, type Wallet } from '../../store/index.ts';
import type { Principal } from '../auth.ts';

/**
 * The wallet `id` as seen by `principal`: its owner, or an agent whose session is bound to it.
 * Anyone else gets NOT_FOUND, so wallet ids of others cannot even be confirmed to exist.
 */
export async function walletFor(store: Store, principal: Principal | undefined, id: string): Promise<Wallet> {
  const wallet = await findWallet(store.db, id);
  const visible =
    wallet !== undefined &&
    ((principal?.role === 'owner' && wallet.ownerId === principal.owner.id) ||
      (principal?.role === 'agent' && principal.session.walletId === wallet.id));
  if (!visible) throw new WaiaasError('NOT_FOUND', { message: `No wallet ${id}.` });
  return wallet;
}

export function ownerOf(principal: Principal | undefined) {
  if (principal?.role !== 'owner') throw new WaiaasError('FORBIDDEN');
  return principal.owner;
}
