// Where a CPU profile's time or a sampling heap profile's bytes go, by function of the sources (through
// the bundle's source map) and by package (issue 14: the operator's work per reconcile).
//   node tools/bench/profile-summary.ts <file.cpuprofile | file.heapprofile> [<bundle.mjs>] [--top N] [--per N]
// A .cpuprofile comes from `node --cpu-prof` (BENCH_OPERATOR_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR"),
// a .heapprofile from tools/bench/sampling-heap-probe.ts. It prints the total (ms of samples, or bytes
// allocated), then per package and per function: self (in that function's own frame) and inclusive (in
// it or anything it called; a function counted once per stack however often it recurses). --per N divides
// every figure by N (e.g. the number of reconciles).
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';
import { packageOf } from './heap-summary.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** One frame of the tree, in either profile's shape, with its own weight (ms or bytes). */
interface Frame {
  callFrame: CallFrame;
  self: number;
  children: Frame[];
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

interface HeapProfileNode {
  callFrame: CallFrame;
  selfSize: number;
  children: HeapProfileNode[];
}

function fromHeap(node: HeapProfileNode): Frame {
  return { callFrame: node.callFrame, self: node.selfSize, children: node.children.map(fromHeap) };
}

/** The tree with each node's sampled time in ms (a sample's time is the delta to the next one). */
function fromCpu(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const next = profile.timeDeltas[i + 1] ?? 0;
    selfMs.set(profile.samples[i]!, (selfMs.get(profile.samples[i]!) ?? 0) + next / 1000);
  }
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const build = (id: number): Frame => {
    const node = byId.get(id)!;
    return { callFrame: node.callFrame, self: selfMs.get(id) ?? 0, children: (node.children ?? []).map(build) };
  };
  const roots = profile.nodes.filter((node) => !childIds.has(node.id));
  return roots.length === 1
    ? build(roots[0]!.id)
    : {
        callFrame: { functionName: '(root)', url: '', lineNumber: -1, columnNumber: -1 },
        self: 0,
        children: roots.map((r) => build(r.id)),
      };
}

export interface Row {
  name: string;
  self: number;
  inclusive: number;
}

export function summarize(
  root: Frame,
  resolve: (frame: CallFrame) => { fn: string; pkg: string },
): { total: number; functions: Row[]; packages: Row[] } {
  const functions = new Map<string, Row>();
  const packages = new Map<string, Row>();
  const row = (table: Map<string, Row>, name: string): Row => {
    let found = table.get(name);
    if (!found) table.set(name, (found = { name, self: 0, inclusive: 0 }));
    return found;
  };
  let total = 0;
  // Returns the subtree's weight; each function and package gets it once per path (recursion not doubled).
  const walk = (frame: Frame, onPath: Set<string>): number => {
    const { fn, pkg } = resolve(frame.callFrame);
    const fnKey = `${pkg} ${fn}`;
    const pkgKey = pkg;
    row(functions, fnKey).self += frame.self;
    row(packages, pkgKey).self += frame.self;
    total += frame.self;
    const newFn = !onPath.has(fnKey);
    const newPkg = !onPath.has(`pkg:${pkgKey}`);
    if (newFn) onPath.add(fnKey);
    if (newPkg) onPath.add(`pkg:${pkgKey}`);
    let weight = frame.self;
    for (const child of frame.children) weight += walk(child, onPath);
    if (newFn) {
      onPath.delete(fnKey);
      row(functions, fnKey).inclusive += weight;
    }
    if (newPkg) {
      onPath.delete(`pkg:${pkgKey}`);
      row(packages, pkgKey).inclusive += weight;
    }
    return weight;
  };
  walk(root, new Set());
  return { total, functions: [...functions.values()], packages: [...packages.values()] };
}

function main(): void {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const at = args.indexOf(name);
    if (at === -1) return fallback;
    const [, value] = args.splice(at, 2);
    return Number(value);
  };
  const top = option('--top', 30);
  const per = option('--per', 1);
  const [file, bundle] = args;
  if (!file) {
    console.error(
      'usage: node tools/bench/profile-summary.ts <file.cpuprofile|file.heapprofile> [<bundle.mjs>] [--top N] [--per N]',
    );
    process.exit(2);
  }
  const data = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile | { head: HeapProfileNode };
  const heap = 'head' in data;
  const root = heap ? fromHeap(data.head) : fromCpu(data);
  const map = bundle ? new SourceMap(JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as never) : undefined;
  const bundleName = bundle ? path.basename(bundle) : undefined;
  const resolve = (frame: CallFrame): { fn: string; pkg: string } => {
    if (map && bundleName && frame.url.endsWith(bundleName) && frame.lineNumber >= 0) {
      const entry = map.findEntry(frame.lineNumber, frame.columnNumber) as {
        originalSource?: string;
        originalLine?: number;
        name?: string;
      };
      if (entry.originalSource) {
        const source = entry.originalSource.replace(/^.*?(node_modules\/|packages\/)/, '$1');
        return {
          fn: `${entry.name ?? frame.functionName ?? '(anonymous)'} ${source}:${(entry.originalLine ?? 0) + 1}`,
          pkg: packageOf(source),
        };
      }
    }
    const where = frame.url === '' ? '' : ` ${frame.url.replace(/^file:\/\/.*\//, '')}:${frame.lineNumber + 1}`;
    return {
      fn: `${frame.functionName || '(anonymous)'}${where}`,
      pkg: frame.url.startsWith('node:') ? 'node' : frame.url === '' ? '(native)' : frame.url,
    };
  };
  const { total, functions, packages } = summarize(root, resolve);
  const unit = heap ? 'KiB' : 'ms';
  const scale = (value: number) => (heap ? value / 1024 : value) / per;
  const fmt = (value: number) => scale(value).toFixed(heap ? 1 : 2);
  console.log(`${file}: ${fmt(total)} ${unit}${per === 1 ? '' : ` per unit (÷ ${per})`}`);
  const table = (title: string, rows: Row[], key: 'self' | 'inclusive') => {
    console.log(`\n${title} (${unit}; self / inclusive)`);
    for (const r of [...rows].sort((a, b) => b[key] - a[key]).slice(0, top))
      console.log(`${fmt(r.self).padStart(10)} ${fmt(r.inclusive).padStart(10)}  ${r.name}`);
  };
  table('packages by self', packages, 'self');
  table('functions by self', functions, 'self');
  table('functions by inclusive', functions, 'inclusive');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
