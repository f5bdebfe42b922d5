// What the operator benchmarks share: batched creates, a custom-object create that waits for its CRD,
// the operator bundle as a child process, and a watch of the Secrets it writes.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { repoRoot, type TestStack } from '@vaultbridge/testenv';
import { shippedEnv, shippedNodeFlags } from './footprint.ts';

export const BENCH_GROUP = 'secrets.vaultbridge.dev';

/**
 * Runs `action` over `items`, `width` at a time. 50 by default: the API server and Vault answer a
 * thousand concurrent requests worse than a steady stream of 50.
 */
export async function inBatches<T>(
  items: readonly T[],
  action: (item: T) => Promise<unknown>,
  width = 50,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      for (let item = items[next++]; item !== undefined; item = items[next++]) await action(item);
    }),
  );
}

/** Creates a namespaced custom object, retrying while its CRD is not served yet (up to ~15 s). */
export async function createCustomObject(
  custom: k8s.CustomObjectsApi,
  namespace: string,
  plural: string,
  body: object,
  group = BENCH_GROUP,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await custom.createNamespacedCustomObject({ group, version: 'v1beta1', namespace, plural, body });
      return;
    } catch (error) {
      if (attempt > 150) throw error;
      await sleep(100);
    }
  }
}

/** The operator bundle (BENCH_OPERATOR_BUNDLE: another build to compare with, e.g. an older commit's). */
export function operatorBundle(): string {
  const bundle = process.env.BENCH_OPERATOR_BUNDLE ?? path.join(repoRoot, 'packages/operator/dist/bundle/cli.mjs');
  if (!fs.existsSync(bundle))
    throw new Error(`${bundle} is missing: run 'npx nx run @vaultbridge/operator:bundle' (npm run bench does)`);
  return bundle;
}

/**
 * The operator's environment as the chart runs it in a pod: no kubeconfig, the service account's token,
 * CA and namespace in a projected-token directory (VAULTBRIDGE_SERVICE_ACCOUNT_ROOT prefixes its path)
 * and the API server in KUBERNETES_SERVICE_HOST/PORT, so the process reads its credentials as it does in
 * a pod and never loads client-node (which it imports only to read a kubeconfig file). The account is
 * bound to cluster-admin: the chart's narrower rules do not change the footprint; the cluster tier
 * exercises them (packages/testenv/test/cluster/operator.test.ts).
 */
export async function operatorPodEnv(stack: TestStack, namespace: string): Promise<NodeJS.ProcessEnv> {
  const account = await stack.serviceAccountRoot(namespace, 'vaultbridge-operator', { expirationSeconds: 7200 });
  await stack.kube.bindClusterRole(`${namespace}-operator`, 'cluster-admin', namespace, 'vaultbridge-operator');
  // No ~/.kube/config to find either (connectKube would prefer it to the service account).
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-operator-home-'));
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  return { ...parentEnv, ...account.env, HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: account.root };
}

export function spawnOperator(
  args: readonly string[],
  nodeFlags: readonly string[] = [],
  baseEnv: NodeJS.ProcessEnv = process.env,
): ChildProcess {
  // With the image's ENV (its malloc setting) and its ENTRYPOINT's node flags (its young-generation cap),
  // as the Dockerfile runs it; `nodeFlags` come after them, so a flag given there wins.
  const dockerfile = path.join(repoRoot, 'packages/operator/Dockerfile');
  const env = { ...baseEnv, ...shippedEnv(dockerfile) };
  return spawn(process.execPath, [...shippedNodeFlags(dockerfile), ...nodeFlags, operatorBundle(), ...args], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env,
  });
}

export async function stopProcess(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/**
 * One value of every Secret the operator manages in `namespace`, as a watch delivers it: no list call
 * per check, so waiting for 10,000 Secrets does not load the API server the benchmark measures. Each
 * event checks only its own Secret against what is awaited.
 */
export class SecretValues {
  readonly current = new Map<string, string>();
  private request: { abort: () => void } | undefined;
  private failure: unknown;
  private pending = new Map<string, string>();
  private wake: (() => void) | undefined;

  private readonly field: string;

  private constructor(field: string) {
    this.field = field;
  }

  /** Times the watch ended and was listed and started again (the API server drops slow watchers under load). */
  restarts = 0;
  private stopped = false;
  private kubeConfig!: k8s.KubeConfig;
  private namespace = '';
  private onValue: ((name: string, value: string) => void) | undefined;

  static async watch(
    kubeConfig: k8s.KubeConfig,
    namespace: string,
    field: string,
    onValue?: (name: string, value: string) => void,
  ): Promise<SecretValues> {
    const values = new SecretValues(field);
    values.kubeConfig = kubeConfig;
    values.namespace = namespace;
    values.onValue = onValue;
    await values.connect();
    return values;
  }

  private apply(secret: k8s.V1Secret): void {
    const name = secret.metadata?.name ?? '';
    const value = Buffer.from(secret.data?.[this.field] ?? '', 'base64').toString();
    if (this.current.get(name) === value) return;
    this.current.set(name, value);
    this.onValue?.(name, value);
    if (this.pending.get(name) === value) {
      this.pending.delete(name);
      if (this.pending.size === 0) this.wake?.();
    }
  }

  /** Lists (so nothing is missed between two watches), then watches from the list's resourceVersion. */
  private async connect(): Promise<void> {
    const labelSelector = 'app.kubernetes.io/managed-by=vaultbridge-operator';
    const list = await this.kubeConfig
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedSecret({ namespace: this.namespace, labelSelector });
    for (const secret of list.items) this.apply(secret);
    const watch = new k8s.Watch(this.kubeConfig);
    this.request = await watch.watch(
      `/api/v1/namespaces/${this.namespace}/secrets`,
      { labelSelector, resourceVersion: list.metadata?.resourceVersion, allowWatchBookmarks: false },
      (type, secret: k8s.V1Secret) => {
        if (type === 'DELETED') this.current.delete(secret.metadata?.name ?? '');
        else if (type === 'ADDED' || type === 'MODIFIED') this.apply(secret);
      },
      (error: unknown) => {
        if (this.stopped) return;
        this.restarts += 1;
        this.connect().catch((failure: unknown) => {
          // Cannot watch again: fail the wait at once instead of leaving it to its timeout.
          this.failure = failure ?? error;
          this.wake?.();
        });
      },
    );
  }

  /** Resolves once every Secret of `expected` (name → value) holds its value; rejects after `timeoutMs`. */
  async allHold(what: string, expected: ReadonlyMap<string, string>, timeoutMs: number): Promise<void> {
    this.pending = new Map([...expected].filter(([name, value]) => this.current.get(name) !== value));
    const deadline = performance.now() + timeoutMs;
    while (this.pending.size > 0) {
      if (this.failure !== undefined) throw new Error(`${what}: the Secret watch failed (${String(this.failure)})`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(
          `${what} did not happen within ${timeoutMs} ms (${this.pending.size} Secrets still waited for)`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  stop(): void {
    this.stopped = true;
    this.request?.abort();
  }
}
