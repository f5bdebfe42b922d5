import { describe, expect, test } from '@jest/globals';
import type { V1Container } from '@kubernetes/client-node';
import { pod, VAULT_ADDR } from '../../test/support/pods.ts';
import type { InjectorDefaults } from '../annotations/defaults.ts';
import { parseAnnotations } from '../annotations/parse.ts';
import { mutatePod } from './mutate.ts';
import { VAULT_CONFIG_ENV } from './vault-agent-config.ts';

function agents(
  annotations: Record<string, string>,
  defaults: InjectorDefaults = {},
): { init?: V1Container; sidecar?: V1Container } {
  const p = pod({ 'agent-kind': 'vault', ...annotations });
  const after = mutatePod(p, parseAnnotations(p, { vaultAddress: VAULT_ADDR, ...defaults }, { namespace: 'app' }));
  const all = [...(after.spec?.containers ?? []), ...(after.spec?.initContainers ?? [])];
  const init = all.find((c) => c.name === 'vault-agent-init');
  const sidecar = all.find((c) => c.name === 'vault-agent');
  return { ...(init === undefined ? {} : { init }), ...(sidecar === undefined ? {} : { sidecar }) };
}

function configOf(container: V1Container | undefined): Record<string, unknown> {
  const encoded = container?.env?.find((e) => e.name === VAULT_CONFIG_ENV)?.value;
  if (encoded === undefined) throw new Error('no VAULT_CONFIG');
  return JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as Record<string, unknown>;
}

describe('VAULT_CONFIG for agent-kind vault (vault-k8s agent/config.go)', () => {
  test('a typical pod: auto_auth, sink, default map template, exit_after_auth only for init', () => {
    const { init, sidecar } = agents({ role: 'web', 'agent-inject-secret-db.txt': 'secret/data/db' });
    const common = {
      auto_auth: {
        method: {
          type: 'kubernetes',
          mount_path: 'auth/kubernetes',
          config: { role: 'web', token_path: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
        },
        sink: [{ type: 'file', config: { path: '/home/vault/.vault-token' } }],
      },
      pid_file: '/home/vault/.pid',
      vault: { address: VAULT_ADDR },
      template: [
        {
          destination: '/vault/secrets/db.txt',
          contents:
            '{{ with secret "secret/data/db" }}{{ range $k, $v := .Data }}{{ $k }}: {{ $v }}\n{{ end }}{{ end }}',
          left_delimiter: '{{',
          right_delimiter: '}}',
          error_on_missing_key: false,
        },
      ],
      template_config: { exit_on_retry_failure: true },
    };
    expect(configOf(init)).toEqual({ ...common, exit_after_auth: true });
    expect(configOf(sidecar)).toEqual({ ...common, exit_after_auth: false });
  });

  test('json default template, perms, command, injected token sink, namespace, backoffs', () => {
    const { init } = agents({
      role: 'web',
      namespace: 'team-a',
      'agent-inject-default-template': 'json',
      'agent-inject-secret-app': 'kv/data/app',
      'agent-inject-perms-app': '0440',
      'agent-inject-command-app': 'kill -HUP 1',
      'agent-inject-token': 'true',
      'auth-min-backoff': '2s',
      'agent-pre-populate-only': 'true',
    });
    const config = configOf(init);
    expect(config.template).toEqual([
      {
        destination: '/vault/secrets/app',
        contents: '{{ with secret "kv/data/app" }}{{ .Data | toJSON }}\n{{ end }}',
        left_delimiter: '{{',
        right_delimiter: '}}',
        command: 'kill -HUP 1',
        perms: '0440',
        error_on_missing_key: false,
      },
    ]);
    const autoAuth = config.auto_auth as { method: Record<string, unknown>; sink: unknown[] };
    expect(autoAuth.method).toMatchObject({ namespace: 'team-a', min_backoff: '2s' });
    expect(autoAuth.sink).toEqual([
      { type: 'file', config: { path: '/home/vault/.vault-token' } },
      { type: 'file', config: { path: '/vault/secrets/token' } },
    ]);
  });

  test('the cache: persistent in both containers, listener on localhost, enable_quit on it', () => {
    const { init, sidecar } = agents({
      role: 'web',
      'agent-inject-secret-a': 'kv/data/a',
      'agent-cache-enable': 'true',
      'agent-enable-quit': 'true',
    });
    for (const container of [init, sidecar]) {
      const config = configOf(container);
      expect(config.cache).toEqual({
        use_auto_auth_token: 'true',
        persist: { type: 'kubernetes', path: '/vault/agent-cache' },
      });
      expect(config.listener).toEqual([
        { type: 'tcp', address: '127.0.0.1:8200', tls_disable: true, agent_api: { enable_quit: true } },
      ]);
    }
  });

  test('the containers: upstream image and command, Vault env, no vaultbridge-agent config', () => {
    const { init } = agents({
      role: 'web',
      'agent-inject-secret-a': 'kv/data/a',
      'client-max-retries': '3',
      'log-level': 'debug',
    });
    expect(init?.image).toBe('hashicorp/vault:1.13.3');
    expect(init?.command).toEqual(['/bin/sh', '-ec']);
    expect(init?.args).toEqual([
      'echo ${VAULT_CONFIG?} | base64 -d > /home/vault/config.json && vault agent -config=/home/vault/config.json',
    ]);
    const env = Object.fromEntries(
      (init?.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({ VAULT_LOG_LEVEL: 'debug', VAULT_MAX_RETRIES: '3' });
    expect(env.VAULTBRIDGE_AGENT_CONFIG).toBeUndefined();
  });

  test("agent-configmap: the agent runs on the ConfigMap's HCL file, as upstream", () => {
    const { init, sidecar } = agents({ role: 'web', 'agent-configmap': 'my-agent-config' });
    expect(init?.args).toEqual([
      'touch /home/vault/.vault-token && vault agent -config=/vault/configs/config-init.hcl',
    ]);
    expect(sidecar?.args).toEqual(['touch /home/vault/.vault-token && vault agent -config=/vault/configs/config.hcl']);
  });

  test('an explicit agent-image wins (OpenBao), and a bad kind is denied naming the annotation', () => {
    const { init } = agents({
      role: 'web',
      'agent-inject-secret-a': 'kv/data/a',
      'agent-image': 'openbao/openbao:2.1.0',
    });
    expect(init?.image).toBe('openbao/openbao:2.1.0');
    expect(() => agents({ role: 'web', 'agent-inject-secret-a': 'kv/data/a', 'agent-kind': 'consul' })).toThrow(
      /agent-kind.*vaultbridge, vault/s,
    );
  });
});
