/** The policy in sentences with UI amounts, for tool descriptions, `get_policy` and the policy resource. */
import type { AssetLimits, Policy } from '../sdk/index.ts';
import { amountText, assetLabel, type Decimals } from './units.ts';

const DAY_NAMES = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function assetLimitsText(asset: string, limits: AssetLimits, decimals: Decimals): string {
  const amount = (value: bigint) => amountText(value, asset, decimals);
  const { instantMax, notifyMax, delayMax, delaySeconds } = limits.tiers;
  const parts = [`instant up to ${amount(instantMax)}`];
  if (notifyMax > instantMax) parts.push(`up to ${amount(notifyMax)} at once with the owner notified`);
  if (delayMax > notifyMax)
    parts.push(`up to ${amount(delayMax)} after a ${delaySeconds} s delay (the owner may cancel)`);
  if (limits.perTransaction > delayMax) {
    parts.push(`up to ${amount(limits.perTransaction)} only with the owner's approval`);
  }
  parts.push(`never more than ${amount(limits.perTransaction)} in one transfer`);
  parts.push(`${amount(limits.daily)} per rolling day without approval`);
  return `${assetLabel(asset)}: ${parts.join('; ')}.`;
}

export function recipientsText(policy: Policy): string {
  if (policy.recipients.mode === 'any') return 'Recipients: any address.';
  const { addresses } = policy.recipients;
  const shown = addresses.slice(0, 10).join(', ');
  const more = addresses.length > 10 ? ` and ${addresses.length - 10} more` : '';
  return `Recipients: only these ${addresses.length} address${addresses.length === 1 ? '' : 'es'}: ${shown}${more}.`;
}

export function hoursText(policy: Policy): string {
  const [start, end] = policy.hours.utc;
  const days =
    policy.hours.days.length === 7
      ? 'every day'
      : [...policy.hours.days]
          .sort()
          .map((day) => DAY_NAMES[day])
          .join(', ');
  const hours = start === 0 && end === 24 ? 'at any hour' : `from ${start}:00 to ${end}:00 UTC`;
  return `Hours: ${hours}, ${days}.`;
}

/** Every rule of the policy, one per line. */
export function policyText(policy: Policy, decimals: Decimals): string {
  const assets = Object.entries(policy.assets).map(([asset, limits]) =>
    assetLimitsText(asset, limits, decimals),
  );
  return [
    `Policy version ${policy.version}.`,
    ...(assets.length > 0 ? assets : ['No asset may be moved (the wallet may be frozen).']),
    'Any other asset cannot be sent.',
    recipientsText(policy),
    hoursText(policy),
    `Rate: at most ${policy.rate.maxPerHour} transfers per hour.`,
    `Transfers needing approval expire after ${policy.approvalTimeoutSeconds} s without the owner's decision.`,
  ].join('\n');
}
