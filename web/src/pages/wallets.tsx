/** The owner's wallets at a glance: status (and why when frozen), SOL held, today's spending. */
import type { Wallet } from '../../../src/sdk/index.ts';
import { Address, ErrorBox, Loading, Status } from '../components.tsx';
import { useFeed } from '../feed.tsx';
import { formatAmount } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

/** Why a wallet is frozen, when the API says (frozenReason), as text. */
export const frozenReasonOf = (wallet: Wallet): string | undefined => {
  const reason = wallet.frozenReason;
  if (typeof reason === 'string') return reason;
  if (typeof reason === 'object' && reason !== null) {
    const { message, rule, by } = reason as { message?: unknown; rule?: unknown; by?: unknown };
    return [by, rule, message].filter((part) => typeof part === 'string').join(': ') || undefined;
  }
  return undefined;
};

export function WalletsPage() {
  const { client } = useSession();
  const wallets = useLoad(async () => {
    const page = await client.wallets.list().firstPage();
    return Promise.all(
      page.items.map(async (wallet) => ({
        wallet,
        usage: await client.usage(wallet.id).catch(() => undefined),
        balance: await client.balance(wallet.id).catch(() => undefined),
      })),
    );
  }, [client]);
  useFeed(
    (entry) =>
      entry.kind.startsWith('owner.') || entry.kind === 'wallet.created' || entry.kind === 'monitor.alert',
    wallets.reload,
  );

  return (
    <>
      <h1 tabIndex={-1}>Wallets</h1>
      <ErrorBox error={wallets.error} title="Could not load your wallets" />
      {wallets.data === undefined && wallets.error === undefined && <Loading what="wallets" />}
      {wallets.data?.length === 0 && <p>No wallets yet. Create one with the CLI or the API.</p>}
      <ul class="cards">
        {wallets.data?.map(({ wallet, usage, balance }) => {
          const sol = usage?.assets.find((asset) => asset.asset === 'SOL');
          const reason = frozenReasonOf(wallet);
          return (
            <li key={wallet.id} class="card" data-wallet={wallet.id}>
              <h2>
                <a href={href.wallet(wallet.id)}>{wallet.name}</a> <Status value={wallet.status} />
              </h2>
              {wallet.status === 'frozen' && <p class="frozen-reason">Frozen{reason ? `: ${reason}` : ''}</p>}
              <dl class="facts">
                <dt>Address</dt>
                <dd>
                  <Address value={wallet.vault} />
                </dd>
                <dt>Holds</dt>
                <dd>{balance ? formatAmount(balance.sol, 'SOL') : '—'}</dd>
                <dt>Spent today</dt>
                <dd>
                  {sol
                    ? `${formatAmount(sol.server.spent, 'SOL')} of ${formatAmount(sol.daily, 'SOL')}`
                    : '—'}
                </dd>
              </dl>
            </li>
          );
        })}
      </ul>
    </>
  );
}
