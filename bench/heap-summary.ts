/**
 * What holds a heap: a V8 heap snapshot (bench/daemon.ts --heap-snapshots DIR, or node
 * --heapsnapshot-signal) summarised by kind of object, by package (the modules loaded and their source
 * kept in memory), and by retainer: every object is charged to the nearest module that dominates it
 * (a module's namespace, its top-level closures and what they hold), so a package's figure is what
 * the heap would lose without it. Objects no module dominates (shared caches, the module loader,
 * V8's own) are "shared".
 *
 *   node --import tsx bench/heap-summary.ts FILE.heapsnapshot [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { top: { type: 'string', default: '25' } },
});
const TOP = Number(values.top);
const file = positionals[0];
if (file === undefined) throw new Error('usage: heap-summary.ts FILE.heapsnapshot [--top N]');

interface Snapshot {
  snapshot: {
    meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
const meta = snap.snapshot.meta;
const NF = meta.node_fields.length;
const EF = meta.edge_fields.length;
const N = snap.nodes.length / NF;
const { nodes, edges, strings } = snap;
const TYPE = meta.node_fields.indexOf('type');
const NAME = meta.node_fields.indexOf('name');
const SIZE = meta.node_fields.indexOf('self_size');
const EDGES = meta.node_fields.indexOf('edge_count');
const E_TYPE = meta.edge_fields.indexOf('type');
const E_NAME = meta.edge_fields.indexOf('name_or_index');
const E_TO = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];

const firstEdge = new Uint32Array(N + 1);
for (let node = 0, edge = 0; node < N; node++) {
  firstEdge[node] = edge;
  edge += nodes[node * NF + EDGES]! * EF;
}
firstEdge[N] = edges.length;
const typeOf = (node: number) => nodeTypes[nodes[node * NF + TYPE]!]!;
const nameOf = (node: number) => strings[nodes[node * NF + NAME]!]!;
const sizeOf = (node: number) => nodes[node * NF + SIZE]!;
const edgeName = (edge: number) => {
  const kind = edgeTypes[edges[edge + E_TYPE]!];
  return kind === 'element' || kind === 'hidden' ? '' : strings[edges[edge + E_NAME]!]!;
};
const edgeTarget = (edge: number) => edges[edge + E_TO]! / NF;
const mb = (bytes: number) => (bytes / 1_048_576).toFixed(2).padStart(8);

const packageOf = (url: string): string => {
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  if (url.startsWith('node:')) return 'node (built-in)';
  const ours = /\/(src\/[^/]+(?:\/[^/.]+)?)\//.exec(url) ?? /\/(src\/[^/]+)\//.exec(url);
  return ours ? ours[1]! : url.slice(0, 60);
};

// 1. By kind of object.
let total = 0;
const byType = new Map<string, number>();
for (let node = 0; node < N; node++) {
  total += sizeOf(node);
  byType.set(typeOf(node), (byType.get(typeOf(node)) ?? 0) + sizeOf(node));
}

// 2. Modules: ESM ModuleWraps (url) and CommonJS Modules (filename), and the scripts' sources kept.
const moduleOf = new Map<number, string>();
const sources = new Map<string, number>();
for (let node = 0; node < N; node++) {
  const name = nameOf(node);
  const kind = typeOf(node);
  if (kind === 'object' && (name === 'ModuleWrap' || name === 'Module')) {
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += EF) {
      const label = edgeName(edge);
      if (label === 'url' || label === 'filename') {
        const url = nameOf(edgeTarget(edge));
        if (/^(file:\/\/|\/|node:)/.test(url)) moduleOf.set(node, packageOf(url));
      }
    }
  } else if (kind === 'code' && /^(file:\/\/|\/)/.test(name) && name.length < 500) {
    // A script: charge it and its source to its package.
    moduleOf.set(node, packageOf(name));
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += EF) {
      if (edgeName(edge) === 'source') {
        const pkg = packageOf(name);
        sources.set(pkg, (sources.get(pkg) ?? 0) + sizeOf(edgeTarget(edge)));
      }
    }
  }
}
const modulesPerPackage = new Map<string, number>();
for (const [node, pkg] of moduleOf) {
  if (typeOf(node) === 'object') modulesPerPackage.set(pkg, (modulesPerPackage.get(pkg) ?? 0) + 1);
}
// Functions and shared function infos belong to their script's package.
for (let pass = 0; pass < 3; pass++) {
  for (let node = 0; node < N; node++) {
    if (moduleOf.has(node)) continue;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += EF) {
      const label = edgeName(edge);
      if (
        label === 'script' ||
        label === 'shared' ||
        label === 'script_or_debug_info' ||
        label === 'function'
      ) {
        const owner = moduleOf.get(edgeTarget(edge));
        if (owner !== undefined && typeOf(edgeTarget(edge)) !== 'object') {
          moduleOf.set(node, owner);
          break;
        }
      }
    }
  }
}

// 3. Dominators (Cooper–Harvey–Kennedy) from the root, ignoring weak edges.
const postOrder: number[] = [];
const predecessors: number[][] = Array.from({ length: N }, () => []);
{
  const visited = new Uint8Array(N);
  const stack: [number, number][] = [[0, firstEdge[0]!]];
  visited[0] = 1;
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const node = top[0];
    let descended = false;
    while (top[1] < firstEdge[node + 1]!) {
      const edge = top[1];
      top[1] += EF;
      if (edgeTypes[edges[edge + E_TYPE]!] === 'weak') continue;
      const to = edgeTarget(edge);
      predecessors[to]!.push(node);
      if (!visited[to]) {
        visited[to] = 1;
        stack.push([to, firstEdge[to]!]);
        descended = true;
        break;
      }
    }
    if (!descended) {
      stack.pop();
      postOrder.push(node);
    }
  }
}
const order = new Int32Array(N).fill(-1);
postOrder.forEach((node, index) => {
  order[node] = index;
});
const dominator = new Int32Array(N).fill(-1);
dominator[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! < order[b]!) a = dominator[a]!;
    while (order[b]! < order[a]!) b = dominator[b]!;
  }
  return a;
};
for (let changed = true; changed; ) {
  changed = false;
  for (let index = postOrder.length - 2; index >= 0; index--) {
    const node = postOrder[index]!;
    let found = -1;
    for (const predecessor of predecessors[node]!) {
      if (dominator[predecessor] === -1 || order[predecessor] === -1) continue;
      found = found === -1 ? predecessor : intersect(predecessor, found);
    }
    if (found !== -1 && dominator[node] !== found) {
      dominator[node] = found;
      changed = true;
    }
  }
}
const retainedBy = new Map<string, number>();
const sharedByType = new Map<string, number>();
const ownerCache = new Int32Array(N).fill(-2);
const ownerOf = (start: number): number => {
  const path: number[] = [];
  let node = start;
  while (ownerCache[node] === -2 && !moduleOf.has(node) && node !== 0 && dominator[node]! >= 0) {
    path.push(node);
    node = dominator[node]!;
  }
  const owner = ownerCache[node] !== -2 ? ownerCache[node]! : moduleOf.has(node) ? node : -1;
  for (const visited of path) ownerCache[visited] = owner;
  return owner;
};
for (let node = 0; node < N; node++) {
  const owner = ownerOf(node);
  const pkg = owner === -1 ? '(shared)' : moduleOf.get(owner)!;
  if (owner === -1) sharedByType.set(typeOf(node), (sharedByType.get(typeOf(node)) ?? 0) + sizeOf(node));
  retainedBy.set(pkg, (retainedBy.get(pkg) ?? 0) + sizeOf(node));
}

// What the shared part is made of: its largest subtrees that hang off the roots.
const retained = new Float64Array(N);
for (const node of postOrder) {
  retained[node]! += sizeOf(node);
  if (node !== 0 && dominator[node]! >= 0) retained[dominator[node]!]! += retained[node]!;
}
const isRootish = (node: number) => node === 0 || typeOf(node) === 'synthetic';
const sharedTops: number[] = [];
for (let node = 1; node < N; node++) {
  if (ownerOf(node) !== -1 || dominator[node]! < 0 || !isRootish(dominator[node]!) || isRootish(node))
    continue;
  if (retained[node]! > 256 * 1024) sharedTops.push(node);
}
sharedTops.sort((a, b) => retained[b]! - retained[a]!);

console.log(`${file}: ${N} objects, ${mb(total).trim()} MB`);
console.log('\nby kind of object (MB):');
for (const [kind, bytes] of [...byType].sort((a, b) => b[1] - a[1]).slice(0, 10)) {
  console.log(`  ${mb(bytes)}  ${kind}`);
}
console.log(`\nby package: MB retained (what it dominates), modules loaded, MB of source kept; top ${TOP}`);
for (const [pkg, bytes] of [...retainedBy].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  console.log(
    `  ${mb(bytes)}  ${String(modulesPerPackage.get(pkg) ?? '').padStart(4)}  ${mb(sources.get(pkg) ?? 0)}  ${pkg}`,
  );
}
console.log(
  `\n(shared) by kind: ${[...sharedByType]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([kind, bytes]) => `${kind} ${mb(bytes).trim()}`)
    .join(', ')}`,
);
console.log('the largest parts of (shared) (MB retained):');
for (const node of sharedTops.slice(0, 12)) {
  console.log(`  ${mb(retained[node]!)}  ${typeOf(node)} ${nameOf(node).slice(0, 80).replace(/\s+/g, ' ')}`);
}
const loaded = [...modulesPerPackage.values()].reduce((sum, count) => sum + count, 0);
console.log(`\n${loaded} modules loaded in ${modulesPerPackage.size} packages`);
