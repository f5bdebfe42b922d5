// Gives memory back once a service goes quiet, as the Go runtime's scavenger does for the Go services
// we replace. Under load V8 grows its young generation up to --max-semi-space-size and keeps it; its own
// memory reducer starts only after a mark-compact, which a service that only scavenged never runs, and
// a plain full GC neither shrinks the new space nor returns pooled pages. V8's "last resort" collection
// does both (measured, README: webhook 126 -> 89 MiB a few seconds after a saturation run, operator at
// 1,000 objects 118 -> 88 MiB after its first sync). It needs node's --expose-gc, which the images set;
// without it the trim is off and nothing else changes. After the collection it calls glibc's
// malloc_trim through the services' native addon when that is beside the bundle (malloc-trim.ts): what
// node's C++ side, OpenSSL and V8's compiler threads freed in the burst is given back too.
import type { Logger } from 'pino';
import { loadMallocTrim, type MallocTrim } from './malloc-trim.ts';
import type { TrimmedMemory } from './metrics.ts';

/** A full, memory-reducing collection: the gc extension's `last-resort` flavor. */
export type MemoryReducingCollect = () => void;

interface GcExtension {
  (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }): void;
}

/**
 * The `gc` node's --expose-gc puts on the global, taken off it so that no dependency calls it; undefined
 * without the flag.
 */
export function takeExposedGc(global: object = globalThis): MemoryReducingCollect | undefined {
  const holder = global as { gc?: unknown };
  const gc = holder.gc;
  if (typeof gc !== 'function') return undefined;
  // V8 defines it writable but not configurable: it cannot be deleted, only overwritten.
  holder.gc = undefined;
  return () => (gc as GcExtension)({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

export interface MemoryTrim extends TrimmedMemory {
  readonly durationMs: number;
}

export interface IdleMemoryTrimOptions {
  collect: MemoryReducingCollect;
  /** How long the process must have been quiet. Default 3 s: long enough that a burst is over. */
  quietMs?: number;
  /** CPU per second below which a reading (one a second) counts as quiet. Default 20 ms (2 % of a core). */
  quietCpuMsPerSecond?: number;
  /**
   * How far RSS must have grown over what the last trim left before another is worth its pause (a full
   * collection of a few tens of MiB: 20-75 ms here). Default 4 MiB; the first trim needs no growth.
   */
  minGrowthBytes?: number;
  onTrim?: (trim: MemoryTrim) => void;
  /** How often CPU and RSS are read. Default 1 s. */
  sampleMs?: number;
  readCpuMicros?: () => number;
  readRssBytes?: () => number;
  now?: () => number;
}

export interface IdleMemoryTrimmer {
  /** Reads CPU and RSS once and trims if the process has been quiet long enough (the timer calls it). */
  sample(): MemoryTrim | undefined;
  stop(): void;
}

const processCpuMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

/** Watches CPU and RSS and collects once the process has been quiet and has grown since the last trim. */
export function createIdleMemoryTrimmer(options: IdleMemoryTrimOptions): IdleMemoryTrimmer {
  const quietMs = options.quietMs ?? 3_000;
  const quietCpuMsPerSecond = options.quietCpuMsPerSecond ?? 20;
  const minGrowthBytes = options.minGrowthBytes ?? 4 * 1024 * 1024;
  const readCpuMicros = options.readCpuMicros ?? processCpuMicros;
  const readRssBytes = options.readRssBytes ?? (() => process.memoryUsage.rss());
  const now = options.now ?? (() => performance.now());

  let lastCpuMicros = readCpuMicros();
  let lastAt = now();
  // Quiet means every reading since then was under the threshold: a process that works in waves (an
  // operator's refreshes) is trimmed in the gaps, one with work every second or two is not.
  let quietSince: number | undefined = lastAt;
  // The first trim needs no growth: start-up leaves the parser's and the first requests' garbage.
  let rssAfterLastTrim = -Infinity;

  const sample = (): MemoryTrim | undefined => {
    const at = now();
    const cpuMicros = readCpuMicros();
    const elapsedMs = at - lastAt;
    const cpuMsPerSecond = elapsedMs > 0 ? (cpuMicros - lastCpuMicros) / elapsedMs : Infinity;
    lastCpuMicros = cpuMicros;
    lastAt = at;
    if (cpuMsPerSecond >= quietCpuMsPerSecond) {
      quietSince = undefined;
      return undefined;
    }
    quietSince ??= at - elapsedMs;
    if (at - quietSince < quietMs) return undefined;
    const rssBeforeBytes = readRssBytes();
    if (rssBeforeBytes < rssAfterLastTrim + minGrowthBytes) return undefined;
    options.collect();
    const done = now();
    const trim = { rssBeforeBytes, rssAfterBytes: readRssBytes(), durationMs: done - at };
    rssAfterLastTrim = trim.rssAfterBytes;
    // The collection's own CPU is not load: the next reading measures from here.
    lastCpuMicros = readCpuMicros();
    lastAt = done;
    quietSince = done;
    options.onTrim?.(trim);
    return trim;
  };

  const timer = setInterval(sample, options.sampleMs ?? 1_000);
  timer.unref();
  return { sample, stop: () => clearInterval(timer) };
}

export interface ServiceMemoryTrimOptions {
  logger: Logger;
  /** Told of each trim, e.g. the service's counters (core's `countIdleMemoryTrims`). */
  onTrim?: (trim: MemoryTrim) => void;
  /** The collection; default the exposed gc (`node --expose-gc`), taken off the global. */
  collect?: MemoryReducingCollect;
  /**
   * malloc_trim after each collection; default the addon beside the bundle (malloc-trim.ts), said once
   * at info when it is not there. null: the collection alone.
   */
  mallocTrim?: MallocTrim | null;
  /** Where VAULTBRIDGE_IDLE_MEMORY_TRIM is read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** VAULTBRIDGE_IDLE_MEMORY_TRIM=off turns the trim off: for a platform that ranks CPU above memory. */
export const IDLE_MEMORY_TRIM_ENV = 'VAULTBRIDGE_IDLE_MEMORY_TRIM';

function defaultMallocTrim(logger: Logger): MallocTrim | null {
  const loaded = loadMallocTrim();
  if ('trim' in loaded) {
    logger.info("idle memory trim on: V8's memory-reducing collection, then malloc_trim");
    return loaded.trim;
  }
  logger.info(`idle memory trim without malloc_trim: ${loaded.unavailable}`);
  return null;
}

/**
 * A service's idle trim with its log line; undefined (and one info line) when node runs without
 * --expose-gc.
 */
export function startServiceMemoryTrim(options: ServiceMemoryTrimOptions): IdleMemoryTrimmer | undefined {
  const { logger, env = process.env } = options;
  const setting = env[IDLE_MEMORY_TRIM_ENV];
  if (setting === 'off') {
    logger.info(`idle memory trim off: ${IDLE_MEMORY_TRIM_ENV}=off`);
    return undefined;
  }
  // Read where a service is already running (the sidecar, after its first render): a typo must not
  // stop it, so it is said and the default kept.
  if (setting !== undefined && setting !== '' && setting !== 'on')
    logger.warn(`${IDLE_MEMORY_TRIM_ENV}="${setting}" is neither "on" nor "off": the idle memory trim stays on`);
  const collect = options.collect ?? takeExposedGc();
  if (collect === undefined) {
    logger.info('idle memory trim off: node runs without --expose-gc (the images set it)');
    return undefined;
  }
  const mallocTrim = options.mallocTrim === undefined ? defaultMallocTrim(logger) : options.mallocTrim;
  return createIdleMemoryTrimmer({
    collect:
      mallocTrim === null
        ? collect
        : () => {
            collect();
            mallocTrim();
          },
    onTrim: (trim) => {
      options.onTrim?.(trim);
      logger.debug(
        {
          rssBeforeMiB: Math.round(trim.rssBeforeBytes / 2 ** 20),
          rssAfterMiB: Math.round(trim.rssAfterBytes / 2 ** 20),
          ms: Math.round(trim.durationMs),
        },
        'idle memory trim',
      );
    },
  });
}
