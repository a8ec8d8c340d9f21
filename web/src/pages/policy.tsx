/**
 * The policy editor: a form and the JSON it writes side by side (either can be edited), the errors of
 * the daemon's own schema next to their fields, a diff against the policy in force, what signing does
 * on chain, then the owner signs (second factor) and the result of each layer is shown, with the
 * on-chain limit read back.
 */
import { useMemo, useState } from 'preact/hooks';
import {
  type PolicyChangeResult,
  policyToWire,
  type Usage,
  WaiaasApiError,
  type WalletPolicy,
  type WirePolicy,
} from '../../../src/sdk/index.ts';
import { ErrorBox, Loading, Signature, Status, TableBox } from '../components.tsx';
import { useAsk } from '../dialogs.tsx';
import { formatAmount, toBig } from '../format.ts';
import { useLoad } from '../load.ts';
import {
  type ChainEffect,
  chainEffects,
  type Draft,
  diffPolicies,
  getAt,
  type Issue,
  type Json,
  numberFromText,
  placeIssues,
  setAt,
  validateDraft,
} from '../policy-model.ts';
import { href } from '../router.ts';
import { useSession } from '../session.ts';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

const fieldId = (path: string) => `policy-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;

interface Loaded {
  policy: WalletPolicy;
  usage: Usage | undefined;
  walletName: string;
}

export function PolicyPage(props: { walletId: string }) {
  const { client } = useSession();
  const loaded = useLoad<Loaded>(async () => {
    const [policy, usage, wallet] = await Promise.all([
      client.policy.get(props.walletId),
      client.usage(props.walletId).catch(() => undefined),
      client.wallets.get(props.walletId),
    ]);
    return { policy, usage, walletName: wallet.name };
  }, [client, props.walletId]);

  const { network } = useSession();
  const [lastResult, setLastResult] = useState<(PolicyChangeResult & { pending: boolean }) | undefined>();

  if (loaded.data === undefined)
    return (
      <>
        <h1 tabIndex={-1}>Policy</h1>
        <ErrorBox error={loaded.error} title="Could not load the policy" />
        {loaded.error === undefined && <Loading what="the policy" />}
      </>
    );
  return (
    <>
      <h1 tabIndex={-1}>
        Policy of <a href={href.wallet(props.walletId)}>{loaded.data.walletName}</a>
      </h1>
      <p>
        In force:{' '}
        <strong data-version-in-force={loaded.data.policy.version}>v{loaded.data.policy.version}</strong>{' '}
        <Status value={loaded.data.policy.status} />. Amounts are base units (lamports for SOL: 1 SOL =
        1,000,000,000).
      </p>
      <OnChainNow usage={loaded.data.usage} />
      {lastResult && <PolicyResult result={lastResult} network={network} />}
      <Editor
        // A new policy in force starts a new draft from it.
        key={`${loaded.data.policy.version}`}
        walletId={props.walletId}
        loaded={loaded.data}
        onSigned={(result) => {
          setLastResult(result);
          loaded.reload();
        }}
      />
    </>
  );
}

/** The spending limits as the chain holds them now: read back after every change. */
function OnChainNow(props: { usage: Usage | undefined }) {
  if (!props.usage) return <p class="hint">The on-chain limits could not be read.</p>;
  return (
    <ul class="plain on-chain-now" aria-label="Spending limits on chain now">
      {props.usage.assets.map((asset) => (
        <li
          key={asset.asset}
          data-chain-limit={asset.asset}
          data-amount={asset.chain?.amount.toString() ?? ''}
        >
          On chain now, {asset.asset === 'SOL' ? 'SOL' : asset.asset}:{' '}
          {asset.chain
            ? `limit ${formatAmount(asset.chain.amount, asset.asset)} a day, ${formatAmount(asset.chain.remaining, asset.asset)} left today`
            : 'no spending limit'}
        </li>
      ))}
    </ul>
  );
}

function Editor(props: {
  walletId: string;
  loaded: Loaded;
  onSigned: (result: PolicyChangeResult & { pending: boolean }) => void;
}) {
  const { client } = useSession();
  const ask = useAsk();
  const inForce = useMemo(() => policyToWire(props.loaded.policy.policy) as unknown as Draft, [props.loaded]);
  const versionInForce = props.loaded.policy.version;
  const [draft, setDraft] = useState<Draft>(() => ({
    ...structuredClone(inForce),
    version: versionInForce + 1,
  }));
  const [jsonText, setJsonText] = useState(() => JSON.stringify(draft, null, 2));
  const [jsonError, setJsonError] = useState<string | undefined>();
  const [serverIssues, setServerIssues] = useState<Issue[]>([]);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const update = (next: Draft) => {
    setDraft(next);
    setJsonText(JSON.stringify(next, null, 2));
    setJsonError(undefined);
    setServerIssues([]);
  };
  const onJson = (text: string) => {
    setJsonText(text);
    setServerIssues([]);
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new Error('The policy is a JSON object.');
      setDraft(parsed as Draft);
      setJsonError(undefined);
    } catch (caught) {
      setJsonError(caught instanceof Error ? caught.message : String(caught));
    }
  };

  const assets = Object.keys((getAt(draft, ['assets']) ?? {}) as object);
  const shown = useMemo(() => {
    const paths = new Set([
      'version',
      'recipients',
      'recipients.mode',
      'recipients.addresses',
      'hours',
      'hours.utc',
    ]);
    for (const path of [
      'hours.utc.0',
      'hours.utc.1',
      'hours.days',
      'rate',
      'rate.maxPerHour',
      'approvalTimeoutSeconds',
      'assets',
    ])
      paths.add(path);
    for (const asset of assets) {
      paths.add(`assets.${asset}`);
      for (const field of [
        'perTransaction',
        'daily',
        'tiers',
        'tiers.instantMax',
        'tiers.notifyMax',
        'tiers.delayMax',
        'tiers.delaySeconds',
      ])
        paths.add(`assets.${asset}.${field}`);
    }
    return paths;
  }, [assets.join(',')]);
  const issues =
    jsonError === undefined ? [...validateDraft(draft, versionInForce), ...serverIssues] : serverIssues;
  const placed = placeIssues(issues, shown);
  const changes = diffPolicies(inForce, draft);
  const spent = new Map(
    (props.loaded.usage?.assets ?? []).flatMap((asset) =>
      asset.chain ? [[asset.asset, asset.chain.spent]] : [],
    ),
  );
  const effects = chainEffects(inForce, draft, spent);
  const canSign =
    jsonError === undefined && issues.length === 0 && changes.some((change) => change.path !== 'version');
  const version = getAt(draft, ['version']);

  const sign = async () => {
    const answer = await ask({
      title: `Sign policy v${String(version)} for ${props.loaded.walletName}?`,
      body: (
        <p>
          Your Owner Key signs the policy for the enclave and, as config authority, replaces the on-chain
          spending limits in one transaction.
        </p>
      ),
      confirm: `Sign v${String(version)}`,
      secondFactor: 'required',
    });
    if (answer === null) return;
    setBusy(true);
    setError(undefined);
    try {
      props.onSigned(
        await client.policy.set(props.walletId, draft as unknown as WirePolicy, {
          ownerUnlock: answer.unlock,
        }),
      );
    } catch (caught) {
      if (
        caught instanceof WaiaasApiError &&
        caught.code === 'VALIDATION_FAILED' &&
        Array.isArray(caught.details?.issues)
      )
        setServerIssues(caught.details.issues as Issue[]);
      else if (caught instanceof WaiaasApiError && caught.code === 'POLICY_VERSION_NOT_NEWER')
        setServerIssues([{ path: 'version', message: caught.detail }]);
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const field = (path: string) => ({ path, issues: placed.get(path) });
  const set = (path: string[], value: Json | undefined) => update(setAt(draft, path, value));

  return (
    <div class="policy-editor">
      <form class="policy-form" aria-label="Policy form" onSubmit={(event) => event.preventDefault()}>
        <TextField
          label="Version"
          {...field('version')}
          value={version}
          onInput={(text) => set(['version'], numberFromText(text))}
        />
        {assets.map((asset) => (
          <fieldset key={asset} data-asset={asset}>
            <legend>{asset === 'SOL' ? 'SOL' : `Token ${asset}`}</legend>
            <FieldIssues {...field(`assets.${asset}`)} />
            {(['perTransaction', 'daily'] as const).map((name) => (
              <AmountField
                key={name}
                asset={asset}
                label={name === 'daily' ? 'Daily budget (on-chain limit)' : 'Largest single transfer'}
                draft={draft}
                fieldPath={['assets', asset, name]}
                issues={placed.get(`assets.${asset}.${name}`)}
                onInput={set}
              />
            ))}
            <FieldIssues {...field(`assets.${asset}.tiers`)} />
            {(['instantMax', 'notifyMax', 'delayMax'] as const).map((name) => (
              <AmountField
                key={name}
                asset={asset}
                label={
                  {
                    instantMax: 'Instant up to',
                    notifyMax: 'Notify up to',
                    delayMax: 'Delay up to (above: your approval)',
                  }[name]
                }
                draft={draft}
                fieldPath={['assets', asset, 'tiers', name]}
                issues={placed.get(`assets.${asset}.tiers.${name}`)}
                onInput={set}
              />
            ))}
            <TextField
              label="Delay (seconds)"
              {...field(`assets.${asset}.tiers.delaySeconds`)}
              value={getAt(draft, ['assets', asset, 'tiers', 'delaySeconds'])}
              onInput={(text) => set(['assets', asset, 'tiers', 'delaySeconds'], numberFromText(text))}
            />
          </fieldset>
        ))}
        <FieldIssues {...field('assets')} />
        <fieldset>
          <legend>Recipients</legend>
          <FieldIssues {...field('recipients')} />
          <div class="field">
            <label for={fieldId('recipients.mode')}>Who the agent may pay</label>
            <select
              id={fieldId('recipients.mode')}
              value={String(getAt(draft, ['recipients', 'mode']) ?? '')}
              onChange={(event) => {
                const mode = (event.currentTarget as HTMLSelectElement).value;
                set(['recipients'], mode === 'allowlist' ? { mode, addresses: [] } : { mode });
              }}
            >
              <option value="any">Any address</option>
              <option value="allowlist">Only the allowlist</option>
            </select>
          </div>
          {getAt(draft, ['recipients', 'mode']) === 'allowlist' && (
            <TextArea
              label="Allowlist (one address per line)"
              {...field('recipients.addresses')}
              value={((getAt(draft, ['recipients', 'addresses']) ?? []) as Json[]).join('\n')}
              onInput={(text) =>
                set(
                  ['recipients', 'addresses'],
                  text
                    .split('\n')
                    .map((line) => line.trim())
                    .filter((line) => line !== ''),
                )
              }
            />
          )}
        </fieldset>
        <fieldset>
          <legend>Hours (UTC)</legend>
          <FieldIssues {...field('hours')} />
          <FieldIssues {...field('hours.utc')} />
          <div class="row">
            <TextField
              label="From hour"
              {...field('hours.utc.0')}
              value={getAt(draft, ['hours', 'utc', '0'])}
              onInput={(text) => set(['hours', 'utc', '0'], numberFromText(text))}
            />
            <TextField
              label="Until hour"
              {...field('hours.utc.1')}
              value={getAt(draft, ['hours', 'utc', '1'])}
              onInput={(text) => set(['hours', 'utc', '1'], numberFromText(text))}
            />
          </div>
          <fieldset
            class="days"
            aria-describedby={placed.get('hours.days') ? `${fieldId('hours.days')}-error` : undefined}
          >
            <legend>Days</legend>
            {DAYS.map((day, index) => {
              const days = ((getAt(draft, ['hours', 'days']) ?? []) as Json[]).filter(
                (item): item is number => typeof item === 'number',
              );
              return (
                <label key={day} class="check">
                  <input
                    type="checkbox"
                    checked={days.includes(index)}
                    onChange={(event) => {
                      const on = (event.currentTarget as HTMLInputElement).checked;
                      set(
                        ['hours', 'days'],
                        on ? [...days, index].sort() : days.filter((item) => item !== index),
                      );
                    }}
                  />{' '}
                  {day}
                </label>
              );
            })}
            <FieldIssues {...field('hours.days')} />
          </fieldset>
        </fieldset>
        <FieldIssues {...field('rate')} />
        <TextField
          label="Transfers per hour at most"
          {...field('rate.maxPerHour')}
          value={getAt(draft, ['rate', 'maxPerHour'])}
          onInput={(text) => set(['rate', 'maxPerHour'], numberFromText(text))}
        />
        <TextField
          label="Approval expires after (seconds)"
          {...field('approvalTimeoutSeconds')}
          value={getAt(draft, ['approvalTimeoutSeconds'])}
          onInput={(text) => set(['approvalTimeoutSeconds'], numberFromText(text))}
        />
      </form>
      <div class="policy-json">
        <label for="policy-json">The policy as JSON (what you sign)</label>
        <textarea
          id="policy-json"
          spellcheck={false}
          rows={24}
          value={jsonText}
          aria-invalid={jsonError !== undefined || placed.has('')}
          aria-describedby="policy-json-error"
          onInput={(event) => onJson((event.currentTarget as HTMLTextAreaElement).value)}
        />
        <div id="policy-json-error">
          {jsonError && (
            <p class="field-error" role="alert">
              Not valid JSON: {jsonError}
            </p>
          )}
          {placed.get('')?.map((message) => (
            <p key={message} class="field-error">
              {message}
            </p>
          ))}
        </div>
      </div>
      <section class="policy-review" aria-labelledby="policy-diff">
        <h2 id="policy-diff">Changes against v{versionInForce}</h2>
        <Diff changes={changes} />
        <h2>What it does on chain</h2>
        <ChainEffects effects={effects} />
        <ErrorBox error={error} title="The policy was not put in force" />
        <button
          type="button"
          class="primary"
          disabled={!canSign || busy}
          onClick={sign}
          aria-describedby="sign-note"
        >
          {busy ? 'Signing…' : `Sign and put v${String(version)} in force`}
        </button>
        <p id="sign-note" class="hint">
          {issues.length > 0 || jsonError
            ? 'Fix the errors shown beside their fields first.'
            : changes.every((change) => change.path === 'version')
              ? 'Nothing changed yet.'
              : 'You will be asked for your second factor.'}
        </p>
      </section>
    </div>
  );
}

function FieldIssues(props: { path: string; issues: string[] | undefined }) {
  if (!props.issues?.length) return null;
  return (
    <div id={`${fieldId(props.path)}-error`} class="field-error" data-error-for={props.path}>
      {props.issues.map((message) => (
        <p key={message}>{message}</p>
      ))}
    </div>
  );
}

function TextField(props: {
  label: string;
  path: string;
  issues: string[] | undefined;
  value: Json | undefined;
  onInput: (text: string) => void;
}) {
  const id = fieldId(props.path);
  const invalid = (props.issues?.length ?? 0) > 0;
  return (
    <div class="field" data-field={props.path}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        value={props.value === undefined || props.value === null ? '' : String(props.value)}
        aria-invalid={invalid}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onInput={(event) => props.onInput((event.currentTarget as HTMLInputElement).value)}
      />
      <FieldIssues path={props.path} issues={props.issues} />
    </div>
  );
}

function AmountField(props: {
  asset: string;
  label: string;
  draft: Draft;
  fieldPath: string[];
  issues: string[] | undefined;
  onInput: (path: string[], value: Json) => void;
}) {
  const path = props.fieldPath.join('.');
  const value = getAt(props.draft, props.fieldPath);
  const amount = toBig(value);
  const id = fieldId(path);
  const invalid = (props.issues?.length ?? 0) > 0;
  return (
    <div class="field" data-field={path}>
      <label for={id}>{props.label}</label>
      <input
        id={id}
        type="text"
        inputMode="numeric"
        value={value === undefined || value === null ? '' : String(value)}
        aria-invalid={invalid}
        aria-describedby={`${id}-hint${invalid ? ` ${id}-error` : ''}`}
        onInput={(event) => props.onInput(props.fieldPath, (event.currentTarget as HTMLInputElement).value)}
      />
      <span id={`${id}-hint`} class="hint">
        {amount !== null && amount > 0n && props.asset === 'SOL'
          ? `= ${formatAmount(amount, 'SOL')}`
          : 'base units'}
      </span>
      <FieldIssues path={path} issues={props.issues} />
    </div>
  );
}

function TextArea(props: {
  label: string;
  path: string;
  issues: string[] | undefined;
  value: string;
  onInput: (text: string) => void;
}) {
  const id = fieldId(props.path);
  const invalid = (props.issues?.length ?? 0) > 0;
  return (
    <div class="field" data-field={props.path}>
      <label for={id}>{props.label}</label>
      <textarea
        id={id}
        rows={4}
        spellcheck={false}
        value={props.value}
        aria-invalid={invalid}
        aria-describedby={invalid ? `${id}-error` : undefined}
        onChange={(event) => props.onInput((event.currentTarget as HTMLTextAreaElement).value)}
      />
      <FieldIssues path={props.path} issues={props.issues} />
    </div>
  );
}

function Diff(props: { changes: ReturnType<typeof diffPolicies> }) {
  if (props.changes.length === 0) return <p>No changes.</p>;
  return (
    <TableBox label="Changes">
      <table class="diff">
        <thead>
          <tr>
            <th scope="col">Field</th>
            <th scope="col">In force</th>
            <th scope="col">New</th>
          </tr>
        </thead>
        <tbody>
          {props.changes.map((change) => (
            <tr key={change.path} data-change={change.path}>
              <th scope="row">
                <code>{change.path}</code>
              </th>
              <td>
                <del>{change.before ?? '—'}</del>
              </td>
              <td>
                <ins>{change.after ?? '—'}</ins>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}

const effectText = (effect: ChainEffect): string => {
  const amount = (value: bigint | undefined) =>
    value === undefined ? '—' : formatAmount(value, effect.asset);
  const asset = effect.asset === 'SOL' ? 'SOL' : `token ${effect.asset}`;
  switch (effect.kind) {
    case 'added':
      return `A new spending limit for ${asset}: ${amount(effect.dailyAfter)} a day.`;
    case 'removed':
      return `The spending limit for ${asset} is removed: the agent can no longer move it alone.`;
    case 'changed':
      return `The ${asset} limit goes from ${amount(effect.dailyBefore)} to ${amount(effect.dailyAfter)} a day; what is left today on chain goes from ${amount(effect.remainingBefore)} to ${amount(effect.remainingAfter)} (what was spent today stays spent).`;
    case 'destinations':
      return `The ${asset} limit may pay ${effect.destinationsAfter} instead of ${effect.destinationsBefore}.`;
  }
};

function ChainEffects(props: { effects: ChainEffect[] }) {
  return (
    <ul class="plain chain-effects">
      {props.effects.length === 0 ? (
        <li>
          No on-chain change: the server and the enclave take the new rules; the spending limits stay as they
          are.
        </li>
      ) : (
        props.effects.map((effect) => (
          <li key={`${effect.asset}-${effect.kind}`} data-effect={effect.kind}>
            {effectText(effect)}
          </li>
        ))
      )}
      <li>
        The enclave gets the policy signed by your Owner Key and checks every later transfer against it.
      </li>
    </ul>
  );
}

function PolicyResult(props: { result: PolicyChangeResult & { pending: boolean }; network: string }) {
  const { result } = props;
  return (
    <div class="result" role="status" aria-label="Policy result">
      <p>
        Policy v{result.policyVersion} is{' '}
        {result.pending ? 'signed; the chain step is pending: sign again to finish it' : 'in force'}.
      </p>
      <ol class="steps">
        {(['enclave', 'chain'] as const).map((layer) => (
          <li key={layer} data-step={layer}>
            <strong>{layer}</strong>: <Status value={result[layer].status} />
            {result[layer].signature && (
              <>
                {' '}
                signature <Signature network={props.network} value={result[layer].signature ?? ''} />
              </>
            )}
            {result[layer].error && <span class="field-error"> {result[layer].error?.message}</span>}
          </li>
        ))}
      </ol>
    </div>
  );
}
