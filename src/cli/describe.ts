/** How wallets, policies and transfers read in a terminal: human units, one fact per line. */
import type { Policy, Transfer, Wallet } from '../sdk/index.ts';
import { bold, green, red, yellow } from './ui.ts';
import { formatAmount } from './units.ts';

export const statusColour = (status: string): string =>
  ['active', 'confirmed', 'delivered'].includes(status)
    ? green(status)
    : ['frozen', 'failed', 'rejected', 'revoked'].includes(status)
      ? red(status)
      : yellow(status);

export const rows = (entries: readonly (readonly [string, string])[], width = 15): string =>
  entries.map(([label, value]) => `${bold(label.padEnd(width))} ${value}`).join('\n');

const duration = (seconds: number): string =>
  seconds % 3600 === 0 && seconds > 0
    ? `${seconds / 3600} h`
    : seconds % 60 === 0 && seconds > 0
      ? `${seconds / 60} min`
      : `${seconds} s`;

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/** One line per asset, then recipients, hours, rate and approvals. */
export function describePolicy(policy: Policy, decimals: ReadonlyMap<string, number> = new Map()): string[] {
  const lines = [`version ${policy.version}`];
  for (const [asset, limits] of Object.entries(policy.assets)) {
    const amount = (value: bigint) => formatAmount(asset, value, decimals.get(asset));
    const { tiers } = limits;
    lines.push(
      `${asset === 'SOL' ? 'SOL' : asset}: up to ${amount(limits.perTransaction)} a transfer, ${amount(limits.daily)} a day on its own; ` +
        `instant ≤ ${amount(tiers.instantMax)}, notify ≤ ${amount(tiers.notifyMax)}, ` +
        `delayed ${duration(tiers.delaySeconds)} ≤ ${amount(tiers.delayMax)}, above that your approval`,
    );
  }
  lines.push(
    policy.recipients.mode === 'any'
      ? 'recipients: any address'
      : `recipients: ${policy.recipients.addresses.length} allowed (${policy.recipients.addresses.join(', ')})`,
  );
  const days =
    policy.hours.days.length === 7
      ? 'every day'
      : [...policy.hours.days]
          .sort()
          .map((day) => WEEKDAYS[day] ?? String(day))
          .join(' ');
  lines.push(
    `hours: ${String(policy.hours.utc[0]).padStart(2, '0')}:00–${String(policy.hours.utc[1]).padStart(2, '0')}:00 UTC, ${days}; ` +
      `at most ${policy.rate.maxPerHour} transfers an hour; approvals expire after ${duration(policy.approvalTimeoutSeconds)}`,
  );
  return lines;
}

/** A frozen reason's facts as `: key value, …` (nothing when there are none). */
const describeFacts = (facts: Readonly<Record<string, unknown>>): string => {
  const parts = Object.entries(facts).map(
    ([key, value]) =>
      `${key} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value)}`,
  );
  return parts.length === 0 ? '' : `: ${parts.join(', ')}`;
};

export function describeWallet(wallet: Wallet, decimals?: ReadonlyMap<string, number>): string {
  const reason = wallet.frozenReason;
  const [first, ...rest] = describePolicy(wallet.policy, decimals);
  return rows([
    ['wallet', `${wallet.id} (${wallet.name})`],
    ['status', statusColour(wallet.status)],
    ...(wallet.status === 'frozen' && reason
      ? ([['frozen because', `${reason.code}${describeFacts(reason.detail)} (${reason.at})`]] as const)
      : []),
    ['address', `${wallet.vault}  (deposit here)`],
    ['multisig', wallet.multisig],
    ['owner key', wallet.ownerPublicKey],
    ['agent key', wallet.agentPublicKey ?? '-'],
    ['policy', first ?? ''],
    ...rest.map((line) => ['', line] as const),
  ]);
}

export function describeTransfer(transfer: Transfer, decimals?: number | null): string {
  return rows(
    [
      ['transfer', transfer.id],
      ['wallet', transfer.walletId],
      ['amount', formatAmount(transfer.asset, transfer.amount, decimals)],
      ['to', transfer.to],
      ['tier', transfer.tier],
      ['status', statusColour(transfer.status)],
      ...(transfer.memo ? ([['memo', transfer.memo]] as const) : []),
      ...(transfer.executeAfter ? ([['signed after', transfer.executeAfter]] as const) : []),
      ...(transfer.expiresAt ? ([['expires', transfer.expiresAt]] as const) : []),
      ...(transfer.signature ? ([['signature', transfer.signature]] as const) : []),
      ...(transfer.error ? ([['error', `${transfer.error.code}: ${transfer.error.message}`]] as const) : []),
      ['created', transfer.createdAt],
    ],
    12,
  );
}
