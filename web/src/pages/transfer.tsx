/** One transfer: every fact the API has about it; on the localnet, where its signature links to. */
import { Address, ErrorBox, Loading, Signature, Status } from '../components.tsx';
import { useFeed } from '../feed.tsx';
import { formatAmount, formatTime } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

export function TransferPage(props: { transferId: string }) {
  const { client, network } = useSession();
  const transfer = useLoad(() => client.transfers.get(props.transferId), [client, props.transferId]);
  useFeed((entry) => entry.subject === props.transferId, transfer.reload);
  const value = transfer.data;
  return (
    <>
      <h1 tabIndex={-1}>Transfer {value && <Status value={value.status} />}</h1>
      <ErrorBox error={transfer.error} title="Could not load this transfer" />
      {value === undefined && transfer.error === undefined && <Loading what="the transfer" />}
      {value && (
        <dl class="facts">
          <dt>Id</dt>
          <dd>
            <code>{value.id}</code>
          </dd>
          <dt>Wallet</dt>
          <dd>
            <a href={href.wallet(value.walletId)}>{value.walletId}</a>
          </dd>
          <dt>Amount</dt>
          <dd>{formatAmount(value.amount, value.asset)}</dd>
          <dt>To</dt>
          <dd>
            <Address value={value.to} full />
          </dd>
          <dt>Tier</dt>
          <dd>{value.tier}</dd>
          {value.memo && (
            <>
              <dt>Memo</dt>
              <dd>{value.memo}</dd>
            </>
          )}
          <dt>Signature</dt>
          <dd>{value.signature ? <Signature network={network} value={value.signature} /> : '—'}</dd>
          {value.proposalSignature && (
            <>
              <dt>Agent's proposal</dt>
              <dd>
                <Signature network={network} value={value.proposalSignature} />
              </dd>
            </>
          )}
          {value.executeAfter && (
            <>
              <dt>Signed after</dt>
              <dd>{formatTime(value.executeAfter)}</dd>
            </>
          )}
          {value.expiresAt && (
            <>
              <dt>Expires undecided at</dt>
              <dd>{formatTime(value.expiresAt)}</dd>
            </>
          )}
          {value.error && (
            <>
              <dt>Why</dt>
              <dd>
                {value.error.message} <code>{value.error.code}</code>
              </dd>
            </>
          )}
          <dt>Asked</dt>
          <dd>{formatTime(value.createdAt)}</dd>
          <dt>Last change</dt>
          <dd>{formatTime(value.updatedAt)}</dd>
        </dl>
      )}
    </>
  );
}
