// Apps on the stack's node, shared by the cluster tier's tests and `npm run demo`: the chart
// installed once, waiting with diagnostics (pod states and events) instead of bare timeouts, and
// apps that print what they see so the kubelet's log path shows it.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as k8s from '@kubernetes/client-node';
import { binaryPath, repoRoot } from '../binaries.ts';
import type { ClusterHandle, TestStack } from '../handle.ts';
import { vaultAgentImage } from './images.ts';

export const chartNamespace = 'vaultbridge';
export const release = 'vb';

export interface ClusterStack {
  stack: TestStack;
  cluster: ClusterHandle;
  apps: k8s.AppsV1Api;
  batch: k8s.BatchV1Api;
  custom: k8s.CustomObjectsApi;
}

/** The API clients apps on the node need; `stack` must run a node (`up --cluster`). */
export function clusterEnv(stack: TestStack, missingNode: string): ClusterStack {
  const cluster = stack.handle.cluster;
  if (!cluster) throw new Error(missingNode);
  return {
    stack,
    cluster,
    apps: stack.kube.config.makeApiClient(k8s.AppsV1Api),
    batch: stack.kube.config.makeApiClient(k8s.BatchV1Api),
    custom: stack.kube.config.makeApiClient(k8s.CustomObjectsApi),
  };
}

export function helm(stack: TestStack, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binaryPath('helm'),
      [...args, '--kubeconfig', stack.handle.kubeconfigPath],
      { timeout: 300_000, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`helm ${args[0]} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

/**
 * The chart with every method on, pointed at the stack's Vault as pods reach it, and Vault Agent's
 * image (for `agent-kind: vault` pods) at the node's local one. Idempotent.
 */
export async function installChart(env: ClusterStack, extraSets: string[] = []): Promise<void> {
  await helm(
    env.stack,
    'upgrade',
    '--install',
    release,
    path.join(repoRoot, 'charts/vaultbridge'),
    '--namespace',
    chartNamespace,
    '--create-namespace',
    '--set',
    `global.vault.address=${env.cluster.vaultAddrForPods}`,
    '--set',
    `injector.vaultAgentImage=${vaultAgentImage()}`,
    ...extraSets.flatMap((s) => ['--set', s]),
  );
  await waitForPodsReady(env, chartNamespace, `app.kubernetes.io/instance=${release}`);
  if (!extraSets.includes('injector.enabled=false')) await untilInjectorMutates(env);
}

/**
 * Ready pods are not yet a webhook the API server reaches: its Service's endpoints and the node's proxy
 * rules follow readiness, and a pod created in between is admitted without its agent (failurePolicy
 * Ignore), which once failed the first file of a run. A server-side dry run of an annotated pod shows
 * when the webhook answers. Set-up, not a check: if it never shows within a minute, the run goes on
 * and the tests that need injection say so themselves.
 */
async function untilInjectorMutates(env: ClusterStack): Promise<void> {
  try {
    await waitFor(
      env,
      chartNamespace,
      'the injector mutating a dry-run pod',
      async () => {
        const pod = await env.stack.kube.core.createNamespacedPod({
          namespace: 'default',
          dryRun: 'All',
          body: {
            metadata: {
              generateName: 'injector-probe-',
              annotations: { 'vault.hashicorp.com/agent-inject': 'true', 'vault.hashicorp.com/role': 'probe' },
            },
            spec: { containers: [{ name: 'probe', image: 'probe' }] },
          },
        });
        return pod.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected' ? true : undefined;
      },
      60_000,
    );
  } catch (error) {
    console.warn(`installChart: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function podState(pod: k8s.V1Pod): string {
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const containers = statuses.map((s) => {
    const state = s.state?.waiting
      ? `waiting ${s.state.waiting.reason ?? ''} ${s.state.waiting.message ?? ''}`
      : s.state?.terminated
        ? `terminated ${s.state.terminated.reason ?? ''} (${s.state.terminated.exitCode})`
        : 'running';
    return `${s.name}: ${state.trim()}${s.ready ? ' ready' : ''} restarts=${s.restartCount}`;
  });
  return `${pod.metadata?.name} ${pod.status?.phase}: ${containers.join('; ') || 'no containers yet'}`;
}

/** Pods' states and the namespace's warning events, for a failure message. */
export async function diagnose(env: ClusterStack, namespace: string): Promise<string> {
  const pods = await env.stack.kube.core.listNamespacedPod({ namespace });
  const events = await env.stack.kube.core.listNamespacedEvent({ namespace });
  const warnings = events.items
    .filter((e) => e.type === 'Warning')
    .slice(-15)
    .map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.reason} ${e.message ?? ''}`);
  return [`pods in ${namespace}:`, ...pods.items.map(podState), 'warning events:', ...warnings].join('\n  ');
}

/** Polls until `probe` returns a value; on timeout the error carries the namespace's diagnosis. */
export async function waitFor<T>(
  env: ClusterStack,
  namespace: string,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await sleep(500);
  }
  throw new Error(
    `${what} did not happen within ${timeoutMs / 1000} s${lastError ? ` (last error: ${lastError})` : ''}\n  ${await diagnose(env, namespace)}`,
  );
}

function isReady(pod: k8s.V1Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** Waits until at least one pod matches and every matching pod is Ready. */
export async function waitForPodsReady(
  env: ClusterStack,
  namespace: string,
  labelSelector: string,
  timeoutMs = 180_000,
): Promise<k8s.V1Pod[]> {
  return waitFor(
    env,
    namespace,
    `every pod with ${labelSelector} Ready`,
    async () => {
      const pods = (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector })).items.filter(
        (p) => !p.metadata?.deletionTimestamp,
      );
      return pods.length > 0 && pods.every(isReady) ? pods : undefined;
    },
    timeoutMs,
  );
}

export async function podLog(env: ClusterStack, namespace: string, pod: string, container: string): Promise<string> {
  return env.stack.kube.core.readNamespacedPodLog({ namespace, name: pod, container });
}

/** A namespace for one test, with a service account for its app. */
export async function appNamespace(env: ClusterStack, prefix: string, serviceAccount = 'app'): Promise<string> {
  const namespace = env.stack.uniqueName(prefix);
  await env.stack.createServiceAccount(namespace, serviceAccount);
  return namespace;
}

/**
 * An app container that prints what it sees (a file, an environment variable) every half second
 * between markers, so a test reads it from the log (the services' image carries busybox).
 */
export function printingContainer(image: string, show: string, name = 'app'): k8s.V1Container {
  return {
    name,
    image,
    imagePullPolicy: 'Never',
    command: ['/bin/sh', '-c', `while true; do echo "<<<"; ${show} 2>&1; echo ">>>"; sleep 0.5; done`],
  };
}

/** The last complete print of the file in the app's log. */
export function lastPrint(log: string): string | undefined {
  const prints = [...log.matchAll(/<<<\n([\s\S]*?)>>>/g)];
  return prints.at(-1)?.[1];
}
