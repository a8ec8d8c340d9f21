/**
 * One wallet: its status (and why when frozen), balances, spent against every limit at each layer side
 * by side, the worst case if everything off-chain failed, spending by tier, the transfer history, and
 * the kill switch with the result of each of its steps.
 */
import { useState } from 'preact/hooks';
import type {
  AuditEntry,
  FreezeResult,
  LayerOutcome,
  ResumeResult,
  Transfer,
  Usage,
  Wallet,
} from '../../../src/sdk/index.ts';
import { SpendingChart } from '../chart.tsx';
import {
  Address,
  ErrorBox,
  isWrongSecondFactor,
  Loading,
  Signature,
  Status,
  TableBox,
} from '../components.tsx';
import { useAsk } from '../dialogs.tsx';
import { useFeed } from '../feed.tsx';
import { type Decimals, formatAmount, formatTime, toBig } from '../format.ts';
import { useLoad } from '../load.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';
import { frozenReasonOf } from './wallets.tsx';

interface WalletView {
  wallet: Wallet;
  usage: Usage | undefined;
  usageError: unknown;
  balance: Awaited<ReturnType<ReturnType<typeof useSession>['client']['balance']>> | undefined;
  transfers: Transfer[];
  lastFreeze: AuditEntry | undefined;
  refusals: AuditEntry[];
}

export function WalletPage(props: { walletId: string }) {
  const { client } = useSession();
  const view = useLoad<WalletView>(async () => {
    const { walletId } = props;
    const [wallet, usage, balance, transfers, freezes, refusals] = await Promise.all([
      client.wallets.get(walletId),
      client.usage(walletId).then(
        (value) => ({ value, error: undefined }),
        (error: unknown) => ({ value: undefined, error }),
      ),
      client.balance(walletId).catch(() => undefined),
      client.transfers.list(walletId, { limit: 200 }).firstPage(),
      lastFreezeOf(client, walletId),
      client.audit.list({ walletId, kind: 'transfer.refused', limit: 20 }).firstPage(),
    ]);
    return {
      wallet,
      usage: usage.value,
      usageError: usage.error,
      balance,
      transfers: transfers.items,
      lastFreeze: freezes,
      refusals: refusals.items,
    };
  }, [client, props.walletId]);
  useFeed((entry) => entry.walletId === props.walletId, view.reload);

  if (view.data === undefined)
    return (
      <>
        <h1 tabIndex={-1}>Wallet</h1>
        <ErrorBox error={view.error} title="Could not load this wallet" />
        {view.error === undefined && <Loading what="the wallet" />}
      </>
    );
  const { wallet, usage, balance, transfers } = view.data;
  const decimals: Decimals = new Map(
    (balance?.tokens ?? []).flatMap((token) =>
      token.decimals === null ? [] : [[token.mint, token.decimals]],
    ),
  );
  return (
    <>
      <h1 tabIndex={-1}>
        {wallet.name} <Status value={wallet.status} />
      </h1>
      <ErrorBox error={view.error} title="Could not refresh this wallet" />
      {wallet.status === 'frozen' && <FrozenWhy wallet={wallet} lastFreeze={view.data.lastFreeze} />}
      <p class="links">
        <a href={href.policy(wallet.id)}>Policy (v{wallet.policy.version})</a>
        <a href={href.sessions(wallet.id)}>Agent sessions</a>
        <a href={`${href.audit()}?wallet=${encodeURIComponent(wallet.id)}`}>Audit entries</a>
      </p>
      <dl class="facts">
        <dt>Wallet address (deposit here)</dt>
        <dd>
          <Address value={wallet.vault} full />
        </dd>
        <dt>Agent key</dt>
        <dd>{wallet.agentPublicKey ? <Address value={wallet.agentPublicKey} /> : 'none'}</dd>
        <dt>Owner key</dt>
        <dd>
          <Address value={wallet.ownerPublicKey} />
        </dd>
      </dl>

      <section aria-labelledby="balances">
        <h2 id="balances">Balances</h2>
        <ul class="plain">
          <li data-balance="SOL">
            {balance ? formatAmount(balance.sol, 'SOL') : 'unknown (chain unreachable)'}
          </li>
          {balance?.tokens.map((token) => (
            <li key={token.mint} data-balance={token.mint}>
              {formatAmount(token.amount, token.mint, decimals)}{' '}
              {token.exists ? '' : '(no token account yet)'}
            </li>
          ))}
        </ul>
      </section>

      <UsageSection usage={usage} error={view.data.usageError} decimals={decimals} />
      <ExposureSection wallet={wallet} decimals={decimals} />

      <section aria-labelledby="spending">
        <h2 id="spending">Spending by tier</h2>
        <SpendingChart transfers={transfers} asset="SOL" unit={1e9} unitLabel="SOL" />
      </section>

      <KillSwitch wallet={wallet} onDone={view.reload} />
      <Refusals entries={view.data.refusals} decimals={decimals} />
      <TransferHistory transfers={transfers} decimals={decimals} />
    </>
  );
}

/** The newest freeze-related audit entry of the wallet: who froze it, when. */
async function lastFreezeOf(
  client: ReturnType<typeof useSession>['client'],
  walletId: string,
): Promise<AuditEntry | undefined> {
  const [owner, monitor] = await Promise.all([
    client.audit.list({ walletId, kind: 'owner.freeze', limit: 1 }).firstPage(),
    client.audit.list({ walletId, kind: 'monitor.alert', limit: 1 }).firstPage(),
  ]);
  const entries = [...owner.items, ...monitor.items].sort((a, b) =>
    Number(BigInt(b.sequence) - BigInt(a.sequence)),
  );
  return entries[0];
}

function FrozenWhy(props: { wallet: Wallet; lastFreeze: AuditEntry | undefined }) {
  const reason = frozenReasonOf(props.wallet);
  const entry = props.lastFreeze;
  const fromAudit =
    entry?.kind === 'monitor.alert'
      ? `the monitor froze it (rule ${String(entry.details.rule ?? 'unknown')}) at ${formatTime(entry.at)}`
      : entry?.kind === 'owner.freeze'
        ? `you froze it (kill switch) at ${formatTime(entry.at)}`
        : undefined;
  return (
    <p class="frozen-reason" role="status">
      <strong>Frozen.</strong> Why: {reason ?? fromAudit ?? 'not recorded'}. The agent can move nothing until
      you resume it.
    </p>
  );
}

function Meter(props: { spent: bigint | null; of: bigint | null; label: string }) {
  if (props.spent === null || props.of === null || props.of === 0n) return null;
  const value = Number((props.spent * 1000n) / props.of) / 1000;
  return (
    <meter
      min={0}
      max={1}
      low={0.7}
      high={0.9}
      optimum={0}
      value={Math.min(value, 1)}
      aria-label={props.label}
    />
  );
}

function UsageSection(props: { usage: Usage | undefined; error: unknown; decimals: Decimals }) {
  const { usage, decimals } = props;
  return (
    <section aria-labelledby="usage">
      <h2 id="usage">Spent and left today, at each layer</h2>
      <ErrorBox error={props.error} title="Could not read the usage" />
      {usage && !usage.enclave.available && (
        <p class="hint">The enclave could not be asked: {usage.enclave.error?.message ?? 'unavailable'}.</p>
      )}
      {usage && (
        <TableBox label="Spending per layer">
          <table class="usage">
            <thead>
              <tr>
                <th scope="col">Asset (daily limit)</th>
                <th scope="col">Server (L1)</th>
                <th scope="col">Enclave (L2)</th>
                <th scope="col">On chain (L3)</th>
              </tr>
            </thead>
            <tbody>
              {usage.assets.length === 0 && (
                <tr>
                  <td colSpan={4}>
                    No asset may be moved by the agent
                    {usage.status === 'frozen' ? ': the wallet is frozen' : ''}.
                  </td>
                </tr>
              )}
              {usage.assets.map((asset) => {
                const cell = (
                  layer: 'server' | 'enclave',
                  figures: { spent: bigint; remaining: bigint | null } | null,
                ) =>
                  figures === null ? (
                    <td data-layer={layer}>unknown</td>
                  ) : (
                    <td data-layer={layer}>
                      {formatAmount(figures.spent, asset.asset, decimals)} spent
                      <br />
                      {figures.remaining === null
                        ? '—'
                        : formatAmount(figures.remaining, asset.asset, decimals)}{' '}
                      left
                      <Meter
                        spent={figures.spent}
                        of={asset.daily}
                        label={`${layer} share of the daily limit used`}
                      />
                    </td>
                  );
                return (
                  <tr key={asset.asset} data-asset={asset.asset}>
                    <th scope="row">
                      {asset.asset === 'SOL' ? 'SOL' : <Address value={asset.asset} />}
                      <br />
                      <span class="hint">
                        {asset.daily === null
                          ? 'not in the policy'
                          : formatAmount(asset.daily, asset.asset, decimals)}
                      </span>
                    </th>
                    {cell('server', asset.server)}
                    {cell('enclave', asset.enclave)}
                    {asset.chain === null ? (
                      <td data-layer="chain">no spending limit</td>
                    ) : (
                      <td data-layer="chain">
                        {formatAmount(asset.chain.spent, asset.asset, decimals)} spent
                        <br />
                        <span data-chain-remaining={asset.chain.remaining.toString()}>
                          {formatAmount(asset.chain.remaining, asset.asset, decimals)} left
                        </span>{' '}
                        of{' '}
                        <span data-chain-amount={asset.chain.amount.toString()}>
                          {formatAmount(asset.chain.amount, asset.asset, decimals)}
                        </span>
                        <Meter
                          spent={asset.chain.spent}
                          of={asset.chain.amount}
                          label="on-chain share of the limit used"
                        />
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}

function ExposureSection(props: { wallet: Wallet; decimals: Decimals }) {
  const exposure = props.wallet.exposure as
    | {
        error?: { message: string };
        assets: { asset: string; remaining: unknown; balance: unknown; atRisk: unknown; perDay: unknown }[];
        limits: {
          asset: string;
          period: string;
          amount: unknown;
          remaining: unknown;
          nextResetAt: number | null;
          destinations: string[];
        }[];
      }
    | undefined;
  return (
    <section aria-labelledby="exposure">
      <h2 id="exposure">Worst case today</h2>
      <p class="hint">
        What could leave without you if the daemon, the enclave and the agent were all compromised: what the
        on-chain spending limits still allow, capped by what the vault holds.
      </p>
      {exposure?.error && (
        <p class="field-error">
          The chain could not be read: {exposure.error.message}. The figures are unknown, not zero.
        </p>
      )}
      {exposure && !exposure.error && exposure.assets.length === 0 && (
        <p>Nothing: no spending limit is left on chain.</p>
      )}
      {exposure && !exposure.error && exposure.assets.length > 0 && (
        <ul class="plain">
          {exposure.assets.map((asset) => (
            <li key={asset.asset} data-exposure={asset.asset}>
              <strong>{formatAmount(toBig(asset.atRisk), asset.asset, props.decimals)}</strong> at risk now
              (limit left {formatAmount(toBig(asset.remaining), asset.asset, props.decimals)}, vault holds{' '}
              {formatAmount(toBig(asset.balance), asset.asset, props.decimals)}); at most{' '}
              {formatAmount(toBig(asset.perDay), asset.asset, props.decimals)} in any one day.
            </li>
          ))}
        </ul>
      )}
      {exposure && exposure.limits.length > 0 && (
        <p class="hint">
          {exposure.limits.map((limit) => (
            <span key={`${limit.asset}-${limit.period}`}>
              On-chain limit for {limit.asset === 'SOL' ? 'SOL' : limit.asset}:{' '}
              {formatAmount(toBig(limit.amount), limit.asset, props.decimals)} per {limit.period}, to{' '}
              {limit.destinations.length === 0
                ? 'any address'
                : `${limit.destinations.length} allowed addresses`}
              {limit.nextResetAt
                ? `, refills ${formatTime(new Date(limit.nextResetAt * 1000).toISOString())}`
                : ''}
              .{' '}
            </span>
          ))}
        </p>
      )}
    </section>
  );
}

function Outcome(props: {
  name: string;
  outcome: LayerOutcome & { policyVersion?: number };
  network: string;
}) {
  const { outcome } = props;
  return (
    <li data-step={props.name}>
      <strong>{props.name}</strong>: <Status value={outcome.status} />
      {outcome.policyVersion !== undefined && <> (policy v{outcome.policyVersion})</>}
      {outcome.signature && (
        <>
          {' '}
          signature <Signature network={props.network} value={outcome.signature} />
        </>
      )}
      {outcome.error && (
        <span class="field-error">
          {' '}
          {outcome.error.message} <code>{outcome.error.code}</code>
        </span>
      )}
    </li>
  );
}

function KillSwitch(props: { wallet: Wallet; onDone: () => void }) {
  const { client, network } = useSession();
  const ask = useAsk();
  const [result, setResult] = useState<
    | { kind: 'freeze'; value: FreezeResult & { pending: boolean } }
    | { kind: 'resume'; value: ResumeResult }
    | undefined
  >();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const { wallet } = props;

  const act = async (kind: 'freeze' | 'resume') => {
    const answer = await ask(
      kind === 'freeze'
        ? {
            title: `Freeze ${wallet.name}?`,
            body: (
              <p>
                The server blocks <strong>{wallet.name}</strong> at once and cancels its waiting transfers;
                then the enclave stops signing for it and one owner transaction removes the agent and its
                spending limits on chain.
              </p>
            ),
            confirm: `Freeze ${wallet.name}`,
            secondFactor: 'required',
            danger: true,
          }
        : {
            title: `Resume ${wallet.name}?`,
            body: (
              <p>
                The agent key, threshold 2 and the spending limits of the policy in force go back on chain,
                with no more left today than when it was frozen.
              </p>
            ),
            confirm: `Resume ${wallet.name}`,
            secondFactor: 'required',
          },
    );
    if (answer === null) return;
    setBusy(true);
    setError(undefined);
    try {
      const call = { ownerUnlock: answer.unlock };
      if (kind === 'freeze') setResult({ kind, value: await client.wallets.freeze(wallet.id, call) });
      else setResult({ kind, value: await client.wallets.resume(wallet.id, {}, call) });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      props.onDone();
    }
  };

  const wrongFactor = isWrongSecondFactor(error);
  return (
    <section aria-labelledby="kill-switch" class="kill-switch">
      <h2 id="kill-switch">Kill switch</h2>
      {wallet.status === 'frozen' ? (
        <button type="button" class="primary" disabled={busy} onClick={() => act('resume')}>
          Resume {wallet.name}
        </button>
      ) : (
        <button
          type="button"
          class="danger"
          disabled={busy || wallet.status !== 'active'}
          onClick={() => act('freeze')}
        >
          Freeze {wallet.name}
        </button>
      )}
      {busy && <p aria-live="polite">Working… the chain step takes a moment.</p>}
      <ErrorBox
        error={error}
        title={wrongFactor ? 'Wrong second factor: nothing changed' : 'The act did not complete'}
      />
      {result?.kind === 'freeze' && (
        <div class="result" role="status" aria-label="Freeze result">
          <p>
            {wallet.name} is frozen
            {result.value.pending ? '; a step is still pending: freeze again to finish it' : ''}.
          </p>
          <ol class="steps">
            <li data-step="server">
              <strong>server</strong>: <Status value={result.value.server.changed ? 'done' : 'unchanged'} /> —
              blocked
              {result.value.server.cancelledTransfers.length > 0 &&
                `, ${result.value.server.cancelledTransfers.length} waiting transfer(s) cancelled`}
              {result.value.server.inFlightTransfers.length > 0 &&
                `, ${result.value.server.inFlightTransfers.length} already signing (they finish on their own)`}
            </li>
            <Outcome name="enclave" outcome={result.value.enclave} network={network} />
            <Outcome name="chain" outcome={result.value.chain} network={network} />
          </ol>
        </div>
      )}
      {result?.kind === 'resume' && (
        <div class="result" role="status" aria-label="Resume result">
          <p>
            {wallet.name} is active again under policy v{result.value.policyVersion}.
          </p>
          <ol class="steps">
            <Outcome name="chain" outcome={result.value.chain} network={network} />
            <Outcome name="enclave" outcome={result.value.enclave} network={network} />
          </ol>
        </div>
      )}
    </section>
  );
}

function TransferHistory(props: { transfers: Transfer[]; decimals: Decimals }) {
  const { network } = useSession();
  return (
    <section aria-labelledby="history">
      <h2 id="history">Transfers</h2>
      {props.transfers.length === 0 ? (
        <p>No transfers yet.</p>
      ) : (
        <TableBox label="Transfer history">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Status</th>
                <th scope="col">Tier</th>
                <th scope="col">Amount</th>
                <th scope="col">To</th>
                <th scope="col">Signature</th>
              </tr>
            </thead>
            <tbody>
              {props.transfers.map((transfer) => (
                <tr key={transfer.id} data-transfer={transfer.id}>
                  <td>
                    <a href={href.transfer(transfer.id)}>{formatTime(transfer.createdAt)}</a>
                  </td>
                  <td>
                    <Status value={transfer.status} />
                  </td>
                  <td>{transfer.tier}</td>
                  <td>{formatAmount(transfer.amount, transfer.asset, props.decimals)}</td>
                  <td>
                    <Address value={transfer.to} />
                  </td>
                  <td>
                    {transfer.signature ? (
                      <Signature network={network} value={transfer.signature} transferId={transfer.id} />
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}

/** What the policy layers refused the agent lately: the kill switch at work, or an agent probing. */
function Refusals(props: { entries: AuditEntry[]; decimals: Decimals }) {
  return (
    <section aria-labelledby="refusals">
      <h2 id="refusals">Refused requests</h2>
      {props.entries.length === 0 ? (
        <p>None: the layers have refused nothing the agent asked.</p>
      ) : (
        <TableBox label="Refused requests">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Refusal</th>
                <th scope="col">Layer</th>
                <th scope="col">Amount</th>
                <th scope="col">To</th>
              </tr>
            </thead>
            <tbody>
              {props.entries.map((entry) => {
                const asset = typeof entry.details.asset === 'string' ? entry.details.asset : 'SOL';
                const to = typeof entry.details.to === 'string' ? entry.details.to : undefined;
                return (
                  <tr key={entry.sequence} data-refusal={String(entry.details.code)}>
                    <td>{formatTime(entry.at)}</td>
                    <td>
                      <code>{String(entry.details.code)}</code>
                    </td>
                    <td>{String(entry.details.layer ?? '—')}</td>
                    <td>{formatAmount(entry.details.amount, asset, props.decimals)}</td>
                    <td>{to ? <Address value={to} /> : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}
