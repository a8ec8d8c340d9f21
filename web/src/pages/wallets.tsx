/** The owner's wallets at a glance: status (and why when frozen), SOL held, today's spending. */
import type { Wallet } from '../../../src/sdk/index.ts';
import { Address, ErrorBox, Loading, Status } from '../components.tsx';
import { useFeed } from '../feed.tsx';
import { formatAmount } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

const FROZEN_BY: Record<string, string> = {
  OWNER_FREEZE: 'you froze it (kill switch)',
  SPEND_BYPASSED_DAEMON: 'spending on chain the daemon did not send (a leaked agent key?)',
  MONITOR_REPEATED_REFUSALS: 'the monitor: repeated refusals',
  MONITOR_OUTSIDE_HOURS: 'the monitor: requests outside the policy hours',
  MONITOR_VELOCITY: 'the monitor: spending too fast',
  MONITOR_ENCLAVE_RESTARTS: 'the monitor: the enclave kept restarting',
  UNRECORDED: 'frozen before reasons were recorded',
};

/** Why a wallet is frozen (the API's frozenReason), as text: who or which rule, and its facts. */
export const frozenReasonOf = (wallet: Wallet): string | undefined => {
  const reason = wallet.frozenReason;
  if (reason === null || reason === undefined) return undefined;
  const facts = Object.entries(reason.detail)
    .map(([key, value]) => `${key} ${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
    .join(', ');
  return `${FROZEN_BY[reason.code] ?? reason.code}${facts ? ` (${facts})` : ''}`;
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
