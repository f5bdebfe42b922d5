// Reading a namespace through the API server instead of files: the workloads whose pods may carry
// injector annotations or CSI volumes, SecretProviderClasses, and the VSO and Vaultbridge operator
// objects, each cleaned of what the server set so the converted output can be applied as new objects.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { isRecord, type Manifest } from './manifests.ts';

const KINDS: ReadonlyArray<readonly [apiVersion: string, kind: string]> = [
  ['apps/v1', 'Deployment'], ['apps/v1', 'StatefulSet'], ['apps/v1', 'DaemonSet'], ['batch/v1', 'CronJob'], ['batch/v1', 'Job'], ['v1', 'Pod'],
  ['secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass'],
  ...['VaultConnection', 'VaultAuthGlobal', 'VaultAuth', 'SecretTransformation', 'VaultStaticSecret', 'VaultDynamicSecret', 'VaultPKISecret', 'HCPAuth', 'HCPVaultSecretsApp']
    .map((kind) => ['secrets.hashicorp.com/v1beta1', kind] as const),
  ...['VaultConnection', 'VaultAuth', 'SecretTransformation', 'VaultStaticSecret', 'VaultDynamicSecret', 'VaultPKISecret'].map((kind) => ['secrets.vaultbridge.dev/v1beta1', kind] as const),
];

const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
const JOB_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

/** The object as a user would have written it: no status, no server-set metadata. */
export function cleanServerFields(object: Manifest): Manifest {
  const out = structuredClone(object) as Record<string, unknown> & { metadata?: Record<string, unknown>; spec?: Record<string, unknown> };
  delete out.status;
  const metadata = out.metadata ?? {};
  for (const field of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink', 'finalizers', 'deletionTimestamp', 'deletionGracePeriodSeconds']) delete metadata[field];
  if (isRecord(metadata.annotations)) {
    for (const key of SERVER_ANNOTATIONS) delete metadata.annotations[key];
    if (Object.keys(metadata.annotations).length === 0) delete metadata.annotations;
  }
  if (out.kind === 'Job' && isRecord(out.spec)) {
    // The API server generates a Job's selector and the template's labels for it; a new Job gets new ones.
    delete out.spec.selector;
    const template = isRecord(out.spec.template) ? out.spec.template : {};
    const templateMeta = isRecord(template.metadata) ? template.metadata : {};
    if (isRecord(templateMeta.labels)) for (const label of JOB_LABELS) delete templateMeta.labels[label];
  }
  return out;
}

export interface ClusterRead {
  readonly manifests: Manifest[];
  /** `apiVersion kind` lists the API server does not serve (CRD not installed) */
  readonly notServed: string[];
}

function statusCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Every object of `namespace` that a migration reads. Objects owned by another (a Job of a CronJob, a
 * Pod of a ReplicaSet) are left out: their owner's template is what gets converted.
 */
export async function readNamespace(kubeConfig: KubeConfig, namespace: string): Promise<ClusterRead> {
  const api = KubernetesObjectApi.makeApiClient(kubeConfig);
  const manifests: Manifest[] = [];
  const notServed: string[] = [];
  for (const [apiVersion, kind] of KINDS) {
    let items: KubernetesObject[];
    try {
      items = (await api.list(apiVersion, kind, namespace)).items;
    } catch (error) {
      // A group whose CRDs are not installed: nothing of that kind to convert.
      if (statusCode(error) === 404) {
        notServed.push(`${apiVersion} ${kind}`);
        continue;
      }
      throw error;
    }
    for (const item of items) {
      if ((item.metadata?.ownerReferences ?? []).length > 0) continue;
      manifests.push(cleanServerFields({ ...(item as unknown as Manifest), apiVersion, kind }));
    }
  }
  return { manifests, notServed };
}
