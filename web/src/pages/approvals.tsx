/**
 * The approvals inbox: every transfer waiting for the owner, with what the owner needs to decide in
 * seconds (amount, asset, recipient and whether it is new, the tier and why, the agent's recent
 * activity, time left), and the delayed transfers the owner may still cancel. It refreshes itself
 * from the live feed.
 */
import { useState } from 'preact/hooks';
import type { AuditEntry, RejectedTransfer, Transfer, Wallet } from '../../../src/sdk/index.ts';
import { Address, ErrorBox, isWrongSecondFactor, Loading, Signature, Status } from '../components.tsx';
import { useAsk } from '../dialogs.tsx';
import { useFeed } from '../feed.tsx';
import { formatAmount, formatTime, timeLeft } from '../format.ts';
import { useLoad, useNow } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

const DAY_MS = 86_400_000;

interface WalletContext {
  wallet: Wallet;
  transfers: Transfer[];
  refusals: AuditEntry[];
}

interface Inbox {
  pending: Transfer[];
  delayed: Transfer[];
  wallets: Map<string, WalletContext>;
}

type Decision = { action: 'approved' | 'rejected' | 'cancelled'; transfer: Transfer | RejectedTransfer };

export function ApprovalsPage() {
  const { client } = useSession();
  const inbox = useLoad<Inbox>(async () => {
    const [pending, wallets] = await Promise.all([
      client.approvals.list({ limit: 200 }).firstPage(),
      client.wallets.list().firstPage(),
    ]);
    const contexts = await Promise.all(
      wallets.items.map(async (wallet) => {
        const [transfers, refusals] = await Promise.all([
          client.transfers.list(wallet.id, { limit: 200 }).firstPage(),
          client.audit.list({ walletId: wallet.id, kind: 'transfer.refused', limit: 50 }).firstPage(),
        ]);
        return { wallet, transfers: transfers.items, refusals: refusals.items } satisfies WalletContext;
      }),
    );
    return {
      pending: pending.items,
      delayed: contexts.flatMap((context) =>
        context.transfers.filter((transfer) => transfer.status === 'delayed'),
      ),
      wallets: new Map(contexts.map((context) => [context.wallet.id, context])),
    };
  }, [client]);
  useFeed((entry) => entry.kind.startsWith('approval.') || entry.kind.startsWith('transfer.'), inbox.reload);

  const [decided, setDecided] = useState<Decision[]>([]);
  const remember = (decision: Decision) =>
    setDecided((previous) => [
      decision,
      ...previous.filter((item) => item.transfer.id !== decision.transfer.id),
    ]);

  return (
    <>
      <h1 tabIndex={-1}>Approvals</h1>
      <ErrorBox error={inbox.error} title="Could not load the inbox" />
      {inbox.data === undefined && inbox.error === undefined && <Loading what="the inbox" />}
      {decided.length > 0 && <Decided decisions={decided} />}
      {inbox.data && (
        <>
          <section aria-labelledby="waiting">
            <h2 id="waiting">Waiting for you ({inbox.data.pending.length})</h2>
            {inbox.data.pending.length === 0 && <p>Nothing waiting for your approval.</p>}
            <ul class="cards">
              {inbox.data.pending.map((transfer) => (
                <PendingCard
                  key={transfer.id}
                  transfer={transfer}
                  context={inbox.data?.wallets.get(transfer.walletId)}
                  onDecided={(decision) => {
                    remember(decision);
                    inbox.reload();
                  }}
                />
              ))}
            </ul>
          </section>
          <section aria-labelledby="delayed">
            <h2 id="delayed">
              Delayed: signed when the delay ends unless you cancel ({inbox.data.delayed.length})
            </h2>
            {inbox.data.delayed.length === 0 && <p>No delayed transfers.</p>}
            <ul class="cards">
              {inbox.data.delayed.map((transfer) => (
                <DelayedCard
                  key={transfer.id}
                  transfer={transfer}
                  context={inbox.data?.wallets.get(transfer.walletId)}
                  onDecided={(decision) => {
                    remember(decision);
                    inbox.reload();
                  }}
                />
              ))}
            </ul>
          </section>
        </>
      )}
    </>
  );
}

/** What the owner just decided, kept up to date until it settles (confirmed, with its signature). */
function Decided(props: { decisions: Decision[] }) {
  return (
    <section aria-labelledby="decided" class="decided">
      <h2 id="decided">Just decided</h2>
      <ul class="plain">
        {props.decisions.map((decision) => (
          <DecidedItem key={decision.transfer.id} decision={decision} />
        ))}
      </ul>
    </section>
  );
}

function DecidedItem(props: { decision: Decision }) {
  const { client, network } = useSession();
  const latest = useLoad(() => client.transfers.get(props.decision.transfer.id), [client, props.decision]);
  useFeed((entry) => entry.subject === props.decision.transfer.id, latest.reload);
  const transfer = latest.data ?? props.decision.transfer;
  const rejection = (props.decision.transfer as RejectedTransfer).rejectionSignature;
  return (
    <li data-decided={transfer.id}>
      You {props.decision.action} {formatAmount(transfer.amount, transfer.asset)} to{' '}
      <Address value={transfer.to} />: <Status value={transfer.status} />
      {transfer.signature && (
        <>
          {' '}
          signature <Signature network={network} value={transfer.signature} transferId={transfer.id} />
        </>
      )}
      {rejection && (
        <>
          {' '}
          voted down on chain <Signature network={network} value={rejection} />
        </>
      )}
    </li>
  );
}

function whyApproval(transfer: Transfer, wallet: Wallet | undefined): string {
  const limits = wallet?.policy.assets[transfer.asset];
  if (!limits) return 'above what the agent may move alone';
  return `above the delay ceiling of ${formatAmount(limits.tiers.delayMax, transfer.asset)} (policy v${wallet.policy.version}): anything larger needs you`;
}

function Activity(props: { transfer: Transfer; context: WalletContext | undefined; nowMs: number }) {
  const { context, transfer } = props;
  if (!context) return null;
  const recent = context.transfers.filter(
    (item) => item.id !== transfer.id && props.nowMs - new Date(item.createdAt).getTime() < DAY_MS,
  );
  const confirmed = recent.filter((item) => item.status === 'confirmed' && item.asset === transfer.asset);
  const total = confirmed.reduce((sum, item) => sum + item.amount, 0n);
  const refusals = context.refusals.filter((entry) => props.nowMs - new Date(entry.at).getTime() < DAY_MS);
  const last = recent[0];
  return (
    <p class="activity" data-activity={transfer.id}>
      Agent, last 24 h: {recent.length} other request{recent.length === 1 ? '' : 's'}, {confirmed.length}{' '}
      confirmed ({formatAmount(total, transfer.asset)}), {refusals.length} refused by policy
      {last && (
        <>
          ; latest {formatAmount(last.amount, last.asset)} to <Address value={last.to} /> (
          <Status value={last.status} />)
        </>
      )}
      .
    </p>
  );
}

function PendingCard(props: {
  transfer: Transfer;
  context: WalletContext | undefined;
  onDecided: (decision: Decision) => void;
}) {
  const { client } = useSession();
  const ask = useAsk();
  const now = useNow();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState<'approving' | 'rejecting' | undefined>();
  const { transfer, context } = props;
  const wallet = context?.wallet;
  const walletName = wallet?.name ?? transfer.walletId;
  const amount = formatAmount(transfer.amount, transfer.asset);
  const knownRecipient = context?.transfers.some(
    (item) => item.id !== transfer.id && item.to === transfer.to && item.status === 'confirmed',
  );

  const decide = async (action: 'approve' | 'reject') => {
    const answer = await ask({
      title:
        action === 'approve'
          ? `Approve ${amount} from ${walletName}?`
          : `Reject ${amount} from ${walletName}?`,
      body: (
        <p>
          {action === 'approve'
            ? 'Your Owner Key approves and executes the proposal on chain: the funds move now.'
            : 'The transfer is refused. With your second factor the proposal is also voted down on chain.'}{' '}
          Recipient: <Address value={transfer.to} full />
        </p>
      ),
      confirm: action === 'approve' ? `Approve ${amount}` : `Reject ${amount}`,
      secondFactor: action === 'approve' ? 'required' : 'optional',
      danger: action === 'reject',
    });
    if (answer === null) return;
    setBusy(action === 'approve' ? 'approving' : 'rejecting');
    setError(undefined);
    try {
      const call = { ownerUnlock: answer.unlock };
      const result =
        action === 'approve'
          ? await client.approvals.approve(transfer.id, call)
          : await client.approvals.reject(transfer.id, call);
      props.onDecided({ action: action === 'approve' ? 'approved' : 'rejected', transfer: result });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(undefined);
    }
  };

  const wrongFactor = isWrongSecondFactor(error);
  return (
    <li class="card pending" data-pending={transfer.id} aria-labelledby={`pending-${transfer.id}`}>
      <h3 id={`pending-${transfer.id}`}>
        {amount} from <a href={href.wallet(transfer.walletId)}>{walletName}</a>
      </h3>
      <dl class="facts">
        <dt>Asset</dt>
        <dd>{transfer.asset === 'SOL' ? 'SOL' : <Address value={transfer.asset} full />}</dd>
        <dt>Recipient</dt>
        <dd>
          <Address value={transfer.to} full />{' '}
          {knownRecipient ? (
            <span class="tag">paid before</span>
          ) : (
            <span class="tag tag-new" data-new-recipient>
              new recipient
            </span>
          )}
        </dd>
        <dt>Tier</dt>
        <dd>
          {transfer.tier}: {whyApproval(transfer, wallet)}
        </dd>
        <dt>Time left</dt>
        <dd data-time-left>
          {timeLeft(transfer.expiresAt, now)} (expires {formatTime(transfer.expiresAt)})
        </dd>
        {transfer.memo && (
          <>
            <dt>Memo</dt>
            <dd>{transfer.memo}</dd>
          </>
        )}
      </dl>
      <Activity transfer={transfer} context={context} nowMs={now} />
      <div class="actions">
        <button type="button" class="primary" disabled={busy !== undefined} onClick={() => decide('approve')}>
          {busy === 'approving' ? 'Approving…' : 'Approve'}
        </button>
        <button type="button" class="danger" disabled={busy !== undefined} onClick={() => decide('reject')}>
          {busy === 'rejecting' ? 'Rejecting…' : 'Reject'}
        </button>
      </div>
      <ErrorBox
        error={error}
        title={wrongFactor ? 'Wrong second factor: nothing changed' : 'That did not work'}
      />
    </li>
  );
}

function DelayedCard(props: {
  transfer: Transfer;
  context: WalletContext | undefined;
  onDecided: (decision: Decision) => void;
}) {
  const { client } = useSession();
  const ask = useAsk();
  const now = useNow();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { transfer } = props;
  const walletName = props.context?.wallet.name ?? transfer.walletId;
  const amount = formatAmount(transfer.amount, transfer.asset);
  const cancel = async () => {
    const answer = await ask({
      title: `Cancel ${amount} from ${walletName}?`,
      body: <p>The delayed transfer is never signed; the agent may ask again.</p>,
      confirm: `Cancel ${amount}`,
      secondFactor: 'none',
      danger: true,
    });
    if (answer === null) return;
    setBusy(true);
    setError(undefined);
    try {
      props.onDecided({ action: 'cancelled', transfer: await client.approvals.cancel(transfer.id) });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="card" data-delayed={transfer.id} aria-labelledby={`delayed-${transfer.id}`}>
      <h3 id={`delayed-${transfer.id}`}>
        {amount} from <a href={href.wallet(transfer.walletId)}>{walletName}</a>
      </h3>
      <p>
        To <Address value={transfer.to} full />; signed in{' '}
        <strong>{timeLeft(transfer.executeAfter, now)}</strong> ({formatTime(transfer.executeAfter)}).
      </p>
      <Activity transfer={transfer} context={props.context} nowMs={now} />
      <button type="button" class="danger" disabled={busy} onClick={cancel}>
        Cancel this transfer
      </button>
      <ErrorBox error={error} />
    </li>
  );
}
