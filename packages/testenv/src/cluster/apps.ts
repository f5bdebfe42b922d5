// The set-up every real-pod proof repeats (the cluster tier's tests, the migration proofs in real pods
// and `npm run demo`): an app's Vault role, a Deployment of service account `app`, a SecretProviderClass,
// the operator's VaultConnection and VaultAuth, the injector's annotations, and waiting until an app
// prints what it should. Test support only: shipped code never imports testenv.
import type * as k8s from '@kubernetes/client-node';
import { lastPrint, podLog, waitFor, type ClusterStack } from './workloads.ts';

export interface AppRoleOptions {
  /** the policy and role name; default `<namespace>-app` */
  name?: string;
  /** the policy text; default: read `secret/data/<namespace>/*` */
  policy?: string;
  /** the audience the role requires (the operator asks for `vault`); default none */
  audience?: string;
}

/** A Vault policy and a Kubernetes-auth role of that name for service account `app` of `namespace`. */
export async function appRole(env: ClusterStack, namespace: string, options: AppRoleOptions = {}): Promise<string> {
  const role = options.name ?? `${namespace}-app`;
  await env.stack.writePolicy(role, options.policy ?? `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
  await env.stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [role],
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  });
  return role;
}

/**
 * A one-replica Deployment `name` (pods labelled `app=<name>`) running as service account `app`; with
 * `namespace`, a full manifest (apiVersion, kind, namespace) as kubectl and the migration tool read it.
 */
export function appDeployment(
  name: string,
  podSpec: Partial<k8s.V1PodSpec> & Pick<k8s.V1PodSpec, 'containers'>,
  annotations: Record<string, string> = {},
  namespace?: string,
): k8s.V1Deployment {
  return {
    ...(namespace === undefined ? {} : { apiVersion: 'apps/v1', kind: 'Deployment' }),
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name }, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
        spec: { serviceAccountName: 'app', ...podSpec },
      },
    },
  };
}

export async function createAppDeployment(
  env: ClusterStack,
  namespace: string,
  name: string,
  podSpec: Partial<k8s.V1PodSpec> & Pick<k8s.V1PodSpec, 'containers'>,
  annotations: Record<string, string> = {},
): Promise<void> {
  await env.apps.createNamespacedDeployment({ namespace, body: appDeployment(name, podSpec, annotations) });
}

/** The injector's annotations for one secret rendered to /vault/secrets/config.txt as `password=…`. */
export function agentAnnotations(
  role: string,
  secretPath: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/role': role,
    'vault.hashicorp.com/agent-inject-secret-config.txt': secretPath,
    'vault.hashicorp.com/agent-inject-template-config.txt': 'password={{ secret "password" }}\n',
    'vault.hashicorp.com/template-static-secret-render-interval': '1s',
    ...extra,
  };
}

/** One entry of a SecretProviderClass's `objects` parameter (vault-csi-provider's fields). */
export interface SpcObject {
  objectName: string;
  secretPath: string;
  secretKey?: string;
  method?: string;
  secretArgs?: Record<string, string>;
}

export interface SecretProviderClassOptions {
  roleName: string;
  objects: readonly SpcObject[];
  vaultAddress?: string;
  secretObjects?: object[];
}

/** The `objects` parameter as the YAML list the provider parses (one `- objectName: …` item each). */
function objectsYaml(objects: readonly SpcObject[]): string {
  return objects
    .map((object) =>
      Object.entries(object)
        .map(([key, value], index) => {
          const lead = index === 0 ? '- ' : '  ';
          if (typeof value === 'string') return `${lead}${key}: ${value}`;
          const nested = Object.entries(value as Record<string, string>).map(([k, v]) => `    ${k}: ${v}`);
          return [`${lead}${key}:`, ...nested].join('\n');
        })
        .join('\n'),
    )
    .map((item) => `${item}\n`)
    .join('');
}

/** A SecretProviderClass `name` for provider vault; with `namespace`, a full manifest. */
export function secretProviderClass(name: string, options: SecretProviderClassOptions, namespace?: string): object {
  return {
    apiVersion: 'secrets-store.csi.x-k8s.io/v1',
    kind: 'SecretProviderClass',
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    spec: {
      provider: 'vault',
      parameters: {
        ...(options.vaultAddress === undefined ? {} : { vaultAddress: options.vaultAddress }),
        roleName: options.roleName,
        objects: objectsYaml(options.objects),
      },
      ...(options.secretObjects === undefined ? {} : { secretObjects: options.secretObjects }),
    },
  };
}

export async function createSecretProviderClass(
  env: ClusterStack,
  namespace: string,
  name: string,
  options: SecretProviderClassOptions,
): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group: 'secrets-store.csi.x-k8s.io',
    version: 'v1',
    namespace,
    plural: 'secretproviderclasses',
    body: secretProviderClass(name, options),
  });
}

/** A pod volume `name` the Secrets Store CSI Driver fills from SecretProviderClass `spc`. */
export function csiVolume(name: string, spc: string): k8s.V1Volume {
  return {
    name,
    csi: { driver: 'secrets-store.csi.k8s.io', readOnly: true, volumeAttributes: { secretProviderClass: spc } },
  };
}

export const operatorGroup = 'secrets.vaultbridge.dev';
export const operatorVersion = 'v1beta1';

/** Creates one of the operator's objects (secrets.vaultbridge.dev/v1beta1) in `namespace`. */
export async function createOperatorObject(
  env: ClusterStack,
  namespace: string,
  plural: string,
  kind: string,
  name: string,
  spec: object,
): Promise<void> {
  await env.custom.createNamespacedCustomObject({
    group: operatorGroup,
    version: operatorVersion,
    namespace,
    plural,
    body: { apiVersion: `${operatorGroup}/${operatorVersion}`, kind, metadata: { name }, spec },
  });
}

/** VaultConnection `vault` (the stack's Vault as pods reach it) and VaultAuth `app` logging in as `role`. */
export async function createOperatorAuth(env: ClusterStack, namespace: string, role: string): Promise<void> {
  await createOperatorObject(env, namespace, 'vaultconnections', 'VaultConnection', 'vault', {
    address: env.cluster.vaultAddrForPods,
  });
  await createOperatorObject(env, namespace, 'vaultauths', 'VaultAuth', 'app', {
    vaultConnectionRef: 'vault',
    method: 'kubernetes',
    mount: env.stack.layout.kubernetesAuthMount,
    kubernetes: { role, serviceAccount: 'app', audiences: ['vault'] },
  });
}

/** Waits until container `app` of `pod` last printed exactly `expected`. */
export async function waitForPrint(
  env: ClusterStack,
  namespace: string,
  pod: string,
  expected: string,
  what: string,
): Promise<void> {
  await waitFor(env, namespace, what, async () =>
    lastPrint(await podLog(env, namespace, pod, 'app')) === expected ? true : undefined,
  );
}

export interface PodPrintingOptions {
  /** a pod to pass over (the one before a rollout) */
  except?: string;
  timeoutMs?: number;
}

/**
 * The first Running pod of `labelSelector` (other than `except`, not terminating) whose app container's
 * last print `accepts`: its name and that print. A rollout's new pod is found this way.
 */
export async function podPrinting(
  env: ClusterStack,
  namespace: string,
  labelSelector: string,
  what: string,
  accepts: (print: string) => boolean,
  options: PodPrintingOptions = {},
): Promise<{ pod: string; print: string }> {
  return waitFor(
    env,
    namespace,
    what,
    async () => {
      for (const pod of (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector })).items) {
        const name = pod.metadata!.name!;
        if (name === options.except || pod.status?.phase !== 'Running' || pod.metadata?.deletionTimestamp) continue;
        const print = lastPrint(await podLog(env, namespace, name, 'app'));
        if (print !== undefined && accepts(print)) return { pod: name, print };
      }
      return undefined;
    },
    options.timeoutMs,
  );
}

/** One key of a Secret as text; undefined without the key, an error without the Secret (waitFor retries). */
export async function secretField(
  env: ClusterStack,
  namespace: string,
  name: string,
  key: string,
): Promise<string | undefined> {
  const secret = await env.stack.kube.core.readNamespacedSecret({ namespace, name });
  const value = secret.data?.[key];
  return value === undefined ? undefined : Buffer.from(value, 'base64').toString();
}
