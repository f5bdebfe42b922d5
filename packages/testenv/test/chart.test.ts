// charts/vaultbridge: lint, render and install into the real test API server with the repo's helm.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { binaryPath, repoRoot, sharedStack, type TestStack } from '../src/index.ts';

const chart = path.join(repoRoot, 'charts/vaultbridge');
const components = ['injector', 'csiProvider', 'operator'] as const;
type Component = (typeof components)[number];

interface RenderedObject {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function helm(...args: string[]): string {
  return execFileSync(binaryPath('helm'), args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

function render(...setArgs: string[]): RenderedObject[] {
  const out = helm('template', 'rel', chart, '--namespace', 'vb-ns', ...setArgs.flatMap((s) => ['--set', s]));
  return parseAllDocuments(out)
    .map((doc) => doc.toJS() as RenderedObject | null)
    .filter((obj): obj is RenderedObject => obj !== null);
}

function only(component: Component): string[] {
  return components.map((c) => `${c}.enabled=${c === component}`);
}

const componentLabel: Record<Component, string> = {
  injector: 'vaultbridge-injector',
  csiProvider: 'vaultbridge-csi-provider',
  operator: 'vaultbridge-operator',
};

describe('helm lint --strict', () => {
  it.each([[[] as string[]], ...components.map((c) => [[`${c}.enabled=false`]])])('passes with %j', (setArgs) => {
    expect(helm('lint', '--strict', chart, ...setArgs.flatMap((s) => ['--set', s]))).toContain('0 chart(s) failed');
  });

  it('rejects values of the wrong type through values.schema.json', () => {
    expect(() => helm('template', 'rel', chart, '--set', 'injector.replicas=two')).toThrow(/replicas/);
    expect(() => helm('template', 'rel', chart, '--set', 'unknownKey=1')).toThrow(/unknownKey/);
    expect(() => helm('template', 'rel', chart, '--set', 'injector.workers=many')).toThrow(/workers/);
  });
});

describe('helm template', () => {
  it('renders every component with all three enabled', () => {
    const objects = render('global.vault.address=https://vault.example:8200');
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'Deployment/rel-vaultbridge-injector',
        'Service/rel-vaultbridge-injector',
        'MutatingWebhookConfiguration/rel-vaultbridge-injector',
        'PodDisruptionBudget/rel-vaultbridge-injector',
        'DaemonSet/rel-vaultbridge-csi-provider',
        'Deployment/rel-vaultbridge-operator',
        'ClusterRole/rel-vaultbridge-operator',
      ]),
    );
    expect(names.filter((n) => n.startsWith('ServiceMonitor/'))).toEqual([]);
    // The operator runs one replica by default: no PDB for it.
    expect(names).not.toContain('PodDisruptionBudget/rel-vaultbridge-operator');

    const injector = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'rel-vaultbridge-injector',
    ) as unknown as k8s.V1Deployment;
    expect(injector.spec?.replicas).toBe(2);
    const env = injector.spec!.template.spec!.containers[0]!.env!;
    const value = (name: string) => env.find((e) => e.name === name);
    expect(value('AGENT_INJECT_VAULT_ADDR')?.value).toBe('https://vault.example:8200');
    expect(value('AGENT_INJECT_TLS_AUTO')?.value).toBe('rel-vaultbridge-injector');
    expect(value('AGENT_INJECT_TLS_AUTO_HOSTS')?.value).toContain('rel-vaultbridge-injector.vb-ns.svc');
    expect(value('NAMESPACE')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    expect(value('POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');

    const mwc = objects.find(
      (o) => o.kind === 'MutatingWebhookConfiguration',
    ) as unknown as k8s.V1MutatingWebhookConfiguration;
    const webhook = mwc.webhooks![0]!;
    expect(webhook).toMatchObject({
      name: 'vault.hashicorp.com',
      admissionReviewVersions: ['v1', 'v1beta1'],
      sideEffects: 'None',
      failurePolicy: 'Ignore',
      clientConfig: { service: { name: 'rel-vaultbridge-injector', namespace: 'vb-ns', path: '/mutate' } },
      rules: [{ operations: ['CREATE'], resources: ['pods'] }],
    });
    expect(webhook.objectSelector?.matchExpressions).toContainEqual({
      key: 'app.kubernetes.io/name',
      operator: 'NotIn',
      values: ['vaultbridge-injector'],
    });

    const operator = objects.find(
      (o) => o.kind === 'Deployment' && o.metadata.name === 'rel-vaultbridge-operator',
    ) as unknown as k8s.V1Deployment;
    expect(operator.spec!.template.spec!.containers[0]!.args).toContain('--leader-elect');
  });

  it('the operator pod meets the restricted profile, has requests and limits, and no cluster-wide Secret delete', () => {
    const objects = render(...only('operator'));
    const operator = objects.find((o) => o.kind === 'Deployment') as unknown as k8s.V1Deployment;
    const pod = operator.spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod?.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    // From the operator's footprint bench (README, Memory): 1,000 objects steady, 10,000 under the limit.
    expect(pod?.containers[0]?.resources).toEqual({
      requests: { cpu: '50m', memory: '160Mi' },
      limits: { cpu: '1', memory: '512Mi' },
    });
    const clusterRole = objects.find((o) => o.kind === 'ClusterRole') as unknown as k8s.V1ClusterRole;
    const secretVerbs =
      clusterRole.rules?.filter((rule) => rule.resources?.includes('secrets')).flatMap((rule) => rule.verbs) ?? [];
    expect(secretVerbs.length).toBeGreaterThan(0);
    expect(secretVerbs).not.toContain('delete');
    expect(secretVerbs).not.toContain('*');
    expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
    const withPolicy = render(
      ...only('operator'),
      'operator.networkPolicy.enabled=true',
      'operator.networkPolicy.vaultPorts={8200,443}',
    ).find((o) => o.kind === 'NetworkPolicy') as unknown as k8s.V1NetworkPolicy;
    expect(withPolicy.spec?.ingress?.[0]?.ports).toEqual([{ protocol: 'TCP', port: 8081 }]);
    expect(withPolicy.spec?.egress?.flatMap((rule) => rule.ports?.map((port) => port.port))).toEqual([
      53, 53, 443, 6443, 8200, 443,
    ]);
  });

  it("limits the operator to the admin's Vault addresses: global.vault.address by default, the list when given, none only when asked", () => {
    const allowList = (...setArgs: string[]) => {
      const operator = render(...setArgs).find(
        (o) => o.kind === 'Deployment' && o.metadata.name === 'rel-vaultbridge-operator',
      ) as unknown as k8s.V1Deployment;
      return operator.spec?.template.spec?.containers[0]?.env?.find(
        (e) => e.name === 'VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES',
      )?.value;
    };
    expect(allowList('global.vault.address=https://vault.example:8200')).toBe('https://vault.example:8200');
    expect(allowList('operator.allowedVaultAddresses={https://a.example:8200,https://b.example}')).toBe(
      'https://a.example:8200,https://b.example',
    );
    expect(allowList('operator.allowAnyVaultAddress=true')).toBeUndefined();
    expect(() => render('operator.allowedVaultAddresses={vault:8200}')).toThrow(/allowedVaultAddresses/);
  });

  it("serves VSO's API group only when asked: the flag, and RBAC for that group, Leases and Deployments (list) to check VSO is gone", () => {
    const rendered = (...setArgs: string[]) => {
      const objects = render(...only('operator'), ...setArgs);
      const operator = objects.find((o) => o.kind === 'Deployment') as unknown as k8s.V1Deployment;
      const clusterRole = objects.find((o) => o.kind === 'ClusterRole') as unknown as k8s.V1ClusterRole;
      return { args: operator.spec?.template.spec?.containers[0]?.args ?? [], rules: clusterRole.rules ?? [] };
    };
    const off = rendered();
    expect(off.args).not.toContain('--serve-vso-api-group');
    expect(off.rules.flatMap((rule) => rule.apiGroups ?? [])).not.toContain('secrets.hashicorp.com');
    const on = rendered('operator.serveVsoApiGroup=true');
    expect(on.args).toContain('--serve-vso-api-group');
    const vso = on.rules
      .filter((rule) => rule.apiGroups?.includes('secrets.hashicorp.com'))
      .flatMap((rule) => rule.resources ?? []);
    expect(vso).toEqual(
      expect.arrayContaining([
        'vaultstaticsecrets',
        'vaultstaticsecrets/status',
        'vaultauths',
        'vaultauthglobals',
        'vaultconnections',
        // Listed only, to report them as unsupported.
        'hcpauths',
        'hcpvaultsecretsapps',
        'csisecrets',
      ]),
    );
    expect(on.args.some((arg) => arg.startsWith('--vso-hmac-key-secret'))).toBe(false);
    const withKey = rendered(
      'operator.serveVsoApiGroup=true',
      'operator.vsoHmacKeySecret=vault-secrets-operator-system/vso-cc-storage-hmac-key',
    );
    expect(withKey.args).toContain('--vso-hmac-key-secret=vault-secrets-operator-system/vso-cc-storage-hmac-key');
    expect(rendered('operator.vsoHmacKeySecret=ns/key').args.some((arg) => arg.startsWith('--vso-hmac-key'))).toBe(
      false,
    );
    expect(
      on.rules
        .filter((rule) => rule.resources?.includes('leases') || rule.resources?.includes('deployments'))
        .filter((rule) => rule.verbs?.includes('list')),
    ).toHaveLength(2);
  });

  it.each(components)('with only %s enabled renders only its objects', (component) => {
    const objects = render(...only(component));
    expect(objects.length).toBeGreaterThan(0);
    const namespaced = objects.filter((o) => o.kind !== 'CustomResourceDefinition');
    for (const object of namespaced) {
      expect(`${object.kind}/${object.metadata.name}`).toMatch(new RegExp(`^\\w+/rel-${componentLabel[component]}`));
      expect(object.metadata.labels?.['app.kubernetes.io/name']).toBe(componentLabel[component]);
    }
  });

  it('passes the CSI provider its Vault address allow-list and object cap, and sets its resources', () => {
    const provider = (...setArgs: string[]) => {
      const daemonSet = render(...setArgs).find((o) => o.kind === 'DaemonSet') as unknown as k8s.V1DaemonSet;
      const container = daemonSet.spec?.template.spec?.containers[0];
      if (!container) throw new Error('the DaemonSet has no container');
      return container;
    };
    const byDefault = provider();
    expect(byDefault.args).toContain('--max-objects-per-mount=200');
    expect(byDefault.args?.some((arg) => arg.startsWith('--allowed-vault-addresses'))).toBe(false);
    expect(byDefault.resources).toEqual({ requests: { cpu: '10m', memory: '96Mi' }, limits: { memory: '192Mi' } });
    const configured = provider(
      'csiProvider.allowedVaultAddresses={https://vault-a:8200,https://vault-b}',
      'csiProvider.maxObjectsPerMount=50',
    );
    expect(configured.args).toEqual(
      expect.arrayContaining([
        '--allowed-vault-addresses=https://vault-a:8200,https://vault-b',
        '--max-objects-per-mount=50',
      ]),
    );
  });

  it('splits the injector webhook by a namespace label: Fail for opted-in namespaces, Ignore for the rest', () => {
    const webhooksOf = (...setArgs: string[]) =>
      (
        render(...setArgs).find(
          (o) => o.kind === 'MutatingWebhookConfiguration',
        ) as unknown as k8s.V1MutatingWebhookConfiguration
      ).webhooks!;
    const label = 'vaultbridge.dev/injector-failure-policy';
    const split = webhooksOf('injector.webhook.namespaceSelector.matchLabels.team=a');
    expect(split.map((w) => [w.name, w.failurePolicy, w.namespaceSelector])).toEqual([
      [
        'vault.hashicorp.com',
        'Ignore',
        { matchLabels: { team: 'a' }, matchExpressions: [{ key: label, operator: 'NotIn', values: ['Fail'] }] },
      ],
      [
        'fail-closed.injector.vaultbridge.dev',
        'Fail',
        { matchLabels: { team: 'a' }, matchExpressions: [{ key: label, operator: 'In', values: ['Fail'] }] },
      ],
    ]);
    // Same rules, service and object selector for both: only the failure policy and the label differ.
    expect(split[1]).toMatchObject({
      rules: split[0]!.rules,
      clientConfig: split[0]!.clientConfig,
      objectSelector: split[0]!.objectSelector,
      timeoutSeconds: split[0]!.timeoutSeconds,
    });
    // Everything fails closed: one webhook. The second one off: one webhook.
    expect(
      webhooksOf('injector.webhook.failurePolicy=Fail').map((w) => [w.name, w.failurePolicy, w.namespaceSelector]),
    ).toEqual([['vault.hashicorp.com', 'Fail', {}]]);
    expect(
      webhooksOf('injector.webhook.failClosed.enabled=false').map((w) => [
        w.name,
        w.failurePolicy,
        w.namespaceSelector,
      ]),
    ).toEqual([['vault.hashicorp.com', 'Ignore', {}]]);
  });

  it('the injector pod meets the restricted profile, has requests and limits, and an opt-in NetworkPolicy', () => {
    const objects = render(...only('injector'));
    const pod = (objects.find((o) => o.kind === 'Deployment') as unknown as k8s.V1Deployment).spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod?.containers[0]?.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod?.containers[0]?.resources).toEqual({
      requests: { cpu: '100m', memory: '104Mi' },
      limits: { cpu: '2', memory: '192Mi' },
    });
    expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
    const policy = render(...only('injector'), 'injector.networkPolicy.enabled=true').find(
      (o) => o.kind === 'NetworkPolicy',
    ) as unknown as k8s.V1NetworkPolicy;
    expect(policy.spec?.ingress).toEqual([{ ports: [{ protocol: 'TCP', port: 8080 }] }]);
    expect(policy.spec?.egress?.flatMap((rule) => rule.ports?.map((port) => port.port))).toEqual([53, 53, 443, 6443]);
  });

  it("passes the injector's review limits only when set", () => {
    const envOf = (...setArgs: string[]) =>
      (
        (
          render(...setArgs).find(
            (o) => o.kind === 'Deployment' && o.metadata.name === 'rel-vaultbridge-injector',
          ) as unknown as k8s.V1Deployment
        ).spec!.template.spec!.containers[0]!.env ?? []
      ).filter((e) => e.name.startsWith('AGENT_INJECT_MAX_'));
    expect(envOf()).toEqual([]);
    expect(envOf('injector.reviewLimits.maxSecrets=50', 'injector.reviewLimits.maxAnnotationBytes=65536')).toEqual([
      { name: 'AGENT_INJECT_MAX_SECRETS', value: '50' },
      { name: 'AGENT_INJECT_MAX_ANNOTATION_BYTES', value: '65536' },
    ]);
    expect(() => helm('template', 'rel', chart, '--set', 'injector.reviewLimits.maxSecrets=many')).toThrow(
      /maxSecrets/,
    );
  });

  it("gives the webhook the image of Vault Agent pods: the value, agentImage with agentKind vault, else upstream's", () => {
    const images = (...setArgs: string[]) =>
      Object.fromEntries(
        (
          (
            render(...setArgs).find(
              (o) => o.kind === 'Deployment' && o.metadata.name === 'rel-vaultbridge-injector',
            ) as unknown as k8s.V1Deployment
          ).spec!.template.spec!.containers[0]!.env ?? []
        )
          .filter((e) => ['AGENT_INJECT_VAULT_IMAGE', 'AGENT_INJECT_VAULT_AGENT_IMAGE'].includes(e.name))
          .map((e) => [e.name, e.value]),
      );
    expect(images()).toEqual({
      AGENT_INJECT_VAULT_IMAGE: 'vaultbridge/agent:0.1.0',
      AGENT_INJECT_VAULT_AGENT_IMAGE: 'hashicorp/vault:1.13.3',
    });
    expect(images('injector.vaultAgentImage=mirror.example/vault:1.13.3')).toEqual({
      AGENT_INJECT_VAULT_IMAGE: 'vaultbridge/agent:0.1.0',
      AGENT_INJECT_VAULT_AGENT_IMAGE: 'mirror.example/vault:1.13.3',
    });
    expect(images('injector.agentKind=vault', 'injector.agentImage=openbao/openbao:2.1.0')).toEqual({
      AGENT_INJECT_VAULT_IMAGE: 'openbao/openbao:2.1.0',
      AGENT_INJECT_VAULT_AGENT_IMAGE: 'openbao/openbao:2.1.0',
    });
    expect(images('injector.agentKind=vault')).toEqual({
      AGENT_INJECT_VAULT_IMAGE: 'hashicorp/vault:1.13.3',
      AGENT_INJECT_VAULT_AGENT_IMAGE: 'hashicorp/vault:1.13.3',
    });
    expect(() => helm('template', 'rel', chart, '--set-json', 'injector.vaultAgentImage=7')).toThrow(/vaultAgentImage/);
  });

  it('turns the idle memory trim off per component with idleMemoryTrim: false, and leaves it on by default', () => {
    const trimSetting = (...setArgs: string[]) =>
      Object.fromEntries(
        render(...setArgs)
          .filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet')
          .map((o) => {
            const container = (o as unknown as k8s.V1Deployment).spec?.template.spec?.containers[0];
            const setting = container?.env?.find((e) => e.name === 'VAULTBRIDGE_IDLE_MEMORY_TRIM');
            return [o.metadata.labels?.['app.kubernetes.io/name'], setting?.value ?? 'unset'];
          }),
      );
    expect(trimSetting()).toEqual({
      'vaultbridge-injector': 'unset',
      'vaultbridge-csi-provider': 'unset',
      'vaultbridge-operator': 'unset',
    });
    expect(
      trimSetting('injector.idleMemoryTrim=false', 'csiProvider.idleMemoryTrim=false', 'operator.idleMemoryTrim=false'),
    ).toEqual({
      'vaultbridge-injector': 'off',
      'vaultbridge-csi-provider': 'off',
      'vaultbridge-operator': 'off',
    });
    expect(trimSetting('operator.idleMemoryTrim=false')).toEqual({
      'vaultbridge-injector': 'unset',
      'vaultbridge-csi-provider': 'unset',
      'vaultbridge-operator': 'off',
    });
    expect(() => helm('template', 'rel', chart, '--set', 'operator.idleMemoryTrim=nope')).toThrow(/idleMemoryTrim/);
  });

  it('renders ServiceMonitors and the operator PDB only when asked', () => {
    const objects = render(
      'injector.serviceMonitor.enabled=true',
      'csiProvider.serviceMonitor.enabled=true',
      'operator.serviceMonitor.enabled=true',
      'operator.replicas=2',
    );
    expect(objects.filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(3);
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toContain(
      'PodDisruptionBudget/rel-vaultbridge-operator',
    );
  });
});

describe('helm install into the test API server', () => {
  let stack: TestStack;

  beforeAll(() => {
    stack = sharedStack();
  });

  it('creates the release objects and helm uninstall removes them', async () => {
    const release = stack.uniqueName('vb');
    const namespace = stack.uniqueName('chart');
    const kubeconfig = stack.handle.kubeconfigPath;
    const apps = stack.kube.config.makeApiClient(k8s.AppsV1Api);
    const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
    const extensions = stack.kube.config.makeApiClient(k8s.ApiextensionsV1Api);
    const injectorName = `${release}-vaultbridge-injector`;

    try {
      helm(
        'install',
        release,
        chart,
        '--namespace',
        namespace,
        '--create-namespace',
        '--kubeconfig',
        kubeconfig,
        '--no-hooks',
        '--set',
        'global.vault.address=http://127.0.0.1:8200',
        // The webhook has no endpoints here (no kubelet): keep it to this namespace so no other test's pods see it.
        '--set',
        `injector.webhook.namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=${namespace}`,
        '--set',
        'injector.webhook.failurePolicy=Ignore',
        '--set',
        'operator.networkPolicy.enabled=true',
      );

      const injector = await apps.readNamespacedDeployment({ namespace, name: injectorName });
      expect(injector.spec?.replicas).toBe(2);
      const operator = await apps.readNamespacedDeployment({ namespace, name: `${release}-vaultbridge-operator` });
      // The API server accepted the restricted-profile fields and the NetworkPolicy.
      expect(operator.spec?.template.spec?.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      const policy = await stack.kube.config
        .makeApiClient(k8s.NetworkingV1Api)
        .readNamespacedNetworkPolicy({ namespace, name: `${release}-vaultbridge-operator` });
      expect(policy.spec?.policyTypes).toEqual(['Ingress', 'Egress']);
      await apps.readNamespacedDaemonSet({ namespace, name: `${release}-vaultbridge-csi-provider` });
      const mwc = await admission.readMutatingWebhookConfiguration({ name: injectorName });
      expect(mwc.webhooks?.[0]?.namespaceSelector?.matchLabels).toEqual({ 'kubernetes.io/metadata.name': namespace });
      // The API server accepted both webhooks (valid names, selectors and policies).
      expect(mwc.webhooks?.map((w) => [w.name, w.failurePolicy])).toEqual([
        ['vault.hashicorp.com', 'Ignore'],
        ['fail-closed.injector.vaultbridge.dev', 'Fail'],
      ]);
      for (const crd of ['vaultconnections', 'vaultauths', 'vaultstaticsecrets']) {
        const found = await extensions.readCustomResourceDefinition({ name: `${crd}.secrets.vaultbridge.dev` });
        expect(found.spec.group).toBe('secrets.vaultbridge.dev');
      }
    } finally {
      helm('uninstall', release, '--namespace', namespace, '--kubeconfig', kubeconfig);
    }

    const deployments = await apps.listNamespacedDeployment({ namespace });
    expect(deployments.items).toEqual([]);
    const daemonSets = await apps.listNamespacedDaemonSet({ namespace });
    expect(daemonSets.items).toEqual([]);
    await expect(admission.readMutatingWebhookConfiguration({ name: injectorName })).rejects.toMatchObject({
      code: 404,
    });
    // CRDs stay: helm never deletes what it installed from crds/.
    await expect(
      extensions.readCustomResourceDefinition({ name: 'vaultauths.secrets.vaultbridge.dev' }),
    ).resolves.toBeDefined();
    await stack.kube.config.makeApiClient(k8s.CoreV1Api).deleteNamespace({ name: namespace });
  });
});
