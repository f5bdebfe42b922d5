// agent-configmap (issue 9): a pod moved from vault-k8s keeps its ConfigMap, and the Vault Agent
// configuration in it (config-init.hcl, in the shape vault-k8s's and Vault's documentation give)
// renders unchanged with our agent. Proof: the same file is run by HashiCorp's Vault Agent (the
// stack's own Vault 1.13 binary, `vault agent -config`) and by ours, against the same real Vault, and
// the files both write are compared byte for byte (by shape where Vault issues new values per read).
// Absolute pod paths are moved under a temporary root for each (VAULTBRIDGE_AGENT_ROOT for ours; the
// file's paths rewritten for Vault's, which has no such option).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath, sharedStack, type TestStack } from '@vaultbridge/testenv';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');
const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

let stack: TestStack;
let ns: string;
let role: string;
let kv: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('agentcm');
  role = `${ns}-app`;
  kv = `${stack.layout.kvV2Mount}/data/${ns}/config`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  const { kvV2Mount, databaseMount, databaseRole, pkiMount, pkiRole } = stack.layout;
  await stack.writePolicy(
    role,
    `
path "${kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "${pkiMount}/issue/${pkiRole}" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(kv, {
    data: {
      username: 'app-user',
      password: 'p@ss"w<o>rd',
      port: 5432,
      tags: ['a', 'b'],
      'db/host': 'db.internal',
      'db/name': 'app',
    },
  });
});

/** The ConfigMap's files: config-init.hcl as vault-k8s's and Vault Agent's documentation write them, and a template file. */
function configMap(): Record<string, string> {
  const { databaseMount, databaseRole, pkiMount, pkiRole } = stack.layout;
  const configInit = `
"auto_auth" = {
  "method" = {
    "config" = {
      "role" = "${role}"
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

"exit_after_auth" = true
"pid_file" = "/home/vault/.pid"

"template" = {
  "contents" = "{{- with secret \\"${kv}\\" -}}postgres://{{ .Data.data.username }}:{{ .Data.data.password }}@{{ index .Data.data \\"db/host\\" }}:{{ .Data.data.port }}/{{ index .Data.data \\"db/name\\" }}?sslmode=disable{{- end }}"
  "destination" = "/vault/secrets/db-url"
}

"template" = {
  "contents" = "{{- with secret \\"${databaseMount}/creds/${databaseRole}\\" -}}postgres://{{ .Data.username }}:{{ .Data.password }}@postgres:5432/mydb?sslmode=disable{{- end }}"
  "destination" = "/vault/secrets/db-creds"
}

"vault" = {
  "address" = "${stack.vaultAddr}"
}

template {
  source      = "/vault/configs/app.ctmpl"
  destination = "/vault/secrets/app.env"
  perms       = "0640"
}

template {
  contents = <<EOH
[[ with secret "${kv}" -]]
user: [[ .Data.data.username ]]
tags: [[ .Data.data.tags | toJSON ]]
nested: [[ explodeMap .Data.data | toJSON ]]
[[ end -]]
EOH
  destination          = "/vault/secrets/delimited.yaml"
  left_delimiter       = "[["
  right_delimiter      = "]]"
  error_on_missing_key = true
  perms                = 0400
}

template {
  contents    = <<-EOT
    {{- with pkiCert "${pkiMount}/issue/${pkiRole}" "common_name=web.example.test" "ttl=1h" -}}
    {{ .Cert }}{{ .Key | writeToFile "/vault/secrets/web.key" "" "" "0600" }}
    {{- end }}
  EOT
  destination = "/vault/secrets/web.crt"
}

template {
  contents    = <<-EOT
    {{- scratch.Set "count" 0 -}}
    {{- with secret "${kv}" }}{{ range $k, $v := .Data.data }}{{ scratch.MapSet "keys" $k $k }}{{ scratch.Set "count" (add 1 (scratch.Get "count")) }}{{ end }}
    {{- .Data.data.username | writeToFile "/vault/secrets/user.txt" "" "" "0600" "newline" }}{{ end -}}
    {{- scratch.Get "count" }} keys: {{ scratch.MapValues "keys" | toJSON }}
  EOT
  destination = "/vault/secrets/scratch.txt"
}
`;
  const appTemplate = `{{ with secret "${kv}" }}{{ range $k, $v := .Data.data }}{{ $k | toUpper | replaceAll "/" "_" }}={{ $v }}
{{ end }}{{ end }}`;
  return { 'config-init.hcl': configInit, 'app.ctmpl': appTemplate };
}

/** A fresh root with the pod's service-account token and the ConfigMap mounted, as the kubelet lays them. */
async function podRoot(files: Record<string, string>): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agentcm-e2e-'));
  const { token } = await stack.requestToken(ns, 'app', { audiences: ['vault'] });
  for (const [file, text] of [
    [TOKEN_PATH, token],
    ...Object.entries(files).map(([name, text]) => [`/vault/configs/${name}`, text]),
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  for (const dir of ['/vault/secrets', '/home/vault']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  return root;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      output += '\n[test] did not exit within 60 s; killed';
      child.kill('SIGKILL');
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** HashiCorp's Vault Agent on the ConfigMap, its absolute paths moved under `root`. */
async function runVaultAgent(root: string): Promise<{ code: number | null; output: string }> {
  const file = path.join(root, 'vault/configs/config-init.hcl');
  const moved = fs
    .readFileSync(file, 'utf8')
    .replaceAll('"/vault/', `"${root}/vault/`)
    .replaceAll('"/home/vault/', `"${root}/home/vault/`)
    .replace(`"role" = "${role}"`, `"role" = "${role}"\n      "token_path" = "${root}${TOKEN_PATH}"`);
  fs.writeFileSync(file, moved);
  // As testenv starts the server: Vault 1.13's bundled gosnowflake rejects a CA cert in Go's newer x509 without it.
  return run(binaryPath('vault'), ['agent', `-config=${file}`], {
    HOME: path.join(root, 'home/vault'),
    GODEBUG: 'x509negativeserial=1',
  });
}

/** Ours, as the webhook starts it with agent-configmap: the file named by VAULTBRIDGE_AGENT_CONFIG_FILE. */
function runOurAgent(root: string): Promise<{ code: number | null; output: string }> {
  return run(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
    {
      // The webhook names config-init.json; a ConfigMap brought from vault-k8s holds config-init.hcl.
      VAULTBRIDGE_AGENT_CONFIG_FILE: path.join(root, 'vault/configs/config-init.json'),
      VAULTBRIDGE_AGENT_ROOT: root,
    },
  );
}

const read = (root: string, file: string): string => fs.readFileSync(path.join(root, file), 'utf8');
const mode = (root: string, file: string): number => fs.statSync(path.join(root, file)).mode & 0o777;

test('a vault-k8s agent-configmap renders the same files with our agent as with Vault Agent', async () => {
  const files = configMap();
  const theirRoot = await podRoot(files);
  const ourRoot = await podRoot(files);
  const theirs = await runVaultAgent(theirRoot);
  expect(theirs.code === 0 ? 'exit 0' : theirs.output).toBe('exit 0');
  const ours = await runOurAgent(ourRoot);
  expect(ours.code === 0 ? 'exit 0' : ours.output).toBe('exit 0');

  // The same files, none more or less (the token and pid files are in the home, not here).
  expect(fs.readdirSync(path.join(ourRoot, 'vault/secrets')).sort()).toEqual(
    fs.readdirSync(path.join(theirRoot, 'vault/secrets')).sort(),
  );
  // Fixed by the data: byte for byte, and the same file modes.
  for (const file of ['db-url', 'app.env', 'delimited.yaml', 'scratch.txt', 'user.txt']) {
    expect({ file, text: read(ourRoot, `vault/secrets/${file}`) }).toEqual({
      file,
      text: read(theirRoot, `vault/secrets/${file}`),
    });
    expect({ file, mode: mode(ourRoot, `vault/secrets/${file}`) }).toEqual({
      file,
      mode: mode(theirRoot, `vault/secrets/${file}`),
    });
  }
  expect(read(ourRoot, 'vault/secrets/db-url')).toBe(
    'postgres://app-user:p@ss"w<o>rd@db.internal:5432/app?sslmode=disable',
  );
  expect(read(ourRoot, 'vault/secrets/user.txt')).toBe('app-user\n');
  expect(mode(ourRoot, 'vault/secrets/app.env')).toBe(0o640);
  expect(mode(ourRoot, 'vault/secrets/delimited.yaml')).toBe(0o400);

  // Issued per read: the same shape.
  const creds = /^postgres:\/\/v-[\w-]+:[\w-]+@postgres:5432\/mydb\?sslmode=disable$/;
  expect(read(theirRoot, 'vault/secrets/db-creds')).toMatch(creds);
  expect(read(ourRoot, 'vault/secrets/db-creds')).toMatch(creds);
  for (const root of [theirRoot, ourRoot]) {
    // .Cert ends with its newline, and the heredoc adds one.
    expect(read(root, 'vault/secrets/web.crt')).toMatch(
      /^-----BEGIN CERTIFICATE-----\n[\s\S]+-----END CERTIFICATE-----\n\n$/,
    );
    expect(read(root, 'vault/secrets/web.key')).toMatch(
      /^-----BEGIN (RSA |EC )?PRIVATE KEY-----\n[\s\S]+-----END (RSA |EC )?PRIVATE KEY-----\n$/,
    );
    expect(mode(root, 'vault/secrets/web.key')).toBe(0o600);
    expect(read(root, 'home/vault/.token')).toMatch(/^(hv[sb]|s)\./);
  }
  expect(ours.output).not.toContain('p@ss');
}, 120_000);

test('a setting our agent cannot honour stops it with the field named, before anything is written', async () => {
  const files = configMap();
  files['config-init.hcl'] =
    `${files['config-init.hcl']}\ntemplate {\n  contents = "x"\n  destination = "/vault/secrets/x"\n  sandbox_path = "/tmp"\n}\n`;
  const root = await podRoot(files);
  const ours = await runOurAgent(root);
  expect(ours.code).not.toBe(0);
  expect(ours.output).toContain('template[6].sandbox_path');
  expect(fs.readdirSync(path.join(root, 'vault/secrets'))).toEqual([]);
});

test('config.hcl runs the sidecar: ready after the first render, a changed KV secret re-rendered, SIGTERM stops it', async () => {
  const secret = `${stack.layout.kvV2Mount}/data/${ns}/sidecar`;
  await stack.vaultAdmin.write(secret, { data: { password: 'sidecar-1' } });
  const root = await podRoot({
    'config.hcl': `
vault {
  address = "${stack.vaultAddr}"
}
auto_auth {
  method "kubernetes" {
    config = {
      role = "${role}"
    }
  }
  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
    }
  }
}
template_config {
  static_secret_render_interval = "1s"
}
template {
  contents    = "{{ with secret \\"${secret}\\" }}password={{ .Data.data.password }}{{ end }}\\n"
  destination = "/vault/secrets/sidecar.txt"
}
`,
  });
  const child = spawn(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'sidecar'],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        VAULTBRIDGE_AGENT_CONFIG_FILE: path.join(root, 'vault/configs/config.json'),
        VAULTBRIDGE_AGENT_ROOT: root,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 20_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const file = path.join(root, 'vault/secrets/sidecar.txt');
  try {
    await waitFor('the ready file', () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')));
    expect(fs.readFileSync(file, 'utf8')).toBe('password=sidecar-1\n');
    await stack.vaultAdmin.write(secret, { data: { password: 'sidecar-2' } });
    await waitFor('the re-rendered secret', () => fs.readFileSync(file, 'utf8') === 'password=sidecar-2\n');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output).not.toContain('sidecar-2');
  } finally {
    child.kill('SIGKILL');
  }
}, 60_000);
