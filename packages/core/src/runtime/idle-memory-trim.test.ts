import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from './logger.ts';
import { SecretRedactor } from './secret-redactor.ts';
import { createIdleMemoryTrimmer, startServiceMemoryTrim, takeExposedGc } from './idle-memory-trim.ts';

const MiB = 2 ** 20;

/** A process whose CPU, RSS and clock the test moves by hand; the trimmer's timer never fires (1 h). */
function fakeProcess() {
  const state = { cpuMicros: 0, rssBytes: 100 * MiB, nowMs: 0, collects: 0 };
  const trimmer = createIdleMemoryTrimmer({
    collect: () => {
      state.collects++;
      state.rssBytes -= 30 * MiB;
      state.cpuMicros += 50_000;
    },
    sampleMs: 3_600_000,
    readCpuMicros: () => state.cpuMicros,
    readRssBytes: () => state.rssBytes,
    now: () => state.nowMs,
  });
  /** One second passes, with this much CPU used in it. */
  const second = (cpuMs: number) => {
    state.nowMs += 1_000;
    state.cpuMicros += cpuMs * 1_000;
    return trimmer.sample();
  };
  return { state, trimmer, second };
}

describe('createIdleMemoryTrimmer', () => {
  test('trims once the process has been quiet for 3 s, and not while it is busy', () => {
    const { state, trimmer, second } = fakeProcess();
    try {
      expect([second(500), second(300), second(5), second(5)]).toEqual([undefined, undefined, undefined, undefined]);
      expect(state.collects).toBe(0);
      const trim = second(5);
      expect(trim).toEqual({ rssBeforeBytes: 100 * MiB, rssAfterBytes: 70 * MiB, durationMs: 0 });
      expect(state.collects).toBe(1);
    } finally {
      trimmer.stop();
    }
  });

  test("does not count the collection's own CPU as load, and trims again only after RSS grew 4 MiB", () => {
    const { state, trimmer, second } = fakeProcess();
    try {
      for (let i = 0; i < 3; i++) second(0);
      expect(state.collects).toBe(1);
      // Quiet on: RSS at what the trim left, then 3 MiB more: not worth another pause.
      for (let i = 0; i < 5; i++) second(0);
      state.rssBytes += 3 * MiB;
      for (let i = 0; i < 5; i++) second(0);
      expect(state.collects).toBe(1);
      // A burst grows it by 20 MiB; 3 s after the burst ends, one more trim.
      second(900);
      state.rssBytes += 20 * MiB;
      second(0);
      second(0);
      expect(state.collects).toBe(1);
      expect(second(0)?.rssBeforeBytes).toBe(93 * MiB);
      expect(state.collects).toBe(2);
    } finally {
      trimmer.stop();
    }
  });
});

test('trims in the gaps of work that comes in waves, not between renders every 2 s', () => {
  const { state, trimmer, second } = fakeProcess();
  try {
    // Work every 2 s (a sidecar re-rendering at a 2 s interval): never 3 quiet seconds in a row.
    for (let i = 0; i < 5; i++) expect([second(30), second(0)]).toEqual([undefined, undefined]);
    expect(state.collects).toBe(0);
    // Waves (an operator's refreshes): 5 busy seconds, 4 quiet ones; a trim in the gap.
    for (let i = 0; i < 5; i++) second(300);
    expect([second(1), second(1), second(1)].map((trim) => trim?.rssBeforeBytes)).toEqual([
      undefined,
      undefined,
      100 * MiB,
    ]);
    expect(state.collects).toBe(1);
  } finally {
    trimmer.stop();
  }
});

describe('takeExposedGc', () => {
  test('takes gc off the global it was exposed on, and is undefined without it', () => {
    const calls: unknown[] = [];
    const global: { gc?: unknown } = { gc: (options: unknown) => void calls.push(options) };
    const collect = takeExposedGc(global);
    expect(global.gc).toBeUndefined();
    collect?.();
    expect(calls).toEqual([{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
    expect(takeExposedGc({})).toBeUndefined();
  });
});

describe('startServiceMemoryTrim', () => {
  test('without --expose-gc it says so once and starts nothing', () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      name: 'test',
      level: 'debug',
      redactor: new SecretRedactor(),
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    const hadGc = typeof (globalThis as { gc?: unknown }).gc === 'function';
    const trimmer = startServiceMemoryTrim({ logger });
    // jest runs without --expose-gc; with it, this test would take the runner's gc: it must not run so.
    expect(hadGc).toBe(false);
    expect(trimmer).toBeUndefined();
    expect(logs.map((line) => line.msg)).toEqual([
      'idle memory trim off: node runs without --expose-gc (the images set it)',
    ]);
  });

  test('VAULTBRIDGE_IDLE_MEMORY_TRIM=off turns it off; another value is named in a warning and it stays on', () => {
    const logs: Array<Record<string, unknown>> = [];
    const logger = createLogger({
      name: 'test',
      level: 'debug',
      redactor: new SecretRedactor(),
      destination: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
    });
    let collects = 0;
    const collect = () => void collects++;
    expect(startServiceMemoryTrim({ logger, collect, env: { VAULTBRIDGE_IDLE_MEMORY_TRIM: 'off' } })).toBeUndefined();
    expect(logs.map((line) => line.msg)).toEqual(['idle memory trim off: VAULTBRIDGE_IDLE_MEMORY_TRIM=off']);
    const typo = startServiceMemoryTrim({
      logger,
      collect,
      mallocTrim: null,
      env: { VAULTBRIDGE_IDLE_MEMORY_TRIM: 'no' },
    });
    expect(typo).toBeDefined();
    typo?.stop();
    expect(logs.at(-1)).toMatchObject({
      level: 'warn',
      msg: 'VAULTBRIDGE_IDLE_MEMORY_TRIM="no" is neither "on" nor "off": the idle memory trim stays on',
    });
    const on = startServiceMemoryTrim({
      logger,
      collect,
      mallocTrim: null,
      env: { VAULTBRIDGE_IDLE_MEMORY_TRIM: 'on' },
    });
    expect(on).toBeDefined();
    on?.stop();
    expect(logs).toHaveLength(2);
    expect(collects).toBe(0);
  });

  // The real thing: this Node's V8 under --expose-gc, as the images run it. A Node upgrade that turned the
  // last-resort flavor into a plain full GC (which keeps the grown new space) fails here.
  test("in node --expose-gc, a quiet process's grown young generation is given back", async () => {
    const here = path.dirname(fileURLToPath(import.meta.url));
    const script = `
      import v8 from 'node:v8';
      import { startServiceMemoryTrim } from ${JSON.stringify(path.join(here, 'idle-memory-trim.ts'))};
      const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      let kept = [];
      for (let i = 0; i < 2e6; i++) { const o = { i, s: 'x' + i }; if (i % 1000 === 0) kept.push(o); }
      const before = newSpace();
      const lines = [];
      const logger = { info: (m) => lines.push(m), debug: (f, m) => lines.push(m) };
      const trims = [];
      const trimmer = startServiceMemoryTrim({ logger, mallocTrim: null, onTrim: (t) => trims.push(t) });
      const gcLeft = typeof globalThis.gc;
      const deadline = Date.now() + 20_000;
      while (trims.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      trimmer?.stop();
      console.log(JSON.stringify({ before, after: newSpace(), gcLeft, trims: trims.length, lines, kept: kept.length }));
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--max-semi-space-size=16', '--input-type=module', '-e', script],
      { timeout: 30_000 },
    );
    const result = JSON.parse(stdout) as {
      before: number;
      after: number;
      gcLeft: string;
      trims: number;
      lines: string[];
    };
    expect(result.gcLeft).toBe('undefined');
    expect(result.trims).toBe(1);
    expect(result.lines).toEqual(['idle memory trim']);
    expect(result.before).toBeGreaterThanOrEqual(8 * MiB);
    expect(result.after).toBeLessThan(result.before / 4);
  }, 40_000);
});
