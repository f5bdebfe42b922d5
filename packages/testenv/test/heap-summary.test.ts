// tools/bench/heap-summary.ts, the heap-snapshot reader the READMEs' "where the memory goes" tables come
// from, run as its users run it on snapshots that v8.writeHeapSnapshot() wrote in child processes holding
// objects of known sizes: a big flat string, an owner with 100 leaves of 10,000 characters each plus a
// string it shares with a global (so its retained size must leave that out), and an esbuild bundle whose
// dependency keeps a table in a closure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { repoRoot } from '../src/index.ts';

interface SizeRow {
  name: string;
  bytes: number;
  count: number;
}
interface Summary {
  liveNodes: number;
  liveBytes: number;
  byType: SizeRow[];
  byConstructor: SizeRow[];
  bigStrings: Array<{ bytes: number; text: string; via: string }>;
  owners: Array<{ type: string; name: string; retainedBytes: number; selfBytes: number; via: string }>;
  bundle?: {
    functions: number;
    codeBytes: number;
    codeByPackage: SizeRow[];
    codeByWorkspacePackage: SizeRow[];
    retainedByPackage: SizeRow[];
  };
}

const tool = path.join(repoRoot, 'tools/bench/heap-summary.ts');
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-heap-summary-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** Runs `script` (an ES module) in a fresh node that then writes a heap snapshot; returns the file. */
function snapshotOf(scriptFile: string, name: string): string {
  const file = path.join(work, `${name}.heapsnapshot`);
  execFileSync(process.execPath, [scriptFile, file], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 60_000 });
  return file;
}

function summarise(...args: string[]): Summary {
  const out = execFileSync(process.execPath, [tool, ...args, '--json', '--top', '200'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  return JSON.parse(out) as Summary;
}

test('finds a big string, counts constructors, and gives an owner only what it alone holds', () => {
  const script = path.join(work, 'graph.mjs');
  fs.writeFileSync(
    script,
    `import v8 from 'node:v8';
// Flat one-byte strings (Buffer#toString makes sequential strings, never ropes), each a distinct object.
const flat = (prefix, length, fill) =>
  Buffer.concat([Buffer.from(prefix), Buffer.alloc(length - prefix.length, fill)]).toString('latin1');
class HeapSummaryLeaf { constructor(text) { this.text = text; } }
class HeapSummaryHolder { constructor() { this.leaves = []; this.shared = undefined; } }
// Built in a function, so only the globals below hold these objects (no module-scope binding does).
function makeHolder() {
  const holder = new HeapSummaryHolder();
  for (let i = 0; i < 100; i++) holder.leaves.push(new HeapSummaryLeaf(flat('leaf:' + i + ':', 10_000, 'l')));
  holder.shared = flat('shared:', 200_000, 's');
  globalThis.heapSummaryShared = holder.shared;
  return holder;
}
globalThis.heapSummaryHolder = makeHolder();
globalThis.heapSummaryBig = flat('heap-summary-big:', 500_000, 'b');
v8.writeHeapSnapshot(process.argv[2]);
`,
  );
  const summary = summarise(snapshotOf(script, 'graph'));

  expect(summary.liveNodes).toBeGreaterThan(1000);
  const typeTotal = summary.byType.reduce((sum, row) => sum + row.bytes, 0);
  expect(typeTotal).toBe(summary.liveBytes);

  // A sequential one-byte string is its characters plus a 16-byte header, rounded up to 8.
  const big = summary.bigStrings.find((row) => row.text.startsWith('heap-summary-big:bbbb'));
  expect(big?.bytes).toBeGreaterThanOrEqual(500_000);
  expect(big?.bytes).toBeLessThanOrEqual(500_000 + 24);
  const sharedString = summary.bigStrings.find((row) => row.text.startsWith('shared:ssss'));
  expect(sharedString?.bytes).toBeGreaterThanOrEqual(200_000);
  // The leaves (10,000 characters) are under the 64 KiB threshold.
  expect(summary.bigStrings.some((row) => row.text.startsWith('leaf:'))).toBe(false);

  expect(summary.byConstructor.find((row) => row.name === '(object) HeapSummaryLeaf')?.count).toBe(100);

  // The holder alone keeps its 100 leaves' strings (1,000,000 characters) and little else; the string
  // it shares with a global (200,000) is not its to free.
  const holder = summary.owners.find((row) => row.name === 'HeapSummaryHolder');
  expect(holder?.type).toBe('object');
  expect(holder?.retainedBytes).toBeGreaterThanOrEqual(100 * (10_000 + 16));
  expect(holder?.retainedBytes).toBeLessThan(100 * (10_000 + 16) + 50_000);
  expect(holder?.via).toMatch(/\.heapSummaryHolder$/);
  expect(big?.via).toMatch(/\.heapSummaryBig$/);
  // Its leaves array is owned through the holder's `leaves` property.
  const leaves = summary.owners.find((row) => row.name === 'Array' && row.via.endsWith('HeapSummaryHolder.leaves'));
  expect(leaves?.retainedBytes).toBeGreaterThanOrEqual(100 * (10_000 + 16));
  expect(leaves?.retainedBytes).toBeLessThan(holder?.retainedBytes ?? 0);
});

test("attributes a bundle's code and the data its functions hold to the source package, through the source map", async () => {
  const project = path.join(work, 'bundle-project');
  const library = path.join(project, 'node_modules/heap-fixture-lib');
  fs.mkdirSync(library, { recursive: true });
  fs.mkdirSync(path.join(project, 'src'));
  fs.writeFileSync(path.join(library, 'package.json'), JSON.stringify({ name: 'heap-fixture-lib', main: 'index.js' }));
  // The table lives in a closure's context, so the closure (a function of the library) dominates it.
  fs.writeFileSync(
    path.join(library, 'index.js'),
    `export function makeLookup() {
  const table = [];
  for (let i = 0; i < 300; i++) table.push(Buffer.alloc(1000, 97 + (i % 26)).toString('latin1'));
  return function lookup(i) { return table[i]; };
}
`,
  );
  fs.writeFileSync(
    path.join(project, 'src/main.js'),
    `import v8 from 'node:v8';
import { makeLookup } from 'heap-fixture-lib';
const lookup = makeLookup();
globalThis.heapFixtureLookup = lookup;
if (lookup(1).length !== 1000) throw new Error('fixture broken');
v8.writeHeapSnapshot(process.argv[2]);
`,
  );
  const bundle = path.join(project, 'dist/fixture.mjs');
  await build({
    entryPoints: [path.join(project, 'src/main.js')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    sourcemap: 'linked',
    outfile: bundle,
    logLevel: 'silent',
  });
  const snapshot = snapshotOf(bundle, 'bundle');

  for (const mapArgument of [bundle, `${bundle}.map`]) {
    const summary = summarise(snapshot, mapArgument);
    expect(summary.bundle?.functions).toBeGreaterThanOrEqual(3);
    // makeLookup and lookup have run: their bytecode is the library's code.
    const code = summary.bundle?.codeByPackage.find((row) => row.name === 'heap-fixture-lib');
    expect(code?.bytes).toBeGreaterThan(0);
    // 300 strings of 1,000 characters (1,016 bytes each) and the array holding them.
    const held = summary.bundle?.retainedByPackage.find((row) => row.name === 'heap-fixture-lib');
    expect(held?.bytes).toBeGreaterThanOrEqual(300 * 1016);
    expect(held?.bytes).toBeLessThan(300 * 1016 + 20_000);
  }
});

test('a map for a script the snapshot does not hold fails, naming the file it looked for', () => {
  const script = path.join(work, 'plain.mjs');
  fs.writeFileSync(script, "import v8 from 'node:v8';\nv8.writeHeapSnapshot(process.argv[2]);\n");
  const snapshot = snapshotOf(script, 'plain');
  const map = path.join(work, 'other.mjs.map');
  fs.writeFileSync(map, JSON.stringify({ version: 3, sources: ['a.js'], names: [], mappings: 'AAAA' }));
  let failure: { status?: number; stderr?: string } = {};
  try {
    summarise(snapshot, map);
  } catch (error) {
    failure = error as typeof failure;
  }
  expect(failure.status).toBe(1);
  expect(failure.stderr).toContain('no script named …/other.mjs');
});
