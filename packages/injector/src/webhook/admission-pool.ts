// Admission reviews are CPU work (annotations → spec → pod → diff → JSON) with no I/O, and Node runs one
// thread: on the event loop they cap a replica at one core and make TLS and health checks wait behind
// them. This pool answers them in worker threads while the event loop only does HTTPS, so a replica uses
// the CPUs it is given, as upstream's Go injector does.
//
// A small pool over node:worker_threads rather than piscina or tinypool: those start their own worker
// script from their package directory, which the single-file bundle the image runs does not have.

import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { backoffDelay } from '@vaultbridge/core';
import type { Logger } from 'pino';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import type { MutateOptions } from '../mutate/mutate.ts';
import { answerAdmissionReview, type AdmissionAnswer, type AdmissionHandler } from './admission-adapter.ts';
import type { WorkerReply, WorkerTask } from './admission-worker.ts';

/** Most worker threads `auto` picks: beyond this the API server, not the webhook, is the bottleneck. */
const MAX_AUTO_WORKERS = 4;

/**
 * `auto`: one worker per CPU beyond the one the event loop needs (cgroup CPU limits count: libuv reads
 * them), none on a single CPU, where threads would only add hand-offs.
 */
export function resolveWorkerCount(setting: number | 'auto', cpus = os.availableParallelism()): number {
  if (setting !== 'auto') return setting;
  return Math.min(MAX_AUTO_WORKERS, Math.max(0, cpus - 1));
}

/** The worker's entry: next to the bundle in the image, the TypeScript source otherwise. */
function workerEntry(): { url: URL; execArgv?: string[] } {
  const bundled = new URL('./admission-worker.mjs', import.meta.url);
  if (existsSync(fileURLToPath(bundled))) return { url: bundled };
  // From source (tests, `node --conditions=@vaultbridge/source`): Node strips the types itself, and the
  // workspace packages resolve to their sources through the same condition.
  const execArgv = process.execArgv.filter((arg) => !arg.startsWith('--cpu-prof'));
  if (!execArgv.some((arg) => arg.includes('@vaultbridge/source'))) execArgv.push('--conditions=@vaultbridge/source');
  return { url: new URL('./admission-worker.ts', import.meta.url), execArgv };
}

interface Pending {
  resolve(answer: AdmissionAnswer): void;
  reject(error: Error): void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  readonly pending: Map<number, Pending>;
  alive: boolean;
  /** the defaults object this worker last received (sent again only when it changes) */
  sentDefaults?: InjectorDefaults;
}

export interface AdmissionPoolOptions {
  /** worker threads; 0 is not a pool (use admissionHandler) */
  readonly size: number;
  readonly logger: Logger;
  readonly mutateOptions?: MutateOptions;
  /** restart back-off after a worker dies (ms); tests shorten it */
  readonly restartBaseDelayMs?: number;
}

export class AdmissionWorkerPool {
  readonly #options: AdmissionPoolOptions;
  readonly #entry = workerEntry();
  readonly #slots: Slot[] = [];
  #nextId = 0;
  #closing = false;
  #restarts = 0;

  constructor(options: AdmissionPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1)
      throw new RangeError(`an admission worker pool needs at least 1 worker, got ${options.size}`);
    this.#options = options;
    for (let index = 0; index < options.size; index++) this.#slots.push(this.#spawn(index));
  }

  /** Worker threads that are running now. */
  get liveWorkers(): number {
    return this.#slots.filter((slot) => slot.alive).length;
  }

  /** How many times a worker died and was replaced. */
  get restarts(): number {
    return this.#restarts;
  }

  /** A handler for WebhookServer; `defaults` is read per review (ConfigMap defaults change live). */
  handler(defaults: () => InjectorDefaults): AdmissionHandler {
    return (body) => this.answer(body, defaults());
  }

  answer(body: string, defaults: InjectorDefaults): Promise<AdmissionAnswer> | AdmissionAnswer {
    const slot = this.#leastBusy();
    // No live worker (all restarting after crashes, or closing): answer on the event loop rather than fail.
    if (slot === undefined) return answerAdmissionReview(body, defaults, this.#options.mutateOptions);
    const id = this.#nextId++;
    const task: WorkerTask = slot.sentDefaults === defaults ? { id, body } : { id, body, defaults };
    slot.sentDefaults = defaults;
    const inWorker = new Promise<AdmissionAnswer>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage(task);
    });
    // A worker that stopped under a review (killed, out of memory) must not turn it into a 500: with
    // failurePolicy Ignore the pod would be admitted without its agent. The review is answered on the
    // event loop instead; a review that itself breaks the code throws there too and gets its 500.
    return inWorker.catch((error: unknown) => {
      this.#options.logger.warn({ err: error }, 'admission worker failed a review; answering it on the event loop');
      return answerAdmissionReview(body, defaults, this.#options.mutateOptions);
    });
  }

  /** Waits for the reviews in flight, then stops the workers. */
  async close(): Promise<void> {
    this.#closing = true;
    while (this.#slots.some((slot) => slot.pending.size > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
    await Promise.all(this.#slots.map((slot) => slot.worker.terminate()));
  }

  /** Test aid: stop one worker as a crash would. */
  async crashWorkerForTest(index = 0): Promise<void> {
    await this.#slots[index]?.worker.terminate();
  }

  #leastBusy(): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.#slots) {
      if (slot.alive && (best === undefined || slot.pending.size < best.pending.size)) best = slot;
    }
    return best;
  }

  #spawn(index: number): Slot {
    const { logger, mutateOptions } = this.#options;
    const worker = new Worker(this.#entry.url, {
      name: `vaultbridge-admission-${index}`,
      workerData: { options: mutateOptions ?? {} },
      ...(this.#entry.execArgv === undefined ? {} : { execArgv: this.#entry.execArgv }),
    });
    const slot: Slot = { index, worker, pending: new Map(), alive: true };
    worker.on('message', (reply: WorkerReply) => {
      const pending = slot.pending.get(reply.id);
      if (pending === undefined) return;
      slot.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new Error(`admission worker ${index}: ${reply.error}`));
      else pending.resolve(reply.answer);
    });
    worker.on('error', (error) => logger.error({ err: error, worker: index }, 'admission worker failed'));
    worker.on('exit', (code) => {
      slot.alive = false;
      for (const pending of slot.pending.values())
        pending.reject(new Error(`admission worker ${index} stopped (exit code ${code}) with the review in flight`));
      slot.pending.clear();
      if (this.#closing) return;
      const delay = backoffDelay(this.#restarts, {
        baseDelayMs: this.#options.restartBaseDelayMs ?? 200,
        maxDelayMs: 10_000,
      });
      this.#restarts += 1;
      logger.error(
        { worker: index, exitCode: code, restartInMs: delay },
        'admission worker stopped; reviews go to the other workers (or the event loop) until it is replaced',
      );
      setTimeout(() => {
        if (!this.#closing) this.#slots[index] = this.#spawn(index);
      }, delay).unref();
    });
    return slot;
  }
}
