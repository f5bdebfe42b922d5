// Where a service's V8 heap goes, from a heap snapshot (issue 14): self size by kind, the biggest
// strings (the bundle's own source is one of them), and the code each package keeps alive (its
// closures, their SharedFunctionInfos, bytecode and feedback), attributed through the bundle's source
// map. Take a snapshot of a running bundle with `node <its flags> --heapsnapshot-signal=SIGUSR2 ...`
// and `kill -USR2 <pid>` (it lands in the process's working directory), then:
//   node --conditions=@vaultbridge/source tools/bench/heap-report.ts <file.heapsnapshot> [<bundle.mjs>]
// Retained sizes by package are not computed: an esbuild bundle hoists every ESM module's top-level
// bindings into one scope, so a dominator tree would put nearly everything under that one context.
import fs from 'node:fs';
import { SourceMap } from 'node:module';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[]]; edge_fields: string[]; edge_types: [string[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
  locations?: number[];
}

const MiB = 1024 * 1024;
const mib = (bytes: number) => (bytes / MiB).toFixed(2).padStart(7);

/** `node_modules/@scope/name/...` → `@scope/name`; `packages/core/src/...` → `@vaultbridge/core`. */
export function packageOf(source: string | undefined): string {
  if (!source) return '(no source)';
  const at = source.lastIndexOf('node_modules/');
  if (at >= 0) {
    const [first, second] = source.slice(at + 'node_modules/'.length).split('/');
    return first?.startsWith('@') ? `${first}/${second}` : (first ?? source);
  }
  const ours = /(?:^|\/)(?:packages\/)?([\w-]+)\/src\//.exec(source);
  if (ours) return `@vaultbridge/${ours[1]}`;
  return /^\.\.\/\.\.\/src\//.test(source) ? '(this service)' : source;
}

export function heapReport(file: string, bundle?: string): string {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8')) as Snapshot;
  const meta = snap.snapshot.meta;
  const N = meta.node_fields.length;
  const E = meta.edge_fields.length;
  const types = meta.node_types[0];
  const edgeTypes = meta.edge_types[0];
  const [iType, iName, iSize, iEdges] = ['type', 'name', 'self_size', 'edge_count'].map((f) =>
    meta.node_fields.indexOf(f),
  ) as [number, number, number, number];
  const [eType, eName, eTo] = ['type', 'name_or_index', 'to_node'].map((f) => meta.edge_fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const { nodes, edges, strings } = snap;
  const count = nodes.length / N;
  const typeOf = (n: number) => types[nodes[n * N + iType] as number] ?? '?';
  const sizeOf = (n: number) => nodes[n * N + iSize] as number;
  const out: string[] = [];

  const byKind = new Map<string, number>();
  const byName = new Map<string, number>();
  const bigStrings: Array<[number, string]> = [];
  let total = 0;
  for (let n = 0; n < count; n++) {
    const type = typeOf(n);
    const size = sizeOf(n);
    total += size;
    byKind.set(type, (byKind.get(type) ?? 0) + size);
    const name = strings[nodes[n * N + iName] as number] ?? '';
    if (type.endsWith('string')) {
      if (size > 64 * 1024) bigStrings.push([size, name.slice(0, 70).replace(/\s+/g, ' ')]);
    } else {
      const key = `${type}: ${name.slice(0, 50)}`;
      byName.set(key, (byName.get(key) ?? 0) + size);
    }
  }
  out.push(`V8 heap, self sizes: ${mib(total).trim()} MiB in ${count} objects`);
  for (const [kind, size] of [...byKind].sort((a, b) => b[1] - a[1]).slice(0, 8)) out.push(`${mib(size)}  ${kind}`);
  out.push('biggest kinds of non-string object:');
  for (const [key, size] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 12)) out.push(`${mib(size)}  ${key}`);
  out.push('strings over 64 KiB:');
  for (const [size, text] of bigStrings.sort((a, b) => b[0] - a[0]).slice(0, 8))
    out.push(`${mib(size)}  ${JSON.stringify(text)}`);

  if (bundle && snap.locations) {
    const map = new SourceMap(JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as never);
    const firstEdge = new Uint32Array(count + 1);
    for (let n = 0, e = 0; n < count; n++) {
      firstEdge[n] = e;
      e += (nodes[n * N + iEdges] as number) * E;
    }
    firstEdge[count] = edges.length;
    const L = snap.locations;
    // The bundle is the script with the most functions.
    const perScript = new Map<number, number>();
    for (let k = 0; k < L.length; k += 4)
      perScript.set(L[k + 1] as number, (perScript.get(L[k + 1] as number) ?? 0) + 1);
    const script = [...perScript].sort((a, b) => b[1] - a[1])[0]?.[0];
    // A closure's code: the closure, its SharedFunctionInfo, bytecode, feedback and scope info.
    const codeEdges = new Set(['shared', 'feedback_cell', 'bytecode', 'function_data', 'feedback_metadata', 'value']);
    const seen = new Uint8Array(count);
    const byPackage = new Map<string, number>();
    let attributed = 0;
    const visit = (n: number, pkg: string, depth: number) => {
      if (seen[n]) return;
      seen[n] = 1;
      byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + sizeOf(n));
      attributed += sizeOf(n);
      if (depth === 0) return;
      for (let x = firstEdge[n] as number; x < (firstEdge[n + 1] as number); x += E) {
        const to = (edges[x + eTo] as number) / N;
        const kind = edgeTypes[edges[x + eType] as number];
        const name = kind === 'element' || kind === 'hidden' ? '' : (strings[edges[x + eName] as number] ?? '');
        if (codeEdges.has(name) || typeOf(to) === 'code') visit(to, pkg, depth - 1);
      }
    };
    for (let k = 0; k < L.length; k += 4) {
      if (L[k + 1] !== script) continue;
      const entry = map.findEntry(L[k + 2] as number, L[k + 3] as number) as { originalSource?: string };
      visit((L[k] as number) / N, packageOf(entry.originalSource), 2);
    }
    out.push(`code kept alive by the bundle's functions, by package (${mib(attributed).trim()} MiB):`);
    for (const [pkg, size] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) out.push(`${mib(size)}  ${pkg}`);
  }
  return out.join('\n');
}

if (import.meta.main) {
  const [file, bundle] = process.argv.slice(2);
  if (!file) {
    console.error('usage: heap-report.ts <file.heapsnapshot> [<bundle.mjs> (with its .map beside it)]');
    process.exit(2);
  }
  console.log(heapReport(file, bundle));
}
