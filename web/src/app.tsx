/** The console's frame: sign-in, then the navigation, the live-feed status and the page of the route. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorBox } from './components.tsx';
import { DialogProvider } from './dialogs.tsx';
import { FeedProvider, useFeed, useFeedStatus } from './feed.tsx';
import { useLoad } from './load.ts';
import { ApprovalsPage } from './pages/approvals.tsx';
import { AuditPage } from './pages/audit.tsx';
import { PolicyPage } from './pages/policy.tsx';
import { SessionsPage } from './pages/sessions.tsx';
import { TransferPage } from './pages/transfer.tsx';
import { WalletPage } from './pages/wallet.tsx';
import { WalletsPage } from './pages/wallets.tsx';
import { WebhooksPage } from './pages/webhooks.tsx';
import { href, type Route, useRoute } from './router.ts';
import { type OwnerSession, SessionContext, SignInError, signIn, useSession } from './session.ts';

export function App() {
  const [session, setSession] = useState<OwnerSession | null>(null);
  if (session === null) return <SignIn onSignedIn={setSession} />;
  return (
    <SessionContext.Provider value={session}>
      <DialogProvider>
        <FeedProvider client={session.client}>
          <Shell onSignOut={() => setSession(null)} />
        </FeedProvider>
      </DialogProvider>
    </SessionContext.Provider>
  );
}

function SignIn(props: { onSignedIn: (session: OwnerSession) => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  // The page is a single field: start there, as a sign-in page does.
  const tokenField = useRef<HTMLInputElement>(null);
  useEffect(() => tokenField.current?.focus(), []);
  const onSubmit = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const input = form.elements.namedItem('owner-token') as HTMLInputElement;
    setBusy(true);
    setError(undefined);
    try {
      const session = await signIn(input.value);
      input.value = '';
      props.onSignedIn(session);
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  };
  return (
    <main class="sign-in">
      <h1>WAIaaS owner console</h1>
      <form onSubmit={onSubmit} aria-describedby="sign-in-note">
        <div class="field">
          <label for="owner-token">Owner token</label>
          <input
            id="owner-token"
            name="owner-token"
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            ref={tokenField}
            aria-invalid={error !== undefined}
            aria-describedby={error !== undefined ? 'sign-in-error' : undefined}
          />
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        {error !== undefined && (
          <div id="sign-in-error">
            {error instanceof SignInError ? (
              <p class="field-error" role="alert">
                {error.message}
              </p>
            ) : (
              <ErrorBox error={error} title="Could not reach the daemon" />
            )}
          </div>
        )}
        <p id="sign-in-note" class="hint">
          The token stays in this tab's memory only: reloading the page signs you out.
        </p>
      </form>
    </main>
  );
}

function PendingCount() {
  const { client } = useSession();
  const pending = useLoad(() => client.approvals.list({ limit: 200 }).firstPage(), [client]);
  useFeed(
    (entry) => entry.kind.startsWith('approval.') || entry.kind.startsWith('transfer.'),
    pending.reload,
  );
  const count = pending.data?.items.length ?? 0;
  return count > 0 ? (
    <span class="badge">
      {count}
      <span class="visually-hidden"> waiting</span>
    </span>
  ) : null;
}

function Shell(props: { onSignOut: () => void }) {
  const route = useRoute();
  const status = useFeedStatus();
  const main = useRef<HTMLElement>(null);
  // A new page takes the focus to its heading, so keyboard and screen-reader users land on it.
  useEffect(() => {
    main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route]);
  const current = (page: Route['page'], ...also: Route['page'][]) =>
    route.page === page || also.includes(route.page) ? 'page' : undefined;
  return (
    <>
      <header class="top">
        <a class="brand" href={href.wallets()}>
          WAIaaS
        </a>
        <nav aria-label="Console">
          <a
            href={href.wallets()}
            aria-current={current('wallets', 'wallet', 'policy', 'sessions', 'transfer')}
          >
            Wallets
          </a>
          <a href={href.approvals()} aria-current={current('approvals')}>
            Approvals <PendingCount />
          </a>
          <a href={href.webhooks()} aria-current={current('webhooks')}>
            Webhooks
          </a>
          <a href={href.audit()} aria-current={current('audit')}>
            Audit
          </a>
        </nav>
        <span class={`feed feed-${status}`} role="status" data-feed={status}>
          {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Offline: reload'}
        </span>
        <button type="button" class="sign-out" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main ref={main} id="main">
        <Page route={route} />
      </main>
    </>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'wallets':
      return <WalletsPage />;
    case 'wallet':
      return <WalletPage key={route.walletId} walletId={route.walletId} />;
    case 'policy':
      return <PolicyPage key={route.walletId} walletId={route.walletId} />;
    case 'sessions':
      return <SessionsPage key={route.walletId} walletId={route.walletId} />;
    case 'transfer':
      return <TransferPage key={route.transferId} transferId={route.transferId} />;
    case 'approvals':
      return <ApprovalsPage />;
    case 'webhooks':
      return <WebhooksPage />;
    case 'audit':
      return <AuditPage />;
    case 'not-found':
      return (
        <>
          <h1 tabIndex={-1}>Nothing here</h1>
          <p>
            No page <code>{route.path}</code>. <a href={href.wallets()}>Go to your wallets.</a>
          </p>
        </>
      );
  }
}
