import { EventEmitter } from 'node:events';
import * as k8s from '@kubernetes/client-node';

export interface LeaseLockOptions {
  kubeConfig: k8s.KubeConfig;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  leaseDurationSeconds?: number;
  /** How often the holder renews and the others retry. */
  retryPeriodMs?: number;
}

export interface LeaseLockEvents {
  leading: [];
  lost: [];
  error: [Error];
}

/**
 * Kubernetes MicroTime wants exactly six fractional digits; client-node's typed serializer writes
 * JavaScript's three and the API server rejects them, so lease times go through a merge patch.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leader election on a `coordination.k8s.io/v1` Lease, as client-go's leaderelection does: the holder
 * renews every retry period; another replica takes over only after the lease has expired. Writes
 * carry the lease's resourceVersion, so two replicas never both win one round.
 */
export class LeaseLock extends EventEmitter<LeaseLockEvents> {
  private readonly api: k8s.CoordinationV1Api;
  private readonly options: Required<Omit<LeaseLockOptions, 'kubeConfig'>>;
  private leading = false;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: LeaseLockOptions) {
    super();
    this.api = options.kubeConfig.makeApiClient(k8s.CoordinationV1Api);
    this.options = { leaseDurationSeconds: 15, retryPeriodMs: 2000, ...options };
  }

  get isLeader(): boolean {
    return this.leading;
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
    try {
      const lease = await this.api.readNamespacedLease({ namespace: this.options.namespace, name: this.options.name });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      await this.patch({ metadata: { resourceVersion: lease.metadata?.resourceVersion }, spec: { holderIdentity: null, leaseDurationSeconds: 1 } });
    } catch {
      // best effort: the lease expires by itself
    }
  }

  /** One election round; exposed for tests. Returns whether this replica leads afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    let lease: k8s.V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ namespace, name });
    } catch (error) {
      if (!(error instanceof k8s.ApiException) || error.code !== 404) throw error;
      try {
        lease = await this.api.createNamespacedLease({ namespace, body: { metadata: { name, namespace }, spec: { leaseDurationSeconds } } });
      } catch (createError) {
        if (createError instanceof k8s.ApiException && createError.code === 409) return false;
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
      await this.patch({
        metadata: { resourceVersion: lease.metadata?.resourceVersion },
        spec: {
          holderIdentity: identity,
          leaseDurationSeconds,
          renewTime: microTime(now),
          ...(takingOver ? { acquireTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
        },
      });
      return true;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 409) return false; // another replica won this round
      throw error;
    }
  }

  private async patch(body: object): Promise<void> {
    await this.api.patchNamespacedLease(
      { namespace: this.options.namespace, name: this.options.name, body },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    try {
      this.setLeading(await this.tryAcquireOrRenew());
    } catch (error) {
      // An API error while leading means we can no longer prove the lease is ours.
      this.setLeading(false);
      this.emit('error', error instanceof Error ? error : new Error(String(error)));
    }
    if (this.running) {
      this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs);
      this.timer.unref();
    }
  }

  private setLeading(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.emit(leading ? 'leading' : 'lost');
  }
}
