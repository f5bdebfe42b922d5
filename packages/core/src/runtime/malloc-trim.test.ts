import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { MALLOC_TRIM_ADDON, loadMallocTrim } from './malloc-trim.ts';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../..');
const MiB = 2 ** 20;

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'malloc-trim-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('loadMallocTrim', () => {
  test('without the addon it says where it looked and how to build it', () => {
    const empty = fs.mkdtempSync(path.join(dir, 'empty-'));
    expect(loadMallocTrim(empty)).toEqual({
      unavailable: `no ${MALLOC_TRIM_ADDON} in ${empty} (bundles carry it: node tools/native.js <dir>)`,
    });
  });

  test('a file that is not a shared object is a reason, not a crash', () => {
    const broken = fs.mkdtempSync(path.join(dir, 'broken-'));
    fs.writeFileSync(path.join(broken, MALLOC_TRIM_ADDON), 'not an ELF file');
    const loaded = loadMallocTrim(broken);
    expect('unavailable' in loaded && loaded.unavailable).toMatch(
      new RegExp(`^${path.join(broken, MALLOC_TRIM_ADDON)} did not load: `),
    );
  });
});

// The real thing, as the images run it: the addon built by tools/native.js (the bundles' step), loaded by
// this Node, in a process under --expose-gc whose malloc heap has free pages between live blocks.
describe('malloc-trim.node built by tools/native.js', () => {
  let built: string;
  beforeAll(async () => {
    const { stdout } = await run(process.execPath, [path.join(repoRoot, 'tools/native.js'), dir], { timeout: 60_000 });
    built = stdout.trim();
  }, 70_000);

  test('is written where it was asked for and loads', () => {
    expect(built).toBe(path.join(dir, MALLOC_TRIM_ADDON));
    const loaded = loadMallocTrim(dir);
    expect('trim' in loaded && typeof loaded.trim()).toBe('boolean');
  });

  // 40,000 ArrayBuffers of 2 KiB (their memory is malloc's) with every 16th kept: freed, they leave free
  // pages that glibc cannot hand back by itself, since a live block sits above them.
  const fragmentThenTrim = async (withAddon: boolean) => {
    const script = `
      import { startServiceMemoryTrim } from ${JSON.stringify(path.join(here, 'idle-memory-trim.ts'))};
      import { loadMallocTrim } from ${JSON.stringify(path.join(here, 'malloc-trim.ts'))};
      const loaded = loadMallocTrim(${JSON.stringify(dir)});
      if (!('trim' in loaded)) throw new Error(loaded.unavailable);
      let all = [];
      const kept = [];
      for (let i = 0; i < 40_000; i++) {
        const block = new ArrayBuffer(2048);
        new Uint8Array(block).fill(1);
        all.push(block);
        if (i % 16 === 15) kept.push(block);
      }
      all = undefined;
      const logger = { info: () => {}, debug: () => {} };
      const trims = [];
      const trimmer = startServiceMemoryTrim({
        logger,
        mallocTrim: ${withAddon ? 'loaded.trim' : 'null'},
        onTrim: (trim) => trims.push(trim),
      });
      const deadline = Date.now() + 20_000;
      while (trims.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      trimmer?.stop();
      console.log(JSON.stringify({ trims, kept: kept.length }));
    `;
    const { stdout } = await run(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      timeout: 30_000,
    });
    const result = JSON.parse(stdout) as { trims: Array<{ rssBeforeBytes: number; rssAfterBytes: number }> };
    expect(result.trims).toHaveLength(1);
    return result.trims[0]!.rssBeforeBytes - result.trims[0]!.rssAfterBytes;
  };

  test("gives back the free pages between malloc's live blocks that V8's collection leaves", async () => {
    const [collectionAlone, withMallocTrim] = await Promise.all([fragmentThenTrim(false), fragmentThenTrim(true)]);
    expect(withMallocTrim - collectionAlone).toBeGreaterThan(40 * MiB);
  }, 60_000);
});
