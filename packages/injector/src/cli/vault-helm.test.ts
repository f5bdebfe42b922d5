// A migrated vault-helm deployment: `vaultbridge-injector` is started with exactly the arguments and
// environment vault-helm's injector Deployment gives vault-k8s (test/fixtures/vault-helm-injector.yaml,
// transcribed from the chart), and every variable vault-k8s reads is checked for its effect on a
// mutated pod (or on the server when it is a server setting). An unknown variable or flag is an error
// that names it.
import fs from 'node:fs';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import YAML from 'yaml';
import { agentConfigOf, pod } from '../../test/support/pods.ts';
import { decide } from '../admission/decide.ts';
import { SERVE_ENV_NAMES, SERVE_FLAG_NAMES, type ServeConfig } from '../webhook/config.ts';
import { runInjectorCli } from './injector.ts';

interface Fixture {
  args: string[];
  env: Record<string, string>;
  conditionalEnv: Record<string, string>;
  vaultK8sEnv: string[];
  vaultK8sFlags: string[];
}

const fixture = YAML.parse(
  fs.readFileSync(new URL('../../test/fixtures/vault-helm-injector.yaml', import.meta.url), 'utf8'),
) as Fixture;

/** Runs the CLI as the chart's container would; resolves to the config `serve` would start with. */
async function start(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; config?: ServeConfig; stderr: string }> {
  let config: ServeConfig | undefined;
  let stderr = '';
  const code = await runInjectorCli(
    args,
    { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) }, env },
    {
      startWebhook: async (started) => {
        config = started;
      },
    },
  );
  return { code, stderr, ...(config === undefined ? {} : { config }) };
}

async function configWith(extra: Record<string, string>, args: string[] = fixture.args): Promise<ServeConfig> {
  const result = await start(args, { ...fixture.env, ...extra });
  if (result.config === undefined) throw new Error(`serve refused to start (exit ${result.code}):\n${result.stderr}`);
  return result.config;
}

function injected(config: ServeConfig, p: V1Pod = pod({ 'agent-inject-secret-db': 'secret/data/db' })): V1Pod {
  const decision = decide(p, 'app', config.defaults);
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  return decision.pod;
}

function agent(p: V1Pod, name: 'vault-agent' | 'vault-agent-init'): V1Container {
  const found = [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].find((c) => c.name === name);
  if (found === undefined) throw new Error(`no ${name}`);
  return found;
}

const sidecarConfig = (config: ServeConfig) => agentConfigOf(agent(injected(config), 'vault-agent'));

test("vault-helm's default Deployment starts the webhook and every variable it sets is in effect", async () => {
  const config = await configWith({});
  expect(config.port).toBe(8080);
  expect(config.logLevel).toBe('info');
  expect(config.tls).toEqual({
    mode: 'auto',
    webhookConfigName: 'vault-agent-injector-cfg',
    hosts: ['vault-agent-injector-svc', 'vault-agent-injector-svc.vault', 'vault-agent-injector-svc.vault.svc'],
    secretName: 'vaultbridge-injector-certs',
  });
  expect(config.podName).toBe('vault-agent-injector-5d9c7b8f6-x2x7q');
  const mutated = injected(config);
  const sidecar = agent(mutated, 'vault-agent');
  expect(sidecar.image).toBe('hashicorp/vault:2.0.4');
  expect(sidecar.resources).toEqual({
    limits: { cpu: '500m', memory: '128Mi' },
    requests: { cpu: '250m', memory: '64Mi' },
  });
  expect(agent(mutated, 'vault-agent-init').resources).toEqual({
    limits: { cpu: '500m', memory: '128Mi' },
    requests: { cpu: '250m', memory: '64Mi' },
  });
  const agentConfig = agentConfigOf(sidecar);
  expect(agentConfig).toMatchObject({
    vault: { address: 'http://vault.vault.svc:8200' },
    auth: { mountPath: 'auth/kubernetes', type: 'kubernetes' },
    templateConfig: { exitOnRetryFailure: true },
  });
  expect(agentConfig.revokeOnShutdown).toBeUndefined();
  expect((agentConfig.secrets as Array<{ defaultTemplate: string }>)[0]?.defaultTemplate).toBe('map');
});

const CA = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n';

// One row per variable vault-k8s reads: the value vault-helm (or its extraEnvironmentVars) would set,
// and what must then be true.
const rows: Array<[string, string, (config: ServeConfig) => void]> = [
  ['AGENT_INJECT_LISTEN', ':8443', (c) => expect([c.host, c.port]).toEqual(['0.0.0.0', 8443])],
  ['AGENT_INJECT_LOG_LEVEL', 'Warning', (c) => expect(c.logLevel).toBe('warn')],
  ['AGENT_INJECT_LOG_FORMAT', 'json', (c) => expect(c.logFormat).toBe('json')],
  [
    'AGENT_INJECT_TEMPLATE_CONFIG_EXIT_ON_RETRY_FAILURE',
    'false',
    (c) => expect(sidecarConfig(c).templateConfig).toMatchObject({ exitOnRetryFailure: false }),
  ],
  [
    'AGENT_INJECT_TEMPLATE_STATIC_SECRET_RENDER_INTERVAL',
    '2m',
    (c) => expect(sidecarConfig(c).templateConfig).toMatchObject({ staticSecretRenderIntervalMs: 120_000 }),
  ],
  [
    'AGENT_INJECT_TEMPLATE_MAX_CONNECTIONS_PER_HOST',
    '8',
    (c) => expect(sidecarConfig(c).templateConfig).toMatchObject({ maxConnectionsPerHost: 8 }),
  ],
  [
    'AGENT_INJECT_TEMPLATE_LEASE_RENEWAL_THRESHOLD',
    '0.75',
    (c) => expect(sidecarConfig(c).templateConfig).toMatchObject({ leaseRenewalThreshold: 0.75 }),
  ],
  [
    'AGENT_INJECT_TLS_AUTO',
    'my-injector-cfg',
    (c) => expect(c.tls).toMatchObject({ mode: 'auto', webhookConfigName: 'my-injector-cfg' }),
  ],
  ['AGENT_INJECT_TLS_AUTO_HOSTS', 'a.svc,b.svc', (c) => expect(c.tls).toMatchObject({ hosts: ['a.svc', 'b.svc'] })],
  [
    'AGENT_INJECT_VAULT_ADDR',
    'https://vault.example:8200',
    (c) => expect(sidecarConfig(c).vault).toMatchObject({ address: 'https://vault.example:8200' }),
  ],
  [
    'AGENT_INJECT_VAULT_CACERT_BYTES',
    Buffer.from(CA).toString('base64'),
    (c) => expect(sidecarConfig(c).vault).toMatchObject({ caCertPem: CA }),
  ],
  [
    'AGENT_INJECT_PROXY_ADDR',
    'http://proxy.internal:3128',
    (c) => {
      expect(agent(injected(c), 'vault-agent').env).toContainEqual({
        name: 'HTTPS_PROXY',
        value: 'http://proxy.internal:3128',
      });
      expect(sidecarConfig(c).vault).toMatchObject({ proxyAddress: 'http://proxy.internal:3128' });
    },
  ],
  [
    'AGENT_INJECT_VAULT_IMAGE',
    'registry.example/vaultbridge/agent:1.0.0',
    (c) => expect(agent(injected(c), 'vault-agent-init').image).toBe('registry.example/vaultbridge/agent:1.0.0'),
  ],
  [
    'AGENT_INJECT_VAULT_AUTH_TYPE',
    'kubernetes',
    (c) => expect(sidecarConfig(c).auth).toMatchObject({ type: 'kubernetes' }),
  ],
  [
    'AGENT_INJECT_VAULT_AUTH_PATH',
    'auth/k8s-prod',
    (c) => expect(sidecarConfig(c).auth).toMatchObject({ mountPath: 'auth/k8s-prod' }),
  ],
  [
    'AGENT_INJECT_VAULT_NAMESPACE',
    'team-a',
    (c) => expect(sidecarConfig(c).vault).toMatchObject({ namespace: 'team-a' }),
  ],
  [
    'AGENT_INJECT_REVOKE_ON_SHUTDOWN',
    'true',
    (c) => expect(sidecarConfig(c).revokeOnShutdown).toEqual({ graceSeconds: 5 }),
  ],
  [
    'AGENT_INJECT_RUN_AS_USER',
    '2000',
    (c) => expect(agent(injected(c), 'vault-agent').securityContext).toMatchObject({ runAsUser: 2000 }),
  ],
  [
    'AGENT_INJECT_RUN_AS_GROUP',
    '3000',
    (c) => expect(agent(injected(c), 'vault-agent').securityContext).toMatchObject({ runAsGroup: 3000 }),
  ],
  [
    'AGENT_INJECT_RUN_AS_SAME_USER',
    'true',
    (c) => {
      const p = pod({ 'agent-inject-secret-db': 'secret/data/db' });
      p.spec!.containers[0]!.securityContext = { runAsUser: 4321 };
      expect(agent(injected(c, p), 'vault-agent').securityContext).toMatchObject({ runAsUser: 4321 });
    },
  ],
  [
    'AGENT_INJECT_SET_SECURITY_CONTEXT',
    'false',
    (c) => expect(agent(injected(c), 'vault-agent').securityContext).toBeUndefined(),
  ],
  ['AGENT_INJECT_TELEMETRY_PATH', '/injector-metrics', (c) => expect(c.telemetryPath).toBe('/injector-metrics')],
  ['AGENT_INJECT_USE_LEADER_ELECTOR', 'true', (c) => expect(c.tls.mode).toBe('auto')], // our auto TLS always elects through a Lease
  [
    'AGENT_INJECT_DEFAULT_TEMPLATE',
    'json',
    (c) => expect((sidecarConfig(c).secrets as Array<{ defaultTemplate: string }>)[0]?.defaultTemplate).toBe('json'),
  ],
  [
    'AGENT_INJECT_CPU_REQUEST',
    '100m',
    (c) => expect(agent(injected(c), 'vault-agent').resources?.requests).toMatchObject({ cpu: '100m' }),
  ],
  [
    'AGENT_INJECT_MEM_REQUEST',
    '32Mi',
    (c) => expect(agent(injected(c), 'vault-agent-init').resources?.requests).toMatchObject({ memory: '32Mi' }),
  ],
  [
    'AGENT_INJECT_EPHEMERAL_REQUEST',
    '10Mi',
    (c) => expect(agent(injected(c), 'vault-agent').resources?.requests).toMatchObject({ 'ephemeral-storage': '10Mi' }),
  ],
  [
    'AGENT_INJECT_CPU_LIMIT',
    '1',
    (c) => expect(agent(injected(c), 'vault-agent').resources?.limits).toMatchObject({ cpu: '1' }),
  ],
  [
    'AGENT_INJECT_MEM_LIMIT',
    '256Mi',
    (c) => expect(agent(injected(c), 'vault-agent-init').resources?.limits).toMatchObject({ memory: '256Mi' }),
  ],
  [
    'AGENT_INJECT_EPHEMERAL_LIMIT',
    '20Mi',
    (c) =>
      expect(agent(injected(c), 'vault-agent-init').resources?.limits).toMatchObject({ 'ephemeral-storage': '20Mi' }),
  ],
  ['AGENT_INJECT_TLS_MIN_VERSION', 'tls13', (c) => expect(c.tlsMinVersion).toBe('TLSv1.3')],
  [
    'AGENT_INJECT_TLS_CIPHER_SUITES',
    'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384',
    (c) =>
      expect(c.tlsCiphers?.split(':').slice(0, 2)).toEqual([
        'ECDHE-RSA-AES128-GCM-SHA256',
        'ECDHE-ECDSA-AES256-GCM-SHA384',
      ]),
  ],
  ['AGENT_INJECT_AUTH_MIN_BACKOFF', '2s', (c) => expect(sidecarConfig(c).auth).toMatchObject({ minBackoffMs: 2000 })],
  ['AGENT_INJECT_AUTH_MAX_BACKOFF', '1m', (c) => expect(sidecarConfig(c).auth).toMatchObject({ maxBackoffMs: 60_000 })],
  [
    'AGENT_INJECT_DISABLE_IDLE_CONNECTIONS',
    'auto-auth,templating',
    (c) => expect(sidecarConfig(c).disableIdleConnections).toEqual(['auto-auth', 'templating']),
  ],
  [
    'AGENT_INJECT_DISABLE_KEEP_ALIVES',
    'caching',
    (c) => expect(sidecarConfig(c).disableKeepAlives).toEqual(['caching']),
  ],
];

test.each(rows)('%s=%s reaches what it configures', async (name, value, check) => {
  check(await configWith({ [name]: value }));
});

test('the certificate files (injector.certs.secretName) and their CA (-tls-ca-cert-file) are used', async () => {
  const config = await configWith({
    AGENT_INJECT_TLS_CERT_FILE: '/etc/webhook/certs/tls.crt',
    AGENT_INJECT_TLS_KEY_FILE: '/etc/webhook/certs/tls.key',
    AGENT_INJECT_TLS_CA_CERT_FILE: '/etc/webhook/certs/ca.crt',
  });
  // With AGENT_INJECT_TLS_AUTO still set (it is not, with certs.secretName; set here to show both), the
  // CA file is patched into that webhook configuration, as vault-k8s does.
  expect(config.tls).toEqual({
    mode: 'files',
    certFile: '/etc/webhook/certs/tls.crt',
    keyFile: '/etc/webhook/certs/tls.key',
    caFile: '/etc/webhook/certs/ca.crt',
    webhookConfigName: 'vault-agent-injector-cfg',
  });
});

test('NAMESPACE (set by the chart with the leader elector) is where the TLS Secret and Lease live', async () => {
  expect((await configWith({ NAMESPACE: 'vault' })).namespace).toBe('vault');
});

test('every variable vault-k8s reads, and every one vault-helm sets, is a setting of serve, with a row above', () => {
  const tested = new Set([
    ...rows.map(([name]) => name),
    'AGENT_INJECT_TLS_CERT_FILE',
    'AGENT_INJECT_TLS_KEY_FILE',
    'AGENT_INJECT_TLS_CA_CERT_FILE',
    'NAMESPACE',
    'POD_NAME',
  ]);
  const chartEnv = [...Object.keys(fixture.env), ...Object.keys(fixture.conditionalEnv)];
  expect([...fixture.vaultK8sEnv, ...chartEnv].filter((name) => !SERVE_ENV_NAMES.includes(name))).toEqual([]);
  expect([...fixture.vaultK8sEnv, ...chartEnv].filter((name) => !tested.has(name))).toEqual([]);
});

test("every vault-k8s flag is a flag of serve, and Go's single-dash spelling works", async () => {
  expect(fixture.vaultK8sFlags.filter((flag) => !SERVE_FLAG_NAMES.includes(flag))).toEqual([]);
  const config = await configWith({}, [
    'agent-inject',
    '-vault-auth-path=auth/from-flag',
    '-memory-limit',
    '300Mi',
    '-revoke-on-shutdown',
    '2>&1',
  ]);
  const sidecar = agent(injected(config), 'vault-agent');
  expect(agentConfigOf(sidecar)).toMatchObject({
    auth: { mountPath: 'auth/from-flag' },
    revokeOnShutdown: { graceSeconds: 5 },
  });
  expect(sidecar.resources?.limits).toMatchObject({ memory: '300Mi' });
});

test('a flag on the command line wins over its variable', async () => {
  const config = await configWith({ AGENT_INJECT_CPU_REQUEST: '250m' }, ['serve', '--cpu-request', '75m']);
  expect(agent(injected(config), 'vault-agent').resources?.requests).toMatchObject({ cpu: '75m' });
});

test.each([
  [
    { AGENT_INJECT_VAULT_AUTH_PAHT: 'auth/typo' },
    [],
    'AGENT_INJECT_VAULT_AUTH_PAHT: not a setting of vaultbridge-injector serve',
  ],
  [{}, ['--vault-auth-pahts', 'x'], "unknown option '--vault-auth-pahts'"],
  [{}, ['-vault-auth-pahts=x'], "unknown option '-vault-auth-pahts=x'"],
  [{}, ['extra'], 'unexpected argument "extra"'],
  [{ AGENT_INJECT_LOG_LEVEL: 'loud' }, [], '--log-level (AGENT_INJECT_LOG_LEVEL): expected a log level'],
  [{ AGENT_INJECT_TLS_CIPHER_SUITES: 'TLS_RSA_WITH_RC4_128_SHA' }, [], 'unknown: TLS_RSA_WITH_RC4_128_SHA'],
  [
    { AGENT_INJECT_DISABLE_KEEP_ALIVES: 'everything' },
    [],
    '--disable-keep-alives (AGENT_INJECT_DISABLE_KEEP_ALIVES): expected a comma list of auto-auth, caching, templating',
  ],
])('refuses %o %o naming it: %s', async (env, args, message) => {
  const result = await start(['agent-inject', ...args], { ...fixture.env, ...env });
  expect(result.code).toBe(2);
  expect(result.config).toBeUndefined();
  expect(result.stderr).toContain(message);
});

test('Kubernetes service-link variables of a Service named agent-inject are not settings, and not errors', async () => {
  const config = await configWith({
    AGENT_INJECT_SERVICE_HOST: '10.0.0.1',
    AGENT_INJECT_PORT: 'tcp://10.0.0.1:443',
    AGENT_INJECT_PORT_443_TCP_ADDR: '10.0.0.1',
  });
  expect(config.port).toBe(8080);
});

test("the README's flag table names every flag and variable of serve", () => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(
    readme.indexOf('| flag | env | default |'),
    readme.indexOf('A bad flag stops the webhook at start'),
  );
  expect(SERVE_ENV_NAMES.filter((name) => !section.includes(`\`${name}\``))).toEqual([]);
  expect(SERVE_FLAG_NAMES.filter((name) => !section.includes(`\`--${name}\``))).toEqual([]);
});

test("vault-helm's HashiCorp agent image is honoured, and warned about at start: it has no vaultbridge-agent", async () => {
  const { serveWarnings } = await import('../webhook/config.ts');
  const config = await configWith({});
  expect(serveWarnings(config)).toEqual([
    expect.stringContaining(
      "the agent image hashicorp/vault:2.0.4 (--vault-image, AGENT_INJECT_VAULT_IMAGE) looks like HashiCorp's or OpenBao's",
    ),
  ]);
  expect(serveWarnings(await configWith({ AGENT_INJECT_VAULT_IMAGE: 'quay.io/openbao/openbao:2.1' }))).toHaveLength(1);
  expect(
    serveWarnings(await configWith({ AGENT_INJECT_VAULT_IMAGE: 'registry.example/vaultbridge/agent:0.1.0' })),
  ).toEqual([]);
});
