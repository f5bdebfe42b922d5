import {
  AgentConfigError,
  agentConfigSchema,
  encodeAgentConfig,
  parseAgentConfig,
  type AgentConfig,
} from './contract/index.ts';
import { loadAgentConfig, retryBudgetMs } from './load-config.ts';

const valid: AgentConfig = {
  version: 1,
  mode: 'init',
  vault: { address: 'https://vault.vault.svc:8200', tlsSkipVerify: false },
  auth: {
    type: 'kubernetes',
    mountPath: 'auth/kubernetes',
    role: 'app',
    serviceAccountTokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
    config: {},
    exitOnError: false,
  },
  tokenSinks: ['/home/vault/.vault-token'],
  secrets: [
    {
      name: 'db',
      path: 'database/creds/app',
      defaultTemplate: 'map',
      destination: '/vault/secrets/db',
      leftDelimiter: '{{',
      rightDelimiter: '}}',
      errorOnMissingKey: false,
    },
  ],
  templateConfig: { exitOnRetryFailure: true },
  pidFile: '/home/vault/.pid',
  log: { level: 'info', format: 'standard' },
};

function issuesOf(value: unknown): Array<{ field: string; message: string }> {
  try {
    parseAgentConfig(value);
  } catch (error) {
    if (error instanceof AgentConfigError) return [...error.issues];
    throw error;
  }
  throw new Error('expected an AgentConfigError');
}

function withSecret(change: Record<string, unknown>): unknown {
  return { ...valid, secrets: [{ ...valid.secrets[0], ...change }] };
}

describe('parseAgentConfig', () => {
  test('a valid configuration comes back as it is', () => {
    expect(parseAgentConfig(valid)).toEqual(valid);
  });

  test.each<[string, unknown, string, RegExp]>([
    ['a newer config version is named', { ...valid, version: 2 }, 'version', /different releases/],
    ['an unknown mode', { ...valid, mode: 'daemon' }, 'mode', /init, sidecar/],
    [
      'a Vault address without a scheme',
      { ...valid, vault: { ...valid.vault, address: 'vault:8200' } },
      'vault.address',
      /https:\/\/vault:8200/,
    ],
    [
      'a missing role says which annotation sets it',
      { ...valid, auth: { ...valid.auth, role: undefined } },
      'auth.role',
      /vault.hashicorp.com\/role/,
    ],
    [
      'an auth method the agent does not implement',
      { ...valid, auth: { ...valid.auth, type: 'oci' } },
      'auth.type',
      /kubernetes, jwt, approle, cert, aws, gcp, azure/,
    ],
    [
      'approle without its role_id file',
      { ...valid, auth: { ...valid.auth, type: 'approle', role: undefined } },
      'auth.config.role_id_file_path',
      /missing: AppRole auth needs the file holding the role_id/,
    ],
    [
      'a relative token path',
      { ...valid, auth: { ...valid.auth, serviceAccountTokenPath: 'token' } },
      'auth.serviceAccountTokenPath',
      /absolute/,
    ],
    [
      'a token sink with ..',
      { ...valid, tokenSinks: ['/home/vault/../../etc/passwd'] },
      'tokenSinks.0',
      /without "\.\."/,
    ],
    [
      'a destination that escapes its volume',
      withSecret({ destination: '/vault/secrets/../../etc/shadow' }),
      'secrets.0.destination',
      /without "\.\."/,
    ],
    ['a relative destination', withSecret({ destination: 'db' }), 'secrets.0.destination', /absolute/],
    ['a secret with neither path nor template', withSecret({ path: undefined }), 'secrets.0.path', /template/],
    ['file modes above 07777', withSecret({ perms: 0o10000 }), 'secrets.0.perms', /at most/],
    ['an unknown default template', withSecret({ defaultTemplate: 'yaml' }), 'secrets.0.defaultTemplate', /map, json/],
    [
      'a zero render interval',
      { ...valid, templateConfig: { exitOnRetryFailure: true, staticSecretRenderIntervalMs: 0 } },
      'templateConfig.staticSecretRenderIntervalMs',
      /at least 1/,
    ],
    ['an unknown log level', { ...valid, log: { level: 'verbose', format: 'json' } }, 'log.level', /trace, debug/],
  ])('%s', (_name, value, field, message) => {
    const issue = issuesOf(value).find((i) => i.field === field);
    expect(issue?.message).toMatch(message);
  });

  // Every field of the contract is checked, not only those the agent acted on first.
  test.each<[string, unknown, string, string]>([
    [
      'a quit listener that is a number',
      { ...valid, quit: { listenerAddress: 5 } },
      'quit.listenerAddress',
      'expected host:port such as 127.0.0.1:8200, got 5',
    ],
    [
      'metrics that are not a listener',
      { ...valid, metrics: 'yes' },
      'metrics',
      'expected a mapping with listenerAddress, got "yes"',
    ],
    [
      'a metrics port out of range',
      { ...valid, metrics: { listenerAddress: '127.0.0.1:70000' } },
      'metrics.listenerAddress',
      'expected host:port such as 127.0.0.1:8200, got "127.0.0.1:70000"',
    ],
    [
      'a cache token mode',
      { ...valid, cache: { listenerAddress: '127.0.0.1:8200', useAutoAuthToken: 'always' } },
      'cache.useAutoAuthToken',
      'expected one of true, false, force, got "always"',
    ],
    [
      'a relative persistent cache',
      {
        ...valid,
        cache: {
          listenerAddress: '127.0.0.1:8200',
          useAutoAuthToken: 'true',
          persist: { path: 'cache', exitOnError: true },
        },
      },
      'cache.persist.path',
      'expected a clean absolute file path without ".." (such as /vault/secrets/db), got "cache"',
    ],
    [
      'telemetry that is a list',
      { ...valid, telemetry: ['prometheus'] },
      'telemetry',
      'expected a mapping, got a list',
    ],
    [
      'an unknown keep-alive feature',
      { ...valid, disableKeepAlives: ['auto-auth', 'everything'] },
      'disableKeepAlives.1',
      'expected one of auto-auth, caching, templating, got "everything"',
    ],
    [
      'idle connections as text',
      { ...valid, disableIdleConnections: 'caching' },
      'disableIdleConnections',
      'expected a list of auto-auth, caching, templating, got "caching"',
    ],
    [
      'a fractional connection limit',
      { ...valid, templateConfig: { exitOnRetryFailure: true, maxConnectionsPerHost: 1.5 } },
      'templateConfig.maxConnectionsPerHost',
      'expected a whole number, got 1.5',
    ],
    [
      'a renewal threshold above 1',
      { ...valid, templateConfig: { exitOnRetryFailure: true, leaseRenewalThreshold: 2 } },
      'templateConfig.leaseRenewalThreshold',
      'expected a fraction from 0 to 1, such as 0.9, got 2',
    ],
    [
      'a template engine',
      withSecret({ templateEngine: 'jinja' }),
      'secrets.0.templateEngine',
      'expected one of go, handlebars, got "jinja"',
    ],
    [
      'a revoke grace as text',
      { ...valid, revokeOnShutdown: { graceSeconds: '5' } },
      'revokeOnShutdown.graceSeconds',
      'expected a number, got "5"',
    ],
    [
      'an env name with a dash',
      { ...valid, secrets: [{ ...valid.secrets[0], env: 'DB-PASSWORD' }], envFile: '/vault/secrets/.vaultbridge-env' },
      'secrets.0.env',
      'expected an environment variable name such as DB_PASSWORD, got "DB-PASSWORD"',
    ],
    [
      'a relative exec wrapper path',
      { ...valid, execWrapper: 'vault/exec/vaultbridge-exec' },
      'execWrapper',
      'expected a clean absolute file path without ".." (such as /vault/secrets/db), got "vault/exec/vaultbridge-exec"',
    ],
    [
      'an env secret without the env file',
      withSecret({ env: 'DB_PASSWORD' }),
      'envFile',
      'missing: secrets.0 has env, so the agent needs the env file to write',
    ],
  ])('%s is refused, naming the field', (_name, value, field, message) => {
    expect(issuesOf(value)).toEqual([{ field, message }]);
  });

  test('every optional part, as the webhook writes it, comes back as it is; the schema has every field', () => {
    // Required<>: a field added to AgentConfig must be added here, and then to the schema.
    const full: Required<AgentConfig> = {
      ...valid,
      mode: 'sidecar',
      readyFile: '/home/vault/.vaultbridge-ready',
      envFile: '/vault/secrets/.vaultbridge-env',
      execWrapper: '/vault/exec/vaultbridge-exec',
      revokeOnShutdown: { graceSeconds: 5 },
      cache: {
        listenerAddress: '127.0.0.1:8200',
        useAutoAuthToken: 'force',
        persist: { path: '/vault/agent-cache', exitOnError: false },
        tls: { certFile: '/vault/tls/tls.crt', keyFile: '/vault/tls/tls.key', minVersion: 'tls13' },
      },
      handover: false,
      quit: { listenerAddress: '127.0.0.1:8200' },
      metrics: { listenerAddress: '127.0.0.1:9102' },
      telemetry: { prometheus_retention_time: '24h', disable_hostname: true },
      disableIdleConnections: ['caching'],
      disableKeepAlives: ['auto-auth', 'templating'],
      templateConfig: {
        exitOnRetryFailure: false,
        staticSecretRenderIntervalMs: 60_000,
        maxConnectionsPerHost: 10,
        leaseRenewalThreshold: 0.8,
      },
    };
    expect(parseAgentConfig(full)).toEqual(full);
    expect(Object.keys(agentConfigSchema.shape).sort()).toEqual(Object.keys(full).sort());
  });

  test('two secrets writing the same file are refused', () => {
    const secret = valid.secrets[0];
    expect(issuesOf({ ...valid, secrets: [secret, { ...secret, name: 'other' }] })).toEqual([
      { field: 'secrets.1.destination', message: '/vault/secrets/db is also the destination of secrets.0' },
    ]);
  });

  test('every bad field is listed at once, in the message too', () => {
    const error = (() => {
      try {
        parseAgentConfig({ ...valid, mode: 'x', pidFile: 'pid' }, 'VAULTBRIDGE_AGENT_CONFIG');
      } catch (caught) {
        return caught as AgentConfigError;
      }
      throw new Error('expected an error');
    })();
    expect(error.code).toBe('AGENT_CONFIG_INVALID');
    expect(error.issues.map((i) => i.field)).toEqual(['mode', 'pidFile']);
    expect(error.message).toMatch(
      /^invalid agent configuration from VAULTBRIDGE_AGENT_CONFIG:\n {2}mode: .*\n {2}pidFile: /,
    );
  });

  test('not an object at all', () => {
    expect(issuesOf([1, 2])).toEqual([{ field: '(root)', message: 'expected an object, got a list' }]);
  });
});

describe('loadAgentConfig', () => {
  const noFile = (): string => {
    throw Object.assign(new Error('nope'), { code: 'ENOENT' });
  };

  test('reads the base64 JSON the injector encodes', () => {
    expect(loadAgentConfig({ VAULTBRIDGE_AGENT_CONFIG: encodeAgentConfig(valid) }, noFile)).toEqual(valid);
  });

  test('reads VAULTBRIDGE_AGENT_CONFIG_FILE when the env var is absent', () => {
    expect(
      loadAgentConfig({ VAULTBRIDGE_AGENT_CONFIG_FILE: '/etc/agent.json' }, (file) =>
        file === '/etc/agent.json' ? JSON.stringify(valid) : noFile(),
      ),
    ).toEqual(valid);
  });

  test.each<[string, Record<string, string>, string, RegExp]>([
    ['nothing set', {}, 'VAULTBRIDGE_AGENT_CONFIG', /not set/],
    [
      'not base64 JSON',
      { VAULTBRIDGE_AGENT_CONFIG: 'bm90IGpzb24=' },
      'VAULTBRIDGE_AGENT_CONFIG',
      /base64 of a JSON object/,
    ],
    [
      'an unreadable file',
      { VAULTBRIDGE_AGENT_CONFIG_FILE: '/missing.json' },
      'VAULTBRIDGE_AGENT_CONFIG_FILE',
      /cannot read \/missing.json \(ENOENT\)/,
    ],
  ])('%s is named', (_name, env, field, message) => {
    expect(() => loadAgentConfig(env, noFile)).toThrow(AgentConfigError);
    try {
      loadAgentConfig(env, noFile);
    } catch (error) {
      expect((error as AgentConfigError).issues[0]).toEqual({ field, message: expect.stringMatching(message) });
    }
  });
});

describe('retryBudgetMs', () => {
  test('defaults to two minutes, honours the env, rejects nonsense', () => {
    expect(retryBudgetMs({})).toBe(120_000);
    expect(retryBudgetMs({ VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '1500' })).toBe(1500);
    expect(() => retryBudgetMs({ VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: 'soon' })).toThrow(
      /VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: expected a number/,
    );
  });
});

describe('VAULT_* variables over the configuration (agent-configmap mode)', () => {
  // What a user puts in a ConfigMap: no vault section, no log section; the webhook's env fills them.
  const handWritten = JSON.stringify({
    version: 1,
    mode: 'sidecar',
    auth: valid.auth,
    secrets: valid.secrets,
    log: { level: 'Notice' },
  });
  const fromFile = (env: Record<string, string>) =>
    loadAgentConfig({ VAULTBRIDGE_AGENT_CONFIG_FILE: '/vault/configs/config.json', ...env }, () => handWritten);

  test("the pod's log and client settings reach a hand-written config, as vault-k8s passes them", () => {
    const config = fromFile({
      VAULT_ADDR: 'https://vault.example:8200',
      VAULT_SKIP_VERIFY: 'false',
      VAULT_LOG_LEVEL: 'warning',
      VAULT_LOG_FORMAT: 'json',
      VAULT_CLIENT_TIMEOUT: '45000ms',
      VAULT_MAX_RETRIES: '7',
      VAULT_CACERT: '/vault/tls/ca.crt',
      VAULT_CACERT_BYTES: '-----BEGIN CERTIFICATE-----\n',
    });
    expect(config.vault).toEqual({
      address: 'https://vault.example:8200',
      tlsSkipVerify: false,
      timeoutMs: 45_000,
      maxRetries: 7,
      caCert: '/vault/tls/ca.crt',
      caCertPem: '-----BEGIN CERTIFICATE-----\n',
    });
    expect(config.log).toEqual({ level: 'warn', format: 'json' });
  });

  test("a file's own Vault spelling of a log level is accepted", () => {
    expect(fromFile({ VAULT_ADDR: 'https://vault:8200' }).log.level).toBe('info');
  });

  test.each([
    ['VAULT_LOG_LEVEL', 'loud'],
    ['VAULT_CLIENT_TIMEOUT', 'soon'],
    ['VAULT_MAX_RETRIES', '-1'],
    ['VAULT_SKIP_VERIFY', 'perhaps'],
    ['VAULT_LOG_FORMAT', 'xml'],
  ])('a bad %s is named', (name, value) => {
    expect(() => fromFile({ VAULT_ADDR: 'https://vault:8200', [name]: value })).toThrow(
      new RegExp(`${name}: expected .*"${value}"`),
    );
  });
});

describe('any configuration text (a hand-written agent-configmap file) is a config or a clear error', () => {
  test('random JSON, and random changes to a valid config, never throw anything but AgentConfigError', async () => {
    const fc = (await import('fast-check')).default;
    const field = fc.constantFrom(
      'version',
      'mode',
      'vault',
      'auth',
      'tokenSinks',
      'secrets',
      'templateConfig',
      'pidFile',
      'readyFile',
      'log',
      'revokeOnShutdown',
    );
    const mutated = fc
      .record({ key: field, value: fc.jsonValue({ maxDepth: 3 }) })
      .map(({ key, value }) => ({ ...valid, [key]: value }));
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutated), (value) => {
        try {
          parseAgentConfig(value);
        } catch (error) {
          expect(error).toBeInstanceOf(AgentConfigError);
          expect((error as AgentConfigError).issues.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3_000 },
    );
  });
});
