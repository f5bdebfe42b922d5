import { describe, expect, test } from '@jest/globals';
import type { V1Container, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import { agentConfigOf, appContainer, pod, TOKEN_MOUNT, VAULT_ADDR } from '../../test/support/pods.ts';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { parseAnnotations } from '../annotations/parse.ts';
import { MutationError } from './errors.ts';
import { mutatePod } from './mutate.ts';
import { createPatch } from './patch.ts';

function mutate(p: V1Pod, defaults: InjectorDefaults = {}): V1Pod {
  return mutatePod(p, parseAnnotations(p, { vaultAddress: VAULT_ADDR, ...defaults }, { namespace: 'app' }));
}

function container(p: V1Pod, name: string): V1Container | undefined {
  return [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].find((c) => c.name === name);
}

function names(list: ReadonlyArray<{ name: string }> | undefined): string[] {
  return (list ?? []).map((item) => item.name);
}

function mountsOf(c: V1Container | undefined): string[] {
  return (c?.volumeMounts ?? []).map((m) => `${m.name}:${m.mountPath}${m.readOnly === true ? ':ro' : ''}`);
}

const existingInit: V1Container = { name: 'migrate', image: 'busybox' };
const TOKEN = `${TOKEN_MOUNT.name}:${TOKEN_MOUNT.mountPath}:ro`;

describe('the patch is the diff of the pod before and after', () => {
  test("the reference's worked example (§2.8): seven adds, arrays appended to, never replaced", () => {
    const p = pod({ role: 'web', 'agent-inject-secret-db.txt': 'secret/data/db' }, {}, { 'agent-inject': 'true' });
    const patch = createPatch(p, mutate(p));
    expect(patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      'add /spec/volumes/1',
      'add /spec/volumes/2',
      'add /spec/volumes/3',
      'add /spec/containers/0/volumeMounts/1',
      'add /spec/containers/1',
      'add /spec/initContainers',
      'add /metadata/annotations/vault.hashicorp.com~1agent-inject-status',
    ]);
    expect(patch.slice(0, 4).map((op) => ('value' in op ? op.value : undefined))).toEqual([
      { name: 'home-init', emptyDir: { medium: 'Memory' } },
      { name: 'home-sidecar', emptyDir: { medium: 'Memory' } },
      { name: 'vault-secrets', emptyDir: { medium: 'Memory' } },
      { name: 'vault-secrets', mountPath: '/vault/secrets' },
    ]);
    expect(patch.at(-1)).toEqual({
      op: 'add',
      path: '/metadata/annotations/vault.hashicorp.com~1agent-inject-status',
      value: 'injected',
    });
  });

  test('a pod without volumes gets one `add /spec/volumes` holding all three (upstream replaces its own array)', () => {
    // upstream handler_test "basic pod injection": a token mount but no volumes, a container with no mounts
    const p = pod(
      {},
      {
        containers: [
          { name: 'app', image: 'x', volumeMounts: [{ name: 'foobar', mountPath: 'serviceaccount/somewhere' }] },
          { name: 'worker', image: 'x' },
        ],
        volumes: undefined,
      },
    );
    const patch = createPatch(p, mutate(p));
    expect(patch.map((op) => `${op.op} ${op.path}`)).toEqual([
      'add /spec/containers/1/volumeMounts',
      'add /spec/containers/0/volumeMounts/1',
      'add /spec/containers/2',
      'add /spec/volumes',
      'add /spec/initContainers',
      'add /metadata/annotations/vault.hashicorp.com~1agent-inject-status',
    ]);
    const applied = jsonPatch.applyPatch(structuredClone(p), patch, true).newDocument;
    expect(names(applied.spec?.volumes)).toEqual(['home-init', 'home-sidecar', 'vault-secrets']);
    expect(mountsOf(container(applied, 'worker'))).toEqual(['vault-secrets:/vault/secrets']);
  });

  test('a pod without annotations gets `add /metadata/annotations`', () => {
    const p = pod();
    const bare: V1Pod = { ...p, metadata: { name: 'web' } };
    const after = mutatePod(bare, parseAnnotations(p, { vaultAddress: VAULT_ADDR }, { namespace: 'app' }));
    expect(createPatch(bare, after).filter((op) => op.path.startsWith('/metadata'))).toEqual([
      { op: 'add', path: '/metadata/annotations', value: { 'vault.hashicorp.com/agent-inject-status': 'injected' } },
    ]);
  });

  test.each<[string, Record<string, string>, Partial<V1PodSpec>]>([
    ['plain', {}, {}],
    [
      'init first before an existing init container',
      { 'agent-init-first': 'true' },
      { initContainers: [existingInit] },
    ],
    [
      'native sidecar first',
      { 'agent-native-sidecar': 'true', 'agent-init-first': 'true' },
      { initContainers: [existingInit] },
    ],
    [
      'every volume kind',
      {
        'agent-configmap': 'cm',
        'agent-extra-secret': 'es',
        'tls-secret': 'ts',
        'agent-cache-enable': 'true',
        'agent-inject-secret-a': 'kv/a',
        'secret-volume-path-a': '/etc/a',
      },
      {},
    ],
    [
      'no volumes at all',
      {},
      {
        volumes: undefined,
        containers: [
          {
            name: 'app',
            image: 'x',
            volumeMounts: [{ name: 't', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
          },
        ],
      },
    ],
  ])('applying the patch to the pod gives the mutated pod: %s', (...[, annotations, spec]) => {
    const p = pod({ 'agent-inject-secret-db': 'kv/db', ...annotations }, spec);
    const after = mutate(p);
    const applied = jsonPatch.applyPatch(structuredClone(p), createPatch(p, after), true).newDocument;
    expect(applied).toEqual(JSON.parse(JSON.stringify(after)));
  });

  test('the same pod always gives the same patch, and the input pod is not changed', () => {
    const p = pod({
      'agent-inject-secret-b': 'kv/b',
      'agent-inject-secret-a': 'kv/a',
      'secret-volume-path-b': '/z',
      'secret-volume-path-a': '/y',
    });
    const before = JSON.stringify(p);
    const first = JSON.stringify(createPatch(p, mutate(p)));
    const reordered = pod({
      'secret-volume-path-a': '/y',
      'secret-volume-path-b': '/z',
      'agent-inject-secret-a': 'kv/a',
      'agent-inject-secret-b': 'kv/b',
    });
    expect(JSON.stringify(createPatch(reordered, mutate(reordered)))).toBe(first);
    expect(JSON.stringify(p)).toBe(before);
  });
});

describe('what each annotation does to the pod', () => {
  test.each<[string, Record<string, string>, Partial<V1PodSpec>, (after: V1Pod) => unknown, unknown]>([
    [
      'by default: init agent last, sidecar last, three Memory volumes',
      {},
      { initContainers: [existingInit] },
      (a) => [names(a.spec?.initContainers), names(a.spec?.containers), names(a.spec?.volumes)],
      [
        ['migrate', 'vault-agent-init'],
        ['app', 'vault-agent'],
        ['kube-api-access-x1', 'home-init', 'home-sidecar', 'vault-secrets'],
      ],
    ],
    [
      'existing init containers get the secrets mount when the init agent runs',
      {},
      { initContainers: [existingInit] },
      (a) => mountsOf(container(a, 'migrate')),
      ['vault-secrets:/vault/secrets'],
    ],
    [
      'agent-init-first puts the init agent before existing init containers',
      { 'agent-init-first': 'true' },
      { initContainers: [existingInit] },
      (a) => names(a.spec?.initContainers),
      ['vault-agent-init', 'migrate'],
    ],
    [
      'agent-pre-populate false: no init agent, no home-init, existing init containers untouched',
      { 'agent-pre-populate': 'false' },
      { initContainers: [existingInit] },
      (a) => [names(a.spec?.initContainers), names(a.spec?.volumes), mountsOf(container(a, 'migrate'))],
      [['migrate'], ['kube-api-access-x1', 'home-sidecar', 'vault-secrets'], []],
    ],
    [
      'agent-pre-populate-only: init agent only, no sidecar, no home-sidecar',
      { 'agent-pre-populate-only': 'true' },
      {},
      (a) => [names(a.spec?.initContainers), names(a.spec?.containers), names(a.spec?.volumes)],
      [['vault-agent-init'], ['app'], ['kube-api-access-x1', 'home-init', 'vault-secrets']],
    ],
    [
      'agent-pre-populate-only wins over agent-pre-populate false (upstream injects no agent at all)',
      { 'agent-pre-populate-only': 'true', 'agent-pre-populate': 'false' },
      {},
      (a) => names(a.spec?.initContainers),
      ['vault-agent-init'],
    ],
    [
      'agent-inject-containers limits the app mounts',
      { 'agent-inject-containers': 'app' },
      { containers: [appContainer('app'), appContainer('metrics')] },
      (a) => [mountsOf(container(a, 'app')), mountsOf(container(a, 'metrics'))],
      [[TOKEN, 'vault-secrets:/vault/secrets'], [TOKEN]],
    ],
    [
      'agent-share-process-namespace sets spec.shareProcessNamespace',
      { 'agent-share-process-namespace': 'true' },
      {},
      (a) => a.spec?.shareProcessNamespace,
      true,
    ],
    [
      'agent-share-process-namespace applies without pre-populate too (upstream drops it)',
      { 'agent-share-process-namespace': 'true', 'agent-pre-populate': 'false' },
      {},
      (a) => a.spec?.shareProcessNamespace,
      true,
    ],
    [
      "agent-image sets both agents' image",
      { 'agent-image': 'registry.local/agent:2' },
      {},
      (a) => [container(a, 'vault-agent')?.image, container(a, 'vault-agent-init')?.image],
      ['registry.local/agent:2', 'registry.local/agent:2'],
    ],
    [
      'agents run vaultbridge-agent init / sidecar',
      {},
      {},
      (a) => [
        container(a, 'vault-agent-init')?.command,
        container(a, 'vault-agent-init')?.args,
        container(a, 'vault-agent')?.command,
        container(a, 'vault-agent')?.args,
      ],
      [['vaultbridge-agent'], ['init'], ['vaultbridge-agent'], ['sidecar']],
    ],
    [
      'agent mounts, in upstream order',
      {},
      {},
      (a) => [mountsOf(container(a, 'vault-agent-init')), mountsOf(container(a, 'vault-agent'))],
      [
        ['home-init:/home/vault', TOKEN, 'vault-secrets:/vault/secrets'],
        [TOKEN, 'home-sidecar:/home/vault', 'vault-secrets:/vault/secrets'],
      ],
    ],
    [
      'secret-volume-path moves the shared mount',
      { 'secret-volume-path': '/etc/secrets' },
      {},
      (a) => [mountsOf(container(a, 'app')), mountsOf(container(a, 'vault-agent')).at(-1)],
      [[TOKEN, 'vault-secrets:/etc/secrets'], 'vault-secrets:/etc/secrets'],
    ],
    [
      'secret-volume-path-<name> adds numbered Memory volumes, sorted by path',
      {
        'agent-inject-secret-b': 'kv/b',
        'agent-inject-secret-a': 'kv/a',
        'agent-inject-secret-c': 'kv/c',
        'secret-volume-path-b': '/etc/zeta',
        'secret-volume-path-a': '/etc/alpha',
      },
      {},
      (a) => [
        names(a.spec?.volumes).slice(3),
        mountsOf(container(a, 'app')),
        mountsOf(container(a, 'vault-agent')).slice(2),
      ],
      [
        ['vault-secrets', 'vault-secrets-custom-0', 'vault-secrets-custom-1'],
        [
          TOKEN,
          'vault-secrets:/vault/secrets',
          'vault-secrets-custom-0:/etc/alpha',
          'vault-secrets-custom-1:/etc/zeta',
        ],
        ['vault-secrets:/vault/secrets', 'vault-secrets-custom-0:/etc/alpha', 'vault-secrets-custom-1:/etc/zeta'],
      ],
    ],
    [
      'agent-configmap mounts the ConfigMap read-only in both agents',
      { 'agent-configmap': 'agent-cfg' },
      {},
      (a) => [
        a.spec?.volumes?.find((v) => v.name === 'vault-config'),
        mountsOf(container(a, 'vault-agent')).at(-1),
        mountsOf(container(a, 'vault-agent-init')).at(-1),
      ],
      [
        { name: 'vault-config', configMap: { name: 'agent-cfg' } },
        'vault-config:/vault/configs:ro',
        'vault-config:/vault/configs:ro',
      ],
    ],
    [
      'agent-configmap points the agents at its files instead of a generated config',
      { 'agent-configmap': 'agent-cfg', 'tls-skip-verify': 'true', 'ca-cert': '/vault/tls/ca.crt' },
      {},
      (a) => [
        (container(a, 'vault-agent-init')?.env ?? []).slice(3),
        (container(a, 'vault-agent')?.env ?? []).slice(3, 4),
      ],
      [
        [
          { name: 'VAULTBRIDGE_AGENT_CONFIG_FILE', value: '/vault/configs/config-init.json' },
          { name: 'VAULT_LOG_LEVEL', value: 'info' },
          { name: 'VAULT_LOG_FORMAT', value: 'standard' },
          { name: 'VAULT_ADDR', value: VAULT_ADDR },
          { name: 'VAULT_CACERT', value: '/vault/tls/ca.crt' },
          { name: 'VAULT_SKIP_VERIFY', value: 'true' },
        ],
        [{ name: 'VAULTBRIDGE_AGENT_CONFIG_FILE', value: '/vault/configs/config.json' }],
      ],
    ],
    [
      'agent-configmap passes log-level, log-format, client-timeout and client-max-retries as env (vault-k8s container_env.go)',
      {
        'agent-configmap': 'agent-cfg',
        'log-level': 'Warning',
        'log-format': 'json',
        'client-timeout': '45s',
        'client-max-retries': '7',
      },
      {},
      (a) =>
        Object.fromEntries(
          (container(a, 'vault-agent')?.env ?? [])
            .filter((e) => e.name.startsWith('VAULT_'))
            .map((e) => [e.name, e.value]),
        ),
      {
        VAULT_LOG_LEVEL: 'warn',
        VAULT_LOG_FORMAT: 'json',
        VAULT_CLIENT_TIMEOUT: '45000ms',
        VAULT_MAX_RETRIES: '7',
        VAULT_ADDR: VAULT_ADDR,
        VAULT_SKIP_VERIFY: 'false',
      },
    ],
    [
      'agent-extra-secret mounts a Secret at /vault/custom',
      { 'agent-extra-secret': 'extra' },
      {},
      (a) => [a.spec?.volumes?.find((v) => v.name === 'extra-secrets'), mountsOf(container(a, 'vault-agent')).at(-1)],
      [{ name: 'extra-secrets', secret: { secretName: 'extra' } }, 'extra-secrets:/vault/custom:ro'],
    ],
    [
      'tls-secret mounts a Secret at /vault/tls',
      { 'tls-secret': 'vault-tls' },
      {},
      (a) => [
        a.spec?.volumes?.find((v) => v.name === 'vault-tls-secrets'),
        mountsOf(container(a, 'vault-agent-init')).at(-1),
      ],
      [{ name: 'vault-tls-secrets', secret: { secretName: 'vault-tls' } }, 'vault-tls-secrets:/vault/tls:ro'],
    ],
    [
      'agent-cache-enable with init and sidecar shares a persistent cache volume',
      { 'agent-cache-enable': 'true' },
      {},
      (a) => [
        names(a.spec?.volumes).at(-1),
        mountsOf(container(a, 'vault-agent')).at(-1),
        mountsOf(container(a, 'vault-agent-init')).at(-1),
      ],
      ['vault-agent-cache', 'vault-agent-cache:/vault/agent-cache', 'vault-agent-cache:/vault/agent-cache'],
    ],
    [
      'agent-cache-enable with pre-populate-only has no cache volume',
      { 'agent-cache-enable': 'true', 'agent-pre-populate-only': 'true' },
      {},
      (a) => names(a.spec?.volumes).includes('vault-agent-cache'),
      false,
    ],
    [
      'agent-copy-volume-mounts copies all but service-account mounts, after the secrets mounts',
      { 'agent-copy-volume-mounts': 'app' },
      {
        containers: [
          appContainer('app', {
            volumeMounts: [
              { ...TOKEN_MOUNT },
              { name: 'data', mountPath: '/data' },
              { name: 'conf', mountPath: '/etc/conf', readOnly: true },
            ],
          }),
        ],
      },
      (a) => [mountsOf(container(a, 'vault-agent')), mountsOf(container(a, 'vault-agent-init'))],
      [
        [TOKEN, 'home-sidecar:/home/vault', 'vault-secrets:/vault/secrets', 'data:/data', 'conf:/etc/conf:ro'],
        ['home-init:/home/vault', TOKEN, 'vault-secrets:/vault/secrets', 'data:/data', 'conf:/etc/conf:ro'],
      ],
    ],
    [
      'agent-copy-volume-mounts can name an init container',
      { 'agent-copy-volume-mounts': 'migrate' },
      {
        initContainers: [{ name: 'migrate', image: 'x', volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
      },
      (a) => mountsOf(container(a, 'vault-agent')).at(-1),
      'scratch:/scratch',
    ],
    [
      'agent-service-account-token-volume-name mounts that volume into the agents',
      { 'agent-service-account-token-volume-name': 'vault-token' },
      {
        containers: [{ name: 'app', image: 'x' }],
        volumes: [
          {
            name: 'vault-token',
            projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] },
          },
        ],
        automountServiceAccountToken: false,
      },
      (a) => mountsOf(container(a, 'vault-agent'))[0],
      'vault-token:/var/run/secrets/vault.hashicorp.com/serviceaccount:ro',
    ],
    [
      'resources: generic for the sidecar, init-specific for the init agent',
      { 'agent-limits-cpu': '1', 'agent-init-limits-cpu': '200m', 'agent-requests-mem': '' },
      {},
      (a) => [container(a, 'vault-agent')?.resources, container(a, 'vault-agent-init')?.resources],
      [
        { limits: { cpu: '1', memory: '128Mi' }, requests: { cpu: '50m' } },
        { limits: { cpu: '200m', memory: '128Mi' }, requests: { cpu: '50m' } },
      ],
    ],
    [
      'ephemeral storage resources',
      { 'agent-limits-ephemeral': '1Gi', 'agent-requests-ephemeral': '128Mi' },
      {},
      (a) => container(a, 'vault-agent')?.resources,
      {
        limits: { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '1Gi' },
        requests: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '128Mi' },
      },
    ],
    [
      "the security context is upstream's, plus seccomp RuntimeDefault",
      {},
      {},
      (a) => container(a, 'vault-agent')?.securityContext,
      {
        runAsUser: 100,
        runAsGroup: 1000,
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'] },
        allowPrivilegeEscalation: false,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    ],
    [
      'agent-run-as-user 0 turns runAsNonRoot off',
      { 'agent-run-as-user': '0' },
      {},
      (a) => [
        container(a, 'vault-agent-init')?.securityContext?.runAsUser,
        container(a, 'vault-agent-init')?.securityContext?.runAsNonRoot,
      ],
      [0, false],
    ],
    [
      'agent-run-as-group 0 turns runAsNonRoot off',
      { 'agent-run-as-group': '0' },
      {},
      (a) => container(a, 'vault-agent')?.securityContext?.runAsNonRoot,
      false,
    ],
    [
      "agent-run-as-same-user uses the first container's uid",
      { 'agent-run-as-same-user': 'true' },
      { containers: [appContainer('app', { securityContext: { runAsUser: 4242 } })] },
      (a) => container(a, 'vault-agent')?.securityContext?.runAsUser,
      4242,
    ],
    [
      'agent-set-security-context false leaves it unset',
      { 'agent-set-security-context': 'false' },
      {},
      (a) => [container(a, 'vault-agent')?.securityContext, container(a, 'vault-agent-init')?.securityContext],
      [undefined, undefined],
    ],
    [
      'agent-json-patch edits the generated sidecar',
      {
        'agent-json-patch':
          '[{"op":"replace","path":"/name","value":"renamed"},{"op":"add","path":"/env/-","value":{"name":"X","value":"1"}}]',
      },
      {},
      (a) => [names(a.spec?.containers), container(a, 'renamed')?.env?.at(-1)],
      [['app', 'renamed'], { name: 'X', value: '1' }],
    ],
    [
      'agent-init-json-patch edits the generated init agent only',
      { 'agent-init-json-patch': '[{"op":"replace","path":"/resources","value":{}}]' },
      {},
      (a) => [container(a, 'vault-agent-init')?.resources, container(a, 'vault-agent')?.resources?.limits],
      [{}, { cpu: '500m', memory: '128Mi' }],
    ],
    [
      'go-max-procs and proxy-address become env vars',
      { 'go-max-procs': '2', 'proxy-address': 'http://proxy:3128' },
      {},
      (a) => (container(a, 'vault-agent')?.env ?? []).map((e) => e.name),
      ['NAMESPACE', 'HOST_IP', 'POD_IP', 'GOMAXPROCS', 'HTTPS_PROXY', 'VAULTBRIDGE_AGENT_CONFIG'],
    ],
    [
      "env starts with upstream's downward-API vars",
      {},
      {},
      (a) => container(a, 'vault-agent')?.env?.slice(0, 3),
      [
        { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
    ],
    [
      'agent-revoke-on-shutdown adds no shell preStop hook (the agent revokes on SIGTERM)',
      { 'agent-revoke-on-shutdown': 'true' },
      {},
      (a) => container(a, 'vault-agent')?.lifecycle,
      undefined,
    ],
    [
      "agent-kind vault: agent-revoke-on-shutdown adds vault-k8s's preStop revoke",
      {
        'agent-kind': 'vault',
        'agent-revoke-on-shutdown': 'true',
        'agent-revoke-grace': '7',
        'ca-cert': '/vault/tls/ca.crt',
      },
      {},
      (a) => container(a, 'vault-agent')?.lifecycle,
      {
        preStop: {
          exec: {
            command: [
              '/bin/sh',
              '-c',
              `/bin/sleep 7 && /bin/vault token revoke -address=${VAULT_ADDR} -ca-cert=/vault/tls/ca.crt -self`,
            ],
          },
        },
      },
    ],
    [
      'agent-kind vault: the preStop hook quotes what is not a plain word',
      {
        'agent-kind': 'vault',
        'agent-revoke-on-shutdown': 'true',
        'client-cert': '/vault/tls/my cert;x',
        'client-key': '/vault/tls/k',
      },
      {},
      (a) => container(a, 'vault-agent')?.lifecycle?.preStop?.exec?.command?.[2],
      `/bin/sleep 5 && /bin/vault token revoke -address=${VAULT_ADDR} '-client-cert=/vault/tls/my cert;x' -client-key=/vault/tls/k -self`,
    ],
    [
      'agent-kind vault: no preStop without agent-revoke-on-shutdown',
      { 'agent-kind': 'vault' },
      {},
      (a) => container(a, 'vault-agent')?.lifecycle,
      undefined,
    ],
    [
      'agent-kind vault: the init agent never gets the preStop hook',
      { 'agent-kind': 'vault', 'agent-revoke-on-shutdown': 'true' },
      {},
      (a) => a.spec?.initContainers?.find((c) => c.name === 'vault-agent-init')?.lifecycle,
      undefined,
    ],
    [
      'auth-type aws copies the EKS web-identity token mount into both agents (as vault-k8s)',
      { 'agent-kind': 'vault', 'auth-type': 'aws', 'auth-config-type': 'iam' },
      {
        containers: [
          appContainer('app', {
            volumeMounts: [
              TOKEN_MOUNT,
              { name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true },
            ],
            env: [
              { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/app' },
              { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
              { name: 'AWS_REGION', value: 'eu-west-1' },
              { name: 'OTHER', value: 'x' },
            ],
          }),
        ],
      },
      (a) =>
        [a.spec?.initContainers?.[0], container(a, 'vault-agent')].map((c) => [
          c?.volumeMounts?.find((m) => m.name === 'aws-iam-token'),
          c?.env?.filter((e) => e.name.startsWith('AWS_') || e.name === 'OTHER'),
        ]),
      Array(2).fill([
        { name: 'aws-iam-token', mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount', readOnly: true },
        [
          { name: 'AWS_REGION', value: 'eu-west-1' },
          { name: 'AWS_ROLE_ARN', value: 'arn:aws:iam::123456789012:role/app' },
          { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token' },
        ],
      ]),
    ],
    [
      'other auth types copy no AWS env',
      {},
      {
        containers: [
          appContainer('app', { volumeMounts: [TOKEN_MOUNT], env: [{ name: 'AWS_REGION', value: 'eu-west-1' }] }),
        ],
      },
      (a) => container(a, 'vault-agent')?.env?.filter((e) => e.name.startsWith('AWS_')),
      [],
    ],
    [
      'existing annotations are kept and the status is added',
      { 'agent-inject-status': 'update' },
      {},
      (a) => a.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'],
      'injected',
    ],
  ])('%s', (...[, annotations, spec, pick, expected]) => {
    expect(pick(mutate(pod(annotations, spec)))).toEqual(expected);
  });
});

describe('native sidecar mode (agent-native-sidecar)', () => {
  const native = { 'agent-native-sidecar': 'true' };

  test('the sidecar becomes an init container with restartPolicy Always and a startup probe on the first render', () => {
    const after = mutate(pod(native));
    expect(names(after.spec?.containers)).toEqual(['app']);
    expect(names(after.spec?.initContainers)).toEqual(['vault-agent']);
    const sidecar = container(after, 'vault-agent');
    expect([sidecar?.restartPolicy, sidecar?.args, sidecar?.startupProbe]).toEqual([
      'Always',
      ['sidecar'],
      {
        exec: { command: ['vaultbridge-agent', 'probe', '--ready-file', '/home/vault/.vaultbridge-ready'] },
        periodSeconds: 1,
        failureThreshold: 300,
      },
    ]);
  });

  test('no vault-agent-init and no home-init: the probe already holds the app back until secrets exist', () => {
    expect(names(mutate(pod(native)).spec?.volumes)).toEqual(['kube-api-access-x1', 'home-sidecar', 'vault-secrets']);
  });

  test.each<[string, Record<string, string>, string[]]>([
    ['after existing init containers by default', {}, ['migrate', 'vault-agent']],
    ['before them with agent-init-first', { 'agent-init-first': 'true' }, ['vault-agent', 'migrate']],
  ])('it runs %s, and they get the secrets mount', (...[, annotations, order]) => {
    const after = mutate(pod({ ...native, ...annotations }, { initContainers: [existingInit] }));
    expect(names(after.spec?.initContainers)).toEqual(order);
    expect(mountsOf(container(after, 'migrate'))).toEqual(['vault-secrets:/vault/secrets']);
  });

  test('the flag default turns it on; pre-populate-only still injects only the init agent (Jobs)', () => {
    expect(names(mutate(pod(), { nativeSidecar: true }).spec?.initContainers)).toEqual(['vault-agent']);
    expect(names(mutate(pod({ ...native, 'agent-pre-populate-only': 'true' })).spec?.initContainers)).toEqual([
      'vault-agent-init',
    ]);
  });

  test('agent-json-patch still applies to the native sidecar', () => {
    const after = mutate(
      pod({ ...native, 'agent-json-patch': '[{"op":"replace","path":"/startupProbe/periodSeconds","value":5}]' }),
    );
    expect(container(after, 'vault-agent')?.startupProbe?.periodSeconds).toBe(5);
  });
});

describe('pods the injector cannot mutate cleanly are refused with a message', () => {
  test.each<[string, Record<string, string>, Partial<V1PodSpec>, string]>([
    [
      'a container named vault-agent already exists (injected before?)',
      { 'agent-inject-status': 'update' },
      { containers: [appContainer('app'), { name: 'vault-agent', image: 'x' }] },
      'the pod already has container "vault-agent", which the injector adds; was it injected before? Remove them, or keep vault.hashicorp.com/agent-inject-status: injected',
    ],
    [
      'a volume named vault-secrets already exists',
      {},
      { volumes: [{ name: 'vault-secrets', emptyDir: {} }] },
      'the pod already has volume "vault-secrets", which the injector adds; was it injected before? Remove them, or keep vault.hashicorp.com/agent-inject-status: injected',
    ],
    [
      'an app container already mounts something at /vault/secrets',
      {},
      {
        containers: [
          appContainer('app', { volumeMounts: [{ ...TOKEN_MOUNT }, { name: 'mine', mountPath: '/vault/secrets' }] }),
        ],
      },
      'the pod already has mount path /vault/secrets in container "app", which the injector adds; was it injected before? Remove them, or keep vault.hashicorp.com/agent-inject-status: injected',
    ],
  ])('%s', (...[, annotations, spec, message]) => {
    expect(() => mutate(pod(annotations, spec))).toThrow(new MutationError('name-conflict', message));
  });

  test('an agent-json-patch whose path does not exist names the annotation, without dumping the container', () => {
    let caught: unknown;
    try {
      mutate(pod({ 'agent-json-patch': '[{"op":"replace","path":"/nothing/here","value":1}]' }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(MutationError);
    const error = caught as MutationError;
    expect([error.code, error.annotation]).toEqual(['json-patch-failed', 'vault.hashicorp.com/agent-json-patch']);
    expect(error.message).toMatch(
      /^vault\.hashicorp\.com\/agent-json-patch: the patch does not apply to the generated "vault-agent" container: /,
    );
    expect(error.message).not.toContain('VAULTBRIDGE_AGENT_CONFIG');
  });
});

describe('env-var secrets (agent-inject-env, ours)', () => {
  const annotations = { 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': 'DB_PASSWORD' };
  const app = appContainer('app', { command: ['/app/server', '--config=$(CONFIG)'], args: ['--port', '8080'] });

  test('each injected app container runs its command through the exec wrapper and the env file', () => {
    const mutated = mutate(
      pod(annotations, { containers: [app, appContainer('logger', { command: ['/bin/logger'] })] }),
    );
    const wrapped = container(mutated, 'app');
    expect(wrapped?.command).toEqual(['/vault/exec/vaultbridge-exec', '/vault/secrets/.vaultbridge-env', '--']);
    expect(wrapped?.args).toEqual(['/app/server', '--config=$(CONFIG)', '--port', '8080']);
    expect(container(mutated, 'logger')?.args).toEqual(['/bin/logger']);
    // The wrapper's volume: read-only for the apps, writable for the agent that copies the wrapper in.
    expect(wrapped?.volumeMounts).toContainEqual({ name: 'vault-exec', mountPath: '/vault/exec', readOnly: true });
    expect(mutated.spec?.volumes).toContainEqual({ name: 'vault-exec', emptyDir: { sizeLimit: '4Mi' } });
    const init = mutated.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
    expect(init?.volumeMounts).toContainEqual({ name: 'vault-exec', mountPath: '/vault/exec' });
    // The agents know the file, the wrapper's place and the variable; the pod spec holds no value.
    const config = agentConfigOf(container(mutated, 'vault-agent'));
    expect([config.envFile, config.execWrapper]).toEqual([
      '/vault/secrets/.vaultbridge-env',
      '/vault/exec/vaultbridge-exec',
    ]);
    expect((config.secrets as { env?: string }[])[0]?.env).toBe('DB_PASSWORD');
    expect([agentConfigOf(init).envFile, agentConfigOf(init).execWrapper]).toEqual([
      '/vault/secrets/.vaultbridge-env',
      '/vault/exec/vaultbridge-exec',
    ]);
  });

  test('a native sidecar places the wrapper itself (no init container)', () => {
    const mutated = mutate(pod({ ...annotations, 'agent-native-sidecar': 'true' }, { containers: [app] }));
    const sidecar = mutated.spec?.initContainers?.find((c) => c.name === 'vault-agent');
    expect(sidecar?.volumeMounts).toContainEqual({ name: 'vault-exec', mountPath: '/vault/exec' });
    expect(agentConfigOf(sidecar).execWrapper).toBe('/vault/exec/vaultbridge-exec');
  });

  test('agent-inject-containers leaves other containers alone; the file follows secret-volume-path', () => {
    const mutated = mutate(
      pod(
        { ...annotations, 'agent-inject-containers': 'app', 'secret-volume-path': '/etc/app' },
        { containers: [app, appContainer('proxy')] },
      ),
    );
    expect(container(mutated, 'app')?.command?.[1]).toBe('/etc/app/.vaultbridge-env');
    expect(container(mutated, 'proxy')?.command).toBeUndefined();
    expect(container(mutated, 'proxy')?.volumeMounts?.some((m) => m.name === 'vault-exec')).toBe(false);
  });

  test('a $ in the env file path stays literal through Kubernetes $(VAR) expansion', () => {
    const mutated = mutate(pod({ ...annotations, 'secret-volume-path': '/etc/$(HOME)' }, { containers: [app] }));
    expect(container(mutated, 'app')?.command?.[1]).toBe('/etc/$$(HOME)/.vaultbridge-env');
  });

  test('an app container that already mounts something at /vault/exec is refused by name', () => {
    const clash = appContainer('app', {
      command: ['/app/server'],
      volumeMounts: [{ ...TOKEN_MOUNT }, { name: 'mine', mountPath: '/vault/exec' }],
    });
    expect(() => mutate(pod(annotations, { containers: [clash] }))).toThrow(
      /the pod already has mount path \/vault\/exec in container "app", which the injector adds/,
    );
  });

  test('without env secrets no command changes', () => {
    expect(
      container(mutate(pod({ 'agent-inject-secret-db': 'secret/data/db' }, { containers: [app] })), 'app')?.command,
    ).toEqual(app.command);
  });
});
