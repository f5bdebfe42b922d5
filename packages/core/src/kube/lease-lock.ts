import { EventEmitter } from 'node:events';
import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { KubeError } from './errors.ts';
import { isConflict, isNotFound } from './api-errors.ts';
import { KubeHttp } from './kube-http.ts';

export interface LeaseLockOptions {
  /** The API client; or `kubeConfig`, from which one is made (KubeHttp.fromKubeConfig). */
  kube?: KubeHttp;
  kubeConfig?: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  /** How long a lease holds after its last renewal; others take over only after it. Default 15 s. */
  leaseDurationSeconds?: number;
  /**
   * How long the holder keeps leading without a successful renewal (API errors, a restarting API
   * server, a hung request) before it gives up. Shorter than the lease, so it stops before another
   * replica can take over. Default 10 s, as client-go (two thirds of a shorter lease).
   */
  renewDeadlineMs?: number;
  /** How often the holder renews and the others retry. Default 2 s. */
  retryPeriodMs?: number;
  /** Clock, injectable for tests. */
  now?: () => number;
}

export interface LeaseLockEvents {
  leading: [];
  lost: [];
  error: [Error];
}

/**
 * Kubernetes MicroTime wants exactly six fractional digits; JavaScript's toISOString writes three and
 * the API server rejects them.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does: the holder
 * renews every retry period and keeps leading through failed renewals until the renew deadline has
 * passed since its last successful one (a 3 s API-server restart is ridden out); another replica takes
 * over only after the lease has expired. Every request is aborted at the deadline, so a hung call cannot
 * keep a replica leading past it. Writes carry the lease's resourceVersion, so two replicas never both
 * win one round. Plain JSON over KubeHttp (merge patches), so a service that elects a leader does not
 * load client-node for it.
 */
export class LeaseLock extends EventEmitter<LeaseLockEvents> {
  private readonly kube: KubeHttp;
  private readonly options: Required<Omit<LeaseLockOptions, 'kubeConfig' | 'kube'>>;
  private leading = false;
  /** Clock time when the round that last acquired or renewed the lease started. */
  private renewedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: LeaseLockOptions) {
    super();
    const kube = options.kube ?? (options.kubeConfig ? KubeHttp.fromKubeConfig(options.kubeConfig) : undefined);
    if (!kube) throw new KubeError('leader election needs a Kubernetes client: pass kube or kubeConfig');
    this.kube = kube;
    const leaseDurationSeconds = options.leaseDurationSeconds ?? 15;
    // Without one, the renew deadline keeps client-go's ratio to the lease (10 s of 15 s).
    const renewDeadlineMs =
      options.renewDeadlineMs ?? Math.min(10_000, Math.floor((leaseDurationSeconds * 1000 * 2) / 3));
    const { kube: _kube, kubeConfig: _kubeConfig, ...rest } = options;
    this.options = { retryPeriodMs: 2000, now: Date.now, ...rest, leaseDurationSeconds, renewDeadlineMs };
    const { retryPeriodMs } = this.options;
    // client-go's rule: lease > renew deadline > retry period × its jitter factor (1.2).
    if (!(leaseDurationSeconds * 1000 > renewDeadlineMs)) {
      throw new KubeError(
        `leader election: the lease duration (${leaseDurationSeconds} s) must be longer than the renew deadline (${renewDeadlineMs} ms)`,
      );
    }
    if (!(renewDeadlineMs > retryPeriodMs * 1.2)) {
      throw new KubeError(
        `leader election: the renew deadline (${renewDeadlineMs} ms) must be longer than 1.2 × the retry period (${retryPeriodMs} ms)`,
      );
    }
  }

  /** Leading, and the last renewal is within the renew deadline (also when the event loop was late). */
  get isLeader(): boolean {
    return this.leading && this.options.now() < this.renewedAt + this.options.renewDeadlineMs;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  /** Stops competing; a holder gives the lease up so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.setLeading(false);
    // Bounded like a round: a shutdown must not wait on an API server that does not answer.
    const signal = AbortSignal.timeout(Math.ceil(this.options.renewDeadlineMs));
    try {
      const lease = await this.kube.get<V1Lease>(this.leasePath(), signal);
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      await this.patch(
        {
          metadata: { resourceVersion: lease.metadata?.resourceVersion },
          spec: { holderIdentity: null, leaseDurationSeconds: 1 },
        },
        signal,
      );
    } catch {
      // best effort: the lease expires by itself
    }
  }

  /**
   * One election round; exposed for tests. Returns whether this replica holds the lease afterwards.
   * `signal` aborts its requests (the round's deadline).
   */
  async tryAcquireOrRenew(now = new Date(this.options.now()), signal?: AbortSignal): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    let lease: V1Lease;
    try {
      lease = await this.kube.get<V1Lease>(this.leasePath(), signal);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      try {
        lease = await this.kube.request<V1Lease>(
          'POST',
          `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
          {
            body: {
              apiVersion: 'coordination.k8s.io/v1',
              kind: 'Lease',
              metadata: { name, namespace },
              spec: { leaseDurationSeconds },
            },
            ...(signal ? { signal } : {}),
          },
        );
      } catch (createError) {
        if (isConflict(createError)) return false;
        throw createError;
      }
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const renewedAt = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renewedAt + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    if (holder !== identity && holder !== '' && !expired) return false;

    const takingOver = holder !== identity;
    try {
      await this.patch(
        {
          metadata: { resourceVersion: lease.metadata?.resourceVersion },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds,
            renewTime: microTime(now),
            ...(takingOver ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
          },
        },
        signal,
      );
      return true;
    } catch (error) {
      if (isConflict(error)) return false; // another replica won this round
      throw error;
    }
  }

  private leasePath(): string {
    const { namespace, name } = this.options;
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases/${encodeURIComponent(name)}`;
  }

  private async patch(body: object, signal?: AbortSignal): Promise<void> {
    await this.kube.request('PATCH', this.leasePath(), {
      body,
      contentType: 'application/merge-patch+json',
      ...(signal ? { signal } : {}),
    });
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const { now, renewDeadlineMs, retryPeriodMs } = this.options;
    const started = now();
    // A holder's round may last only until its renew deadline; a follower's one renew deadline.
    const roundMs = this.leading ? this.renewedAt + renewDeadlineMs - started : renewDeadlineMs;
    let held = false;
    try {
      held = roundMs > 0 && (await this.tryAcquireOrRenew(new Date(started), AbortSignal.timeout(Math.ceil(roundMs))));
    } catch (error) {
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
    if (held) {
      this.renewedAt = started;
      this.setLeading(true);
    } else if (this.leading && now() >= this.renewedAt + renewDeadlineMs) {
      // No renewal for the whole renew deadline: the lease can no longer be proven ours before it
      // expires for the others, so stop leading. Until then a failed round is only retried.
      this.setLeading(false);
    }
    if (this.running) {
      // Followers retry with client-go's jitter (up to 1.2 × more), so replicas do not poll in step.
      const delay = this.leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * 1.2);
      this.timer = setTimeout(
        () => void this.tick(),
        this.leading ? Math.min(delay, Math.max(0, this.renewedAt + renewDeadlineMs - now())) : delay,
      );
      this.timer.unref();
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.emit(leading ? 'leading' : 'lost');
  }
}
