// The injector's other modes in real pods (issue 10), beyond injector.test.ts (kubernetes auth, our
// agent from the generated config): HashiCorp's agent (`agent-kind: vault`, from the local image of the
// stack's Vault binary that the chart's injector.vaultAgentImage names), a hand-written Vault Agent
// config (`agent-configmap`), the jwt, approle and cert auto-auth methods with their credentials in
// Kubernetes Secrets as vault-k8s users mount them, and the cache listener over TLS. Every pod is
// created up front so they start together; each case then waits for its own pod and reads what its app
// container prints.
import type * as k8s from '@kubernetes/client-node';
import { toolVersions } from '../../src/binaries.ts';
import { createCertificateAuthority, issueCertificate } from '../../src/certs.ts';
import { serviceImage, vaultAgentImage } from '../../src/cluster/images.ts';
import {
  appNamespace,
  clusterStackWithChart,
  createAppDeployment,
  lastPrint,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  waitForPrint,
  type ClusterStack,
} from './support.ts';

const env: ClusterStack = clusterStackWithChart();
const secretFile = '/vault/secrets/config.txt';
let namespace: string;
let role: string;

/** KV v2 path `secret/data/<namespace>/<name>` holding `password`. */
async function kvSecret(name: string, password: string): Promise<string> {
  const path = `secret/data/${namespace}/${name}`;
  await env.stack.vaultAdmin.write(path, { data: { password } });
  return path;
}

/** A consul-template template (both agents read it) of the secret's password and, optionally, the auth path the token came from. */
function template(path: string, withLogin: boolean): string {
  const password = `{{ with secret "${path}" }}password={{ .Data.data.password }}{{ end }}\n`;
  return withLogin
    ? `${password}{{ with secret "auth/token/lookup-self" }}login={{ .Data.path }}{{ end }}\n`
    : password;
}

function injected(path: string, extra: Record<string, string>, withLogin = false): Record<string, string> {
  return {
    'vault.hashicorp.com/agent-inject': 'true',
    'vault.hashicorp.com/agent-inject-secret-config.txt': path,
    'vault.hashicorp.com/agent-inject-template-config.txt': template(path, withLogin),
    'vault.hashicorp.com/template-static-secret-render-interval': '1s',
    ...extra,
  };
}

async function createSecret(name: string, stringData: Record<string, string>): Promise<void> {
  await env.stack.kube.core.createNamespacedSecret({ namespace, body: { metadata: { name }, stringData } });
}

async function createConfigMap(name: string, data: Record<string, string>): Promise<void> {
  await env.stack.kube.core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data } });
}

/** The one Ready pod of Deployment `name`, checked to be injected. */
async function readyPod(name: string): Promise<k8s.V1Pod> {
  const [pod] = await waitForPodsReady(env, namespace, `app=${name}`);
  expect(pod!.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBe('injected');
  return pod!;
}

const catApp = (): k8s.V1Container => printingContainer(env.cluster.images.injector, `cat ${secretFile}`);

/** Vault Agent's own config files, as a vault-k8s user's ConfigMap holds them (`agent-configmap`). */
function vaultAgentHcl(path: string, init: boolean, listener?: string): string {
  return `${init ? 'exit_after_auth = true\n' : ''}pid_file = "/home/vault/.pid"
auto_auth {
  method "kubernetes" {
    mount_path = "auth/${env.stack.layout.kubernetesAuthMount}"
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
  destination = "${secretFile}"
  contents = <<EOT
${template(path, false)}EOT
}
${init ? '' : (listener ?? '')}`;
}

// What the TLS-listener app runs: reads the secret through the agent's cache listener, once verifying
// the listener's certificate against the CA it was given and once with Node's default CAs only.
const listenerClient = `import fs from 'node:fs';
import https from 'node:https';
const url = process.argv[2];
const ca = fs.readFileSync('/etc/listener-client/ca.crt');
const get = (options) =>
  new Promise((resolve) => {
    const request = https.get(url, { ...options, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        try {
          resolve(response.statusCode + ' password=' + JSON.parse(body).data.data.password);
        } catch {
          resolve(response.statusCode + ' ' + body.trim());
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', (error) => resolve('error ' + (error.code ?? error.message)));
  });
for (;;) {
  const verified = await get({ ca });
  const defaultCas = await get({});
  process.stdout.write('<<<\\nwith the CA: ' + verified + '\\nwithout it: ' + defaultCas + '\\n>>>\\n');
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
`;

const mounts = {
  jwt: () => `jwt-${namespace}`,
  approle: () => `approle-${namespace}`,
  cert: () => `cert-${namespace}`,
};

beforeAll(async () => {
  namespace = await appNamespace(env, 'inj-modes');
  role = `${namespace}-app`;
  await env.stack.writePolicy(role, `path "secret/data/${namespace}/*" { capabilities = ["read"] }`);
  await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });
  const [vaultKind, configMapPath, cachePath, authPath] = await Promise.all([
    kvSecret('vault-kind', 'vault-agent-first'),
    kvSecret('configmap', 'configmap-first'),
    kvSecret('cache', 'through-tls'),
    kvSecret('auth', 'auth-methods'),
  ]);

  // jwt: the pod's own service-account token, validated with the API server's keys; its audience is
  // the issuer (the API server sets no --api-audiences).
  await env.stack.enableJwtAuth(mounts.jwt());
  await env.stack.vaultAdmin.write(`auth/${mounts.jwt()}/role/app`, {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: [await env.stack.kube.serviceAccountIssuer()],
    bound_subject: `system:serviceaccount:${namespace}:app`,
    token_policies: [role],
    token_ttl: '1h',
  });

  // approle: role_id and secret_id in a Secret the agents mount at /vault/custom (agent-extra-secret).
  await env.stack.vaultAdmin.write(`sys/auth/${mounts.approle()}`, { type: 'approle' });
  await env.stack.vaultAdmin.write(`auth/${mounts.approle()}/role/app`, { token_policies: [role], token_ttl: '1h' });
  const roleId = (
    await env.stack.vaultAdmin.read<{ data: { role_id: string } }>(`auth/${mounts.approle()}/role/app/role-id`)
  ).data.role_id;
  const secretId = (
    await env.stack.vaultAdmin.write<{ data: { secret_id: string } }>(`auth/${mounts.approle()}/role/app/secret-id`, {})
  ).data.secret_id;
  await createSecret('approle-ids', { 'role-id': roleId, 'secret-id': secretId });

  // cert: Vault's TLS listener, a client certificate and Vault's CA in a Secret at /vault/tls (tls-secret).
  const vaultTls = env.stack.handle.vault.tls;
  if (!vaultTls) throw new Error('the stack runs no TLS listener for Vault (certificate auth needs one)');
  const clientCa = await createCertificateAuthority('inj-modes-clients');
  const client = await issueCertificate(clientCa, { commonName: 'web', usage: 'client' });
  await env.stack.vaultAdmin.write(`sys/auth/${mounts.cert()}`, { type: 'cert' });
  await env.stack.vaultAdmin.write(`auth/${mounts.cert()}/certs/web`, {
    certificate: clientCa.certPem,
    token_policies: [role],
    token_ttl: '1h',
  });
  await createSecret('vault-client-tls', {
    'ca.crt': vaultTls.caPem,
    'tls.crt': client.certPem,
    'tls.key': client.keyPem,
  });

  // The cache listener's certificate (127.0.0.1, where the app calls it) for the agents, its CA for the app.
  const listenerCa = await createCertificateAuthority('inj-modes-listener');
  const listener = await issueCertificate(listenerCa, {
    commonName: 'vault-agent',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
  });
  await createSecret('listener-tls', { 'tls.crt': listener.certPem, 'tls.key': listener.keyPem });
  await createConfigMap('listener-client', { 'ca.crt': listenerCa.certPem, 'read.mjs': listenerClient });

  await createConfigMap('agent-config', {
    'config-init.hcl': vaultAgentHcl(configMapPath, true),
    'config.hcl': vaultAgentHcl(configMapPath, false),
  });
  const tlsListener = `cache {
  use_auto_auth_token = true
}
listener "tcp" {
  address = "127.0.0.1:8200"
  tls_cert_file = "/vault/tls/tls.crt"
  tls_key_file = "/vault/tls/tls.key"
}
`;
  await createConfigMap('agent-config-tls', {
    'config-init.hcl': vaultAgentHcl(cachePath, true),
    'config.hcl': vaultAgentHcl(cachePath, false, tlsListener),
  });

  await Promise.all([
    createAppDeployment(
      env,
      namespace,
      'vault-kind',
      { containers: [catApp()] },
      injected(vaultKind, { 'vault.hashicorp.com/role': role, 'vault.hashicorp.com/agent-kind': 'vault' }),
    ),
    createAppDeployment(
      env,
      namespace,
      'configmap',
      { containers: [catApp()] },
      {
        'vault.hashicorp.com/agent-inject': 'true',
        'vault.hashicorp.com/agent-configmap': 'agent-config',
      },
    ),
    createAppDeployment(
      env,
      namespace,
      'tls-listener',
      {
        containers: [
          {
            name: 'app',
            image: env.cluster.images.injector,
            imagePullPolicy: 'Never',
            command: ['node', '/etc/listener-client/read.mjs', `https://127.0.0.1:8200/v1/${cachePath}`],
            volumeMounts: [{ name: 'listener-client', mountPath: '/etc/listener-client', readOnly: true }],
          },
        ],
        volumes: [{ name: 'listener-client', configMap: { name: 'listener-client' } }],
      },
      {
        'vault.hashicorp.com/agent-inject': 'true',
        'vault.hashicorp.com/agent-configmap': 'agent-config-tls',
        'vault.hashicorp.com/tls-secret': 'listener-tls',
      },
    ),
    createAppDeployment(
      env,
      namespace,
      'jwt',
      { containers: [catApp()] },
      injected(
        authPath,
        {
          'vault.hashicorp.com/auth-type': 'jwt',
          'vault.hashicorp.com/auth-path': `auth/${mounts.jwt()}`,
          'vault.hashicorp.com/role': 'app',
        },
        true,
      ),
    ),
    createAppDeployment(
      env,
      namespace,
      'approle',
      { containers: [catApp()] },
      injected(
        authPath,
        {
          'vault.hashicorp.com/auth-type': 'approle',
          'vault.hashicorp.com/auth-path': `auth/${mounts.approle()}`,
          'vault.hashicorp.com/agent-extra-secret': 'approle-ids',
          'vault.hashicorp.com/auth-config-role-id-file-path': '/vault/custom/role-id',
          'vault.hashicorp.com/auth-config-secret-id-file-path': '/vault/custom/secret-id',
          // What vault-k8s users set: the files are a read-only Secret mount.
          'vault.hashicorp.com/auth-config-remove-secret-id-file-after-reading': 'false',
        },
        true,
      ),
    ),
    createAppDeployment(
      env,
      namespace,
      'cert',
      { containers: [catApp()] },
      injected(
        authPath,
        {
          'vault.hashicorp.com/service': vaultTls.addr,
          'vault.hashicorp.com/auth-type': 'cert',
          'vault.hashicorp.com/auth-path': `auth/${mounts.cert()}`,
          'vault.hashicorp.com/auth-config-name': 'web',
          'vault.hashicorp.com/tls-secret': 'vault-client-tls',
          'vault.hashicorp.com/ca-cert': '/vault/tls/ca.crt',
          'vault.hashicorp.com/client-cert': '/vault/tls/tls.crt',
          'vault.hashicorp.com/client-key': '/vault/tls/tls.key',
        },
        true,
      ),
    ),
  ]);
});

describe('the injector’s other modes on a real node', () => {
  it('agent-kind vault: HashiCorp’s agent from the chart’s vaultAgentImage renders the secret, and its sidecar re-renders a rotation', async () => {
    const pod = await readyPod('vault-kind');
    const name = pod.metadata!.name!;
    const init = pod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
    const sidecar = pod.spec?.containers.find((c) => c.name === 'vault-agent');
    expect([init?.image, sidecar?.image]).toEqual([vaultAgentImage(), vaultAgentImage()]);
    expect(init?.command).toEqual(['/bin/sh', '-ec']);
    // It is Vault's own agent that ran, with the config the webhook generated.
    const initLog = await podLog(env, namespace, name, 'vault-agent-init');
    expect(initLog).toContain('Vault Agent started');
    expect(initLog).toContain(`Version: Vault ${toolVersions().VAULT_VERSION}`);

    await waitForPrint(env, namespace, name, 'password=vault-agent-first\n', 'the app printing the first password');
    await kvSecret('vault-kind', 'vault-agent-second');
    await waitForPrint(env, namespace, name, 'password=vault-agent-second\n', 'the app printing the rotated password');
    expect(await podLog(env, namespace, name, 'vault-agent')).toContain('Vault Agent started');
  });

  it('agent-configmap: our agent runs the ConfigMap’s Vault Agent HCL, init and sidecar (its render interval)', async () => {
    const pod = await readyPod('configmap');
    const name = pod.metadata!.name!;
    const init = pod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
    expect(init?.image).toBe(serviceImage('agent').reference);
    expect(init?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG_FILE')?.value).toBe(
      '/vault/configs/config-init.json',
    );
    await waitForPrint(env, namespace, name, 'password=configmap-first\n', 'the app printing the first password');
    await kvSecret('configmap', 'configmap-second');
    await waitForPrint(env, namespace, name, 'password=configmap-second\n', 'the app printing the rotated password');
  });

  it.each([
    ['jwt', () => mounts.jwt()],
    ['approle', () => mounts.approle()],
    ['cert', () => mounts.cert()],
  ])('auth-type %s: the app reads the secret rendered with a token of that login', async (deployment, mount) => {
    const pod = await readyPod(deployment);
    await waitForPrint(
      env,
      namespace,
      pod.metadata!.name!,
      `password=auth-methods\nlogin=auth/${mount()}/login\n`,
      `the app printing the secret and the ${deployment} login`,
    );
  });

  it('the cache listener over TLS (agent-configmap tls_cert_file/tls_key_file): the app reads a secret through it, verifying the CA', async () => {
    const pod = await readyPod('tls-listener');
    const print = await waitFor(env, namespace, 'the app reading through the TLS listener', async () => {
      const last = lastPrint(await podLog(env, namespace, pod.metadata!.name!, 'app'));
      return last?.startsWith('with the CA: 200') ? last : undefined;
    });
    // The agent's token was added (use_auto_auth_token); a client without the CA refuses the certificate.
    expect(print).toBe('with the CA: 200 password=through-tls\nwithout it: error UNABLE_TO_VERIFY_LEAF_SIGNATURE\n');
  });
});
