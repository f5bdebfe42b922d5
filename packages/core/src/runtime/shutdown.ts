// Graceful shutdown on SIGTERM/SIGINT: hooks run one after the other in a fixed order (stop taking
// work, drain, revoke, flush) within one overall budget, shorter than the pod's
// terminationGracePeriodSeconds so the process exits on its own before the kubelet's SIGKILL.
import type { Logger } from 'pino';

export type ShutdownHook = (reason: string) => void | Promise<void>;

export interface ShutdownHookOptions {
  /** Lower runs first; hooks of equal order run in the order they were added. Default 0. */
  order?: number;
  /** This hook fails if it takes longer (the overall budget still applies). */
  timeoutMs?: number;
}

/** Where signals come from; `process` by default, an EventEmitter in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

export interface ShutdownOptions {
  logger?: Logger;
  /** Budget for all hooks together. Default 25 000 ms (the pod default grace period is 30 s). */
  timeoutMs?: number;
  /** Called once with the exit code when shutdown is done; default `process.exit`. */
  exit?: (code: number) => void;
  /** Default SIGTERM and SIGINT. */
  signals?: readonly NodeJS.Signals[];
  signalSource?: SignalSource;
  /** A second signal while shutting down exits at once with code 1 (a second Ctrl-C). Default true. */
  forceOnSecondSignal?: boolean;
}

export class ShutdownHookError extends Error {
  readonly code: 'SHUTDOWN_HOOK_TIMEOUT' | 'SHUTDOWN_BUDGET_EXCEEDED';
  readonly hook: string;

  constructor(code: ShutdownHookError['code'], hook: string, timeoutMs: number) {
    super(
      code === 'SHUTDOWN_HOOK_TIMEOUT'
        ? `shutdown hook "${hook}" did not finish within ${timeoutMs} ms`
        : `shutdown budget of ${timeoutMs} ms used up before hook "${hook}" finished`,
    );
    this.name = 'ShutdownHookError';
    this.code = code;
    this.hook = hook;
  }
}

interface RegisteredHook {
  name: string;
  hook: ShutdownHook;
  order: number;
  sequence: number;
  timeoutMs: number | undefined;
}

export class GracefulShutdown {
  readonly #logger: Logger | undefined;
  readonly #timeoutMs: number;
  readonly #exit: (code: number) => void;
  readonly #signals: readonly NodeJS.Signals[];
  readonly #source: SignalSource;
  readonly #forceOnSecondSignal: boolean;
  readonly #controller = new AbortController();
  readonly #hooks: RegisteredHook[] = [];
  #sequence = 0;
  #listening = false;
  #done: Promise<number> | undefined;

  constructor(options: ShutdownOptions = {}) {
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs ?? 25_000;
    this.#exit = options.exit ?? ((code) => process.exit(code));
    this.#signals = options.signals ?? ['SIGTERM', 'SIGINT'];
    this.#source = options.signalSource ?? process;
    this.#forceOnSecondSignal = options.forceOnSecondSignal ?? true;
  }

  /** Aborted as soon as shutdown starts: loops and waits pass it on so they stop taking new work. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get isShuttingDown(): boolean {
    return this.#done !== undefined;
  }

  /** Run `hook` at shutdown; returns a function that removes it again. */
  onShutdown(name: string, hook: ShutdownHook, options: ShutdownHookOptions = {}): () => void {
    const entry: RegisteredHook = {
      name,
      hook,
      order: options.order ?? 0,
      sequence: this.#sequence++,
      timeoutMs: options.timeoutMs,
    };
    this.#hooks.push(entry);
    return () => {
      const index = this.#hooks.indexOf(entry);
      if (index >= 0) this.#hooks.splice(index, 1);
    };
  }

  /** Start reacting to the signals. Calling it again changes nothing. */
  listen(): this {
    if (this.#listening) return this;
    this.#listening = true;
    for (const signal of this.#signals) this.#source.on(signal, this.#onSignal);
    return this;
  }

  /** Stop reacting to the signals (a shutdown in progress continues). */
  unlisten(): void {
    if (!this.#listening) return;
    this.#listening = false;
    for (const signal of this.#signals) this.#source.off(signal, this.#onSignal);
  }

  /**
   * Run the hooks, then exit. Idempotent: later calls return the first call's promise. Resolves with
   * the exit code: `exitCode` if every hook succeeded in time, otherwise at least 1.
   */
  shutdown(reason: string, exitCode = 0): Promise<number> {
    this.#done ??= this.#run(reason, exitCode);
    return this.#done;
  }

  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.isShuttingDown) {
      if (!this.#forceOnSecondSignal) return;
      this.#logger?.warn({ signal }, 'second signal during shutdown; exiting now');
      this.#exit(1);
      return;
    }
    void this.shutdown(signal, 0);
  };

  async #run(reason: string, requestedCode: number): Promise<number> {
    this.#controller.abort(reason);
    const started = Date.now();
    const deadline = started + this.#timeoutMs;
    this.#logger?.info({ reason, hooks: this.#hooks.length }, 'shutting down');
    let code = requestedCode;
    const hooks = [...this.#hooks].sort((a, b) => a.order - b.order || a.sequence - b.sequence);
    for (const [index, entry] of hooks.entries()) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const skipped = hooks.slice(index).map((hook) => hook.name);
        this.#logger?.error({ skipped }, 'shutdown budget used up; remaining hooks skipped');
        code = code === 0 ? 1 : code;
        break;
      }
      const ownLimit = entry.timeoutMs !== undefined && entry.timeoutMs <= remaining;
      const hookBudget = ownLimit ? (entry.timeoutMs ?? remaining) : remaining;
      try {
        await withTimeout(
          Promise.resolve().then(() => entry.hook(reason)),
          hookBudget,
          () =>
            ownLimit
              ? new ShutdownHookError('SHUTDOWN_HOOK_TIMEOUT', entry.name, hookBudget)
              : new ShutdownHookError('SHUTDOWN_BUDGET_EXCEEDED', entry.name, this.#timeoutMs),
        );
        this.#logger?.debug({ hook: entry.name }, 'shutdown hook done');
      } catch (error) {
        this.#logger?.error({ hook: entry.name, err: error }, 'shutdown hook failed');
        code = code === 0 ? 1 : code;
      }
    }
    this.unlisten();
    this.#logger?.info({ exitCode: code, durationMs: Date.now() - started }, 'shutdown complete');
    this.#exit(code);
    return code;
  }
}

function withTimeout<T>(work: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Kept referenced on purpose: a hook waiting on nothing must still end in exit(), not in the event
    // loop running dry and the process leaving without its exit code.
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** A graceful shutdown coordinator; call {@link GracefulShutdown.listen} to react to signals. */
export function createShutdown(options: ShutdownOptions = {}): GracefulShutdown {
  return new GracefulShutdown(options);
}
