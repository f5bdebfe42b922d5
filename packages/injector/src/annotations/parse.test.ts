import { describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { appContainer, pod, VAULT_ADDR } from '../../test/support/pods.ts';
import type { InjectorDefaults } from './defaults.ts';
import { InvalidAnnotationsError, type AnnotationIssue } from './errors.ts';
import { checkInjectorDefaults, parseAnnotations } from './parse.ts';
import type { AgentSpec } from './spec.ts';

const DEFAULTS: InjectorDefaults = { vaultAddress: VAULT_ADDR };

function specOf(p: V1Pod, defaults: InjectorDefaults = DEFAULTS): AgentSpec {
  return parseAnnotations(p, defaults, { namespace: 'app' });
}

function issuesOf(p: V1Pod, defaults: InjectorDefaults = DEFAULTS): readonly AnnotationIssue[] {
  try {
    parseAnnotations(p, defaults, { namespace: 'app' });
  } catch (error) {
    if (error instanceof InvalidAnnotationsError) return error.issues;
    throw error;
  }
  throw new Error('expected the annotations to be rejected');
}

function at(value: unknown, path: string): unknown {
  return path
    .split('.')
    .reduce<unknown>((current, key) => (current as Record<string, unknown> | undefined)?.[key], value);
}

describe('with no optional annotations the spec has upstream defaults', () => {
  const spec = specOf(pod());
  test.each([
    ['image', 'vaultbridge/agent:0.1.0'],
    ['nativeSidecar', false],
    ['prePopulate', true],
    ['prePopulateOnly', false],
    ['initFirst', false],
    ['injectContainers', ['app']],
    ['shareProcessNamespace', undefined],
    ['secretVolumePath', '/vault/secrets'],
    ['injectToken', false],
    ['revokeOnShutdown', false],
    ['revokeGraceSeconds', 5],
    ['enableQuit', false],
    ['resources.sidecar', { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }],
    ['resources.init', { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } }],
    ['securityContext', { runAsUser: 100, runAsGroup: 1000 }],
    ['log', { level: 'info', format: 'standard' }],
    ['vault', { address: VAULT_ADDR, tlsSkipVerify: false }],
    ['auth', { type: 'kubernetes', mountPath: 'auth/kubernetes', role: 'app', config: {}, exitOnError: false }],
    [
      'serviceAccountToken',
      {
        volumeName: 'kube-api-access-x1',
        mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
        tokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      },
    ],
    ['templateConfig', { exitOnRetryFailure: true }],
    ['cache', { enabled: false, useAutoAuthToken: 'true', listenerPort: 8200, exitOnError: false }],
    ['jsonPatch', []],
    ['telemetry', {}],
    ['secrets', []],
    ['warnings', []],
  ])('%s', (path, expected) => {
    expect(at(spec, path)).toEqual(expected);
  });
});

describe('every pod-wide annotation lands in the spec', () => {
  const twoContainers = { containers: [appContainer('app'), appContainer('sidecar'), appContainer('other')] };
  test.each<[string, Record<string, string>, string, unknown, Partial<V1Pod['spec']>?]>([
    ['agent-image sets the image', { 'agent-image': 'registry.local/agent:2' }, 'image', 'registry.local/agent:2'],
    ['agent-native-sidecar turns native mode on', { 'agent-native-sidecar': 'true' }, 'nativeSidecar', true],
    ['agent-pre-populate false drops the init agent', { 'agent-pre-populate': 'false' }, 'prePopulate', false],
    [
      'agent-pre-populate-only keeps only the init agent',
      { 'agent-pre-populate-only': 'true' },
      'prePopulateOnly',
      true,
    ],
    ['agent-init-first puts the init agent first', { 'agent-init-first': 'True' }, 'initFirst', true],
    [
      'agent-inject-containers is trimmed',
      { 'agent-inject-containers': ' app , sidecar ' },
      'injectContainers',
      ['app', 'sidecar'],
      twoContainers,
    ],
    [
      'agent-inject-containers defaults to every container',
      {},
      'injectContainers',
      ['app', 'sidecar', 'other'],
      twoContainers,
    ],
    ['agent-share-process-namespace true', { 'agent-share-process-namespace': 'true' }, 'shareProcessNamespace', true],
    [
      'agent-share-process-namespace false',
      { 'agent-share-process-namespace': 'false' },
      'shareProcessNamespace',
      false,
    ],
    ['agent-revoke-on-shutdown', { 'agent-revoke-on-shutdown': '1' }, 'revokeOnShutdown', true],
    ['agent-revoke-grace in seconds', { 'agent-revoke-grace': '10' }, 'revokeGraceSeconds', 10],
    ['agent-revoke-grace as a duration', { 'agent-revoke-grace': '10s' }, 'revokeGraceSeconds', 10],
    ['agent-enable-quit', { 'agent-enable-quit': 't' }, 'enableQuit', true],
    ['secret-volume-path', { 'secret-volume-path': '/etc/secrets/' }, 'secretVolumePath', '/etc/secrets'],
    ['agent-inject-token', { 'agent-inject-token': 'true' }, 'injectToken', true],
    ['agent-limits-cpu', { 'agent-limits-cpu': '1' }, 'resources.sidecar.limits.cpu', '1'],
    ['agent-limits-mem', { 'agent-limits-mem': '256Mi' }, 'resources.sidecar.limits.memory', '256Mi'],
    [
      'agent-limits-ephemeral',
      { 'agent-limits-ephemeral': '1Gi' },
      'resources.sidecar.limits.ephemeral-storage',
      '1Gi',
    ],
    ['agent-requests-cpu', { 'agent-requests-cpu': '10m' }, 'resources.sidecar.requests.cpu', '10m'],
    ['agent-requests-mem', { 'agent-requests-mem': '32Mi' }, 'resources.sidecar.requests.memory', '32Mi'],
    [
      'agent-requests-ephemeral',
      { 'agent-requests-ephemeral': '100Mi' },
      'resources.sidecar.requests.ephemeral-storage',
      '100Mi',
    ],
    [
      'agent-limits-cpu "" removes the CPU limit',
      { 'agent-limits-cpu': '' },
      'resources.sidecar.limits',
      { memory: '128Mi' },
    ],
    ['agent-limits-cpu applies to the init agent too', { 'agent-limits-cpu': '2' }, 'resources.init.limits.cpu', '2'],
    [
      'agent-init-limits-cpu applies to the init agent only',
      { 'agent-init-limits-cpu': '100m' },
      'resources',
      {
        init: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '100m', memory: '128Mi' } },
        sidecar: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      },
    ],
    ['agent-init-limits-mem', { 'agent-init-limits-mem': '96Mi' }, 'resources.init.limits.memory', '96Mi'],
    [
      'agent-init-limits-ephemeral',
      { 'agent-init-limits-ephemeral': '1Gi' },
      'resources.init.limits.ephemeral-storage',
      '1Gi',
    ],
    ['agent-init-requests-cpu', { 'agent-init-requests-cpu': '5m' }, 'resources.init.requests.cpu', '5m'],
    ['agent-init-requests-mem', { 'agent-init-requests-mem': '16Mi' }, 'resources.init.requests.memory', '16Mi'],
    [
      'agent-init-requests-ephemeral',
      { 'agent-init-requests-ephemeral': '10Mi' },
      'resources.init.requests.ephemeral-storage',
      '10Mi',
    ],
    ['agent-set-security-context false', { 'agent-set-security-context': 'false' }, 'securityContext', undefined],
    ['agent-run-as-user', { 'agent-run-as-user': '2000' }, 'securityContext', { runAsUser: 2000, runAsGroup: 1000 }],
    ['agent-run-as-group', { 'agent-run-as-group': '3000' }, 'securityContext', { runAsUser: 100, runAsGroup: 3000 }],
    [
      'agent-run-as-user 0 is allowed (runAsNonRoot becomes false)',
      { 'agent-run-as-user': '0' },
      'securityContext.runAsUser',
      0,
    ],
    [
      'agent-run-as-same-user copies containers[0] runAsUser',
      { 'agent-run-as-same-user': 'true' },
      'securityContext.runAsUser',
      1234,
      {
        containers: [appContainer('app', { securityContext: { runAsUser: 1234 } })],
      },
    ],
    ['agent-copy-volume-mounts', { 'agent-copy-volume-mounts': 'app' }, 'copyVolumeMountsFrom', 'app'],
    ['agent-extra-secret', { 'agent-extra-secret': 'extra' }, 'extraSecret', 'extra'],
    ['agent-configmap', { 'agent-configmap': 'agent-config' }, 'configMap', 'agent-config'],
    ['tls-secret', { 'tls-secret': 'vault-tls' }, 'tlsSecret', 'vault-tls'],
    [
      'agent-json-patch',
      { 'agent-json-patch': '[{"op":"replace","path":"/name","value":"x"}]' },
      'jsonPatch',
      [{ op: 'replace', path: '/name', value: 'x' }],
    ],
    ['agent-json-patch "null" is an empty patch', { 'agent-json-patch': 'null' }, 'jsonPatch', []],
    [
      'agent-init-json-patch',
      { 'agent-init-json-patch': '[{"op":"add","path":"/env/-","value":{"name":"A","value":"1"}}]' },
      'initJsonPatch',
      [{ op: 'add', path: '/env/-', value: { name: 'A', value: '1' } }],
    ],
    ['go-max-procs', { 'go-max-procs': '4' }, 'goMaxProcs', 4],
    ['log-level is lower-cased', { 'log-level': 'DEBUG' }, 'log.level', 'debug'],
    ['log-level notice is info (as Vault)', { 'log-level': 'notice' }, 'log.level', 'info'],
    ['log-level warning is warn', { 'log-level': ' Warning ' }, 'log.level', 'warn'],
    ['log-level err is error', { 'log-level': 'ERR' }, 'log.level', 'error'],
    ['log-level empty is info', { 'log-level': '' }, 'log.level', 'info'],
    ['log-format', { 'log-format': 'json' }, 'log.format', 'json'],
    [
      'service overrides the flag address',
      { service: 'http://vault.other:8200' },
      'vault.address',
      'http://vault.other:8200',
    ],
    ['role', { role: 'web' }, 'auth.role', 'web'],
    ['auth-config-role stands in for role', { role: '', 'auth-config-role': 'cfg' }, 'auth.role', 'cfg'],
    [
      'agent-kind vault: aws iam with the server-ID header',
      {
        'agent-kind': 'vault',
        'auth-type': 'aws',
        'auth-config-type': 'iam',
        'auth-config-header-value': 'vault.example.com',
        'auth-config-region': 'eu-west-1',
      },
      'auth.config',
      { type: 'iam', header_value: 'vault.example.com', region: 'eu-west-1' },
    ],
    [
      'agent-kind vault: gcp gce',
      {
        'agent-kind': 'vault',
        'auth-type': 'gcp',
        'auth-config-type': 'gce',
        'auth-config-service-account': 'app@p.iam.gserviceaccount.com',
      },
      'auth.type',
      'gcp',
    ],
    [
      'agent-kind vault: azure',
      {
        'agent-kind': 'vault',
        'auth-type': 'azure',
        'auth-config-resource': 'https://management.azure.com/',
        'auth-config-client-id': 'c',
      },
      'auth.config',
      { resource: 'https://management.azure.com/', client_id: 'c' },
    ],
    [
      'our agent: aws iam',
      {
        'auth-type': 'aws',
        'auth-path': 'auth/aws',
        'auth-config-type': 'iam',
        'auth-config-header-value': 'vault.example.com',
      },
      'auth.config',
      { type: 'iam', header_value: 'vault.example.com' },
    ],
    ['our agent: gcp gce', { 'auth-type': 'gcp', 'auth-config-type': 'gce' }, 'auth.type', 'gcp'],
    [
      'our agent: azure',
      { 'auth-type': 'azure', 'auth-config-resource': 'https://management.azure.com/' },
      'auth.config',
      { resource: 'https://management.azure.com/' },
    ],
    [
      'agent-kind vault: token_file passes through',
      {
        'agent-kind': 'vault',
        'auth-type': 'token_file',
        role: '',
        'auth-config-token-file-path': '/vault/custom/token',
      },
      'auth.config',
      { token_file_path: '/vault/custom/token' },
    ],
    ['auth-type', { 'auth-type': 'Kubernetes' }, 'auth.type', 'kubernetes'],
    ['auth-type jwt', { 'auth-type': 'jwt' }, 'auth.type', 'jwt'],
    [
      'auth-type cert with the vault client certificate',
      {
        'auth-type': 'cert',
        role: '',
        'client-cert': '/vault/tls/tls.crt',
        'client-key': '/vault/tls/tls.key',
        'auth-config-name': 'web',
      },
      'auth.config',
      { name: 'web' },
    ],
    [
      'auth-type jwt reads the JWT from auth-config-path, which leaves the parameters',
      { 'auth-type': 'jwt', 'auth-config-path': '/var/run/jwt/token', 'auth-config-remove-jwt-after-reading': 'false' },
      'serviceAccountToken.tokenPath',
      '/var/run/jwt/token',
    ],
    [
      'auth-type jwt parameters without path',
      { 'auth-type': 'jwt', 'auth-config-path': '/var/run/jwt/token', 'auth-config-remove-jwt-after-reading': 'false' },
      'auth.config',
      { remove_jwt_after_reading: 'false' },
    ],
    [
      'auth-type approle needs no role, takes its files as parameters',
      {
        'auth-type': 'approle',
        role: '',
        'auth-config-role-id-file-path': '/vault/custom/role-id',
        'auth-config-secret-id-file-path': '/vault/custom/secret-id',
      },
      'auth.config',
      { role_id_file_path: '/vault/custom/role-id', secret_id_file_path: '/vault/custom/secret-id' },
    ],
    ['auth-path is stripped of slashes', { 'auth-path': '/auth/k8s-prod/' }, 'auth.mountPath', 'auth/k8s-prod'],
    [
      'auth-config-* become parameters with underscores; token-path is the token file, not a parameter',
      { 'auth-config-some-param': 'x', 'auth-config-token-path': '/var/token' },
      'auth.config',
      { some_param: 'x' },
    ],
    [
      'auth-config-token-path overrides the token path (vault-k8s #456)',
      { 'auth-config-token-path': '/var/token' },
      'serviceAccountToken.tokenPath',
      '/var/token',
    ],
    ['auth-min-backoff', { 'auth-min-backoff': '2s' }, 'auth.minBackoffMs', 2000],
    ['auth-max-backoff', { 'auth-max-backoff': '1m' }, 'auth.maxBackoffMs', 60_000],
    ['agent-auto-auth-exit-on-err', { 'agent-auto-auth-exit-on-err': 'true' }, 'auth.exitOnError', true],
    ['namespace', { namespace: 'team-a' }, 'vault.namespace', 'team-a'],
    ['proxy-address', { 'proxy-address': 'http://proxy:3128' }, 'vault.proxyAddress', 'http://proxy:3128'],
    ['ca-cert', { 'ca-cert': '/vault/tls/ca.crt' }, 'vault.caCert', '/vault/tls/ca.crt'],
    ['ca-key is a CA directory, as upstream maps it', { 'ca-key': '/vault/tls/cas' }, 'vault.caPath', '/vault/tls/cas'],
    ['client-cert', { 'client-cert': '/vault/tls/client.crt' }, 'vault.clientCert', '/vault/tls/client.crt'],
    ['client-key', { 'client-key': '/vault/tls/client.key' }, 'vault.clientKey', '/vault/tls/client.key'],
    ['tls-skip-verify', { 'tls-skip-verify': 'true' }, 'vault.tlsSkipVerify', true],
    ['tls-server-name', { 'tls-server-name': 'vault.internal' }, 'vault.tlsServerName', 'vault.internal'],
    ['client-max-retries', { 'client-max-retries': '3' }, 'vault.maxRetries', 3],
    ['client-timeout', { 'client-timeout': '30s' }, 'vault.timeoutMs', 30_000],
    [
      'template-config-exit-on-retry-failure',
      { 'template-config-exit-on-retry-failure': 'false' },
      'templateConfig.exitOnRetryFailure',
      false,
    ],
    [
      'template-static-secret-render-interval',
      { 'template-static-secret-render-interval': '1m' },
      'templateConfig.staticSecretRenderIntervalMs',
      60_000,
    ],
    [
      'template-max-connections-per-host',
      { 'template-max-connections-per-host': '10' },
      'templateConfig.maxConnectionsPerHost',
      10,
    ],
    [
      'template-max-connections-per-host 0 means unset',
      { 'template-max-connections-per-host': '0' },
      'templateConfig',
      { exitOnRetryFailure: true },
    ],
    [
      'template-lease-renewal-threshold (applied, unlike upstream)',
      { 'template-lease-renewal-threshold': '0.8' },
      'templateConfig.leaseRenewalThreshold',
      0.8,
    ],
    [
      'agent-disable-idle-connections',
      { 'agent-disable-idle-connections': 'auto-auth, templating' },
      'disableIdleConnections',
      ['auto-auth', 'templating'],
    ],
    ['agent-disable-keep-alives', { 'agent-disable-keep-alives': 'caching' }, 'disableKeepAlives', ['caching']],
    ['agent-metrics-listener-port', { 'agent-metrics-listener-port': '9102' }, 'metricsListenerPort', 9102],
    [
      'agent-telemetry-* are JSON-parsed when they can be',
      { 'agent-telemetry-prometheus-retention-time': '24h', 'agent-telemetry-disable-hostname': 'true' },
      'telemetry',
      {
        disable_hostname: true,
        prometheus_retention_time: '24h',
      },
    ],
    ['agent-cache-enable', { 'agent-cache-enable': 'true' }, 'cache.enabled', true],
    [
      'agent-cache-use-auto-auth-token force',
      { 'agent-cache-use-auto-auth-token': 'force' },
      'cache.useAutoAuthToken',
      'force',
    ],
    [
      'agent-cache-use-auto-auth-token false',
      { 'agent-cache-use-auto-auth-token': 'F' },
      'cache.useAutoAuthToken',
      'false',
    ],
    ['agent-cache-listener-port', { 'agent-cache-listener-port': '8100' }, 'cache.listenerPort', 8100],
    ['agent-cache-exit-on-err', { 'agent-cache-exit-on-err': 'true' }, 'cache.exitOnError', true],
    [
      'agent-request-namespace is ignored in favour of the request',
      { 'agent-request-namespace': 'elsewhere' },
      'namespace',
      'app',
    ],
    // A rest parameter: jest passes `done` to callbacks declaring more parameters than the row has.
  ])('%s', (...[, annotations, path, expected, spec]) => {
    expect(at(specOf(pod(annotations, spec)), path)).toEqual(expected);
  });
});

describe('invalid annotations are reported with the name and the accepted values', () => {
  const BOOLEANS = [
    'agent-inject-token',
    'agent-pre-populate',
    'agent-pre-populate-only',
    'agent-init-first',
    'agent-native-sidecar',
    'agent-share-process-namespace',
    'agent-revoke-on-shutdown',
    'agent-enable-quit',
    'agent-set-security-context',
    'agent-run-as-same-user',
    'agent-cache-enable',
    'agent-cache-exit-on-err',
    'tls-skip-verify',
    'template-config-exit-on-retry-failure',
    'agent-auto-auth-exit-on-err',
    'preserve-secret-case',
  ];
  test.each(BOOLEANS)('%s "tRuE" is invalid (upstream TestCouldErrorAnnotations)', (name) => {
    expect(issuesOf(pod({ [name]: 'tRuE' }))).toEqual([
      {
        annotation: `vault.hashicorp.com/${name}`,
        value: 'tRuE',
        source: 'pod',
        message: 'expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
      },
    ]);
  });

  test.each(
    BOOLEANS.filter(
      (name) =>
        name !== 'agent-pre-populate' &&
        name !== 'agent-set-security-context' &&
        name !== 'template-config-exit-on-retry-failure',
    ),
  )('%s "" is valid and false, as parseutil.ParseBool reads it', (name) => {
    expect(() => specOf(pod({ [name]: '' }))).not.toThrow();
  });

  test.each<[string, Record<string, string>, string, string]>([
    [
      'agent-revoke-grace words',
      { 'agent-revoke-grace': 'soon' },
      'agent-revoke-grace',
      'expected whole seconds such as 5, or a duration such as 5s',
    ],
    [
      'agent-limits-cpu junk',
      { 'agent-limits-cpu': 'lots' },
      'agent-limits-cpu',
      'expected a Kubernetes quantity such as 250m, 0.5, 64Mi or 1Gi',
    ],
    [
      'agent-init-requests-mem junk',
      { 'agent-init-requests-mem': '64MB' },
      'agent-init-requests-mem',
      'expected a Kubernetes quantity such as 250m, 0.5, 64Mi or 1Gi',
    ],
    [
      'agent-run-as-user negative',
      { 'agent-run-as-user': '-1' },
      'agent-run-as-user',
      'expected an integer from 0 to 2147483647',
    ],
    [
      'agent-run-as-group text',
      { 'agent-run-as-group': 'wheel' },
      'agent-run-as-group',
      'expected an integer from 0 to 2147483647',
    ],
    [
      'agent-inject-default-template yaml',
      { 'agent-inject-default-template': 'yaml' },
      'agent-inject-default-template',
      'expected one of map, json',
    ],
    [
      'log-level loud',
      { 'log-level': 'loud' },
      'log-level',
      'expected a log level: trace, debug, info (or notice), warn (or warning), error (or err)',
    ],
    ['log-format xml', { 'log-format': 'xml' }, 'log-format', 'expected one of standard, json'],
    [
      'service not a URL',
      { service: 'vault:8200' },
      'service',
      'expected an http or https URL such as https://vault.vault.svc:8200',
    ],
    [
      'auth-type oci',
      { 'auth-type': 'oci' },
      'auth-type',
      'expected one of kubernetes, jwt, approle, cert, aws, gcp, azure (the auto-auth methods the vaultbridge agent implements); with agent-kind vault also alicloud, cf, kerberos, oci, token_file',
    ],
    [
      'our agent: aws without auth-config-type',
      { 'auth-type': 'aws' },
      'auth-config-type',
      'required with auth-type aws: iam or ec2',
    ],
    [
      'auth-type of no Vault Agent with agent-kind vault',
      { 'agent-kind': 'vault', 'auth-type': 'github' },
      'auth-type',
      'expected one of alicloud, approle, aws, azure, cert, cf, gcp, jwt, kerberos, kubernetes, oci, token_file (the auto-auth methods Vault Agent 1.13 has)',
    ],
    [
      'aws without auth-config-type',
      { 'agent-kind': 'vault', 'auth-type': 'aws' },
      'auth-config-type',
      'required with auth-type aws: iam or ec2',
    ],
    [
      'gcp with type iam-ish',
      { 'agent-kind': 'vault', 'auth-type': 'gcp', 'auth-config-type': 'IAM' },
      'auth-config-type',
      'required with auth-type gcp: iam or gce',
    ],
    [
      'aws with half a key pair',
      { 'agent-kind': 'vault', 'auth-type': 'aws', 'auth-config-type': 'iam', 'auth-config-access-key': 'AKIA' },
      'auth-config-access-key',
      "give both vault.hashicorp.com/auth-config-access-key and vault.hashicorp.com/auth-config-secret-key, or neither (then the pod's AWS credentials are used: IRSA, Pod Identity, the instance role)",
    ],
    [
      'aws credential_poll_interval',
      {
        'agent-kind': 'vault',
        'auth-type': 'aws',
        'auth-config-type': 'iam',
        'auth-config-credential-poll-interval': '1m',
      },
      'auth-config-credential-poll-interval',
      'expected whole seconds such as 60',
    ],
    [
      'gcp jwt_exp',
      { 'agent-kind': 'vault', 'auth-type': 'gcp', 'auth-config-type': 'iam', 'auth-config-jwt-exp': '15m' },
      'auth-config-jwt-exp',
      'expected whole minutes such as 15',
    ],
    [
      'gcp relative credentials file',
      { 'agent-kind': 'vault', 'auth-type': 'gcp', 'auth-config-type': 'iam', 'auth-config-credentials': 'key.json' },
      'auth-config-credentials',
      "expected the key file's absolute path such as /vault/custom/key.json, or its JSON",
    ],
    [
      'azure without resource',
      { 'agent-kind': 'vault', 'auth-type': 'azure' },
      'auth-config-resource',
      "required with auth-type azure: the resource the managed-identity token is for, the same as the Vault mount's resource (such as https://management.azure.com/)",
    ],
    [
      'azure with two identities',
      {
        'agent-kind': 'vault',
        'auth-type': 'azure',
        'auth-config-resource': 'https://management.azure.com/',
        'auth-config-object-id': 'a',
        'auth-config-client-id': 'b',
      },
      'auth-config-object-id',
      'give vault.hashicorp.com/auth-config-object-id or vault.hashicorp.com/auth-config-client-id (the user-assigned managed identity), not both',
    ],
    [
      'aws without a role',
      { 'agent-kind': 'vault', 'auth-type': 'aws', 'auth-config-type': 'ec2', role: '' },
      'role',
      'required with auth-type aws: the Vault role to log in with (or vault.hashicorp.com/auth-config-role)',
    ],
    [
      'auth-type cert without a client certificate',
      { 'auth-type': 'cert' },
      'client-cert',
      'required with auth-type cert: the TLS client certificate and key (client-cert and client-key, e.g. from a tls-secret mounted at /vault/tls) are the credential',
    ],
    [
      'auth-type cert with half a certificate of its own',
      { 'auth-type': 'cert', 'auth-config-client-cert': '/vault/tls/c.crt' },
      'auth-config-client-cert',
      'give both vault.hashicorp.com/auth-config-client-cert and vault.hashicorp.com/auth-config-client-key, or neither (then client-cert and client-key are used)',
    ],
    [
      'auth-type approle without the role_id file',
      { 'auth-type': 'approle' },
      'auth-config-role-id-file-path',
      'required with auth-type approle: the file holding the role_id, such as /vault/custom/role-id (mount it with agent-extra-secret)',
    ],
    [
      'auth-type approle with a relative secret_id file',
      {
        'auth-type': 'approle',
        'auth-config-role-id-file-path': '/vault/custom/role-id',
        'auth-config-secret-id-file-path': 'secret-id',
      },
      'auth-config-secret-id-file-path',
      'expected an absolute file path such as /vault/custom/secret-id',
    ],
    ['auth-path empty', { 'auth-path': '' }, 'auth-path', 'expected a non-empty value'],
    [
      'agent-inject-env with a dash',
      { 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': 'DB-PASSWORD' },
      'agent-inject-env-db',
      'expected an environment variable name such as DB_PASSWORD (letters, digits, _; not starting with a digit)',
    ],
    [
      'agent-inject-env with agent-kind vault',
      { 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': 'DB', 'agent-kind': 'vault' },
      'agent-inject-env-db',
      'env-var secrets are written by vaultbridge-agent from the generated config: not with vault.hashicorp.com/agent-kind: vault',
    ],
    [
      'auth-min-backoff',
      { 'auth-min-backoff': '5' },
      'auth-min-backoff',
      'expected a duration such as 500ms, 30s, 5m or 1h30m',
    ],
    [
      'auth-max-backoff',
      { 'auth-max-backoff': 'forever' },
      'auth-max-backoff',
      'expected a duration such as 500ms, 30s, 5m or 1h30m',
    ],
    ['agent-image empty', { 'agent-image': ' ' }, 'agent-image', 'expected a non-empty value'],
    [
      'secret-volume-path relative',
      { 'secret-volume-path': 'secrets' },
      'secret-volume-path',
      'expected an absolute directory path without `..` segments, such as /vault/secrets',
    ],
    [
      'agent-cache-listener-port',
      { 'agent-cache-listener-port': '99999' },
      'agent-cache-listener-port',
      'expected an integer from 1 to 65535',
    ],
    [
      'agent-cache-use-auto-auth-token',
      { 'agent-cache-use-auto-auth-token': 'maybe' },
      'agent-cache-use-auto-auth-token',
      'expected force, or a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False',
    ],
    [
      'agent-metrics-listener-port',
      { 'agent-metrics-listener-port': 'http' },
      'agent-metrics-listener-port',
      'expected an integer from 1 to 65535',
    ],
    [
      'template-max-connections-per-host',
      { 'template-max-connections-per-host': '-3' },
      'template-max-connections-per-host',
      'expected an integer >= 0',
    ],
    [
      'template-lease-renewal-threshold',
      { 'template-lease-renewal-threshold': '90%' },
      'template-lease-renewal-threshold',
      'expected a number from 0 to 1, such as 0.9',
    ],
    [
      'template-static-secret-render-interval',
      { 'template-static-secret-render-interval': '5 minutes' },
      'template-static-secret-render-interval',
      'expected a duration such as 500ms, 30s, 5m or 1h30m',
    ],
    [
      'agent-disable-keep-alives',
      { 'agent-disable-keep-alives': 'auto-auth,everything' },
      'agent-disable-keep-alives',
      'expected a comma list of auto-auth, caching, templating',
    ],
    ['client-max-retries', { 'client-max-retries': 'many' }, 'client-max-retries', 'expected an integer from 0 to 100'],
    [
      'client-timeout',
      { 'client-timeout': 'long' },
      'client-timeout',
      'expected seconds such as 60, or a duration such as 60s',
    ],
    ['go-max-procs', { 'go-max-procs': '0' }, 'go-max-procs', 'expected an integer >= 1'],
    [
      'agent-json-patch not JSON',
      { 'agent-json-patch': '{op: add}' },
      'agent-json-patch',
      'expected a JSON array of RFC 6902 operations such as [{"op":"replace","path":"/name","value":"x"}] (not valid JSON)',
    ],
    [
      'agent-init-json-patch bad op',
      { 'agent-init-json-patch': '[{"op":"merge","path":"/x"}]' },
      'agent-init-json-patch',
      'expected a JSON array of RFC 6902 operations such as [{"op":"replace","path":"/name","value":"x"}] (operation 0 has no valid "op")',
    ],
  ])('%s', (_name, annotations, annotation, message) => {
    const issues = issuesOf(pod(annotations));
    expect(issues.map((i) => [i.annotation, i.message])).toEqual([[`vault.hashicorp.com/${annotation}`, message]]);
  });

  test('every invalid annotation is listed, not only the first', () => {
    const error = (() => {
      try {
        specOf(pod({ 'agent-pre-populate': 'yes', 'agent-limits-cpu': 'lots', 'log-format': 'xml' }));
      } catch (e) {
        return e as InvalidAnnotationsError;
      }
      throw new Error('expected a rejection');
    })();
    expect(error.code).toBe('invalid-annotations');
    expect(error.message).toBe(
      'invalid annotations: vault.hashicorp.com/agent-pre-populate "yes": expected a boolean: one of 1, t, T, TRUE, true, True, 0, f, F, FALSE, false, False; ' +
        'vault.hashicorp.com/agent-limits-cpu "lots": expected a Kubernetes quantity such as 250m, 0.5, 64Mi or 1Gi; ' +
        'vault.hashicorp.com/log-format "xml": expected one of standard, json',
    );
  });
});

describe('annotations that depend on the pod', () => {
  test('a role is required for Kubernetes auth', () => {
    expect(issuesOf(pod({}, {}, { 'agent-inject': 'true' }))).toEqual([
      {
        annotation: 'vault.hashicorp.com/role',
        source: 'pod',
        message: 'required: the Vault role to log in with (or vault.hashicorp.com/auth-config-role)',
      },
    ]);
  });

  test('no role is needed when the agents read their config from agent-configmap', () => {
    expect(specOf(pod({ 'agent-configmap': 'cfg' }, {}, { 'agent-inject': 'true' })).auth.role).toBeUndefined();
  });

  test('a Vault address is required from the pod or the flag', () => {
    expect(issuesOf(pod(), {})).toEqual([
      {
        annotation: 'vault.hashicorp.com/service',
        source: 'flag',
        message:
          "no Vault address: set this annotation on the pod or the injector's --vault-addr (AGENT_INJECT_VAULT_ADDR)",
      },
    ]);
  });

  test('agent-inject-containers naming an unknown container is an error, not a silent no-op', () => {
    expect(issuesOf(pod({ 'agent-inject-containers': 'app,ap' })).map((i) => i.message)).toEqual([
      'names no container of the pod (ap); containers: app',
    ]);
  });

  test('agent-copy-volume-mounts naming an unknown container is an error', () => {
    expect(issuesOf(pod({ 'agent-copy-volume-mounts': 'missing' })).map((i) => i.message)).toEqual([
      'names no container or init container of the pod; containers: app',
    ]);
  });

  test('share-process-namespace true is refused when the pod explicitly disables it', () => {
    expect(
      issuesOf(pod({ 'agent-share-process-namespace': 'true' }, { shareProcessNamespace: false })).map(
        (i) => i.message,
      ),
    ).toEqual(['the pod sets spec.shareProcessNamespace: false; refusing to enable it']);
  });

  test.each<[string, Partial<V1Pod['spec']>, string]>([
    [
      'without containers[0].securityContext.runAsUser',
      { containers: [appContainer('app')] },
      'container "app" sets no securityContext.runAsUser to copy',
    ],
    [
      'when containers[0] runs as root',
      { containers: [appContainer('app', { securityContext: { runAsUser: 0 } })] },
      'container "app" runs as root (runAsUser 0); the agent may not',
    ],
  ])('agent-run-as-same-user is refused %s', (_name, spec, message) => {
    expect(issuesOf(pod({ 'agent-run-as-same-user': 'true' }, spec)).map((i) => i.message)).toEqual([message]);
  });

  test('a pod with no service-account token mount is refused with the way out', () => {
    const issues = issuesOf(
      pod({}, { automountServiceAccountToken: false, containers: [{ name: 'app', image: 'busybox' }], volumes: [] }),
    );
    expect(issues.map((i) => [i.annotation, i.message])).toEqual([
      [
        'vault.hashicorp.com/agent-service-account-token-volume-name',
        'no app container mounts a service-account token (automountServiceAccountToken is off?); name a projected volume with a serviceAccountToken source in this annotation',
      ],
    ]);
  });

  const projected = {
    name: 'vault-token',
    projected: { sources: [{ serviceAccountToken: { path: 'vault-jwt', audience: 'vault' } }] },
  };
  test.each<[string, Partial<V1Pod['spec']>, unknown]>([
    [
      'mounted by an app container: its mount path',
      {
        containers: [appContainer('app', { volumeMounts: [{ name: 'vault-token', mountPath: '/var/run/vault' }] })],
        volumes: [projected],
      },
      {
        volumeName: 'vault-token',
        mountPath: '/var/run/vault',
        tokenPath: '/var/run/vault/vault-jwt',
      },
    ],
    [
      'mounted by no container: the default vault.hashicorp.com path',
      { containers: [{ name: 'app', image: 'busybox' }], volumes: [projected] },
      {
        volumeName: 'vault-token',
        mountPath: '/var/run/secrets/vault.hashicorp.com/serviceaccount',
        tokenPath: '/var/run/secrets/vault.hashicorp.com/serviceaccount/vault-jwt',
      },
    ],
  ])('agent-service-account-token-volume-name with a projected volume %s (vault-k8s #601)', (_name, spec, expected) => {
    expect(specOf(pod({ 'agent-service-account-token-volume-name': 'vault-token' }, spec)).serviceAccountToken).toEqual(
      expected,
    );
  });

  test.each<[string, Partial<V1Pod['spec']>, string]>([
    ['is missing', {}, 'the pod has no volume named "vault-token"'],
    [
      'is not projected',
      { volumes: [{ name: 'vault-token', emptyDir: {} }] },
      'volume "vault-token" is not a projected volume with a serviceAccountToken source',
    ],
  ])('agent-service-account-token-volume-name is refused when the volume %s', (_name, spec, message) => {
    expect(
      issuesOf(pod({ 'agent-service-account-token-volume-name': 'vault-token' }, spec)).map((i) => i.message),
    ).toEqual([message]);
  });
});

describe('the image of an agent-kind vault pod', () => {
  const vaultPod = (extra: Record<string, string> = {}): V1Pod =>
    pod({ role: 'web', 'agent-kind': 'vault', 'agent-inject-secret-a': 'kv/data/a', ...extra });
  const imageOf = (p: V1Pod, defaults: InjectorDefaults = {}): string =>
    parseAnnotations(p, { ...DEFAULTS, ...defaults }).image;

  test.each<[string, Record<string, string>, InjectorDefaults, string]>([
    ['no setting: upstream image', {}, {}, 'hashicorp/vault:1.13.3'],
    [
      '--vault-image is our default: upstream image',
      {},
      { agentImage: 'vaultbridge/agent:0.1.0' },
      'hashicorp/vault:1.13.3',
    ],
    [
      "--vault-image is HashiCorp's (vault-helm sets it): that one",
      {},
      { agentImage: 'hashicorp/vault:1.15.0' },
      'hashicorp/vault:1.15.0',
    ],
    [
      '--vault-agent-image beats --vault-image (ours from a private registry)',
      {},
      { agentImage: 'registry.example/vaultbridge/agent:0.1.0', vaultAgentImage: 'registry.example/vault:1.13.3' },
      'registry.example/vault:1.13.3',
    ],
    [
      "the pod's agent-image beats --vault-agent-image",
      { 'agent-image': 'openbao/openbao:2.1.0' },
      { vaultAgentImage: 'registry.example/vault:1.13.3' },
      'openbao/openbao:2.1.0',
    ],
    [
      'a cluster annotation default beats --vault-agent-image',
      {},
      { vaultAgentImage: 'registry.example/vault:1.13.3', annotations: { 'agent-image': 'cluster/vault:1' } },
      'cluster/vault:1',
    ],
  ])('%s', (_name, annotations, defaults, image) => {
    expect(imageOf(vaultPod(annotations), defaults)).toBe(image);
  });

  test('--vault-agent-image leaves pods of our agent alone', () => {
    const ours = pod({ role: 'web', 'agent-inject-secret-a': 'kv/data/a' });
    expect(imageOf(ours, { vaultAgentImage: 'registry.example/vault:1.13.3' })).toBe('vaultbridge/agent:0.1.0');
  });
});

describe('defaults apply under the annotations: pod > cluster annotation defaults > flags > built-in', () => {
  test.each<[string, Record<string, string>, InjectorDefaults, string, unknown]>([
    ['a flag replaces the built-in', {}, { agentImage: 'flag/agent:1' }, 'image', 'flag/agent:1'],
    [
      'a cluster annotation default beats the flag',
      {},
      { agentImage: 'flag/agent:1', annotations: { 'agent-image': 'cluster/agent:1' } },
      'image',
      'cluster/agent:1',
    ],
    [
      'the pod beats both',
      { 'agent-image': 'pod/agent:1' },
      { agentImage: 'flag/agent:1', annotations: { 'vault.hashicorp.com/agent-image': 'cluster/agent:1' } },
      'image',
      'pod/agent:1',
    ],
    ['flag vaultAddress is the service', {}, { vaultAddress: 'http://flag:8200' }, 'vault.address', 'http://flag:8200'],
    ['flag auth path', {}, { authPath: 'auth/k8s' }, 'auth.mountPath', 'auth/k8s'],
    ['flag vault namespace', {}, { vaultNamespace: 'ns1' }, 'vault.namespace', 'ns1'],
    ['flag proxy address', {}, { proxyAddress: 'http://proxy:3128' }, 'vault.proxyAddress', 'http://proxy:3128'],
    ['flag revoke-on-shutdown', {}, { revokeOnShutdown: true }, 'revokeOnShutdown', true],
    ['flag run-as ids', {}, { runAsUser: 7, runAsGroup: 8 }, 'securityContext', { runAsUser: 7, runAsGroup: 8 }],
    ['flag set-security-context false', {}, { setSecurityContext: false }, 'securityContext', undefined],
    [
      'flag default template',
      { 'agent-inject-secret-a': 'kv/a' },
      { defaultTemplate: 'json' },
      'secrets.0.defaultTemplate',
      'json',
    ],
    ['flag resources for both agents', {}, { resources: { requestsCpu: '25m' } }, 'resources.init.requests.cpu', '25m'],
    [
      'flag init resources for the init agent only',
      {},
      { initResources: { limitsMem: '96Mi' } },
      'resources',
      {
        init: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '96Mi' } },
        sidecar: { requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi' } },
      },
    ],
    [
      "a pod's generic resource beats a flag's init-specific one",
      { 'agent-limits-mem': '1Gi' },
      { initResources: { limitsMem: '96Mi' } },
      'resources.init.limits.memory',
      '1Gi',
    ],
    ['flag exit-on-retry-failure', {}, { exitOnRetryFailure: false }, 'templateConfig.exitOnRetryFailure', false],
    [
      'flag static secret render interval',
      {},
      { staticSecretRenderInterval: '30s' },
      'templateConfig.staticSecretRenderIntervalMs',
      30_000,
    ],
    ['flag max connections', {}, { maxConnectionsPerHost: 5 }, 'templateConfig.maxConnectionsPerHost', 5],
    [
      'flag lease renewal threshold (upstream parses but drops it)',
      {},
      { leaseRenewalThreshold: 0.75 },
      'templateConfig.leaseRenewalThreshold',
      0.75,
    ],
    [
      'flag auth backoffs',
      {},
      { authMinBackoff: '1s', authMaxBackoff: '30s' },
      'auth',
      {
        type: 'kubernetes',
        mountPath: 'auth/kubernetes',
        role: 'app',
        config: {},
        minBackoffMs: 1000,
        maxBackoffMs: 30_000,
        exitOnError: false,
      },
    ],
    [
      'flag disable idle connections',
      {},
      { disableIdleConnections: 'templating' },
      'disableIdleConnections',
      ['templating'],
    ],
    ['flag disable keep-alives', {}, { disableKeepAlives: 'caching' }, 'disableKeepAlives', ['caching']],
    ['flag native sidecar', {}, { nativeSidecar: true }, 'nativeSidecar', true],
    [
      'a pod can opt out of the native sidecar flag',
      { 'agent-native-sidecar': 'false' },
      { nativeSidecar: true },
      'nativeSidecar',
      false,
    ],
    [
      'flag CA bytes (PEM)',
      {},
      { vaultCACertBytes: '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n' },
      'vault.caCertPem',
      '-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n',
    ],
    [
      'flag CA bytes (base64 PEM)',
      {},
      { vaultCACertBytes: Buffer.from('-----BEGIN CERTIFICATE-----\nX\n').toString('base64') },
      'vault.caCertPem',
      '-----BEGIN CERTIFICATE-----\nX\n',
    ],
    [
      'cluster defaults may not add per-secret annotations',
      {},
      { annotations: { 'agent-inject-secret-everyone': 'kv/x' } },
      'secrets',
      [],
    ],
    [
      'run-as annotations turn the security context on when the flag is off (upstream Init)',
      { 'agent-run-as-user': '5' },
      { setSecurityContext: false },
      'securityContext',
      { runAsUser: 5, runAsGroup: 1000 },
    ],
    [
      'an explicit set-security-context false wins over run-as annotations',
      { 'agent-run-as-user': '5', 'agent-set-security-context': 'false' },
      { setSecurityContext: false },
      'securityContext',
      undefined,
    ],
  ])('%s', (_name, annotations, defaults, path, expected) => {
    expect(at(specOf(pod(annotations), { vaultAddress: VAULT_ADDR, ...defaults }), path)).toEqual(expected);
  });

  test('a bad default is reported as coming from where it was set', () => {
    expect(issuesOf(pod(), { ...DEFAULTS, runAsUser: -5, annotations: { 'log-level': 'chatty' } })).toEqual([
      {
        annotation: 'vault.hashicorp.com/agent-run-as-user',
        value: '-5',
        source: 'flag',
        message: 'expected an integer from 0 to 2147483647',
      },
      {
        annotation: 'vault.hashicorp.com/log-level',
        value: 'chatty',
        source: 'cluster default',
        message: 'expected a log level: trace, debug, info (or notice), warn (or warning), error (or err)',
      },
    ]);
  });

  // One defaults object serves many reviews; its layers and what their values read as are kept (reader.ts).
  test('defaults read for one review read the same for the next, and a pod value still wins', () => {
    const defaults: InjectorDefaults = { ...DEFAULTS, runAsUser: 1234, annotations: { 'log-level': 'debug' } };
    for (let review = 0; review < 3; review++) {
      expect(specOf(pod(), defaults).securityContext).toEqual({ runAsUser: 1234, runAsGroup: 1000 });
      expect(specOf(pod(), defaults).log.level).toBe('debug');
      expect(specOf(pod({ 'log-level': 'warn', 'agent-run-as-user': '7' }), defaults)).toMatchObject({
        log: { level: 'warn' },
        securityContext: { runAsUser: 7 },
      });
    }
  });

  test('a bad default is reported on every review, not only the first', () => {
    const defaults: InjectorDefaults = { ...DEFAULTS, runAsUser: -5 };
    for (let review = 0; review < 3; review++)
      expect(issuesOf(pod(), defaults).map((issue) => issue.annotation)).toEqual([
        'vault.hashicorp.com/agent-run-as-user',
      ]);
  });

  test('new defaults (the ConfigMap changed) are read afresh', () => {
    expect(specOf(pod(), { ...DEFAULTS, annotations: { 'log-level': 'debug' } }).log.level).toBe('debug');
    expect(specOf(pod(), { ...DEFAULTS, annotations: { 'log-level': 'error' } }).log.level).toBe('error');
  });

  test('a list read from a default is not shared between two reviews', () => {
    const defaults: InjectorDefaults = { ...DEFAULTS, disableKeepAlives: 'caching,templating' };
    const first = specOf(pod(), defaults).disableKeepAlives;
    const second = specOf(pod(), defaults).disableKeepAlives;
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
  });

  test('checkInjectorDefaults reports bad flags, bad keys and a missing address, nothing pod-specific', () => {
    expect(
      checkInjectorDefaults({
        defaultTemplate: 'yaml',
        annotations: { 'agent-inject': 'true', 'agent-inject-secret-x': 'kv/x', 'agent-limts-cpu': '1' },
      }),
    ).toEqual([
      {
        annotation: 'vault.hashicorp.com/agent-inject',
        source: 'cluster default',
        message: 'controls injection per pod and cannot have a cluster default',
      },
      {
        annotation: 'vault.hashicorp.com/agent-inject-secret-x',
        source: 'cluster default',
        message: 'not a pod-wide vault.hashicorp.com annotation, so it cannot have a cluster default',
      },
      {
        annotation: 'vault.hashicorp.com/agent-limts-cpu',
        source: 'cluster default',
        message: 'not a pod-wide vault.hashicorp.com annotation, so it cannot have a cluster default',
      },
      {
        annotation: 'vault.hashicorp.com/agent-inject-default-template',
        value: 'yaml',
        source: 'flag',
        message: 'expected one of map, json',
      },
      {
        annotation: 'vault.hashicorp.com/service',
        source: 'flag',
        message:
          "no Vault address: set this annotation on the pod or the injector's --vault-addr (AGENT_INJECT_VAULT_ADDR)",
      },
    ]);
  });

  test('checkInjectorDefaults accepts good defaults', () => {
    expect(
      checkInjectorDefaults({
        vaultAddress: VAULT_ADDR,
        nativeSidecar: true,
        annotations: { 'agent-limits-cpu': '1' },
      }),
    ).toEqual([]);
  });
});

test('annotation values that are not strings are ignored, not trusted', () => {
  const p = pod({});
  (p.metadata!.annotations as Record<string, unknown>)['vault.hashicorp.com/agent-inject-secret-n'] = 42;
  expect(specOf(p).secrets).toEqual([]);
});

describe('warnings', () => {
  test('a misspelt annotation and a per-secret annotation for no secret are warned about', () => {
    expect(
      specOf(
        pod({
          'agent-inject-secrets-db': 'kv/db',
          'agent-inject-file-cache': 'c.txt',
          'agent-inject-secret-db': 'kv/db',
        }),
      ).warnings,
    ).toEqual([
      'vault.hashicorp.com/agent-inject-file-cache refers to secret "cache", which no vault.hashicorp.com/agent-inject-secret-cache or vault.hashicorp.com/agent-inject-template-cache defines; it is ignored',
      'vault.hashicorp.com/agent-inject-secrets-db is not an annotation the Vault injector knows; it is ignored',
    ]);
  });

  test('annotations of other prefixes are not our business', () => {
    expect(specOf(pod({ 'prometheus.io/scrape': 'true' })).warnings).toEqual([]);
  });
});

describe('agent-inject-env (ours)', () => {
  const withCommand = (annotations: Record<string, string>) =>
    pod(annotations, { containers: [appContainer('app', { command: ['/app/server'], args: ['--port', '8080'] })] });

  test('the variable name is on the secret', () => {
    const spec = specOf(
      withCommand({ 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': ' DB_PASSWORD ' }),
    );
    expect(spec.secrets.map((s) => [s.name, s.env])).toEqual([['db', 'DB_PASSWORD']]);
  });

  test.each<[string, Record<string, string>, string, string]>([
    [
      'twice the same variable',
      {
        'agent-inject-secret-a': 'secret/data/a',
        'agent-inject-env-a': 'X',
        'agent-inject-secret-b': 'secret/data/b',
        'agent-inject-env-b': 'X',
      },
      'agent-inject-env-b',
      'names the variable X, as secret "a" does; each variable comes from one secret',
    ],
    [
      'without pre-populating',
      { 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': 'DB', 'agent-pre-populate': 'false' },
      'agent-inject-env-db',
      'the app starts with the variables, so they must be rendered before it: keep vault.hashicorp.com/agent-pre-populate true, or set vault.hashicorp.com/agent-native-sidecar',
    ],
  ])('%s is denied', (_name, annotations, annotation, message) => {
    expect(issuesOf(withCommand(annotations)).map((i) => [i.annotation, i.message])).toEqual([
      [`vault.hashicorp.com/${annotation}`, message],
    ]);
  });

  test('a container without a command is denied: its entrypoint is in the image, not the pod', () => {
    expect(
      issuesOf(pod({ 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-env-db': 'DB' })).map((i) => [
        i.annotation,
        i.message,
      ]),
    ).toEqual([
      [
        'vault.hashicorp.com/agent-inject-env-db',
        'container "app" has no command: the app\'s command is run through the env file, and the image\'s entrypoint is not visible to the webhook; give the container its command (and args), or leave it out with vault.hashicorp.com/agent-inject-containers',
      ],
    ]);
  });

  test('native sidecar without pre-populating is fine (it renders before the app starts)', () => {
    expect(() =>
      specOf(
        withCommand({
          'agent-inject-secret-db': 'secret/data/db',
          'agent-inject-env-db': 'DB',
          'agent-native-sidecar': 'true',
          'agent-pre-populate': 'false',
        }),
      ),
    ).not.toThrow();
  });
});
