/**
 * Delay before the next attempt after `attempt` failed ones (1-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so that receivers recovering from an outage are not hit by
 * every retry at the same instant, while the delay never drops below half its nominal value.
 */
export const retryDelayMs = (
  attempt: number,
  { baseMs, capMs }: { baseMs: number; capMs: number },
  random: () => number = Math.random,
): number => {
  const nominal = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(nominal / 2 + random() * (nominal / 2));
};
