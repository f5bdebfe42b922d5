// One tenant floods the webhook through the real API server while another creates pods (issue 12:
// 24 loops of valid pods with ~3,700 secrets pushed other namespaces' reviews past the webhook timeout,
// and with failurePolicy Ignore their pods were stored without the agent). The webhook runs as shipped
// (worker threads `auto`), registered with failurePolicy Ignore and the chart's 10 s timeout, so a late
// answer shows up as a victim pod without `vault-agent`. Every victim must be injected. Nothing here is
// timed: on a loaded machine the attack only takes longer.
import * as k8s from '@kubernetes/client-node';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import { parseServeFlags } from '../src/webhook/config.ts';
import { serveWebhook, type RunningWebhook } from '../src/webhook/serve.ts';
import { servingCertificateFiles } from './support/webhook.ts';

let stack: TestStack;
let webhook: RunningWebhook;
let admission: k8s.AdmissionregistrationV1Api;
let attacker: string;
let victim: string;
let configName: string;

const ATTACK_LOOPS = 24;
const VICTIM_PODS = 8;

function pod(name: string, annotations: Record<string, string>): k8s.V1Pod {
  return {
    metadata: { name, annotations },
    spec: {
      serviceAccountName: 'default',
      containers: [
        {
          name: 'app',
          image: 'busybox',
          volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true }],
        },
      ],
      volumes: [{ name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }],
    },
  };
}

const inject = { 'vault.hashicorp.com/agent-inject': 'true', 'vault.hashicorp.com/role': 'app' };

/** The reported attack: ~3,700 secrets, about 0.2 MiB of annotations. */
const hugePod = (name: string) =>
  pod(name, {
    ...inject,
    ...Object.fromEntries(
      Array.from({ length: 3_700 }, (_, i) => [`vault.hashicorp.com/agent-inject-secret-s${i}`, `kv/data/s${i}`]),
    ),
  });

/** Under every cap but as costly as a pod may be: 100 secrets, each with a 1.5 KiB template. */
const costlyPod = (name: string) =>
  pod(name, {
    ...inject,
    ...Object.fromEntries(
      Array.from({ length: 100 }, (_, i) => [
        `vault.hashicorp.com/agent-inject-template-t${i}`,
        `{{ with secret "kv/data/t${i}" }}${'{{ .Data.data.value }}'.repeat(60)}{{ end }}`,
      ]),
    ),
  });

const victimPod = (name: string) =>
  pod(name, {
    ...inject,
    'vault.hashicorp.com/agent-inject-secret-db': 'database/creds/app',
    'vault.hashicorp.com/agent-inject-secret-api': 'kv/data/api',
  });

describe.each([['auto'], ['0']])('webhook with --workers %s', (workers) => {
  beforeAll(async () => {
    stack = sharedStack();
    attacker = stack.uniqueName(`attacker-${workers}`);
    victim = stack.uniqueName(`victim-${workers}`);
    configName = `fairness-${process.pid}-${workers}`;
    for (const ns of [attacker, victim]) {
      await stack.createNamespace(ns);
      await stack.kube.core.patchNamespace(
        { name: ns, body: { metadata: { labels: { [configName]: 'yes' } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
    }
    const serving = await servingCertificateFiles('fairness', 'injector');
    webhook = await serveWebhook(
      parseServeFlags({
        listen: '127.0.0.1:0',
        logLevel: 'error',
        vaultAddress: 'https://vault.vault.svc:8200',
        workers,
        tlsCertFile: serving.certFile,
        tlsKeyFile: serving.keyFile,
      }),
    );
    admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name: configName },
        webhooks: [
          {
            name: 'vault.hashicorp.com',
            admissionReviewVersions: ['v1'],
            sideEffects: 'None',
            // As vault-helm and the chart's default for unlabelled namespaces: a late answer admits the pod bare.
            failurePolicy: 'Ignore',
            timeoutSeconds: 10,
            namespaceSelector: { matchLabels: { [configName]: 'yes' } },
            clientConfig: {
              url: `https://127.0.0.1:${webhook.address.port}/mutate`,
              caBundle: Buffer.from(serving.caPem).toString('base64'),
            },
            rules: [
              {
                operations: ['CREATE'],
                apiGroups: [''],
                apiVersions: ['v1'],
                resources: ['pods'],
                scope: 'Namespaced',
              },
            ],
          },
        ],
      },
    });
    // The API server picks the configuration up through an informer: wait until it is live.
    for (let attempt = 0; ; attempt++) {
      const probe = await stack.kube.core.createNamespacedPod({
        namespace: victim,
        body: victimPod(`probe-${attempt}`),
        dryRun: 'All',
      });
      if (probe.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected') break;
      if (attempt > 200) throw new Error('the webhook configuration never took effect');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 120_000);

  afterAll(async () => {
    // After the flood the API server of a loaded machine can be slow to answer: room for it.
    await admission?.deleteMutatingWebhookConfiguration({ name: configName }).catch(() => undefined);
    await webhook?.close();
  }, 120_000);

  test('victims are always injected while another namespace floods the webhook', async () => {
    let flooding = true;
    const outcomes = { deniedByCap: 0, costlyInjected: 0, otherErrors: [] as string[] };
    const loop = async (index: number): Promise<void> => {
      for (let round = 0; flooding; round++) {
        const huge = round % 2 === 0;
        const name = `a-${index}-${round}`;
        try {
          // dryRun: the API server runs the webhook but stores nothing, so the flood never fills etcd.
          const created = await stack.kube.core.createNamespacedPod({
            namespace: attacker,
            body: huge ? hugePod(name) : costlyPod(name),
            dryRun: 'All',
          });
          if (created.spec?.containers.some((c) => c.name === 'vault-agent')) outcomes.costlyInjected += 1;
        } catch (error) {
          const body = error instanceof k8s.ApiException ? String(error.body) : String(error);
          if (/defines 3700 secrets; at most 100/.test(body)) outcomes.deniedByCap += 1;
          else if (outcomes.otherErrors.length < 5) outcomes.otherErrors.push(body.slice(0, 300));
        }
      }
    };
    const flood = Array.from({ length: ATTACK_LOOPS }, (_, index) => loop(index));
    const bare: string[] = [];
    try {
      // Let the flood build up a backlog before the first victim arrives.
      while (outcomes.deniedByCap + outcomes.costlyInjected < ATTACK_LOOPS)
        await new Promise((resolve) => setTimeout(resolve, 50));
      for (let i = 0; i < VICTIM_PODS; i++) {
        const created = await stack.kube.core.createNamespacedPod({
          namespace: victim,
          body: victimPod(`victim-${i}`),
        });
        const injected =
          created.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected' &&
          created.spec?.containers.some((c) => c.name === 'vault-agent');
        if (!injected) bare.push(created.metadata?.name ?? `victim-${i}`);
      }
    } finally {
      flooding = false;
      await Promise.all(flood);
    }
    expect({ bare, otherErrors: outcomes.otherErrors }).toEqual({ bare: [], otherErrors: [] });
    // The flood was real and went through both paths: capped pods denied, costly ones injected.
    expect(outcomes.deniedByCap).toBeGreaterThan(0);
    expect(outcomes.costlyInjected).toBeGreaterThan(0);
    process.stdout.write(
      `fairness: ${VICTIM_PODS} victims injected during ${outcomes.deniedByCap} capped and ${outcomes.costlyInjected} costly attacker reviews\n`,
    );
  }, 300_000);
});
