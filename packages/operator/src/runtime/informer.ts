import { makeInformer, type Informer, type KubeConfig, type KubernetesListObject, type KubernetesObject, type ObjectCache } from '@kubernetes/client-node';
import { backoffDelay, type Logger } from '@vaultbridge/core';

export interface WatchOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  /** Watch path, e.g. `/api/v1/secrets`. */
  path: string;
  list: () => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  logger: Logger;
  onAdd?: (object: T) => void;
  onUpdate?: (object: T) => void;
  onDelete?: (object: T) => void;
}

/**
 * A client-node informer that is started again after an error (client-node's informer stops on one),
 * with capped exponential backoff, and whose cache is readable.
 */
export class RestartingInformer<T extends KubernetesObject> {
  private readonly informer: Informer<T> & ObjectCache<T>;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private synced = false;

  constructor(options: WatchOptions<T>) {
    this.informer = makeInformer(options.kubeConfig, options.path, options.list, options.labelSelector);
    if (options.onAdd) this.informer.on('add', options.onAdd);
    if (options.onUpdate) this.informer.on('update', options.onUpdate);
    if (options.onDelete) this.informer.on('delete', options.onDelete);
    this.informer.on('connect', () => {
      this.attempt = 0;
      this.synced = true;
    });
    this.informer.on('error', (error: unknown) => {
      if (this.stopped) return;
      const delayMs = Math.max(200, backoffDelay(this.attempt++, { baseDelayMs: 500, maxDelayMs: 30_000 }));
      options.logger.warn({ path: options.path, err: error, retryInMs: delayMs }, 'watch failed; restarting the informer');
      this.timer = setTimeout(() => void this.start(), delayMs);
    });
  }

  /** True once a list has succeeded (readiness). */
  get hasSynced(): boolean {
    return this.synced;
  }

  async start(): Promise<void> {
    if (this.stopped) return;
    try {
      await this.informer.start();
    } catch {
      // The 'error' handler above already scheduled the restart.
    }
  }

  get(name: string, namespace?: string): T | undefined {
    return this.informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.informer.list(namespace);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.informer.stop();
  }
}
