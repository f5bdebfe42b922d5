// Vault Agent configuration files (agent-configmap) read as the agent's configuration: the HCL forms
// vault-k8s's and Vault's documentation use, and a clear error for each setting the agent cannot honour.
import fc from 'fast-check';
import { parseAgentConfig } from './contract/index.ts';
import { parseHcl } from './hcl.ts';
import { readVaultAgentFile } from './vault-agent-file.ts';

// The shape of vault-k8s's ConfigMap example: quoted keys, objects assigned with "=".
const CONFIGMAP_STYLE = `
"auto_auth" = {
  "method" = {
    "config" = {
      "role" = "db-app"
    }
    "type" = "kubernetes"
  }

  "sink" = {
    "config" = {
      "path" = "/home/vault/.token"
    }

    "type" = "file"
  }
}

"exit_after_auth" = false
"pid_file" = "/home/vault/.pid"

"template" = {
  "contents" = "{{- with secret \\"database/creds/db-app\\" -}}postgres://{{ .Data.username }}:{{ .Data.password }}@postgres:5432/mydb?sslmode=disable{{- end }}"
  "destination" = "/vault/secrets/db-creds"
}

"vault" = {
  "address" = "https://vault.demo.svc.cluster.local:8200"
}
`;

// The shape of Vault Agent's own documentation: blocks, labels, heredocs, several templates.
const AGENT_DOCS_STYLE = `
pid_file = "./pidfile"
exit_after_auth = true

vault {
  address = "http://127.0.0.1:8200"
  retry {
    num_retries = 5
  }
}

auto_auth {
  method "kubernetes" {
    mount_path = "auth/k8s"
    config = {
      role = "web"
      token_path = "/var/run/secrets/tokens/vault"
    }
  }
  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
    }
  }
}

template_config {
  static_secret_render_interval = "10m"
  exit_on_retry_failure = true
}

# a file template
template {
  source      = "/vault/configs/server.key.ctmpl"
  destination = "/vault/secrets/server.key"
  perms       = "0600"
  command     = "echo reloaded"
}

template {
  contents = <<-EOT
    {{ with secret "pki/issue/example-dot-com" "common_name=foo.example.com" }}
    {{ .Data.private_key }}
    {{ end }}
  EOT
  destination = "/vault/secrets/key.pem"
  perms = 0640
  left_delimiter = "[["
  right_delimiter = "]]"
  error_on_missing_key = true
  exec {
    command = ["sh", "-c", "kill -HUP 1"]
  }
}
`;

test('vault-k8s ConfigMap style: one template, kubernetes auth, a file sink', () => {
  const { value, issues } = readVaultAgentFile(CONFIGMAP_STYLE, '/vault/configs/config.hcl');
  expect(issues).toEqual([]);
  const config = parseAgentConfig(value, 'config.hcl');
  expect(config.mode).toBe('sidecar');
  expect(config.readyFile).toBe('/home/vault/.vaultbridge-ready');
  expect(config.vault.address).toBe('https://vault.demo.svc.cluster.local:8200');
  expect(config.auth).toMatchObject({
    type: 'kubernetes',
    mountPath: 'auth/kubernetes',
    role: 'db-app',
    serviceAccountTokenPath: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  });
  expect(config.tokenSinks).toEqual(['/home/vault/.token']);
  expect(config.pidFile).toBe('/home/vault/.pid');
  expect(config.secrets).toEqual([
    expect.objectContaining({
      name: 'db-creds',
      destination: '/vault/secrets/db-creds',
      template:
        '{{- with secret "database/creds/db-app" -}}postgres://{{ .Data.username }}:{{ .Data.password }}@postgres:5432/mydb?sslmode=disable{{- end }}',
      templateEngine: 'go',
      leftDelimiter: '{{',
      rightDelimiter: '}}',
      errorOnMissingKey: false,
    }),
  ]);
});

test('Vault Agent docs style: labelled blocks, heredoc, source, perms, delimiters, exec', () => {
  const { value, issues } = readVaultAgentFile(AGENT_DOCS_STYLE, '/vault/configs/config-init.hcl');
  expect(issues).toEqual([]);
  const config = parseAgentConfig({ ...value, pidFile: '/home/vault/pidfile' }, 'config-init.hcl');
  expect(config.mode).toBe('init');
  expect(config.vault.maxRetries).toBe(5);
  expect(config.auth).toMatchObject({
    mountPath: 'auth/k8s',
    role: 'web',
    serviceAccountTokenPath: '/var/run/secrets/tokens/vault',
  });
  expect(config.templateConfig).toEqual({ exitOnRetryFailure: true, staticSecretRenderIntervalMs: 600_000 });
  expect(config.secrets[0]).toMatchObject({
    templateFile: '/vault/configs/server.key.ctmpl',
    destination: '/vault/secrets/server.key',
    perms: 0o600,
    command: 'echo reloaded',
  });
  expect(config.secrets[1]).toMatchObject({
    template:
      '{{ with secret "pki/issue/example-dot-com" "common_name=foo.example.com" }}\n{{ .Data.private_key }}\n{{ end }}\n',
    perms: 0o640,
    leftDelimiter: '[[',
    rightDelimiter: ']]',
    errorOnMissingKey: true,
    command: "sh -c 'kill -HUP 1'",
  });
});

test('JSON files (what vault-k8s generates) read the same way, repeated templates as a list', () => {
  const json = JSON.stringify({
    auto_auth: {
      method: { type: 'kubernetes', config: { role: 'r' } },
      sink: [{ type: 'file', config: { path: '/home/vault/.vault-token' } }],
    },
    exit_after_auth: true,
    template: [
      { destination: '/vault/secrets/a', contents: 'a' },
      { destination: '/vault/secrets/b', contents: '${not interpolated} {{ "b" }}' },
    ],
    vault: { address: 'http://vault:8200' },
  });
  const { value, issues } = readVaultAgentFile(json, 'config-init.hcl');
  expect(issues).toEqual([]);
  const config = parseAgentConfig(value);
  expect(config.secrets.map((s) => [s.destination, s.template])).toEqual([
    ['/vault/secrets/a', 'a'],
    ['/vault/secrets/b', '${not interpolated} {{ "b" }}'],
  ]);
});

test('what the agent cannot honour is refused by name, with the fix', () => {
  const { issues } = readVaultAgentFile(
    `
vault { address = "http://v:8200" }
auto_auth {
  method "aws" { config = { role = "x" } }
  sink "file" {
    wrap_ttl = "5m"
    config = { path = "/home/vault/t" }
  }
}
template {
  contents = "x"
  destination = "/vault/secrets/x"
  sandbox_path = "/tmp"
  perms = "rw"
}
template { destination = "/vault/secrets/y" }
env_template "FOO" { contents = "x" }
`,
    'config.hcl',
  );
  expect(issues).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        field: 'auto_auth.method.type',
        message: expect.stringContaining('agent-kind: vault'),
      }),
      expect.objectContaining({
        field: 'auto_auth.sink[0].wrap_ttl',
        message: expect.stringContaining('remove wrap_ttl'),
      }),
      expect.objectContaining({ field: 'template[0].sandbox_path' }),
      expect.objectContaining({ field: 'template[0].perms', message: expect.stringContaining('octal') }),
      expect.objectContaining({ field: 'template[1]', message: 'needs contents or source' }),
      expect.objectContaining({ field: 'env_template' }),
    ]),
  );
});

describe('cache listener "tcp"', () => {
  const withListener = (listener: string, cache = 'cache { use_auto_auth_token = true }') => `
vault { address = "http://v:8200" }
auto_auth {
  method "kubernetes" { config = { role = "r" } }
}
${cache}
${listener}
`;
  const REQUIRED =
    "required: Vault Agent's listener serves TLS unless tls_disable = true; give tls_cert_file and tls_key_file (PEM), or set tls_disable = true";

  test('tls_disable: plain HTTP on the address, as vault-k8s writes it', () => {
    const { value, issues } = readVaultAgentFile(
      withListener('listener "tcp" {\n  address = "127.0.0.1:8100"\n  tls_disable = true\n}'),
      'config.hcl',
    );
    expect(issues).toEqual([]);
    expect(parseAgentConfig(value).cache).toEqual({ listenerAddress: '127.0.0.1:8100', useAutoAuthToken: 'true' });
  });

  test('tls_cert_file and tls_key_file: HTTPS with them, tls_min_version kept; agent_api.enable_quit on the same port', () => {
    const { value, issues } = readVaultAgentFile(
      withListener(`listener "tcp" {
  address = "127.0.0.1:8100"
  tls_cert_file = "/vault/tls/tls.crt"
  tls_key_file = "/vault/tls/tls.key"
  tls_min_version = "tls13"
  agent_api {
    enable_quit = true
  }
}`),
      'config.hcl',
    );
    expect(issues).toEqual([]);
    const config = parseAgentConfig(value);
    expect(config.cache).toEqual({
      listenerAddress: '127.0.0.1:8100',
      useAutoAuthToken: 'true',
      tls: { certFile: '/vault/tls/tls.crt', keyFile: '/vault/tls/tls.key', minVersion: 'tls13' },
    });
    expect(config.quit).toEqual({ listenerAddress: '127.0.0.1:8100' });
  });

  test.each([
    [
      'no TLS files and no tls_disable (Vault Agent refuses to start)',
      'listener "tcp" { address = "127.0.0.1:8100" }',
      [{ field: 'listener.tls_cert_file', message: REQUIRED }],
    ],
    [
      'a certificate without its key',
      'listener "tcp" {\n address = "127.0.0.1:8100"\n tls_cert_file = "/vault/tls/tls.crt"\n}',
      [{ field: 'listener.tls_key_file', message: REQUIRED }],
    ],
    [
      'an unknown TLS version',
      'listener "tcp" {\n tls_cert_file = "/c"\n tls_key_file = "/k"\n tls_min_version = "tls9"\n}',
      [{ field: 'listener.tls_min_version', message: 'expected tls10, tls11, tls12 or tls13, got "tls9"' }],
    ],
    [
      'client certificates, cipher suites and a request header',
      'listener "tcp" {\n tls_disable = true\n tls_require_and_verify_client_cert = true\n tls_client_ca_file = "/ca"\n tls_cipher_suites = "x"\n require_request_header = true\n}',
      ['tls_require_and_verify_client_cert', 'tls_client_ca_file', 'tls_cipher_suites', 'require_request_header'].map(
        (key) => ({
          field: `listener.${key}`,
          message:
            "not a setting Vaultbridge's agent reads (it reads type, address, tls_disable, tls_cert_file, tls_key_file, tls_min_version, agent_api)",
        }),
      ),
    ],
    [
      'a unix socket',
      'listener "unix" { address = "/tmp/agent.sock" }',
      [{ field: 'listener', message: 'listener "unix" is not supported: use listener "tcp" on 127.0.0.1' }],
    ],
  ])('refuses %s by name', (_name, listener, expected) => {
    expect(readVaultAgentFile(withListener(listener), 'config.hcl').issues).toEqual(expected);
  });
});

test('HCL syntax errors name the line', () => {
  const { issues } = readVaultAgentFile('vault {\n  address = "http://v:8200"\n\ntemplate {\n', 'config.hcl');
  expect(issues[0]?.message).toMatch(/^not valid HCL: line \d+: block not closed/);
  expect(() => parseHcl('a = "unterminated\n')).toThrow(/line 1: a quoted string cannot span lines/);
  expect(parseHcl('a = 0600\nb = "x\\"y"\n# c\n/* d */ e = [1, "two", true]').entries).toEqual(
    new Map<string, unknown>([
      ['a', [0o600]],
      ['b', ['x"y']],
      ['e', [[1, 'two', true]]],
    ]),
  );
});

test('any text is read or refused with issues, never a crash (fast-check, seeded)', () => {
  const pieces = fc.constantFrom(
    'template',
    'vault',
    'auto_auth',
    'method',
    '"kubernetes"',
    '=',
    '{',
    '}',
    '[',
    ']',
    ',',
    '"x"',
    '"\\\\u00e9"',
    '<<EOT\nx\nEOT\n',
    '<<-E\n  y\n  E\n',
    '0600',
    '-1.5e3',
    'true',
    '#c\n',
    '/* c */',
    '//c\n',
    '\n',
    ' ',
    '"unterminated',
    '\\\\q',
    'ß',
    ':',
    'null',
  );
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.array(pieces, { maxLength: 40 }).map((p) => p.join(' ')),
      ),
      (text) => {
        const { issues } = readVaultAgentFile(text, '/vault/configs/config.hcl');
        for (const issue of issues) expect(typeof issue.message).toBe('string');
      },
    ),
    { seed: 20261206, numRuns: 2000 },
  );
});
