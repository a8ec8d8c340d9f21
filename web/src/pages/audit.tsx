/** The audit log: filter by wallet and kind, page back in time, and verify the hash chain. */
import { useState } from 'preact/hooks';
import type { AuditEntry, AuditVerification } from '../../../src/sdk/index.ts';
import { ErrorBox, Loading, TableBox } from '../components.tsx';
import { useFeed } from '../feed.tsx';
import { formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { useSession } from '../session.ts';

const KINDS = [
  'session.created',
  'session.revoked',
  'owner.created',
  'wallet.created',
  'policy.changed',
  'transfer.received',
  'transfer.refused',
  'transfer.confirmed',
  'transfer.failed',
  'transfer.cancelled',
  'transfer.rejected',
  'transfer.expired',
  'approval.requested',
  'approval.approved',
  'approval.rejected',
  'owner.freeze',
  'owner.resume',
  'owner.rotate',
  'owner.withdraw',
  'enclave.restarted',
  'monitor.alert',
  'webhook.created',
  'webhook.deleted',
];

const initialWallet = () => new URLSearchParams(window.location.hash.split('?')[1] ?? '').get('wallet') ?? '';

export function AuditPage() {
  const { client } = useSession();
  const [walletId, setWalletId] = useState(initialWallet);
  const [kind, setKind] = useState('');
  const [older, setOlder] = useState<{ items: AuditEntry[]; cursor: string | null }>({
    items: [],
    cursor: null,
  });
  const [verification, setVerification] = useState<AuditVerification | undefined>();
  const [verifyError, setVerifyError] = useState<unknown>();
  const [verifying, setVerifying] = useState(false);

  const wallets = useLoad(async () => (await client.wallets.list().firstPage()).items, [client]);
  const first = useLoad(async () => {
    const page = await client.audit
      .list({ limit: 50, ...(walletId ? { walletId } : {}), ...(kind ? { kind } : {}) })
      .firstPage();
    setOlder({ items: [], cursor: page.nextCursor });
    return page;
  }, [client, walletId, kind]);
  useFeed(() => true, first.reload);

  const loadOlder = async () => {
    if (older.cursor === null) return;
    const page = await client.audit
      .list({ limit: 50, cursor: older.cursor, ...(walletId ? { walletId } : {}), ...(kind ? { kind } : {}) })
      .firstPage();
    setOlder({ items: [...older.items, ...page.items], cursor: page.nextCursor });
  };

  const verify = async () => {
    setVerifying(true);
    setVerifyError(undefined);
    try {
      setVerification(await client.audit.verify());
    } catch (caught) {
      setVerifyError(caught);
    } finally {
      setVerifying(false);
    }
  };

  const entries = [...(first.data?.items ?? []), ...older.items];
  return (
    <>
      <h1 tabIndex={-1}>Audit log</h1>
      <section aria-labelledby="verify-chain" class="verify">
        <h2 id="verify-chain">Hash chain</h2>
        <p class="hint">
          Each entry hashes the one before it: an edited or deleted entry breaks the chain from there on.
        </p>
        <button type="button" class="primary" onClick={verify} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify the hash chain'}
        </button>
        <ErrorBox error={verifyError} />
        {verification && (
          <p
            class={verification.ok ? 'verified' : 'field-error'}
            role="status"
            data-verified={String(verification.ok)}
          >
            {verification.ok
              ? `Intact: ${verification.entries} entries, head #${verification.head.sequence} (${verification.head.hash.slice(0, 16)}…).`
              : `Broken at entry #${verification.firstBroken?.sequence}: ${verification.firstBroken?.reason}.`}
          </p>
        )}
      </section>
      <form
        class="inline-form filters"
        onSubmit={(event) => event.preventDefault()}
        aria-label="Filter the audit log"
      >
        <div class="field">
          <label for="audit-wallet">Wallet</label>
          <select
            id="audit-wallet"
            value={walletId}
            onChange={(event) => setWalletId(event.currentTarget.value)}
          >
            <option value="">All</option>
            {wallets.data?.map((wallet) => (
              <option key={wallet.id} value={wallet.id}>
                {wallet.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="audit-kind">Kind</label>
          <select id="audit-kind" value={kind} onChange={(event) => setKind(event.currentTarget.value)}>
            <option value="">All</option>
            {KINDS.map((item) => (
              <option key={item} value={item}>
                {item}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorBox error={first.error} title="Could not load the audit log" />
      {first.data === undefined && first.error === undefined && <Loading what="the audit log" />}
      {first.data && entries.length === 0 && <p>No entries match.</p>}
      {entries.length > 0 && (
        <TableBox label="Audit entries">
          <table class="audit">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Kind</th>
                <th scope="col">Who</th>
                <th scope="col">Details</th>
              </tr>
            </thead>
            <tbody>
              {entries.map((entry) => (
                <tr key={entry.sequence} data-entry={entry.sequence} data-kind={entry.kind}>
                  <td>{entry.sequence}</td>
                  <td>{formatTime(entry.at)}</td>
                  <td>{entry.kind}</td>
                  <td>{entry.actor.role}</td>
                  <td>
                    <code class="details">{JSON.stringify(entry.details)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      {older.cursor !== null && (
        <button type="button" onClick={loadOlder}>
          Load older entries
        </button>
      )}
    </>
  );
}
