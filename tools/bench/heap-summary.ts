// Reads a V8 heap snapshot (.heapsnapshot, as --heapsnapshot-signal or v8.writeHeapSnapshot write it) and
// prints where the live heap goes: by V8 node type and constructor (self sizes), the biggest owners by
// retained size (a dominator tree: what would be freed with the owner), and, with the bundle's source map,
// the retained size of what each source package's functions hold (code, closures' contexts and everything
// only they reach), so "by module" works for a minified bundle too.
// Usage: node tools/bench/heap-summary.ts <file.heapsnapshot> [bundle.mjs.map] [--top N] [--min KiB]
import fs from 'node:fs';
import { SourceMap } from 'node:module';

interface Snapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
      location_fields?: string[];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations?: number[];
}

const argv = process.argv.slice(2);
const topAt = argv.indexOf('--top');
const top = topAt === -1 ? 25 : Number(argv.splice(topAt, 2)[1]);
const minAt = argv.indexOf('--min');
/** Owners listed: retained at least this many bytes. */
const minRetained = (minAt === -1 ? 256 : Number(argv.splice(minAt, 2)[1])) * 1024;
const [file, mapFile] = argv;
if (!file) {
  console.error('usage: node tools/bench/heap-summary.ts <file.heapsnapshot> [bundle.mjs.map] [--top N] [--min KiB]');
  process.exit(2);
}
const data = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
const meta = data.snapshot.meta;
const nodeFieldCount = meta.node_fields.length;
const edgeFieldCount = meta.edge_fields.length;
const typeOffset = meta.node_fields.indexOf('type');
const nameOffset = meta.node_fields.indexOf('name');
const sizeOffset = meta.node_fields.indexOf('self_size');
const edgeCountOffset = meta.node_fields.indexOf('edge_count');
const edgeTypeOffset = meta.edge_fields.indexOf('type');
const edgeNameOffset = meta.edge_fields.indexOf('name_or_index');
const edgeToOffset = meta.edge_fields.indexOf('to_node');
const nodeTypes = meta.node_types[0];
const edgeTypes = meta.edge_types[0];
const weakEdge = edgeTypes.indexOf('weak');
const shortcutEdge = edgeTypes.indexOf('shortcut');
const { nodes, edges, strings } = data;
const count = nodes.length / nodeFieldCount;

const firstEdge = new Uint32Array(count + 1);
for (let node = 0, edge = 0; node < count; node++) {
  firstEdge[node] = edge;
  edge += nodes[node * nodeFieldCount + edgeCountOffset]! * edgeFieldCount;
}
firstEdge[count] = edges.length;
const typeOf = (node: number) => nodeTypes[nodes[node * nodeFieldCount + typeOffset]!]!;
const nameOf = (node: number) => strings[nodes[node * nodeFieldCount + nameOffset]!]!;
const selfSize = (node: number) => nodes[node * nodeFieldCount + sizeOffset]!;
const strong = (edge: number) => {
  const type = edges[edge + edgeTypeOffset];
  return type !== weakEdge && type !== shortcutEdge;
};
const target = (edge: number) => edges[edge + edgeToOffset]! / nodeFieldCount;

// Post-order from the root (node 0) over strong edges, iteratively.
const order = new Int32Array(count).fill(-1);
const postorder: number[] = [];
{
  const stack: number[] = [0];
  const next = new Uint32Array(count);
  const visited = new Uint8Array(count);
  visited[0] = 1;
  for (let node = 0; node < count; node++) next[node] = firstEdge[node]!;
  while (stack.length > 0) {
    const node = stack[stack.length - 1]!;
    let pushed = false;
    while (next[node]! < firstEdge[node + 1]!) {
      const edge = next[node]!;
      next[node] = edge + edgeFieldCount;
      if (!strong(edge)) continue;
      const to = target(edge);
      if (visited[to]) continue;
      visited[to] = 1;
      stack.push(to);
      pushed = true;
      break;
    }
    if (!pushed) {
      stack.pop();
      order[node] = postorder.length;
      postorder.push(node);
    }
  }
}

// Predecessors over strong edges, reachable nodes only.
const predecessorCount = new Uint32Array(count + 1);
for (let node = 0; node < count; node++) {
  if (order[node] === -1) continue;
  for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += edgeFieldCount)
    if (strong(edge)) predecessorCount[target(edge) + 1]! += 1;
}
for (let node = 0; node < count; node++) predecessorCount[node + 1]! += predecessorCount[node]!;
const predecessors = new Uint32Array(predecessorCount[count]!);
{
  const fill = predecessorCount.slice(0, count);
  for (let node = 0; node < count; node++) {
    if (order[node] === -1) continue;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += edgeFieldCount)
      if (strong(edge)) predecessors[fill[target(edge)]!++] = node;
  }
}

// Cooper, Harvey and Kennedy's iterative dominators, in reverse post-order.
const dominator = new Int32Array(count).fill(-1);
dominator[0] = 0;
const intersect = (a: number, b: number) => {
  while (a !== b) {
    while (order[a]! < order[b]!) a = dominator[a]!;
    while (order[b]! < order[a]!) b = dominator[b]!;
  }
  return a;
};
for (let changed = true; changed;) {
  changed = false;
  for (let index = postorder.length - 2; index >= 0; index--) {
    const node = postorder[index]!;
    let next = -1;
    for (let p = predecessorCount[node]!; p < predecessorCount[node + 1]!; p++) {
      const predecessor = predecessors[p]!;
      if (dominator[predecessor] === -1) continue;
      next = next === -1 ? predecessor : intersect(predecessor, next);
    }
    if (next !== -1 && dominator[node] !== next) {
      dominator[node] = next;
      changed = true;
    }
  }
}
const retained = new Float64Array(count);
for (const node of postorder) {
  retained[node]! += selfSize(node);
  if (node !== 0) retained[dominator[node]!]! += retained[node]!;
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
let live = 0;
for (const node of postorder) live += selfSize(node);
console.log(`${file}: ${postorder.length} live nodes, ${mib(live)} MiB`);

// 1. By V8 type, and the biggest constructors / names by self size.
const byType = new Map<string, { size: number; count: number }>();
const byName = new Map<string, { size: number; count: number }>();
for (const node of postorder) {
  const type = typeOf(node);
  const entry = byType.get(type) ?? { size: 0, count: 0 };
  entry.size += selfSize(node);
  entry.count += 1;
  byType.set(type, entry);
  const key =
    type === 'string' || type === 'concatenated string' || type === 'sliced string'
      ? `(string) ${selfSize(node) < 64 ? 'under 64 bytes' : '64 bytes or more'}`
      : `(${type}) ${nameOf(node).slice(0, 60)}`;
  const named = byName.get(key) ?? { size: 0, count: 0 };
  named.size += selfSize(node);
  named.count += 1;
  byName.set(key, named);
}
console.log('\n| V8 type | MiB | count |\n|---|---|---|');
for (const [type, entry] of [...byType].sort((a, b) => b[1].size - a[1].size))
  console.log(`| ${type} | ${mib(entry.size)} | ${entry.count} |`);
console.log('\n| type and constructor (self sizes) | MiB | count |\n|---|---|---|');
for (const [name, entry] of [...byName].sort((a, b) => b[1].size - a[1].size).slice(0, top))
  console.log(`| ${name} | ${mib(entry.size)} | ${entry.count} |`);

// 2. The biggest owners: nodes whose retained size is large, with the edge names that reach them.
const edgeName = (edge: number) => {
  const type = edgeTypes[edges[edge + edgeTypeOffset]!];
  const name = edges[edge + edgeNameOffset]!;
  return type === 'element' || type === 'hidden' ? `[${name}]` : strings[name]!;
};
const viaDominator = (node: number): string => {
  const parts: string[] = [];
  for (let current = node, depth = 0; current !== 0 && depth < 6; current = dominator[current]!, depth++) {
    const parent = dominator[current]!;
    let label = '?';
    for (let edge = firstEdge[parent]!; edge < firstEdge[parent + 1]!; edge += edgeFieldCount)
      if (target(edge) === current) {
        label = edgeName(edge);
        break;
      }
    parts.unshift(`${nameOf(parent).slice(0, 30)}.${label}`);
  }
  return parts.join(' → ');
};
const owners = postorder
  .filter((node) => node !== 0 && typeOf(node) !== 'synthetic' && retained[node]! >= minRetained)
  .sort((a, b) => retained[b]! - retained[a]!);
console.log('\n| owner (type, constructor or name) | retained MiB | self KiB | reached through (dominators) |');
console.log('|---|---|---|---|');
for (const node of owners.slice(0, top))
  console.log(
    `| (${typeOf(node)}) ${nameOf(node).slice(0, 50).replaceAll('|', '/')} | ${mib(retained[node]!)} | ${(selfSize(node) / 1024).toFixed(1)} | ${viaDominator(node).replaceAll('|', '/')} |`,
  );

// 3. By source package: each node goes to the nearest dominator that is a function with a source location.
if (mapFile && data.locations && meta.location_fields) {
  const map = new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8')));
  const fields = meta.location_fields;
  const indexOffset = fields.indexOf('object_index');
  const lineOffset = fields.indexOf('line');
  const columnOffset = fields.indexOf('column');
  const moduleOf = new Map<number, string>();
  const packageOf = (source: string) => {
    const modules = source.lastIndexOf('node_modules/');
    if (modules !== -1) {
      const rest = source.slice(modules + 'node_modules/'.length).split('/');
      return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
    }
    const ours = /packages\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(source);
    return ours ? `@vaultbridge/${ours[1]}${ours[2] && !ours[2].endsWith('.ts') ? `/${ours[2]}` : ''}` : source;
  };
  for (let at = 0; at < data.locations.length; at += fields.length) {
    const node = data.locations[at + indexOffset]! / nodeFieldCount;
    const entry = map.findEntry(data.locations[at + lineOffset]!, data.locations[at + columnOffset]!);
    if ('originalSource' in entry && entry.originalSource) moduleOf.set(node, packageOf(entry.originalSource));
  }
  const byPackage = new Map<string, number>();
  const owner = new Array<string | undefined>(count);
  // Reverse post-order visits a dominator before what it dominates.
  for (let index = postorder.length - 1; index >= 0; index--) {
    const node = postorder[index]!;
    owner[node] = moduleOf.get(node) ?? (node === 0 ? undefined : owner[dominator[node]!]);
    const key = owner[node] ?? `(no function of the bundle) ${typeOf(node)}`;
    byPackage.set(key, (byPackage.get(key) ?? 0) + selfSize(node));
  }
  console.log('\n| held under functions of (source package) | MiB |\n|---|---|');
  for (const [name, size] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`| ${name} | ${mib(size)} |`);
}
