/**
 * The policy editor's model, pure: the draft is the JSON document itself (amounts as base-unit
 * strings, exactly what is signed), checked with the daemon's own schema (src/core/policy-schema.ts)
 * so the console refuses what the API refuses, with the same messages at the same paths.
 */
import { policyDocumentSchema } from '../../src/core/policy-schema.ts';
import { toBig } from './format.ts';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Draft = { [key: string]: Json };

/** Issues by path ("assets.SOL.daily"), as the API's details.issues names them. */
export type Issues = ReadonlyMap<string, string[]>;

export interface Issue {
  path: string;
  message: string;
}

/** The schema's verdict plus the one rule it cannot know: the version must be above the one in force. */
export function validateDraft(draft: unknown, versionInForce: number): Issue[] {
  const issues: Issue[] = [];
  const parsed = policyDocumentSchema.safeParse(draft);
  if (!parsed.success)
    for (const issue of parsed.error.issues)
      issues.push({ path: issue.path.join('.'), message: issue.message });
  const version = (draft as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && Number.isInteger(version) && version <= versionInForce)
    issues.push({ path: 'version', message: `must be above ${versionInForce}, the version in force` });
  return issues;
}

/**
 * Each issue under the deepest path the form shows (a field, or the group around it); what the form
 * cannot place goes under "" (shown beside the JSON).
 */
export function placeIssues(issues: readonly Issue[], shown: ReadonlySet<string>): Issues {
  const placed = new Map<string, string[]>();
  for (const issue of issues) {
    let path = issue.path;
    while (path !== '' && !shown.has(path))
      path = path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '';
    placed.set(path, [...(placed.get(path) ?? []), issue.message]);
  }
  return placed;
}

/** A copy of `draft` with `value` at `path` (segments), creating objects on the way. */
export function setAt(draft: Draft, path: readonly string[], value: Json | undefined): Draft {
  const copy = structuredClone(draft);
  let node: { [key: string]: Json } | Json[] = copy;
  for (const segment of path.slice(0, -1)) {
    const next: Json | undefined = (node as Record<string, Json>)[segment];
    if (typeof next !== 'object' || next === null) (node as Record<string, Json>)[segment] = {};
    node = (node as Record<string, Json>)[segment] as { [key: string]: Json };
  }
  const last = path.at(-1)!;
  if (value === undefined) delete (node as Record<string, Json>)[last];
  else (node as Record<string, Json>)[last] = value;
  return copy;
}

export function getAt(draft: unknown, path: readonly string[]): Json | undefined {
  let node: unknown = draft;
  for (const segment of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node as Json | undefined;
}

/** A number field's text as JSON: an integer when it reads as one, else the text (which then fails). */
export const numberFromText = (text: string): Json =>
  /^-?[0-9]{1,15}$/.test(text.trim()) ? Number(text.trim()) : text;

/** Leaf values by dotted path, for the diff. Arrays of scalars count as one value. */
export function flatten(value: unknown, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: unknown, path: string) => {
    if (Array.isArray(node) && node.every((item) => typeof item !== 'object' || item === null)) {
      out.set(path, JSON.stringify(node));
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, inner] of Object.entries(node)) walk(inner, path === '' ? key : `${path}.${key}`);
    } else {
      out.set(path, typeof node === 'string' ? node : JSON.stringify(node));
    }
  };
  walk(value, prefix);
  return out;
}

export interface Change {
  path: string;
  before: string | undefined;
  after: string | undefined;
}

export function diffPolicies(inForce: unknown, draft: unknown): Change[] {
  const before = flatten(inForce);
  const after = flatten(draft);
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths
    .filter((path) => before.get(path) !== after.get(path))
    .map((path) => ({ path, before: before.get(path), after: after.get(path) }));
}

export interface ChainEffect {
  asset: string;
  kind: 'added' | 'removed' | 'changed' | 'destinations';
  dailyBefore?: bigint | undefined;
  dailyAfter?: bigint | undefined;
  /** What is left today on chain now, and after the change (spent carries over: never a fresh day). */
  remainingBefore?: bigint | undefined;
  remainingAfter?: bigint | undefined;
  destinationsBefore?: string | undefined;
  destinationsAfter?: string | undefined;
}

const destinationsOf = (document: unknown): string => {
  const recipients = getAt(document, ['recipients']) as { mode?: Json; addresses?: Json } | undefined;
  if (recipients?.mode === 'allowlist' && Array.isArray(recipients.addresses))
    return `${recipients.addresses.length} allowed address${recipients.addresses.length === 1 ? '' : 'es'}`;
  return 'any address';
};

/**
 * What signing the draft does to the on-chain spending limits: one per asset with `daily` as its
 * amount per day and the allowlist as destinations. `spent` is what the chain shows spent today per
 * asset; by the budget-continuity rule the new limit keeps it spent.
 */
export function chainEffects(
  inForce: unknown,
  draft: unknown,
  spent: ReadonlyMap<string, bigint>,
): ChainEffect[] {
  const assetsBefore = (getAt(inForce, ['assets']) ?? {}) as Record<string, Json>;
  const assetsAfter = (getAt(draft, ['assets']) ?? {}) as Record<string, Json>;
  const destinationsBefore = destinationsOf(inForce);
  const destinationsAfter = destinationsOf(draft);
  const effects: ChainEffect[] = [];
  for (const asset of new Set([...Object.keys(assetsBefore), ...Object.keys(assetsAfter)])) {
    const dailyBefore = toBig(getAt(assetsBefore, [asset, 'daily']));
    const dailyAfter = toBig(getAt(assetsAfter, [asset, 'daily']));
    const used = spent.get(asset) ?? 0n;
    const left = (daily: bigint | null) => (daily === null ? undefined : daily > used ? daily - used : 0n);
    if (dailyBefore === null && dailyAfter !== null)
      effects.push({ asset, kind: 'added', dailyAfter, remainingAfter: dailyAfter });
    else if (dailyBefore !== null && dailyAfter === null)
      effects.push({
        asset,
        kind: 'removed',
        dailyBefore,
        remainingBefore: left(dailyBefore),
        remainingAfter: 0n,
      });
    else if (dailyBefore !== null && dailyAfter !== null && dailyBefore !== dailyAfter)
      effects.push({
        asset,
        kind: 'changed',
        dailyBefore,
        dailyAfter,
        remainingBefore: left(dailyBefore),
        remainingAfter: left(dailyAfter),
      });
    if (dailyAfter !== null && dailyBefore !== null && destinationsBefore !== destinationsAfter)
      effects.push({ asset, kind: 'destinations', destinationsBefore, destinationsAfter });
  }
  return effects;
}
