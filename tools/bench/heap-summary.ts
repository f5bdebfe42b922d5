// Where a service's V8 heap goes, from a heap snapshot (issue 14). Take one of a running bundle with
// `node <its flags> --heapsnapshot-signal=SIGUSR2 ...` and `kill -USR2 <pid>` (the file lands in the
// process's working directory), or with v8.writeHeapSnapshot(), then:
//   node tools/bench/heap-summary.ts <file.heapsnapshot> [<bundle.mjs> | <bundle.mjs.map>] [--top N] [--min KiB] [--json]
// It prints, for what is reachable from the root through strong references:
// - self sizes by V8 type, and by type and constructor;
// - the strings over 64 KiB (a bundle's own source is one: V8 keeps a script's text for lazy compiling);
// - the biggest owners by retained size (a dominator tree: what would be freed with the owner);
// and, given the bundle (its source map beside it) or the map, by source package of the bundle:
// - the code its functions keep (closures, SharedFunctionInfos, bytecode, feedback): what a module costs
//   by merely being loaded and run once;
// - the retained size held under its functions (each object goes to its nearest dominator that is a
//   function of the bundle). An esbuild bundle hoists every ESM module's top-level bindings into one
//   scope, so module-level data often lands under that one context rather than its own package: read the
//   owners table alongside.
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

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

export interface SizeRow {
  name: string;
  bytes: number;
  count: number;
}

export interface BigString {
  bytes: number;
  /** Its first characters, whitespace folded. */
  text: string;
  /** The dominator chain that holds it (e.g. `system / Script.source`). */
  via: string;
}

export interface Owner {
  type: string;
  name: string;
  retainedBytes: number;
  selfBytes: number;
  via: string;
}

export interface HeapSummary {
  file: string;
  /** Every node of the snapshot. */
  nodes: number;
  bytes: number;
  /** Reachable from the root through strong edges: what the tables count. */
  liveNodes: number;
  liveBytes: number;
  byType: SizeRow[];
  byConstructor: SizeRow[];
  bigStrings: BigString[];
  owners: Owner[];
  /** Only with the bundle's source map. */
  bundle?: {
    /** Functions of the bundle's script in the snapshot. */
    functions: number;
    codeBytes: number;
    codeByPackage: SizeRow[];
    /** Our workspace packages' code, their folders added up (`@vaultbridge/core/vault` + ... → `@vaultbridge/core`). */
    codeByWorkspacePackage: SizeRow[];
    retainedByPackage: SizeRow[];
  };
}

export interface HeapSummaryOptions {
  /** The bundle (`x.mjs`, its map at `x.mjs.map`) or its source map. */
  map?: string;
  /** Rows per table. */
  top?: number;
  /** Owners listed retain at least this much. */
  minRetainedKiB?: number;
  /** Strings listed are at least this big. */
  bigStringKiB?: number;
}

/**
 * The package a bundle's source file belongs to: `node_modules/@scope/name/...` → `@scope/name`,
 * `packages/core/src/vault/...` → `@vaultbridge/core/vault`, `packages/csi-provider/src/cli.ts` →
 * `@vaultbridge/csi-provider`; anything else as given.
 */
export function packageOf(source: string): string {
  const modules = source.lastIndexOf('node_modules/');
  if (modules !== -1) {
    const [first, second] = source.slice(modules + 'node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? source);
  }
  const ours = /(?:^|\/)packages\/([^/]+)\/src\/(?:([^/]+)\/)?/.exec(source);
  return ours ? `@vaultbridge/${ours[1]}${ours[2] ? `/${ours[2]}` : ''}` : source;
}

/** Sorted by size, largest first, at most `top`. */
function rows(table: Map<string, { bytes: number; count: number }>, top: number): SizeRow[] {
  return [...table]
    .map(([name, { bytes, count }]) => ({ name, bytes, count }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

function add(table: Map<string, { bytes: number; count: number }>, key: string, bytes: number): void {
  const entry = table.get(key) ?? { bytes: 0, count: 0 };
  entry.bytes += bytes;
  entry.count += 1;
  table.set(key, entry);
}

export function summariseHeap(file: string, options: HeapSummaryOptions = {}): HeapSummary {
  const top = options.top ?? 25;
  const minRetained = (options.minRetainedKiB ?? 256) * 1024;
  const minString = (options.bigStringKiB ?? 64) * 1024;
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
  const typeOf = (node: number) => nodeTypes[nodes[node * nodeFieldCount + typeOffset]!] ?? '?';
  const nameOf = (node: number) => strings[nodes[node * nodeFieldCount + nameOffset]!] ?? '';
  const selfSize = (node: number) => nodes[node * nodeFieldCount + sizeOffset]!;
  const strong = (edge: number) => {
    const type = edges[edge + edgeTypeOffset];
    return type !== weakEdge && type !== shortcutEdge;
  };
  const target = (edge: number) => edges[edge + edgeToOffset]! / nodeFieldCount;
  const edgeName = (edge: number) => {
    const type = edgeTypes[edges[edge + edgeTypeOffset]!];
    const name = edges[edge + edgeNameOffset]!;
    return type === 'element' || type === 'hidden' ? `[${name}]` : (strings[name] ?? '?');
  };

  // Post-order from the root (node 0) over strong edges, iteratively (the graphs are deep).
  const order = new Int32Array(count).fill(-1);
  const postorder: number[] = [];
  {
    const stack: number[] = [0];
    const next = firstEdge.slice(0, count);
    const visited = new Uint8Array(count);
    visited[0] = 1;
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

  // Predecessors over strong edges, reachable nodes only (compressed rows).
  const predecessorStart = new Uint32Array(count + 1);
  for (let node = 0; node < count; node++) {
    if (order[node] === -1) continue;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += edgeFieldCount)
      if (strong(edge)) predecessorStart[target(edge) + 1]! += 1;
  }
  for (let node = 0; node < count; node++) predecessorStart[node + 1]! += predecessorStart[node]!;
  const predecessors = new Uint32Array(predecessorStart[count]!);
  {
    const fill = predecessorStart.slice(0, count);
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
      for (let p = predecessorStart[node]!; p < predecessorStart[node + 1]!; p++) {
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
  /**
   * The edges from each dominator down to `node`, nearest six, e.g. `Object.nodejs_eventloop_lag_seconds
   * → npe.collect`; `(several paths)` where the dominator reaches it by more than one path (the root: by
   * more than one GC root).
   */
  const via = (node: number): string => {
    const parts: string[] = [];
    for (let current = node, depth = 0; current !== 0 && depth < 6; current = dominator[current]!, depth++) {
      const parent = dominator[current]!;
      let label: string | undefined;
      for (let edge = firstEdge[parent]!; edge < firstEdge[parent + 1]!; edge += edgeFieldCount)
        if (target(edge) === current) {
          label = edgeName(edge);
          break;
        }
      if (label === undefined && parent === 0) {
        parts.unshift('(several paths from the roots)');
        break;
      }
      parts.unshift(`${nameOf(parent).slice(0, 30)}.${label ?? '(several paths)'}`);
    }
    return parts.join(' → ');
  };

  let bytes = 0;
  for (let node = 0; node < count; node++) bytes += selfSize(node);
  let liveBytes = 0;
  const byType = new Map<string, { bytes: number; count: number }>();
  const byConstructor = new Map<string, { bytes: number; count: number }>();
  const bigStrings: BigString[] = [];
  for (const node of postorder) {
    const type = typeOf(node);
    const size = selfSize(node);
    liveBytes += size;
    add(byType, type, size);
    const isString = type.endsWith('string');
    add(
      byConstructor,
      isString
        ? `(string) ${size < 64 ? 'under 64 bytes' : '64 bytes or more'}`
        : `(${type}) ${nameOf(node).slice(0, 60)}`,
      size,
    );
    if (isString && size >= minString)
      bigStrings.push({ bytes: size, text: nameOf(node).slice(0, 70).replace(/\s+/g, ' '), via: via(node) });
  }
  const owners = postorder
    .filter((node) => node !== 0 && typeOf(node) !== 'synthetic' && retained[node]! >= minRetained)
    .sort((a, b) => retained[b]! - retained[a]!)
    .slice(0, top)
    .map((node) => ({
      type: typeOf(node),
      name: nameOf(node).slice(0, 50).replace(/\s+/g, ' '),
      retainedBytes: retained[node]!,
      selfBytes: selfSize(node),
      via: via(node),
    }));
  const summary: HeapSummary = {
    file,
    nodes: count,
    bytes,
    liveNodes: postorder.length,
    liveBytes,
    byType: rows(byType, Infinity),
    byConstructor: rows(byConstructor, top),
    bigStrings: bigStrings.sort((a, b) => b.bytes - a.bytes).slice(0, top),
    owners,
  };

  if (options.map === undefined) return summary;
  const mapFile = options.map.endsWith('.map') ? options.map : `${options.map}.map`;
  const locations = data.locations;
  const fields = meta.location_fields;
  if (!locations || !fields)
    throw new Error(
      `${file} has no function locations (a snapshot of Node 12 or older?): cannot attribute to packages`,
    );
  const rawMap = JSON.parse(fs.readFileSync(mapFile, 'utf8')) as { sourceRoot?: string };
  const map = new SourceMap(rawMap as never);
  const sourceDir = path.resolve(path.dirname(mapFile), rawMap.sourceRoot ?? '');
  const indexOffset = fields.indexOf('object_index');
  const scriptOffset = fields.indexOf('script_id');
  const lineOffset = fields.indexOf('line');
  const columnOffset = fields.indexOf('column');
  // The bundle's script: the one whose name (a closure's shared → script → name) is the bundle's file
  // name, wherever it ran (/app/dist/bundle/cli.mjs in the image); Node's own scripts are the rest.
  const bundleName = path.basename(mapFile, '.map');
  const edgeTo = (node: number, name: string) => {
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += edgeFieldCount)
      if (edgeName(edge) === name) return target(edge);
    return -1;
  };
  const perScript = new Map<number, { functions: number; name: string }>();
  for (let at = 0; at < locations.length; at += fields.length) {
    const id = locations[at + scriptOffset]!;
    const script = perScript.get(id) ?? { functions: 0, name: '' };
    perScript.set(id, script);
    script.functions += 1;
    if (script.name !== '') continue;
    // Not every function's SharedFunctionInfo shows its script: try the next one until one does.
    const shared = edgeTo(locations[at + indexOffset]! / nodeFieldCount, 'shared');
    const scriptNode = shared === -1 ? -1 : edgeTo(shared, 'script');
    const nameNode = scriptNode === -1 ? -1 : edgeTo(scriptNode, 'name');
    if (nameNode !== -1) script.name = nameOf(nameNode);
  }
  const found = [...perScript].filter(([, script]) => script.name.endsWith(`/${bundleName}`));
  if (found.length !== 1)
    throw new Error(
      `${file}: ${found.length === 0 ? 'no script' : 'more than one script'} named …/${bundleName} ` +
        `(the map ${mapFile} is for that file); the scripts with the most functions: ` +
        [...perScript.values()]
          .sort((a, b) => b.functions - a.functions)
          .slice(0, 3)
          .map((script) => `${script.name} (${script.functions})`)
          .join(', '),
    );
  const [bundleScript, { functions }] = found[0]!;
  const packageOfFunction = new Map<number, string>();
  const packageOfSource = new Map<string, string>();
  for (let at = 0; at < locations.length; at += fields.length) {
    const node = locations[at + indexOffset]! / nodeFieldCount;
    if (locations[at + scriptOffset] !== bundleScript) {
      packageOfFunction.set(node, "(Node's own scripts)");
      continue;
    }
    const entry = map.findEntry(locations[at + lineOffset]!, locations[at + columnOffset]!);
    const source = 'originalSource' in entry ? entry.originalSource : undefined;
    if (!source) {
      // esbuild's own helpers (__esm, __commonJS wrappers) and the banner have no source.
      packageOfFunction.set(node, '(the bundle, no source in its map)');
      continue;
    }
    let name = packageOfSource.get(source);
    if (name === undefined) {
      name = packageOf(path.relative(process.cwd(), path.resolve(sourceDir, source)));
      packageOfSource.set(source, name);
    }
    packageOfFunction.set(node, name);
  }

  // A function's code: the closure, its SharedFunctionInfo, bytecode, feedback and scope info (two steps
  // out), each counted once, for the first function that reaches it.
  const codeEdges = new Set(['shared', 'feedback_cell', 'bytecode', 'function_data', 'feedback_metadata', 'value']);
  const counted = new Uint8Array(count);
  const codeByPackage = new Map<string, { bytes: number; count: number }>();
  let codeBytes = 0;
  const visitCode = (node: number, name: string, depth: number) => {
    if (counted[node]) return;
    counted[node] = 1;
    add(codeByPackage, name, selfSize(node));
    codeBytes += selfSize(node);
    if (depth === 0) return;
    for (let edge = firstEdge[node]!; edge < firstEdge[node + 1]!; edge += edgeFieldCount) {
      const to = target(edge);
      if (codeEdges.has(edgeName(edge)) || typeOf(to) === 'code') visitCode(to, name, depth - 1);
    }
  };
  for (const [node, name] of packageOfFunction)
    if (order[node] !== -1 && !name.startsWith("(Node's")) visitCode(node, name, 2);

  // Retained by package: reverse post-order visits a dominator before what it dominates.
  const owner = new Array<string | undefined>(count);
  const retainedByPackage = new Map<string, { bytes: number; count: number }>();
  for (let index = postorder.length - 1; index >= 0; index--) {
    const node = postorder[index]!;
    owner[node] = packageOfFunction.get(node) ?? (node === 0 ? undefined : owner[dominator[node]!]);
    add(retainedByPackage, owner[node] ?? `(no function of the bundle) ${typeOf(node)}`, selfSize(node));
  }
  const codeByWorkspacePackage = new Map<string, { bytes: number; count: number }>();
  for (const [name, { bytes: size, count: objects }] of codeByPackage) {
    const workspace = /^@vaultbridge\/[^/]+/.exec(name)?.[0];
    if (workspace === undefined) continue;
    const entry = codeByWorkspacePackage.get(workspace) ?? { bytes: 0, count: 0 };
    entry.bytes += size;
    entry.count += objects;
    codeByWorkspacePackage.set(workspace, entry);
  }
  summary.bundle = {
    functions,
    codeBytes,
    codeByPackage: rows(codeByPackage, top),
    codeByWorkspacePackage: rows(codeByWorkspacePackage, top),
    retainedByPackage: rows(retainedByPackage, top),
  };
  return summary;
}

const mib = (bytes: number) => (bytes / 1048576).toFixed(2);
const cell = (text: string) => text.replaceAll('|', '/');

/** The summary as markdown tables. */
export function formatHeapSummary(summary: HeapSummary): string {
  const out: string[] = [
    `${summary.file}: ${summary.liveNodes} live nodes, ${mib(summary.liveBytes)} MiB self ` +
      `(of ${summary.nodes} nodes, ${mib(summary.bytes)} MiB in the snapshot; the rest only weakly held)`,
    '',
    '| V8 type | MiB | count |',
    '|---|---|---|',
    ...summary.byType.map((row) => `| ${row.name} | ${mib(row.bytes)} | ${row.count} |`),
    '',
    '| type and constructor (self sizes) | MiB | count |',
    '|---|---|---|',
    ...summary.byConstructor.map((row) => `| ${cell(row.name)} | ${mib(row.bytes)} | ${row.count} |`),
    '',
    '| string (self size over the threshold) | MiB | starts with | held through (dominators) |',
    '|---|---|---|---|',
    ...summary.bigStrings.map(
      (row) => `| | ${mib(row.bytes)} | ${cell(JSON.stringify(row.text))} | ${cell(row.via)} |`,
    ),
    '',
    '| owner (type, constructor or name) | retained MiB | self KiB | reached through (dominators) |',
    '|---|---|---|---|',
    ...summary.owners.map(
      (row) =>
        `| (${row.type}) ${cell(row.name)} | ${mib(row.retainedBytes)} | ${(row.selfBytes / 1024).toFixed(1)} | ${cell(row.via)} |`,
    ),
  ];
  if (summary.bundle) {
    out.push(
      '',
      `Code kept by the bundle's ${summary.bundle.functions} functions, by source package (${mib(summary.bundle.codeBytes)} MiB):`,
      '',
      '| package | code MiB | objects |',
      '|---|---|---|',
      ...summary.bundle.codeByPackage.map((row) => `| ${row.name} | ${mib(row.bytes)} | ${row.count} |`),
      '',
      `Our packages' code, their folders added up: ${summary.bundle.codeByWorkspacePackage.map((row) => `${row.name} ${mib(row.bytes)}`).join(', ')} MiB`,
      '',
      '| held under functions of (source package; retained) | MiB | objects |',
      '|---|---|---|',
      ...summary.bundle.retainedByPackage.map((row) => `| ${row.name} | ${mib(row.bytes)} | ${row.count} |`),
    );
  }
  return out.join('\n');
}

const usage =
  'usage: node tools/bench/heap-summary.ts <file.heapsnapshot> [<bundle.mjs> | <bundle.mjs.map>] [--top N] [--min KiB] [--json]';

/** Removes `--name value` from `argv`; its value as a positive number, or `fallback` when absent. */
function numberOption(argv: string[], name: string, fallback: number): number {
  const at = argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(argv.splice(at, 2)[1]);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`${name} needs a positive number\n${usage}`);
    process.exit(2);
  }
  return value;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const top = numberOption(argv, '--top', 25);
  const minRetainedKiB = numberOption(argv, '--min', 256);
  const json = argv.includes('--json');
  const [file, map, ...rest] = argv.filter((arg) => arg !== '--json');
  if (!file || rest.length > 0) {
    console.error(usage);
    process.exit(2);
  }
  try {
    const summary = summariseHeap(file, { top, minRetainedKiB, ...(map === undefined ? {} : { map }) });
    console.log(json ? JSON.stringify(summary, null, 2) : formatHeapSummary(summary));
  } catch (error) {
    console.error(`heap-summary: ${(error as Error).message}`);
    process.exit(1);
  }
}
