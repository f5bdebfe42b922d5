// Rollout restarts of the workloads that use a synced Secret (VSO's rolloutRestartTargets): the same
// thing `kubectl rollout restart` does, a pod-template annotation with the time, so the workload's own
// controller replaces its pods at its own pace (maxUnavailable, PDBs) and they read the new Secret.
import type { V1Deployment } from '@kubernetes/client-node';
import { kubeStatusOf } from '@vaultbridge/core';
import { MERGE_PATCH, type KubeJson } from '../runtime/kube-json.ts';
import type { RolloutRestartTarget } from '../api/vault-static-secret.ts';

/** Pod-template annotation the restart sets (VSO uses vso.secrets.hashicorp.com/restartedAt). */
export const RESTARTED_AT_ANNOTATION = 'secrets.vaultbridge.dev/restartedAt';

export class RolloutRestartError extends Error {
  readonly target: RolloutRestartTarget;
  constructor(target: RolloutRestartTarget, message: string) {
    super(`${target.kind} ${target.name}: ${message}`);
    this.name = 'RolloutRestartError';
    this.target = target;
  }
}

function templatePatch(restartedAt: string): object {
  return { spec: { template: { metadata: { annotations: { [RESTARTED_AT_ANNOTATION]: restartedAt } } } } };
}

function describe(error: unknown): string {
  const status = kubeStatusOf(error);
  if (status !== undefined) {
    if (status === 404) return 'not found in this namespace';
    if (status === 403) return 'the operator may not patch it (RBAC)';
    return `the API server answered ${status}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Restarts one target in `namespace`. A paused Deployment is refused (its pods would not roll, and the
 * restart would fire unexpectedly on resume), as VSO does.
 */
export async function rolloutRestart(
  kube: KubeJson,
  namespace: string,
  target: RolloutRestartTarget,
  now = new Date(),
): Promise<void> {
  const restartedAt = now.toISOString();
  const { name } = target;
  const workload = (plural: string) =>
    `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}`;
  try {
    switch (target.kind) {
      case 'Deployment': {
        const deployment = await kube.get<V1Deployment>(workload('deployments'));
        if (deployment.spec?.paused)
          throw new RolloutRestartError(target, 'the Deployment is paused; resume it to roll out the new Secret');
        await kube.request('PATCH', workload('deployments'), templatePatch(restartedAt), MERGE_PATCH);
        return;
      }
      case 'StatefulSet':
        await kube.request('PATCH', workload('statefulsets'), templatePatch(restartedAt), MERGE_PATCH);
        return;
      case 'DaemonSet':
        await kube.request('PATCH', workload('daemonsets'), templatePatch(restartedAt), MERGE_PATCH);
        return;
      case 'argo.Rollout':
        // Argo Rollouts restarts on spec.restartAt; a CRD takes no strategic merge, a merge patch is fine.
        await kube.request(
          'PATCH',
          `/apis/argoproj.io/v1alpha1/namespaces/${encodeURIComponent(namespace)}/rollouts/${encodeURIComponent(name)}`,
          { spec: { restartAt: restartedAt } },
          MERGE_PATCH,
        );
        return;
      default:
        throw new RolloutRestartError(
          target,
          'unsupported kind; use Deployment, StatefulSet, DaemonSet or argo.Rollout',
        );
    }
  } catch (error) {
    if (error instanceof RolloutRestartError) throw error;
    throw new RolloutRestartError(target, describe(error));
  }
}

/** Restarts every target; one failing does not stop the others. Returns the failures. */
export async function rolloutRestartAll(
  kube: KubeJson,
  namespace: string,
  targets: readonly RolloutRestartTarget[],
  now = new Date(),
): Promise<RolloutRestartError[]> {
  const results = await Promise.allSettled(targets.map((target) => rolloutRestart(kube, namespace, target, now)));
  return results.flatMap((result, index) =>
    result.status === 'fulfilled'
      ? []
      : [
          result.reason instanceof RolloutRestartError
            ? result.reason
            : new RolloutRestartError(targets[index]!, String(result.reason)),
        ],
  );
}
