// Batched rollout restarts: when several synced objects change together (a rotation in Vault that
// touches five secrets of one app), the workload that uses them is restarted once, after all of them
// are written, instead of once per secret (VSO restarts it five times, and pods started by the first
// restart may read the other secrets before they changed). A reconcile never waits for the batch: it
// schedules, and the batch reports back per object when it ran.
import type { KubeJson } from '../runtime/kube-json.ts';
import type { RolloutRestartTarget } from '../api/sync-target.ts';
import { rolloutRestart, RolloutRestartError } from './rollout-restart.ts';

/** Who asked, so the outcome can be reported on that object. */
export interface RestartRequester {
  kind: string;
  namespace: string;
  name: string;
  generation: number;
}

export interface RestartOutcome {
  requester: RestartRequester;
  targets: RolloutRestartTarget[];
  failures: RolloutRestartError[];
}

export interface RestartBatcherOptions {
  kube: KubeJson;
  /** How long a batch collects requests before it runs. Default 1 s. */
  windowMs?: number;
  /** Called once per requester after its batch ran (Events, status). */
  onOutcome: (outcome: RestartOutcome) => Promise<void>;
  /** Told of each workload patched (metrics, tests). */
  onRestart?: (namespace: string, target: RolloutRestartTarget) => void;
}

interface Pending {
  requesters: Map<string, { requester: RestartRequester; targets: RolloutRestartTarget[] }>;
  timer: NodeJS.Timeout;
}

const targetKey = (namespace: string, target: RolloutRestartTarget) => `${namespace}/${target.kind}/${target.name}`;

export class RestartBatcher {
  private readonly options: RestartBatcherOptions;
  private pending: Pending | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(options: RestartBatcherOptions) {
    this.options = options;
  }

  /** Restart `targets` (in the requester's namespace) with whatever else is asked within the window. */
  schedule(requester: RestartRequester, targets: readonly RolloutRestartTarget[]): void {
    if (targets.length === 0) return;
    if (this.pending === undefined) {
      const timer = setTimeout(() => this.flush(), this.options.windowMs ?? 1000);
      timer.unref();
      this.pending = { requesters: new Map(), timer };
    }
    const key = `${requester.kind}/${requester.namespace}/${requester.name}`;
    const existing = this.pending.requesters.get(key);
    // A requester asking twice in one window: the later generation and the union of its targets.
    const merged = new Map((existing?.targets ?? []).map((t) => [targetKey(requester.namespace, t), t]));
    for (const target of targets) merged.set(targetKey(requester.namespace, target), target);
    this.pending.requesters.set(key, { requester, targets: [...merged.values()] });
  }

  /** Runs the pending batch now (stop, tests). Resolves when every batch so far has reported. */
  async flushNow(): Promise<void> {
    if (this.pending) {
      clearTimeout(this.pending.timer);
      this.flush();
    }
    await this.running;
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return;
    this.running = this.running.then(() => this.run(batch));
  }

  private async run(batch: Pending): Promise<void> {
    // One patch per workload, whoever asked for it; the same time stamp for the whole batch.
    const now = new Date();
    const results = new Map<string, Promise<RolloutRestartError | undefined>>();
    for (const { requester, targets } of batch.requesters.values()) {
      for (const target of targets) {
        const key = targetKey(requester.namespace, target);
        if (!results.has(key)) {
          results.set(
            key,
            rolloutRestart(this.options.kube, requester.namespace, target, now).then(
              () => {
                this.options.onRestart?.(requester.namespace, target);
                return undefined;
              },
              (error: unknown) =>
                error instanceof RolloutRestartError ? error : new RolloutRestartError(target, String(error)),
            ),
          );
        }
      }
    }
    for (const { requester, targets } of batch.requesters.values()) {
      const failures: RolloutRestartError[] = [];
      for (const target of targets) {
        const failure = await results.get(targetKey(requester.namespace, target));
        if (failure) failures.push(failure);
      }
      await this.options.onOutcome({ requester, targets, failures }).catch(() => undefined);
    }
  }
}
