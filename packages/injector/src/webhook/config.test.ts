import { parseServeFlags, ServeConfigError, serveWarnings } from './config.ts';

const tls = { tlsCertFile: '/tls/tls.crt', tlsKeyFile: '/tls/tls.key' };

describe('parseServeFlags', () => {
  it('maps upstream flags to injector defaults', () => {
    const config = parseServeFlags({
      ...tls,
      listen: ':8443',
      vaultAddress: 'https://vault:8200',
      runAsUser: '1000',
      revokeOnShutdown: 'true',
      cpuRequest: '50m',
      staticSecretRenderInterval: '1m30s',
    });
    expect(config.port).toBe(8443);
    expect(config.host).toBe('0.0.0.0');
    expect(config.defaults).toMatchObject({
      vaultAddress: 'https://vault:8200',
      runAsUser: 1000,
      revokeOnShutdown: true,
      resources: { requestsCpu: '50m' },
      staticSecretRenderInterval: '1m30s',
    });
    expect(config.tls).toEqual({ mode: 'files', certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' });
  });

  it('keeps the init agent resources apart from the sidecar ones', () => {
    const config = parseServeFlags({ ...tls, cpuRequest: '50m', initCpuRequest: '20m', initMemLimit: '32Mi' });
    expect(config.defaults.resources).toEqual({ requestsCpu: '50m' });
    expect(config.defaults.initResources).toEqual({ requestsCpu: '20m', limitsMem: '32Mi' });
  });

  it.each([
    [
      { runAsSameUser: 'maybe' },
      '--run-as-same-user (AGENT_INJECT_RUN_AS_SAME_USER): expected true or false, got "maybe"',
    ],
    [{ runAsUser: 'root' }, '--run-as-user (AGENT_INJECT_RUN_AS_USER): expected a non-negative integer, got "root"'],
    [
      { authMinBackoff: 'soon' },
      '--auth-min-backoff (AGENT_INJECT_AUTH_MIN_BACKOFF): expected a duration like 5s or 1m30s, got "soon"',
    ],
    [
      { defaultTemplate: 'yaml' },
      '--default-template (AGENT_INJECT_DEFAULT_TEMPLATE): expected "map" or "json", got "yaml"',
    ],
    [{ listen: '8080' }, '--listen (AGENT_INJECT_LISTEN): expected host:port or :port, got "8080"'],
    [
      { annotationDefaults: '[1]' },
      '--annotation-defaults (AGENT_INJECT_ANNOTATION_DEFAULTS): expected a JSON object of annotation name to string value, got "[1]"',
    ],
    [
      { tlsMinVersion: 'tls10' },
      '--tls-min-version (AGENT_INJECT_TLS_MIN_VERSION): expected "tls12" or "tls13", got "tls10"',
    ],
    [
      { workers: 'many' },
      '--workers (AGENT_INJECT_WORKERS): expected auto, or a number of worker threads from 0 to 64, got "many"',
    ],
    [
      { workers: '65' },
      '--workers (AGENT_INJECT_WORKERS): expected auto, or a number of worker threads from 0 to 64, got "65"',
    ],
  ])('rejects %o naming the flag, its env var and the accepted form', (flags, message) => {
    expect(() => parseServeFlags({ ...tls, ...flags })).toThrow(ServeConfigError);
    expect(() => parseServeFlags({ ...tls, ...flags })).toThrow(message);
  });

  it('reads --workers as auto or a count', () => {
    expect(parseServeFlags({ ...tls }).workers).toBe('auto');
    expect(parseServeFlags({ ...tls, workers: '0' }).workers).toBe(0);
    expect(parseServeFlags({ ...tls, workers: '3' }).workers).toBe(3);
  });

  it('needs a certificate source', () => {
    expect(() => parseServeFlags({})).toThrow(
      '--tls-auto (AGENT_INJECT_TLS_AUTO): expected the MutatingWebhookConfiguration name',
    );
    expect(() => parseServeFlags({ tlsAuto: 'injector-cfg' })).toThrow('--tls-auto-hosts');
    expect(parseServeFlags({ tlsAuto: 'injector-cfg', tlsAutoHosts: 'a.svc, 10.0.0.1' }).tls).toEqual({
      mode: 'auto',
      webhookConfigName: 'injector-cfg',
      hosts: ['a.svc', '10.0.0.1'],
      secretName: 'vaultbridge-injector-certs',
    });
  });
});

describe('--agent-kind (AGENT_INJECT_AGENT_KIND)', () => {
  test("vault is passed on as the pods' default, any case; unset leaves ours", () => {
    expect(parseServeFlags({ ...tls, agentKind: 'Vault' }).defaults.agentKind).toBe('vault');
    expect(parseServeFlags({ ...tls }).defaults.agentKind).toBeUndefined();
  });

  test('an unknown kind names the flag, its env var and the choices', () => {
    expect(() => parseServeFlags({ ...tls, agentKind: 'consul' })).toThrow(ServeConfigError);
    expect(() => parseServeFlags({ ...tls, agentKind: 'consul' })).toThrow(
      '--agent-kind (AGENT_INJECT_AGENT_KIND): expected vaultbridge or vault, got "consul"',
    );
  });

  test('--vault-agent-image (AGENT_INJECT_VAULT_AGENT_IMAGE) is passed on; unset or empty leaves it out', () => {
    expect(parseServeFlags({ ...tls, vaultAgentImage: 'registry.example/vault:1.13.3' }).defaults.vaultAgentImage).toBe(
      'registry.example/vault:1.13.3',
    );
    expect(parseServeFlags({ ...tls, vaultAgentImage: '' }).defaults.vaultAgentImage).toBeUndefined();
    expect(parseServeFlags({ ...tls }).defaults.vaultAgentImage).toBeUndefined();
  });

  test("HashiCorp's image is expected, not warned about, with agent-kind vault", () => {
    expect(serveWarnings(parseServeFlags({ ...tls, agentImage: 'hashicorp/vault:1.13.3' }))).toHaveLength(1);
    expect(
      serveWarnings(parseServeFlags({ ...tls, agentImage: 'hashicorp/vault:1.13.3', agentKind: 'vault' })),
    ).toEqual([]);
  });
});
