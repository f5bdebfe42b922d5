import { describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import jsonPatch from 'fast-json-patch';
import { appContainer, pod, TOKEN_MOUNT, VAULT_ADDR } from '../../test/support/pods.ts';
import { decide, type AdmissionDecision } from './decide.ts';

const DEFAULTS = { vaultAddress: VAULT_ADDR };

function withPhase(p: V1Pod, phase: string | undefined): V1Pod {
  return phase === undefined ? p : { ...p, status: { phase } };
}

function summary(decision: AdmissionDecision): string {
  switch (decision.kind) {
    case 'skip':
      return `skip:${decision.reason}`;
    case 'deny':
      return `deny:${decision.message}`;
    case 'inject':
      return `inject:${decision.injectionType}`;
  }
}

function appliedPatch(p: V1Pod, decision: AdmissionDecision): V1Pod {
  if (decision.kind !== 'inject') throw new Error(`expected an injection, got ${summary(decision)}`);
  return jsonPatch.applyPatch(structuredClone(p), structuredClone([...decision.patch]), true).newDocument;
}

describe('should the pod be injected (upstream TestShouldInject)', () => {
  const BOOL_ERROR = 'error checking if should inject agent: vault.hashicorp.com/agent-inject';
  test.each<[string, Record<string, string>, string | undefined, string]>([
    ['inject true, no status, no phase is injected', { 'agent-inject': 'true' }, undefined, 'inject:init_and_sidecar'],
    ['inject true, no status, Pending is injected', { 'agent-inject': 'true' }, 'Pending', 'inject:init_and_sidecar'],
    ['inject 1 is injected', { 'agent-inject': '1' }, undefined, 'inject:init_and_sidecar'],
    ['no agent-inject is skipped', {}, undefined, 'skip:not-requested'],
    ['inject false is skipped', { 'agent-inject': 'false' }, 'Pending', 'skip:not-requested'],
    ['inject "" is false and skipped', { 'agent-inject': '' }, undefined, 'skip:not-requested'],
    [
      'already injected is skipped',
      { 'agent-inject': 'true', 'agent-inject-status': 'injected' },
      'Pending',
      'skip:already-injected',
    ],
    [
      'status update re-injects',
      { 'agent-inject': 'true', 'agent-inject-status': 'update' },
      'Pending',
      'inject:init_and_sidecar',
    ],
    ['a Running pod is skipped', { 'agent-inject': 'true' }, 'Running', 'skip:not-pending'],
    ['a Succeeded pod is skipped', { 'agent-inject': 'true' }, 'Succeeded', 'skip:not-pending'],
    ['a Failed pod is skipped', { 'agent-inject': 'true' }, 'Failed', 'skip:not-pending'],
    [
      'inject yes is denied',
      { 'agent-inject': 'yes' },
      undefined,
      `deny:${BOOL_ERROR} "yes": expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False`,
    ],
    [
      'inject tRuE is denied',
      { 'agent-inject': 'tRuE' },
      undefined,
      `deny:${BOOL_ERROR} "tRuE": expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False`,
    ],
  ])('%s', (...[, annotations, phase, expected]) => {
    const p = withPhase(pod({ role: 'app', ...annotations }, {}, {}), phase);
    expect(summary(decide(p, 'app', DEFAULTS))).toBe(expected);
  });
});

describe('namespaces', () => {
  test.each<[string, string, Record<string, string>, string]>([
    [
      'kube-system is denied',
      'kube-system',
      {},
      'deny:error with request namespace: cannot inject into system namespaces: kube-system',
    ],
    [
      'kube-public is denied',
      'kube-public',
      {},
      'deny:error with request namespace: cannot inject into system namespaces: kube-public',
    ],
    [
      'kube-system without agent-inject is allowed untouched',
      'kube-system',
      { 'agent-inject': 'false' },
      'skip:not-requested',
    ],
    ['an ordinary namespace is injected', 'default', {}, 'inject:init_and_sidecar'],
  ])('%s', (...[, namespace, annotations, expected]) => {
    expect(summary(decide(pod(annotations), namespace, DEFAULTS))).toBe(expected);
  });

  test("the request namespace wins over the pod's (pods from controllers have none yet)", () => {
    const p = pod();
    delete p.metadata?.namespace;
    const decision = decide(p, 'team-a', DEFAULTS);
    expect(decision.kind === 'inject' && decision.spec.namespace).toBe('team-a');
  });

  test('no namespace anywhere is denied', () => {
    const p = pod();
    delete p.metadata?.namespace;
    expect(summary(decide(p, undefined, DEFAULTS))).toBe(
      'deny:error with request namespace: namespace missing from request',
    );
  });
});

describe('denials name what to fix', () => {
  test('invalid annotations are denied with every issue', () => {
    const decision = decide(
      pod({
        'agent-inject-default-template': 'yaml',
        'agent-inject-file-db': '../x',
        'agent-inject-secret-db': 'kv/db',
      }),
      'app',
      DEFAULTS,
    );
    expect(decision).toEqual({
      kind: 'deny',
      message:
        'error creating new agent sidecar: invalid annotations: vault.hashicorp.com/agent-inject-default-template "yaml": expected one of map, json; ' +
        'vault.hashicorp.com/agent-inject-file-db "../x": expected a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
      issues: [
        {
          annotation: 'vault.hashicorp.com/agent-inject-default-template',
          value: 'yaml',
          source: 'pod',
          message: 'expected one of map, json',
        },
        {
          annotation: 'vault.hashicorp.com/agent-inject-file-db',
          value: '../x',
          source: 'pod',
          message: 'expected a relative file path without `..` segments, such as `db.txt` or `config/app.env`',
        },
      ],
    });
  });

  test('a pod that cannot be mutated cleanly is denied', () => {
    const p = pod(
      { 'agent-inject-status': 'update' },
      { containers: [appContainer('app'), { name: 'vault-agent-init', image: 'x' }] },
    );
    expect(summary(decide(p, 'app', DEFAULTS))).toMatch(
      /^deny:error creating patch for agent: the pod already has container "vault-agent-init"/,
    );
  });

  test('a json patch that does not apply is denied', () => {
    expect(
      summary(decide(pod({ 'agent-init-json-patch': '[{"op":"remove","path":"/nope"}]' }), 'app', DEFAULTS)),
    ).toMatch(
      /^deny:error creating patch for agent: vault\.hashicorp\.com\/agent-init-json-patch: the patch does not apply/,
    );
  });
});

describe('injection type (metric label)', () => {
  test.each<[Record<string, string>, string]>([
    [{}, 'inject:init_and_sidecar'],
    [{ 'agent-pre-populate': 'false' }, 'inject:sidecar_only'],
    [{ 'agent-pre-populate-only': 'true' }, 'inject:init_only'],
    [{ 'agent-native-sidecar': 'true' }, 'inject:sidecar_only'],
  ])('%j is %s', (annotations, expected) => {
    expect(summary(decide(pod(annotations), 'app', DEFAULTS))).toBe(expected);
  });
});

describe('upstream handler cases (handler_test.go), checked on the patched pod', () => {
  const initContainer = { name: 'istio-init', image: 'istio', volumeMounts: [{ ...TOKEN_MOUNT }] };
  test.each<[string, Record<string, string>, Partial<NonNullable<V1Pod['spec']>>, (p: V1Pod) => unknown, unknown]>([
    [
      'init-first puts vault-agent-init before istio-init',
      { 'agent-init-first': 'true' },
      { initContainers: [initContainer] },
      (p) => p.spec?.initContainers?.map((c) => c.name),
      ['vault-agent-init', 'istio-init'],
    ],
    [
      'configmap adds the vault-config volume',
      { 'agent-configmap': 'foobarConfigMap' },
      {},
      (p) => p.spec?.volumes?.map((v) => v.name),
      ['kube-api-access-x1', 'home-init', 'home-sidecar', 'vault-secrets', 'vault-config'],
    ],
    [
      'tls-secret adds the vault-tls-secrets volume',
      { 'tls-secret': 'foobar' },
      {},
      (p) => p.spec?.volumes?.at(-1),
      { name: 'vault-tls-secrets', secret: { secretName: 'foobar' } },
    ],
    [
      'pre-populate false: sidecar only',
      { 'agent-pre-populate': 'false' },
      {},
      (p) => [p.spec?.initContainers, p.spec?.containers?.map((c) => c.name)],
      [undefined, ['app', 'vault-agent']],
    ],
    [
      'pre-populate-only: init only',
      { 'agent-pre-populate-only': 'true' },
      {},
      (p) => [p.spec?.initContainers?.map((c) => c.name), p.spec?.containers?.map((c) => c.name)],
      [['vault-agent-init'], ['app']],
    ],
    [
      "copy-volume-mounts copies the app's non-token mounts",
      { 'agent-copy-volume-mounts': 'app' },
      {
        containers: [
          appContainer('app', {
            volumeMounts: [{ ...TOKEN_MOUNT }, { name: 'tobecopied', mountPath: '/etc/somewhereelse' }],
          }),
        ],
        volumes: [
          { name: 'kube-api-access-x1', projected: { sources: [] } },
          { name: 'tobecopied', emptyDir: {} },
        ],
      },
      (p) => p.spec?.containers?.find((c) => c.name === 'vault-agent')?.volumeMounts?.at(-1),
      { name: 'tobecopied', mountPath: '/etc/somewhereelse' },
    ],
    [
      'shareProcessNamespace is set',
      { 'agent-share-process-namespace': 'true' },
      {},
      (p) => p.spec?.shareProcessNamespace,
      true,
    ],
  ])('%s', (...[, annotations, spec, pick, expected]) => {
    const p = pod(annotations, spec);
    expect(pick(appliedPatch(p, decide(p, 'app', DEFAULTS)))).toEqual(expected);
  });

  test('an invalid default template is denied', () => {
    expect(summary(decide(pod({ 'agent-inject-default-template': 'foobar' }), 'app', DEFAULTS))).toBe(
      'deny:error creating new agent sidecar: invalid annotations: vault.hashicorp.com/agent-inject-default-template "foobar": expected one of map, json',
    );
  });
});

describe('documented examples (vault docs: injector index, examples)', () => {
  test('the getting-started pod renders /vault/secrets/database-config.txt with the default template', () => {
    const p = pod({ role: 'internal-app', 'agent-inject-secret-database-config.txt': 'internal/data/database/config' });
    const decision = decide(p, 'default', DEFAULTS);
    expect(
      decision.kind === 'inject' && decision.spec.secrets.map((s) => [s.destination, s.vaultPath, s.defaultTemplate]),
    ).toEqual([['/vault/secrets/database-config.txt', 'internal/data/database/config', 'map']]);
  });

  test('a templated connection string keeps the template as written', () => {
    const template =
      '{{- with secret "database/creds/db-app" -}}\npostgres://{{ .Data.username }}:{{ .Data.password }}@postgres:5432/appdb?sslmode=disable\n{{- end }}\n';
    const decision = decide(
      pod({
        role: 'db-app',
        'agent-inject-secret-db-creds': 'database/creds/db-app',
        'agent-inject-template-db-creds': template,
      }),
      'app',
      DEFAULTS,
    );
    expect(decision.kind === 'inject' && decision.spec.secrets[0]?.template).toBe(template);
  });

  test('Vault TLS from a Kubernetes secret: tls-secret with ca-cert, client-cert and client-key under /vault/tls', () => {
    const p = pod({
      'agent-inject-secret-db-creds': 'database/creds/db-app',
      'tls-secret': 'vault-tls-client',
      'ca-cert': '/vault/tls/ca.crt',
      'client-cert': '/vault/tls/client.crt',
      'client-key': '/vault/tls/client.key',
    });
    const after = appliedPatch(p, decide(p, 'app', DEFAULTS));
    const agent = after.spec?.containers?.find((c) => c.name === 'vault-agent');
    expect(agent?.volumeMounts?.at(-1)).toEqual({ name: 'vault-tls-secrets', mountPath: '/vault/tls', readOnly: true });
  });

  test('a ConfigMap-configured agent needs no role', () => {
    const p = pod(
      { 'agent-configmap': 'my-configmap', 'tls-secret': 'vault-tls-client' },
      {},
      { 'agent-inject': 'true' },
    );
    expect(summary(decide(p, 'app', DEFAULTS))).toBe('inject:init_and_sidecar');
  });

  test('a Job with pre-populate-only completes: no sidecar is left running', () => {
    const job = pod(
      { role: 'db-backup', 'agent-pre-populate-only': 'true', 'agent-inject-secret-db': 'database/creds/db-backup' },
      { restartPolicy: 'Never' },
    );
    const after = appliedPatch(job, decide(job, 'app', DEFAULTS));
    expect(after.spec?.containers?.map((c) => c.name)).toEqual(['app']);
  });

  test('automountServiceAccountToken false with a projected token volume (vault-k8s #601)', () => {
    const p = pod(
      { 'agent-service-account-token-volume-name': 'vault-token' },
      {
        automountServiceAccountToken: false,
        containers: [{ name: 'app', image: 'x' }],
        volumes: [
          {
            name: 'vault-token',
            projected: {
              sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 7200, audience: 'vault' } }],
            },
          },
        ],
      },
    );
    expect(summary(decide(p, 'app', DEFAULTS))).toBe('inject:init_and_sidecar');
  });
});

describe('what one review may cost (issue 12: a flood of huge pods starved other tenants)', () => {
  const secrets = (n: number): Record<string, string> =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`agent-inject-secret-s${i}`, `secret/data/s${i}`]));

  test('100 secrets are injected, 101 are denied naming the cap, the flag and the fix', () => {
    expect(decide(pod(secrets(100)), 'app', DEFAULTS).kind).toBe('inject');
    const denied = decide(pod(secrets(101)), 'app', DEFAULTS);
    expect(summary(denied)).toBe(
      "deny:error creating new agent sidecar: the pod defines 101 secrets; at most 100 are injected per pod (--max-secrets, AGENT_INJECT_MAX_SECRETS): split the secrets over several pods, or raise the injector's limit",
    );
  });

  test('the pod of the reported attack (~3,700 secrets, 0.2 MiB) is denied before its annotations are parsed', () => {
    const attack = pod({ ...secrets(3_700), 'agent-inject-perms-s1': 'not-octal' });
    const denied = decide(attack, 'app', DEFAULTS);
    // The bad perms annotation is not reported: parsing never started.
    expect(summary(denied)).toMatch(/^deny:.*defines 3700 secrets; at most 100/);
  });

  test('template secrets count, as do annotation count and bytes', () => {
    const templates = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [`agent-inject-template-t${i}`, '{{ . }}']),
    );
    expect(summary(decide(pod(templates), 'app', DEFAULTS))).toMatch(/defines 101 secrets/);
    const noise = Object.fromEntries(Array.from({ length: 1_201 }, (_, i) => [`agent-telemetry-x${i}`, '1']));
    expect(summary(decide(pod(noise), 'app', DEFAULTS))).toMatch(
      /has 1203 vault\.hashicorp\.com\/\* annotations; at most 1200/,
    );
    expect(summary(decide(pod({ 'agent-inject-template-big': 'x'.repeat(300_000) }), 'app', DEFAULTS))).toMatch(
      /annotations are 30\d{4} bytes; at most 262144/,
    );
  });

  test('the caps are settings', () => {
    expect(decide(pod(secrets(101)), 'app', { ...DEFAULTS, limits: { maxSecrets: 200 } }).kind).toBe('inject');
    expect(summary(decide(pod(secrets(3)), 'app', { ...DEFAULTS, limits: { maxSecrets: 2 } }))).toMatch(
      /defines 3 secrets; at most 2/,
    );
  });
});
