import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { annotationTableMarkdown } from './readme-table.ts';
import { A, ANNOTATION_TABLE, isKnownAnnotation, podWideEntry } from './table.ts';

// Names and built-in defaults of vault-k8s 1.7.6 (agent-inject/agent/annotations.go, agent.go,
// container_sidecar.go); shared/reference/injector.md §1. Flag-backed defaults are the flags' defaults.
const UPSTREAM: ReadonlyArray<readonly [keyof typeof ANNOTATION_TABLE, string, string | undefined]> = [
  ['agentInject', 'vault.hashicorp.com/agent-inject', undefined],
  ['agentInjectStatus', 'vault.hashicorp.com/agent-inject-status', undefined],
  ['agentPrePopulate', 'vault.hashicorp.com/agent-pre-populate', 'true'],
  ['agentPrePopulateOnly', 'vault.hashicorp.com/agent-pre-populate-only', 'false'],
  ['agentInitFirst', 'vault.hashicorp.com/agent-init-first', 'false'],
  ['agentInjectContainers', 'vault.hashicorp.com/agent-inject-containers', undefined],
  ['agentShareProcessNamespace', 'vault.hashicorp.com/agent-share-process-namespace', undefined],
  ['agentRevokeOnShutdown', 'vault.hashicorp.com/agent-revoke-on-shutdown', 'false'],
  ['agentRevokeGrace', 'vault.hashicorp.com/agent-revoke-grace', '5'],
  ['agentEnableQuit', 'vault.hashicorp.com/agent-enable-quit', 'false'],
  ['secretVolumePath', 'vault.hashicorp.com/secret-volume-path', '/vault/secrets'],
  ['preserveSecretCase', 'vault.hashicorp.com/preserve-secret-case', 'false'],
  ['agentInjectDefaultTemplate', 'vault.hashicorp.com/agent-inject-default-template', 'map'],
  ['agentInjectToken', 'vault.hashicorp.com/agent-inject-token', 'false'],
  ['agentLimitsCpu', 'vault.hashicorp.com/agent-limits-cpu', '500m'],
  ['agentLimitsMem', 'vault.hashicorp.com/agent-limits-mem', '128Mi'],
  ['agentLimitsEphemeral', 'vault.hashicorp.com/agent-limits-ephemeral', undefined],
  ['agentRequestsMem', 'vault.hashicorp.com/agent-requests-mem', '64Mi'],
  ['agentRequestsEphemeral', 'vault.hashicorp.com/agent-requests-ephemeral', undefined],
  ['agentSetSecurityContext', 'vault.hashicorp.com/agent-set-security-context', 'true'],
  ['agentRunAsUser', 'vault.hashicorp.com/agent-run-as-user', '100'],
  ['agentRunAsGroup', 'vault.hashicorp.com/agent-run-as-group', '1000'],
  ['agentRunAsSameUser', 'vault.hashicorp.com/agent-run-as-same-user', 'false'],
  ['agentCopyVolumeMounts', 'vault.hashicorp.com/agent-copy-volume-mounts', undefined],
  ['agentServiceAccountTokenVolumeName', 'vault.hashicorp.com/agent-service-account-token-volume-name', undefined],
  ['agentExtraSecret', 'vault.hashicorp.com/agent-extra-secret', undefined],
  ['agentConfigmap', 'vault.hashicorp.com/agent-configmap', undefined],
  ['agentJsonPatch', 'vault.hashicorp.com/agent-json-patch', undefined],
  ['agentInitJsonPatch', 'vault.hashicorp.com/agent-init-json-patch', undefined],
  ['goMaxProcs', 'vault.hashicorp.com/go-max-procs', undefined],
  ['logLevel', 'vault.hashicorp.com/log-level', 'info'],
  ['logFormat', 'vault.hashicorp.com/log-format', 'standard'],
  ['service', 'vault.hashicorp.com/service', undefined],
  ['role', 'vault.hashicorp.com/role', undefined],
  ['authType', 'vault.hashicorp.com/auth-type', 'kubernetes'],
  ['authPath', 'vault.hashicorp.com/auth-path', 'auth/kubernetes'],
  ['authConfig', 'vault.hashicorp.com/auth-config', undefined],
  ['authMinBackoff', 'vault.hashicorp.com/auth-min-backoff', undefined],
  ['authMaxBackoff', 'vault.hashicorp.com/auth-max-backoff', undefined],
  ['agentAutoAuthExitOnErr', 'vault.hashicorp.com/agent-auto-auth-exit-on-err', 'false'],
  ['namespace', 'vault.hashicorp.com/namespace', undefined],
  ['proxyAddress', 'vault.hashicorp.com/proxy-address', undefined],
  ['caCert', 'vault.hashicorp.com/ca-cert', undefined],
  ['caKey', 'vault.hashicorp.com/ca-key', undefined],
  ['clientCert', 'vault.hashicorp.com/client-cert', undefined],
  ['clientKey', 'vault.hashicorp.com/client-key', undefined],
  ['tlsSkipVerify', 'vault.hashicorp.com/tls-skip-verify', 'false'],
  ['tlsServerName', 'vault.hashicorp.com/tls-server-name', undefined],
  ['tlsSecret', 'vault.hashicorp.com/tls-secret', undefined],
  ['clientMaxRetries', 'vault.hashicorp.com/client-max-retries', undefined],
  ['clientTimeout', 'vault.hashicorp.com/client-timeout', undefined],
  ['templateConfigExitOnRetryFailure', 'vault.hashicorp.com/template-config-exit-on-retry-failure', 'true'],
  ['templateStaticSecretRenderInterval', 'vault.hashicorp.com/template-static-secret-render-interval', undefined],
  ['templateMaxConnectionsPerHost', 'vault.hashicorp.com/template-max-connections-per-host', undefined],
  ['templateLeaseRenewalThreshold', 'vault.hashicorp.com/template-lease-renewal-threshold', undefined],
  ['agentDisableIdleConnections', 'vault.hashicorp.com/agent-disable-idle-connections', undefined],
  ['agentDisableKeepAlives', 'vault.hashicorp.com/agent-disable-keep-alives', undefined],
  ['agentTelemetry', 'vault.hashicorp.com/agent-telemetry', undefined],
  ['agentCacheEnable', 'vault.hashicorp.com/agent-cache-enable', 'false'],
  ['agentCacheUseAutoAuthToken', 'vault.hashicorp.com/agent-cache-use-auto-auth-token', 'true'],
  ['agentCacheListenerPort', 'vault.hashicorp.com/agent-cache-listener-port', '8200'],
  ['agentCacheExitOnErr', 'vault.hashicorp.com/agent-cache-exit-on-err', 'false'],
  ['agentInjectSecret', 'vault.hashicorp.com/agent-inject-secret', undefined],
  ['agentInjectTemplate', 'vault.hashicorp.com/agent-inject-template', undefined],
  ['agentInjectTemplateFile', 'vault.hashicorp.com/agent-inject-template-file', undefined],
  ['agentInjectFile', 'vault.hashicorp.com/agent-inject-file', undefined],
  ['agentInjectPerms', 'vault.hashicorp.com/agent-inject-perms', undefined],
  ['agentInjectCommand', 'vault.hashicorp.com/agent-inject-command', undefined],
  ['agentTemplateLeftDelim', 'vault.hashicorp.com/agent-template-left-delim', '{{'],
  ['agentTemplateRightDelim', 'vault.hashicorp.com/agent-template-right-delim', '}}'],
  ['errorOnMissingKey', 'vault.hashicorp.com/error-on-missing-key', 'false'],
];

describe('the annotation table matches vault-k8s', () => {
  test.each(UPSTREAM)('%s is %s with default %j', (key, name, defaultValue) => {
    expect(A[key]).toBe(name);
    expect(ANNOTATION_TABLE[key].default).toBe(defaultValue);
    expect(ANNOTATION_TABLE[key].origin).toBe('upstream');
  });

  test('the CPU request default is lower than upstream 250m (vault-helm #472: the agent idles near 2m)', () => {
    expect(ANNOTATION_TABLE.agentRequestsCpu.default).toBe('50m');
  });

  test('every row not from upstream is marked as ours', () => {
    const upstreamKeys = new Set<string>([
      ...UPSTREAM.map(([key]) => key),
      'agentRequestsCpu',
      'agentRequestNamespace',
      'agentImage',
      'secretVolumePathSecret',
      'preserveSecretCaseSecret',
    ]);
    const ours = Object.entries(ANNOTATION_TABLE)
      .filter(([key]) => !upstreamKeys.has(key))
      .map(([key, entry]) => [key, entry.origin]);
    expect(ours).toEqual([
      ['agentNativeSidecar', 'vaultbridge'],
      ['agentKind', 'vaultbridge'],
      ['agentInitLimitsCpu', 'vaultbridge'],
      ['agentInitLimitsMem', 'vaultbridge'],
      ['agentInitLimitsEphemeral', 'vaultbridge'],
      ['agentInitRequestsCpu', 'vaultbridge'],
      ['agentInitRequestsMem', 'vaultbridge'],
      ['agentInitRequestsEphemeral', 'vaultbridge'],
      // In no vault-k8s release (issue 10): the agent's own metrics listener.
      ['agentMetricsListenerPort', 'vaultbridge'],
      // Without the cache vault-k8s has no init → sidecar handover (issue 10): ours, on by default.
      ['agentHandover', 'vaultbridge'],
      ['templateEngineSecret', 'vaultbridge'],
      ['agentInjectEnv', 'vaultbridge'],
      ['agentInjectDefaultTemplateSecret', 'vaultbridge'],
    ]);
  });

  test('no two pod-wide rows share a name', () => {
    const names = Object.values(ANNOTATION_TABLE)
      .filter((e) => e.scope === 'pod')
      .map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('known annotations', () => {
  test.each([
    ['vault.hashicorp.com/agent-inject', true],
    ['vault.hashicorp.com/agent-inject-secret-db.txt', true],
    ['vault.hashicorp.com/auth-config-token-path', true],
    ['vault.hashicorp.com/agent-telemetry-prometheus-retention-time', true],
    ['vault.hashicorp.com/agent-native-sidecar', true],
    ['vault.hashicorp.com/agent-inject-secrets-db', false],
    ['vault.hashicorp.com/agent-inject-secret-', false],
    ['vault.hashicorp.com/extra-secret', false],
  ])('%s known: %s', (name, known) => {
    expect(isKnownAnnotation(name)).toBe(known);
  });

  test('control annotations cannot have cluster defaults, pod-wide settings can', () => {
    expect(podWideEntry(A.agentInject)?.clusterDefault).toBe(false);
    expect(podWideEntry(A.agentInjectStatus)?.clusterDefault).toBe(false);
    expect(podWideEntry(A.agentLimitsCpu)?.clusterDefault).toBe(true);
    expect(podWideEntry(`${A.agentInjectSecret}-db`)).toBeUndefined();
  });
});

test("the README's annotation table is the one generated from the table (names, defaults, origin, meaning)", () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const start = readme.indexOf('| annotation | default | from | meaning |');
  const section = readme.slice(start, readme.indexOf('\n\n', start));
  // On a difference: node --conditions=@vaultbridge/source src/annotations/readme-table.ts, and paste.
  expect(section).toBe(annotationTableMarkdown());
});

test('the README documents every annotation of the table', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const missing = Object.values(ANNOTATION_TABLE)
    .map((e) =>
      e.scope === 'pod' ? `| \`${e.name}\` |` : `| \`${e.name}-<${e.scope === 'secret' ? 'secret' : 'param'}>\` |`,
    )
    .filter((row) => !readme.includes(row));
  expect(missing).toEqual([]);
});
