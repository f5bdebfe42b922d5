import { describe, expect, test } from '@jest/globals';
import type { V1Pod } from '@kubernetes/client-node';
import { agentConfigOf, pod, VAULT_ADDR } from '../../test/support/pods.ts';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { parseAnnotations } from '../annotations/parse.ts';
import { mutatePod } from './mutate.ts';
import {
  compactAgentConfig,
  decodeAgentConfigText,
  encodeAgentConfig,
  expandAgentConfig,
  parseAgentConfig,
} from '@vaultbridge/agent/contract';
import { decide } from '../admission/decide.ts';
import { buildAgentConfig } from './agent-config.ts';

function configs(
  annotations: Record<string, string>,
  defaults: InjectorDefaults = {},
): { init?: Record<string, unknown>; sidecar?: Record<string, unknown> } {
  const p = pod(annotations);
  const after: V1Pod = mutatePod(
    p,
    parseAnnotations(p, { vaultAddress: VAULT_ADDR, ...defaults }, { namespace: 'app' }),
  );
  const all = [...(after.spec?.containers ?? []), ...(after.spec?.initContainers ?? [])];
  const init = all.find((c) => c.name === 'vault-agent-init');
  const sidecar = all.find((c) => c.name === 'vault-agent');
  return {
    ...(init === undefined ? {} : { init: agentConfigOf(init) }),
    ...(sidecar === undefined ? {} : { sidecar: agentConfigOf(sidecar) }),
  };
}

describe('VAULTBRIDGE_AGENT_CONFIG', () => {
  test("the reference's worked example (§2.8), as our schema", () => {
    const { init, sidecar } = configs({ role: 'web', 'agent-inject-secret-db.txt': 'secret/data/db' });
    const common = {
      version: 1,
      vault: { address: VAULT_ADDR, tlsSkipVerify: false },
      auth: {
        type: 'kubernetes',
        mountPath: 'auth/kubernetes',
        role: 'web',
        serviceAccountTokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
        config: {},
        exitOnError: false,
      },
      tokenSinks: ['/home/vault/.vault-token'],
      secrets: [
        {
          name: 'db.txt',
          path: 'secret/data/db',
          defaultTemplate: 'map',
          destination: '/vault/secrets/db.txt',
          leftDelimiter: '{{',
          rightDelimiter: '}}',
          errorOnMissingKey: false,
        },
      ],
      templateConfig: { exitOnRetryFailure: true },
      pidFile: '/home/vault/.pid',
      log: { level: 'info', format: 'standard' },
    };
    expect(init).toEqual({ ...common, mode: 'init' });
    expect(sidecar).toEqual({ ...common, mode: 'sidecar', readyFile: '/home/vault/.vaultbridge-ready' });
  });

  test.each<[string, Record<string, string>, 'init' | 'sidecar', string, unknown]>([
    [
      'agent-inject-token adds a token file in the secrets volume',
      { 'agent-inject-token': 'true', 'secret-volume-path': '/run/s' },
      'sidecar',
      'tokenSinks',
      ['/home/vault/.vault-token', '/run/s/token'],
    ],
    [
      'inline template, perms, command and delimiters per secret',
      {
        'agent-inject-secret-app.env': 'kv/data/app',
        'agent-inject-template-app.env': '[[ .Data.data.user ]]',
        'agent-inject-perms-app.env': '0440',
        'agent-inject-command-app.env': 'kill -HUP 1',
        'agent-template-left-delim-app.env': '[[',
        'agent-template-right-delim-app.env': ']]',
        'error-on-missing-key-app.env': 'true',
        'agent-inject-file-app.env': 'conf/app.env',
      },
      'init',
      'secrets',
      [
        {
          name: 'app.env',
          path: 'kv/data/app',
          template: '[[ .Data.data.user ]]',
          defaultTemplate: 'map',
          destination: '/vault/secrets/conf/app.env',
          perms: 0o440,
          command: 'kill -HUP 1',
          leftDelimiter: '[[',
          rightDelimiter: ']]',
          errorOnMissingKey: true,
        },
      ],
    ],
    [
      'a template file and the json default template',
      {
        'agent-inject-template-file-cfg': '/vault/custom/cfg.tmpl',
        'agent-inject-secret-raw': 'kv/raw',
        'agent-inject-default-template': 'json',
      },
      'sidecar',
      'secrets',
      [
        {
          name: 'cfg',
          templateFile: '/vault/custom/cfg.tmpl',
          defaultTemplate: 'json',
          destination: '/vault/secrets/cfg',
          leftDelimiter: '{{',
          rightDelimiter: '}}',
          errorOnMissingKey: false,
        },
        {
          name: 'raw',
          path: 'kv/raw',
          defaultTemplate: 'json',
          destination: '/vault/secrets/raw',
          leftDelimiter: '{{',
          rightDelimiter: '}}',
          errorOnMissingKey: false,
        },
      ],
    ],
    [
      'Vault TLS and namespace settings',
      {
        namespace: 'team-a',
        'ca-cert': '/vault/tls/ca.crt',
        'ca-key': '/vault/tls/cas',
        'client-cert': '/vault/tls/tls.crt',
        'client-key': '/vault/tls/tls.key',
        'tls-skip-verify': 'false',
        'tls-server-name': 'vault.internal',
        'client-max-retries': '4',
        'client-timeout': '45',
        'proxy-address': 'http://proxy:3128',
      },
      'init',
      'vault',
      {
        address: VAULT_ADDR,
        namespace: 'team-a',
        proxyAddress: 'http://proxy:3128',
        caCert: '/vault/tls/ca.crt',
        caPath: '/vault/tls/cas',
        clientCert: '/vault/tls/tls.crt',
        clientKey: '/vault/tls/tls.key',
        tlsSkipVerify: false,
        tlsServerName: 'vault.internal',
        maxRetries: 4,
        timeoutMs: 45_000,
      },
    ],
    [
      'auth settings',
      {
        'auth-path': 'auth/k8s',
        'auth-config-token-path': '/var/run/jwt',
        'auth-config-audience': 'vault',
        'auth-min-backoff': '1s',
        'auth-max-backoff': '2m',
        'agent-auto-auth-exit-on-err': 'true',
      },
      'init',
      'auth',
      {
        type: 'kubernetes',
        mountPath: 'auth/k8s',
        role: 'app',
        serviceAccountTokenPath: '/var/run/jwt',
        config: { audience: 'vault' },
        minBackoffMs: 1000,
        maxBackoffMs: 120_000,
        exitOnError: true,
      },
    ],
    [
      'template settings',
      {
        'template-config-exit-on-retry-failure': 'false',
        'template-static-secret-render-interval': '2m',
        'template-max-connections-per-host': '8',
        'template-lease-renewal-threshold': '0.75',
      },
      'sidecar',
      'templateConfig',
      {
        exitOnRetryFailure: false,
        staticSecretRenderIntervalMs: 120_000,
        maxConnectionsPerHost: 8,
        leaseRenewalThreshold: 0.75,
      },
    ],
    [
      'agent-revoke-on-shutdown with a grace period, sidecar only',
      { 'agent-revoke-on-shutdown': 'true', 'agent-revoke-grace': '7' },
      'sidecar',
      'revokeOnShutdown',
      { graceSeconds: 7 },
    ],
    ['no revoke in the init agent', { 'agent-revoke-on-shutdown': 'true' }, 'init', 'revokeOnShutdown', undefined],
    ['no ready file in the init agent', {}, 'init', 'readyFile', undefined],
    [
      'agent-cache-enable: a persistent cache shared by both agents',
      { 'agent-cache-enable': 'true', 'agent-cache-listener-port': '8100', 'agent-cache-exit-on-err': 'true' },
      'init',
      'cache',
      {
        listenerAddress: '127.0.0.1:8100',
        useAutoAuthToken: 'true',
        persist: { path: '/vault/agent-cache', exitOnError: true },
      },
    ],
    [
      'agent-cache-enable without pre-populate: a sidecar-only memory cache',
      { 'agent-cache-enable': 'true', 'agent-pre-populate': 'false', 'agent-cache-use-auto-auth-token': 'force' },
      'sidecar',
      'cache',
      {
        listenerAddress: '127.0.0.1:8200',
        useAutoAuthToken: 'force',
      },
    ],
    [
      'agent-cache-enable with pre-populate-only: no cache',
      { 'agent-cache-enable': 'true', 'agent-pre-populate-only': 'true' },
      'init',
      'cache',
      undefined,
    ],
    // The handover without the cache is the agent's default: nothing in a default pod's configs.
    ['handover by default: not written (init)', {}, 'init', 'handover', undefined],
    ['handover by default: not written (sidecar)', {}, 'sidecar', 'handover', undefined],
    ['agent-handover false: off in init', { 'agent-handover': 'false' }, 'init', 'handover', false],
    ['agent-handover false: off in the sidecar', { 'agent-handover': 'false' }, 'sidecar', 'handover', false],
    ['pre-populate-only: init hands over to nobody', { 'agent-pre-populate-only': 'true' }, 'init', 'handover', false],
    [
      'agent-enable-quit: the quit endpoint on the localhost listener',
      { 'agent-enable-quit': 'true' },
      'sidecar',
      'quit',
      { listenerAddress: '127.0.0.1:8200' },
    ],
    [
      'agent-metrics-listener-port',
      { 'agent-metrics-listener-port': '9102' },
      'sidecar',
      'metrics',
      { listenerAddress: '127.0.0.1:9102' },
    ],
    [
      'log-level and log-format',
      { 'log-level': 'debug', 'log-format': 'json' },
      'init',
      'log',
      { level: 'debug', format: 'json' },
    ],
    [
      'agent-telemetry-*',
      { 'agent-telemetry-prometheus-retention-time': '24h' },
      'sidecar',
      'telemetry',
      { prometheus_retention_time: '24h' },
    ],
    [
      'agent-disable-idle-connections',
      { 'agent-disable-idle-connections': 'auto-auth,caching' },
      'sidecar',
      'disableIdleConnections',
      ['auto-auth', 'caching'],
    ],
    [
      'agent-disable-keep-alives',
      { 'agent-disable-keep-alives': 'templating' },
      'init',
      'disableKeepAlives',
      ['templating'],
    ],
  ])('%s', (...[, annotations, mode, key, expected]) => {
    expect(configs(annotations)[mode]?.[key]).toEqual(expected);
  });

  test('the CA from the injector flag is handed to the agents', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    expect((configs({}, { vaultCACertBytes: pem }).sidecar?.vault as Record<string, unknown>).caCertPem).toBe(pem);
  });

  test("a native sidecar's config is the sidecar config with the ready file its probe checks", () => {
    const { init, sidecar } = configs({ 'agent-native-sidecar': 'true' });
    expect(init).toBeUndefined();
    expect([sidecar?.mode, sidecar?.readyFile]).toEqual(['sidecar', '/home/vault/.vaultbridge-ready']);
  });
});

describe('the encoded config leaves defaults out', () => {
  const specOf = (annotations: Record<string, string>) => {
    const p = pod(annotations);
    return parseAnnotations(p, { vaultAddress: VAULT_ADDR }, { namespace: 'app' });
  };
  test.each([
    ['defaults only', { role: 'web', 'agent-inject-secret-db': 'secret/data/db' }],
    [
      'every default changed',
      {
        role: 'web',
        'agent-inject-secret-db': 'secret/data/db',
        'agent-inject-default-template': 'json',
        'agent-inject-token': 'true',
        'template-config-exit-on-retry-failure': 'false',
        'log-level': 'debug',
        'log-format': 'json',
        'tls-skip-verify': 'true',
        'auth-config-audience': 'vault',
        'agent-auto-auth-exit-on-err': 'true',
        'agent-template-left-delim-db': '[[',
        'agent-template-right-delim-db': ']]',
        'error-on-missing-key-db': 'true',
      },
    ],
  ])('%s: the agent reads back exactly what the webhook built', (_name, annotations) => {
    for (const mode of ['init', 'sidecar'] as const) {
      const config = buildAgentConfig(specOf(annotations), mode);
      const encoded = JSON.parse(Buffer.from(encodeAgentConfig(config), 'base64').toString('utf8')) as unknown;
      expect(expandAgentConfig(encoded)).toEqual(config);
      expect(parseAgentConfig(encoded)).toEqual(config);
    }
  });

  // buildAgentConfig writes unset optional fields as undefined (no spreads); the compact form drops them.
  test('an unset optional field is no key of the compact config', () => {
    const undefinedKeys = (value: unknown, at: string): string[] =>
      typeof value !== 'object' || value === null
        ? []
        : Object.entries(value).flatMap(([key, child]) =>
            child === undefined ? [`${at}.${key}`] : undefinedKeys(child, `${at}.${key}`),
          );
    for (const mode of ['init', 'sidecar'] as const) {
      const config = buildAgentConfig(specOf({ role: 'web', 'agent-inject-secret-db': 'secret/data/db' }), mode);
      expect(undefinedKeys(config, 'config')).not.toEqual([]);
      expect(undefinedKeys(compactAgentConfig(config), 'config')).toEqual([]);
    }
  });

  test('a typical config is about half as long', () => {
    const config = buildAgentConfig(
      specOf({ role: 'web', 'agent-inject-secret-db': 'secret/data/db', 'agent-inject-secret-api': 'secret/data/api' }),
      'sidecar',
    );
    const compact = encodeAgentConfig(config).length;
    const full = Buffer.from(JSON.stringify(config)).toString('base64').length;
    expect(compact / full).toBeLessThan(0.6);
  });

  test('a hand-written ConfigMap config needs only what has no default', () => {
    const minimal = {
      version: 1,
      mode: 'init',
      vault: { address: 'https://vault:8200' },
      auth: {
        type: 'kubernetes',
        mountPath: 'auth/kubernetes',
        role: 'web',
        serviceAccountTokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
      },
      secrets: [{ name: 'db', path: 'secret/data/db', destination: '/vault/secrets/db' }],
    };
    expect(parseAgentConfig(minimal)).toMatchObject({
      tokenSinks: ['/home/vault/.vault-token'],
      pidFile: '/home/vault/.pid',
      log: { level: 'info', format: 'standard' },
      secrets: [{ defaultTemplate: 'map', leftDelimiter: '{{' }],
    });
  });
});

describe('the contract, as the agent reads it', () => {
  test('what the webhook injects (init and sidecar, every secret option) parses', () => {
    const decision = decide(
      pod({
        'agent-inject-secret-db': 'database/creds/app',
        'agent-inject-template-db': '{{username}}',
        'agent-inject-perms-db': '0400',
        'agent-inject-command-db': 'kill -HUP 1',
        'agent-inject-secret-api': 'secret/data/api',
        'agent-inject-default-template': 'json',
        'agent-inject-token': 'true',
        'agent-revoke-on-shutdown': 'true',
      }),
      'app',
      { vaultAddress: 'https://vault:8200' },
    );
    if (decision.kind !== 'inject') throw new Error(decision.message);
    const containers = [...(decision.pod.spec?.initContainers ?? []), ...(decision.pod.spec?.containers ?? [])];
    const encoded = containers
      .flatMap((c) => c.env ?? [])
      .filter((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')
      .map((e) => e.value ?? '');
    expect(encoded).toHaveLength(2);
    const modes = encoded.map((value) => parseAgentConfig(JSON.parse(decodeAgentConfigText(value))).mode);
    expect(modes.sort()).toEqual(['init', 'sidecar']);
  });
});
