/**
 * Spending over time by tier: cumulative confirmed amounts of one asset over the last day, one line
 * per tier, drawn by uPlot on a canvas (no inline styles or scripts, so it runs under the strict CSP).
 * The totals are also written out as text beside it for anyone who cannot see the chart.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Tier, Transfer } from '../../src/sdk/index.ts';
import { formatAmount } from './format.ts';

const TIERS: readonly Tier[] = ['instant', 'notify', 'delay', 'approval'];
const COLOURS: Record<Tier, string> = {
  instant: '#2f7d32',
  notify: '#1565c0',
  delay: '#b26a00',
  approval: '#8e24aa',
};

const DAY_S = 86_400;

export interface SpendingSeries {
  readonly times: number[];
  readonly byTier: Record<Tier, number[]>;
  readonly totals: Record<Tier, bigint>;
}

/** Cumulative spending per tier at each confirmed transfer of `asset` within the day before `nowS`. */
export function spendingSeries(transfers: readonly Transfer[], asset: string, nowS: number, unit: number) {
  const from = nowS - DAY_S;
  const spent = transfers
    .filter((transfer) => transfer.status === 'confirmed' && transfer.asset === asset)
    .map((transfer) => ({ at: Math.floor(new Date(transfer.updatedAt).getTime() / 1000), transfer }))
    .filter(({ at }) => at >= from)
    .sort((a, b) => a.at - b.at);
  const totals: Record<Tier, bigint> = { instant: 0n, notify: 0n, delay: 0n, approval: 0n };
  const times = [from];
  const byTier = Object.fromEntries(TIERS.map((tier) => [tier, [0]])) as Record<Tier, number[]>;
  for (const { at, transfer } of spent) {
    totals[transfer.tier] += transfer.amount;
    times.push(at);
    for (const tier of TIERS) byTier[tier].push(Number(totals[tier]) / unit);
  }
  times.push(nowS);
  for (const tier of TIERS) byTier[tier].push(Number(totals[tier]) / unit);
  return { times, byTier, totals } satisfies SpendingSeries;
}

export function SpendingChart(props: {
  transfers: readonly Transfer[];
  asset: string;
  unitLabel: string;
  unit: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const series = spendingSeries(props.transfers, props.asset, Math.floor(Date.now() / 1000), props.unit);

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const width = () => Math.max(260, Math.min(element.clientWidth, 900));
    const plot = new uPlot(
      {
        width: width(),
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: props.unitLabel, size: 60 }],
        series: [
          {},
          ...TIERS.map((tier) => ({
            label: tier,
            stroke: COLOURS[tier],
            width: 2,
            paths: uPlot.paths.stepped?.({ align: 1 }),
          })),
        ],
        legend: { show: true },
      },
      [series.times, ...TIERS.map((tier) => series.byTier[tier])],
      element,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: width(), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.transfers, props.asset, props.unit, props.unitLabel]);

  return (
    <figure class="chart">
      <div ref={box} class="chart-canvas" aria-hidden="true" />
      <figcaption>
        Spent in the last 24 hours by tier ({props.unitLabel}, confirmed transfers):{' '}
        {TIERS.map((tier, index) => (
          <span key={tier} data-tier-total={tier}>
            {index > 0 ? ', ' : ''}
            {tier} {formatAmount(series.totals[tier], props.asset)}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
