/** Small pieces every page uses: amounts, addresses, signatures, status badges, errors. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { WaiaasApiError } from '../../src/sdk/index.ts';
import { shortAddress, signatureHref } from './format.ts';

export function Address(props: { value: string; full?: boolean }) {
  return (
    <code class="address" title={props.value}>
      {props.full ? props.value : shortAddress(props.value)}
    </code>
  );
}

/** A signature, linked where it can be looked at (explorer, or the transfer's own page on localnet). */
export function Signature(props: { network: string; value: string; transferId?: string | undefined }) {
  const target = signatureHref(props.network, props.value, props.transferId);
  const text = <code class="signature">{props.value}</code>;
  if (target === undefined) return text;
  const external = target.startsWith('http');
  return (
    <a
      href={target}
      class="signature-link"
      {...(external ? { target: '_blank', rel: 'noopener noreferrer' } : {})}
      aria-label={`Transaction ${props.value}${external ? ' in the Solana explorer' : ''}`}
    >
      {text}
    </a>
  );
}

const statusTone: Record<string, string> = {
  active: 'good',
  confirmed: 'good',
  delivered: 'good',
  done: 'good',
  unchanged: 'good',
  frozen: 'bad',
  failed: 'bad',
  rejected: 'bad',
  revoked: 'muted',
  expired: 'muted',
  cancelled: 'muted',
  pending_approval: 'warn',
  delayed: 'warn',
  pending: 'warn',
};

export function Status(props: { value: string }) {
  return (
    <span class={`status status-${statusTone[props.value] ?? 'neutral'}`} data-status={props.value}>
      {props.value.replace('_', ' ')}
    </span>
  );
}

/** An API error as the owner needs it: what happened, its code, and what to do. */
export function ErrorBox(props: { error: unknown; title?: string }) {
  if (props.error === undefined || props.error === null) return null;
  const error = props.error;
  return (
    <div class="error-box" role="alert">
      <strong>{props.title ?? 'That did not work'}</strong>
      {error instanceof WaiaasApiError ? (
        <p>
          {error.detail || error.title} <code>{error.code}</code>
          {error.action && <span class="hint"> {error.action}</span>}
        </p>
      ) : (
        <p>{error instanceof Error ? error.message : String(error)}</p>
      )}
    </div>
  );
}

export function Loading(props: { what: string }) {
  return (
    <p class="loading" aria-live="polite">
      Loading {props.what}…
    </p>
  );
}

/** Wide tables scroll sideways inside their own box at phone width instead of widening the page. */
export function TableBox(props: { label: string; children: ComponentChildren }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be reachable by keyboard.
    <section class="table-box" aria-label={props.label} tabIndex={0}>
      {props.children}
    </section>
  );
}

export function CopyButton(props: { value: string; label: string }) {
  const [copied, setCopied] = useState<'yes' | 'failed' | undefined>();
  return (
    <button
      type="button"
      onClick={() =>
        navigator.clipboard.writeText(props.value).then(
          () => setCopied('yes'),
          () => setCopied('failed'),
        )
      }
    >
      {copied === 'yes' ? 'Copied' : copied === 'failed' ? 'Copy failed: select and copy' : props.label}
    </button>
  );
}

/** The owner's second factor was refused (a wrong passphrase or MFA code): nothing changed. */
export const isWrongSecondFactor = (error: unknown): boolean =>
  error instanceof WaiaasApiError &&
  (error.code === 'OWNER_UNLOCK_INVALID' || error.code === 'KEYSTORE_WRONG_PASSPHRASE');
