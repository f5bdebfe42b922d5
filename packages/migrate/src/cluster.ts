// Reading a namespace through the API server instead of files: the workloads whose pods may carry
// injector annotations or CSI volumes, SecretProviderClasses, and the VSO and Vaultbridge operator
// objects, each cleaned of what the server set so the converted output can be applied as new objects.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { isNotFound, kubeStatusOf, retry, withKubeRequestDeadline } from '@vaultbridge/core';
import { isRecord, type Manifest } from './manifests.ts';

const KINDS: ReadonlyArray<readonly [apiVersion: string, kind: string]> = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['batch/v1', 'CronJob'],
  ['batch/v1', 'Job'],
  ['v1', 'Pod'],
  ['secrets-store.csi.x-k8s.io/v1', 'SecretProviderClass'],
  ...[
    'VaultConnection',
    'VaultAuthGlobal',
    'VaultAuth',
    'SecretTransformation',
    'VaultStaticSecret',
    'VaultDynamicSecret',
    'VaultPKISecret',
    'HCPAuth',
    'HCPVaultSecretsApp',
  ].map((kind) => ['secrets.hashicorp.com/v1beta1', kind] as const),
  ...[
    'VaultConnection',
    'VaultAuthGlobal',
    'VaultAuth',
    'SecretTransformation',
    'VaultStaticSecret',
    'VaultDynamicSecret',
    'VaultPKISecret',
  ].map((kind) => ['secrets.vaultbridge.dev/v1beta1', kind] as const),
];

const SERVER_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration', 'deployment.kubernetes.io/revision'];
const JOB_LABELS = ['controller-uid', 'batch.kubernetes.io/controller-uid', 'job-name', 'batch.kubernetes.io/job-name'];

const SERVER_METADATA = new Set([
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'finalizers',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
]);

function without(record: Record<string, unknown>, drop: (key: string) => boolean): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !drop(key)));
}

/** The object as a user would have written it: no status, no server-set metadata. */
export function cleanServerFields(object: Manifest): Manifest {
  const out = without(structuredClone(object), (key) => key === 'status');
  const metadata = without(isRecord(out.metadata) ? out.metadata : {}, (key) => SERVER_METADATA.has(key));
  if (isRecord(metadata.annotations)) {
    const annotations = without(metadata.annotations, (key) => SERVER_ANNOTATIONS.includes(key));
    if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  out.metadata = metadata;
  if (out.kind === 'Job' && isRecord(out.spec)) {
    // The API server generates a Job's selector and the template's labels for it; a new Job gets new ones.
    const spec = without(out.spec, (key) => key === 'selector');
    const template = isRecord(spec.template) ? spec.template : undefined;
    if (template && isRecord(template.metadata) && isRecord(template.metadata.labels)) {
      template.metadata.labels = without(template.metadata.labels, (key) => JOB_LABELS.includes(key));
    }
    out.spec = spec;
  }
  return out;
}

export interface ClusterRead {
  readonly manifests: Manifest[];
  /** `apiVersion kind` lists the API server does not serve (CRD not installed) */
  readonly notServed: string[];
}

/**
 * Every object of `namespace` that a migration reads. Objects owned by another (a Job of a CronJob, a
 * Pod of a ReplicaSet) are left out: their owner's template is what gets converted.
 */
export async function readNamespace(
  kubeConfig: KubeConfig,
  namespace: string,
  deadlineMs = 30_000,
): Promise<ClusterRead> {
  // client-node gives its calls no deadline; an API server that never answers must not hang the CLI.
  const api = KubernetesObjectApi.makeApiClient(withKubeRequestDeadline(kubeConfig, deadlineMs));
  const started = Date.now();
  const manifests: Manifest[] = [];
  const notServed: string[] = [];
  for (const [apiVersion, kind] of KINDS) {
    let items: KubernetesObject[];
    try {
      // 429 and 503 mean "come back": a CRD installed a moment ago answers 429 while its storage
      // initializes. client-go retries these by itself; client-node does not.
      items = (
        await retry(() => api.list(apiVersion, kind, namespace), {
          maxAttempts: 8,
          baseDelayMs: 250,
          maxDelayMs: 2_000,
          deadline: started + deadlineMs,
          isRetryable: (error) => [429, 503].includes(kubeStatusOf(error) ?? 0),
        })
      ).items;
    } catch (error) {
      // A group whose CRDs are not installed (404), or a group that is served without this kind (an
      // older VSO without VaultAuthGlobal; our operator serving VSO's group): nothing of it to convert.
      if (isNotFound(error) || isKindNotServed(error)) {
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

/**
 * client-node's discovery refuses a kind its group does not list with a plain Error (no status code),
 * before any list request is made.
 */
function isKindNotServed(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Unrecognized API version and kind:');
}
