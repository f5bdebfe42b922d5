// The injector in a real pod: its webhook mutates real pods, the agent runs as real containers
// from the locally built image, logs in to Vault with the pod's service-account token and renders
// the file the app reads.
import * as k8s from '@kubernetes/client-node';
import {
  appNamespace,
  clusterStack,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from './support.ts';

const env: ClusterStack = clusterStack();
const secretFile = '/vault/secrets/config.txt';

async function vaultSecret(namespace: string, password: string): Promise<string> {
  const path = `secret/data/${namespace}/web`;
  await env.stack.vaultAdmin.write(path, { data: { password } });
  return path;
}

async function vaultRole(namespace: string): Promise<string> {
  const role = `${namespace}-app`;
  await env.stack.writePolicy(role, `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
  await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });
  return role;
}

function agentAnnotations(
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

beforeAll(async () => {
  // Every webhook pod Ready means the API server trusts it: readiness waits until the CA the webhook
  // serves with is in the MutatingWebhookConfiguration (injector webhook/tls/auto-source.ts).
  await installChart(env);
});

describe('the injector on a real node', () => {
  it('gives an annotated Deployment its agent; the app reads the rendered file, and a rotation in Vault changes it', async () => {
    const namespace = await appNamespace(env, 'inj');
    const path = await vaultSecret(namespace, 'first-password');
    const role = await vaultRole(namespace);
    await env.apps.createNamespacedDeployment({
      namespace,
      body: {
        metadata: { name: 'web' },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' }, annotations: agentAnnotations(role, path) },
            spec: {
              serviceAccountName: 'app',
              containers: [printingContainer(env.cluster.images.injector, `cat ${secretFile}`)],
            },
          },
        },
      },
    });
    const [pod] = await waitForPodsReady(env, namespace, 'app=web');
    const name = pod!.metadata!.name!;
    expect(pod!.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBe('injected');
    expect(pod!.spec?.initContainers?.map((c) => c.name)).toContain('vault-agent-init');
    expect(pod!.spec?.containers.map((c) => c.name)).toEqual(expect.arrayContaining(['app', 'vault-agent']));

    await waitFor(env, namespace, 'the app printing the first password', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'password=first-password\n' ? true : undefined,
    );
    await vaultSecret(namespace, 'second-password');
    await waitFor(env, namespace, 'the app printing the rotated password', async () =>
      lastPrint(await podLog(env, namespace, name, 'app')) === 'password=second-password\n' ? true : undefined,
    );
  });

  it('lets a Job complete with the agent as a native sidecar', async () => {
    const namespace = await appNamespace(env, 'inj-job');
    const path = await vaultSecret(namespace, 'job-password');
    const role = await vaultRole(namespace);
    await env.batch.createNamespacedJob({
      namespace,
      body: {
        metadata: { name: 'once' },
        spec: {
          backoffLimit: 0,
          template: {
            metadata: {
              annotations: agentAnnotations(role, path, { 'vault.hashicorp.com/agent-native-sidecar': 'true' }),
            },
            spec: {
              serviceAccountName: 'app',
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'app',
                  image: env.cluster.images.injector,
                  imagePullPolicy: 'Never',
                  command: ['/bin/sh', '-c', `cat ${secretFile}`],
                },
              ],
            },
          },
        },
      },
    });
    const job = await waitFor(env, namespace, 'the Job succeeding', async () => {
      const current = await env.batch.readNamespacedJob({ namespace, name: 'once' });
      if ((current.status?.failed ?? 0) > 0) throw new Error('the Job failed');
      return (current.status?.succeeded ?? 0) > 0 ? current : undefined;
    });
    expect(job.status?.succeeded).toBe(1);
    const [pod] = (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector: 'job-name=once' })).items;
    const sidecar = pod!.spec?.initContainers?.find((c) => c.name === 'vault-agent');
    expect(sidecar?.restartPolicy).toBe('Always');
    expect(await podLog(env, namespace, pod!.metadata!.name!, 'app')).toBe('password=job-password\n');
  });

  it('never starts the app of a pod whose Vault role is wrong', async () => {
    const namespace = await appNamespace(env, 'inj-deny');
    const path = await vaultSecret(namespace, 'unreachable');
    await env.stack.kube.core.createNamespacedPod({
      namespace,
      body: {
        metadata: { name: 'denied', annotations: agentAnnotations('no-such-role', path) },
        spec: {
          serviceAccountName: 'app',
          containers: [printingContainer(env.cluster.images.injector, `cat ${secretFile}`)],
        },
      },
    });
    // The init agent's login is refused and it keeps retrying (as vault-agent does); the app never starts.
    await waitFor(env, namespace, 'the init agent reporting the refused login', async () => {
      const log = await podLog(env, namespace, 'denied', 'vault-agent-init');
      return log.includes('invalid role name \\"no-such-role\\"') ? true : undefined;
    });
    const pod = await env.stack.kube.core.readNamespacedPod({ namespace, name: 'denied' });
    const app = pod.status?.containerStatuses?.find((s: k8s.V1ContainerStatus) => s.name === 'app');
    expect(app?.state?.running).toBeUndefined();
    expect(app?.state?.waiting?.reason).toBe('PodInitializing');
    expect(pod.status?.phase).toBe('Pending');
  });
});
