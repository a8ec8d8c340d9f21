/** Agent sessions of one wallet: issue one (its token shown once, with a copy button), list, revoke. */
import { useState } from 'preact/hooks';
import type { CreatedSession } from '../../../src/sdk/index.ts';
import { CopyButton, ErrorBox, Loading, Status, TableBox } from '../components.tsx';
import { useAsk } from '../dialogs.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

const LIFETIMES = [
  { seconds: 3600, label: '1 hour' },
  { seconds: 86_400, label: '1 day' },
  { seconds: 7 * 86_400, label: '7 days' },
  { seconds: 30 * 86_400, label: '30 days' },
  { seconds: 90 * 86_400, label: '90 days' },
];

export function SessionsPage(props: { walletId: string }) {
  const { client } = useSession();
  const ask = useAsk();
  const sessions = useLoad(() => client.sessions.list(props.walletId), [client, props.walletId]);
  const wallet = useLoad(() => client.wallets.get(props.walletId), [client, props.walletId]);
  const [created, setCreated] = useState<CreatedSession | undefined>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const issue = async (event: Event) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const label = (form.elements.namedItem('session-label') as HTMLInputElement).value.trim();
    const ttlSeconds = Number((form.elements.namedItem('session-ttl') as HTMLSelectElement).value);
    setBusy(true);
    setError(undefined);
    try {
      setCreated(await client.sessions.create(props.walletId, { ttlSeconds, ...(label ? { label } : {}) }));
      form.reset();
      sessions.reload();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const revoke = async (id: string, label: string | null) => {
    const answer = await ask({
      title: `Revoke session ${label ?? id}?`,
      body: <p>The agent using it is refused from its next request on.</p>,
      confirm: 'Revoke',
      secondFactor: 'none',
      danger: true,
    });
    if (answer === null) return;
    setError(undefined);
    try {
      await client.sessions.revoke(id);
    } catch (caught) {
      setError(caught);
    }
    sessions.reload();
  };

  return (
    <>
      <h1 tabIndex={-1}>
        Agent sessions of <a href={href.wallet(props.walletId)}>{wallet.data?.name ?? props.walletId}</a>
      </h1>
      <form class="inline-form" onSubmit={issue} aria-labelledby="issue-session">
        <h2 id="issue-session">Issue a session</h2>
        <div class="field">
          <label for="session-label">Label (optional)</label>
          <input id="session-label" name="session-label" maxLength={64} />
        </div>
        <div class="field">
          <label for="session-ttl">Valid for</label>
          <select id="session-ttl" name="session-ttl">
            {LIFETIMES.map((lifetime) => (
              <option key={lifetime.seconds} value={lifetime.seconds} selected={lifetime.seconds === 86_400}>
                {lifetime.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          Issue session
        </button>
      </form>
      {created && (
        <div class="result once" role="status" aria-label="New session token">
          <p>
            <strong>Copy this token now: it is shown once.</strong> Hand it to the agent; it expires{' '}
            {formatTime(created.expiresAt)}.
          </p>
          <label for="new-session-token">Token of session {created.id}</label>
          <div class="row">
            <input
              id="new-session-token"
              readOnly
              value={created.token}
              onFocus={(event) => event.currentTarget.select()}
            />
            <CopyButton value={created.token} label="Copy token" />
          </div>
          <button type="button" onClick={() => setCreated(undefined)}>
            I have copied it: hide it
          </button>
        </div>
      )}
      <ErrorBox error={error} />
      <h2>Sessions</h2>
      <ErrorBox error={sessions.error} title="Could not load the sessions" />
      {sessions.data === undefined && sessions.error === undefined && <Loading what="sessions" />}
      {sessions.data?.length === 0 && <p>No sessions yet.</p>}
      {sessions.data && sessions.data.length > 0 && (
        <TableBox label="Sessions">
          <table>
            <thead>
              <tr>
                <th scope="col">Session</th>
                <th scope="col">Status</th>
                <th scope="col">Issued</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sessions.data.map((session) => (
                <tr key={session.id} data-session={session.id}>
                  <td>
                    {session.label ?? <span class="hint">no label</span>} <code>{session.id}</code>
                  </td>
                  <td>
                    <Status value={session.status} />
                  </td>
                  <td>{formatTime(session.createdAt)}</td>
                  <td>{formatTime(session.expiresAt)}</td>
                  <td>
                    {session.status === 'active' && (
                      <button type="button" class="danger" onClick={() => revoke(session.id, session.label)}>
                        Revoke<span class="visually-hidden"> {session.label ?? session.id}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </>
  );
}
