/**
 * The Grafana dashboard in the repository (deploy/grafana/waiaas-dashboard.json) shows what the daemon
 * exports: every metric a panel queries exists, and every domain metric has a panel.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createMetrics, DomainMetrics } from '../../src/daemon/plugins/metrics.ts';
import { repoRoot } from '../support/processes.ts';

const dashboard = JSON.parse(readFileSync(`${repoRoot}/deploy/grafana/waiaas-dashboard.json`, 'utf8')) as {
  panels: { type: string; title: string; targets?: { expr: string }[] }[];
};

const queried = new Set(
  dashboard.panels
    .flatMap((panel) => panel.targets ?? [])
    .flatMap((target) => target.expr.match(/waiaas_[a-z0-9_]+/g) ?? []),
);

it('queries only metrics the daemon exports, and shows every domain metric', () => {
  // Built without a runtime: only the metrics' names and types are read here, nothing is collected.
  const domain = new DomainMetrics({} as never);
  const exported = new Map<string, string>();
  for (const registry of [createMetrics().registry, domain.registry]) {
    for (const metric of registry.getMetricsAsArray()) exported.set(metric.name, String(metric.type));
  }
  const series = (name: string) =>
    exported.get(name) === 'histogram' ? [`${name}_bucket`, `${name}_count`, `${name}_sum`] : [name];
  const known = new Set([...exported.keys()].flatMap(series));
  expect([...queried].filter((name) => !known.has(name))).toEqual([]);

  const shown = (name: string) => series(name).some((one) => queried.has(one));
  const domainNames = domain.registry.getMetricsAsArray().map((metric) => metric.name);
  expect(domainNames.filter((name) => !shown(name))).toEqual([]);
  expect(domainNames.length).toBeGreaterThanOrEqual(15);
});
