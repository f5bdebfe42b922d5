// Reviews wait their turn per namespace: one queue per namespace, served round-robin, so a namespace
// that floods the webhook waits behind its own reviews while every other namespace's next review goes
// first (issue 12: one tenant's flood pushed other tenants' reviews past the webhook timeout, and with
// failurePolicy Ignore their pods were stored without the agent). At most `concurrency` reviews run at
// once (the worker threads, or 1 on the event loop); a namespace with `maxQueuedPerKey` waiting gets
// 429 for the next one. A review whose caller has gone (the API server timed out and closed the
// connection) is dropped when its turn comes instead of being computed for nobody.

export class QueueFullError extends Error {
  readonly code = 'QUEUE_FULL';
  constructor(key: string, limit: number) {
    super(`${limit} admission reviews of namespace "${key}" are already waiting; try again`);
    this.name = 'QueueFullError';
  }
}

interface Job {
  readonly task: () => unknown;
  readonly abandoned: () => boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface FairQueueOptions {
  /** reviews computed at the same time */
  readonly concurrency: number;
  /** reviews one key may have waiting */
  readonly maxQueuedPerKey: number;
}

/** Key → FIFO, served round-robin over keys; a sync task runs in its own macrotask so I/O interleaves. */
export class FairQueue {
  readonly #options: FairQueueOptions;
  /** keys with waiting jobs, in turn order (a Map keeps insertion order; a served key goes to the back) */
  readonly #queues = new Map<string, Job[]>();
  #running = 0;
  #waiting = 0;

  constructor(options: FairQueueOptions) {
    if (!(options.concurrency >= 1) || !(options.maxQueuedPerKey >= 1))
      throw new RangeError('a fair queue needs a concurrency and a per-key limit of at least 1');
    this.#options = options;
  }

  /** Reviews waiting (not yet started). */
  get waiting(): number {
    return this.#waiting;
  }

  get running(): number {
    return this.#running;
  }

  /**
   * Runs `task` when `key`'s turn comes. Resolves to its result, or to `undefined` when `abandoned()`
   * was true by then (the task never ran). Rejects with QueueFullError at once when the key is full.
   */
  run<T>(key: string, task: () => T | Promise<T>, abandoned: () => boolean = () => false): Promise<T | undefined> {
    const queue = this.#queues.get(key) ?? [];
    if (queue.length >= this.#options.maxQueuedPerKey)
      return Promise.reject(new QueueFullError(key, this.#options.maxQueuedPerKey));
    return new Promise<T | undefined>((resolve, reject) => {
      queue.push({ task, abandoned, resolve: resolve as (value: unknown) => void, reject });
      this.#waiting += 1;
      if (!this.#queues.has(key)) this.#queues.set(key, queue);
      this.#pump();
    });
  }

  #next(): Job | undefined {
    // Every key in the map has a job waiting; the first one's turn has come.
    const first = this.#queues.entries().next();
    if (first.done === true) return undefined;
    const [key, queue] = first.value;
    const job = queue.shift();
    // The key goes to the back of the turn order, or leaves it when it has nothing left.
    this.#queues.delete(key);
    if (queue.length > 0) this.#queues.set(key, queue);
    return job;
  }

  #pump(): void {
    while (this.#running < this.#options.concurrency) {
      const job = this.#next();
      if (job === undefined) return;
      this.#waiting -= 1;
      if (job.abandoned()) {
        job.resolve(undefined);
        continue;
      }
      this.#running += 1;
      // setImmediate: a synchronous review must not run inside the request that queued it, so the
      // event loop accepts (and queues) the requests that arrived meanwhile before the next turn.
      setImmediate(() => {
        let result: unknown;
        try {
          result = job.abandoned() ? undefined : job.task();
        } catch (error) {
          this.#done();
          job.reject(error);
          return;
        }
        Promise.resolve(result).then(
          (value) => {
            this.#done();
            job.resolve(value);
          },
          (error: unknown) => {
            this.#done();
            job.reject(error);
          },
        );
      });
    }
  }

  #done(): void {
    this.#running -= 1;
    this.#pump();
  }
}

const NAMESPACE_FIELD = /"namespace"\s*:\s*"([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)"/;

/**
 * The request namespace of an AdmissionReview body without parsing it (parsing is the work being
 * scheduled). The API server writes `request.namespace` before `request.object`, so the first
 * `"namespace"` field within the first 16 KiB is it; anything else shares the "" queue.
 */
export function namespaceHint(body: Buffer): string {
  const head = body.subarray(0, 16 * 1024).toString('latin1');
  return NAMESPACE_FIELD.exec(head)?.[1] ?? '';
}
