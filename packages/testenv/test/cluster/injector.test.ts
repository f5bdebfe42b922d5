// The injector in a real pod: its webhook mutates real pods, the agent runs as real containers
// from the locally built image, logs in to Vault with the pod's service-account token and renders
// the file the app reads.
import type * as k8s from '@kubernetes/client-node';
import {
  agentAnnotations,
  appNamespace,
  appRole,
  clusterStackWithChart,
  createAppDeployment,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  waitForPrint,
  type ClusterStack,
} from './support.ts';

// Every webhook pod Ready means the API server trusts it: readiness waits until the CA the webhook
// serves with is in the MutatingWebhookConfiguration (injector webhook/tls/auto-source.ts).
const env: ClusterStack = clusterStackWithChart();
const secretFile = '/vault/secrets/config.txt';

async function vaultSecret(namespace: string, password: string): Promise<string> {
  const path = `secret/data/${namespace}/web`;
  await env.stack.vaultAdmin.write(path, { data: { password } });
  return path;
}

describe('the injector on a real node', () => {
  it('gives an annotated Deployment its agent; the app reads the rendered file, and a rotation in Vault changes it', async () => {
    const namespace = await appNamespace(env, 'inj');
    const path = await vaultSecret(namespace, 'first-password');
    const role = await appRole(env, namespace);
    await createAppDeployment(
      env,
      namespace,
      'web',
      { containers: [printingContainer(env.cluster.images.injector, `cat ${secretFile}`)] },
      agentAnnotations(role, path),
    );
    const [pod] = await waitForPodsReady(env, namespace, 'app=web');
    const name = pod!.metadata!.name!;
    expect(pod!.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBe('injected');
    expect(pod!.spec?.initContainers?.map((c) => c.name)).toContain('vault-agent-init');
    expect(pod!.spec?.containers.map((c) => c.name)).toEqual(expect.arrayContaining(['app', 'vault-agent']));

    await waitForPrint(env, namespace, name, 'password=first-password\n', 'the app printing the first password');
    await vaultSecret(namespace, 'second-password');
    await waitForPrint(env, namespace, name, 'password=second-password\n', 'the app printing the rotated password');
  });

  it('lets a Job complete with the agent as a native sidecar', async () => {
    const namespace = await appNamespace(env, 'inj-job');
    const path = await vaultSecret(namespace, 'job-password');
    const role = await appRole(env, namespace);
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
