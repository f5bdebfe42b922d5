// VSO group mode must never run beside a live VSO controller: both would reconcile the same objects,
// write the same Secrets and fight over their status. VSO (controller-runtime) holds the Lease
// `b0d477c0.hashicorp.com` while it runs with leader election (its chart's default), and its chart's
// Deployment carries `app.kubernetes.io/name=vault-secrets-operator`; either, alive, stops our start.
import type { V1DeploymentList, V1LeaseList } from '@kubernetes/client-node';
import type { KubeJson } from '../runtime/kube-json.ts';

/** VSO's controller-runtime leader election ID (its main.go and chart). */
export const VSO_LEADER_LEASE = 'b0d477c0.hashicorp.com';
/** The label VSO's chart puts on its controller Deployment. */
export const VSO_DEPLOYMENT_SELECTOR = 'app.kubernetes.io/name=vault-secrets-operator';

export class VsoStillRunningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VsoStillRunningError';
  }
}

const HOW_TO_SWITCH =
  'uninstall VSO first (helm uninstall <release> -n <namespace>; its CRDs and objects stay), then start vaultbridge-operator with --serve-vso-api-group (README: "Serving VSO\'s API group")';

/**
 * Throws VsoStillRunningError naming what shows VSO is alive: a VSO leader Lease renewed within its
 * lease duration (plus 10 s), or a VSO Deployment with replicas. `now` for tests.
 */
export async function refuseWhileVsoRuns(kube: KubeJson, now: () => number = Date.now): Promise<void> {
  const leases = await kube.get<V1LeaseList>(
    `/apis/coordination.k8s.io/v1/leases?${new URLSearchParams({ fieldSelector: `metadata.name=${VSO_LEADER_LEASE}` }).toString()}`,
  );
  for (const lease of leases.items) {
    const renewed = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : NaN;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 15) * 1000;
    const ageMs = now() - renewed;
    if (Number.isFinite(renewed) && ageMs < durationMs + 10_000 && lease.spec?.holderIdentity) {
      throw new VsoStillRunningError(
        `VSO's controller is running: Lease ${lease.metadata?.namespace}/${VSO_LEADER_LEASE} held by "${lease.spec.holderIdentity}" was renewed ${Math.max(0, Math.round(ageMs / 1000))}s ago; serving VSO's API group beside it would make both operators write the same Secrets: ${HOW_TO_SWITCH}`,
      );
    }
  }
  const deployments = await kube.get<V1DeploymentList>(
    `/apis/apps/v1/deployments?${new URLSearchParams({ labelSelector: VSO_DEPLOYMENT_SELECTOR }).toString()}`,
  );
  const running = deployments.items.find((deployment) => (deployment.spec?.replicas ?? 1) > 0);
  if (running) {
    throw new VsoStillRunningError(
      `VSO's controller is installed: Deployment ${running.metadata?.namespace}/${running.metadata?.name} (${VSO_DEPLOYMENT_SELECTOR}) has ${running.spec?.replicas ?? 1} replica(s); ${HOW_TO_SWITCH}`,
    );
  }
}
