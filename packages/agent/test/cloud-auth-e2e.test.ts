// auth-type aws through the whole path, as on EKS with IRSA (and with a shared credentials file): the webhook's decision copies the app
// container's web-identity env into the init agent, `vaultbridge-agent init` runs as a process with that
// env and config, gets credentials with AssumeRoleWithWebIdentity, logs in to the real Vault 1.13's AWS
// auth method with a signed GetCallerIdentity request, and renders a KV secret. No AWS is reachable: STS
// is testenv's stand-in (AWS_ENDPOINT_URL_STS for the agent, the mount's sts_endpoint for Vault), which
// checks the signature Vault forwards with AWS's own signer. gcp and azure are proven at the request
// level in core's test/cloud-auth.test.ts (their login needs Google's or Azure AD's keys).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { sharedStack, startStsStandIn, type StsStandIn, type TestStack } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV } from '../src/contract/index.ts';
import { pod } from './support/pods.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');
const KEYS = {
  accessKeyId: 'AKIAVAULTBRIDGEAGENT',
  secretAccessKey: `agent/${randomBytes(18).toString('base64')}`,
  sessionToken: `IQoJ${randomBytes(24).toString('base64')}`,
};
const ROLE_ARN = 'arn:aws:iam::123456789012:role/app';
const TOKEN_DIR = '/var/run/secrets/eks.amazonaws.com/serviceaccount';

let stack: TestStack;
let sts: StsStandIn;
let mount: string;
let kv: string;

beforeAll(async () => {
  stack = sharedStack();
  sts = await startStsStandIn({
    keys: KEYS,
    callerArn: 'arn:aws:sts::123456789012:assumed-role/app/vaultbridge-agent',
  });
  mount = stack.uniqueName('aws-agent');
  const policy = `${mount}-read`;
  kv = `${stack.layout.kvV2Mount}/data/${mount}/config`;
  await stack.vaultAdmin.write(kv, { data: { password: 'aws-login-works' } });
  await stack.writePolicy(policy, `path "${kv}" { capabilities = ["read"] }`);
  await stack.vaultAdmin.write(`sys/auth/${mount}`, { type: 'aws' });
  await stack.vaultAdmin.write(`auth/${mount}/config/client`, {
    iam_server_id_header_value: 'vault.example.test',
    sts_endpoint: sts.url,
  });
  await stack.vaultAdmin.write(`auth/${mount}/role/app`, {
    auth_type: 'iam',
    bound_iam_principal_arn: ROLE_ARN,
    resolve_aws_unique_ids: false,
    token_policies: policy,
    token_ttl: '5m',
  });
});

afterAll(async () => {
  await sts.close();
});

test('IRSA credentials → signed STS request → Vault AWS login → rendered secret; no key in the output', async () => {
  const app: V1Container = {
    name: 'app',
    image: 'busybox',
    volumeMounts: [
      { name: 'kube-api-access-x1', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
      { name: 'aws-iam-token', mountPath: TOKEN_DIR, readOnly: true },
    ],
    env: [
      { name: 'AWS_ROLE_ARN', value: ROLE_ARN },
      { name: 'AWS_WEB_IDENTITY_TOKEN_FILE', value: `${TOKEN_DIR}/token` },
      { name: 'AWS_REGION', value: 'us-east-1' },
    ],
  };
  const decision = decide(
    pod(
      {
        role: 'app',
        'auth-type': 'aws',
        'auth-path': `auth/${mount}`,
        'auth-config-type': 'iam',
        'auth-config-header-value': 'vault.example.test',
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-config': kv,
        'agent-inject-template-config': `{{ with secret "${kv}" }}{{ .Data.data.password }}{{ end }}`,
      },
      { containers: [app] },
    ),
    'default',
    { vaultAddress: stack.vaultAddr },
  );
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const init = decision.pod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
  if (init === undefined) throw new Error('no vault-agent-init');
  // vault-k8s's IRSA copying: the token mount and AWS_* env reach the agent.
  expect(init.volumeMounts).toContainEqual({ name: 'aws-iam-token', mountPath: TOKEN_DIR, readOnly: true });
  const podEnv = Object.fromEntries(
    (init.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value ?? '']),
  );
  expect(podEnv).toMatchObject({
    AWS_ROLE_ARN: ROLE_ARN,
    AWS_WEB_IDENTITY_TOKEN_FILE: `${TOKEN_DIR}/token`,
    AWS_REGION: 'us-east-1',
  });

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-agent-'));
  fs.mkdirSync(path.join(root, TOKEN_DIR), { recursive: true });
  fs.writeFileSync(
    path.join(root, TOKEN_DIR, 'token'),
    'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDphcHAifQ.c2ln',
  );
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    ...podEnv,
    VAULTBRIDGE_AGENT_ROOT: root,
    AWS_ENDPOINT_URL_STS: sts.url,
    [AGENT_CONFIG_ENV]: podEnv[AGENT_CONFIG_ENV] ?? '',
  };
  const run = await new Promise<{ code: number | null; output: string }>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
  expect({ code: run.code, output: run.output }).toMatchObject({ code: 0 });
  expect(fs.readFileSync(path.join(root, 'vault/secrets/config'), 'utf8')).toBe('aws-login-works');
  // One AssumeRoleWithWebIdentity from the agent, then Vault's replays of the agent's one signed request
  // (Vault 1.13 calls STS in more than one step of a login: role resolution, alias lookahead, login).
  const [assume, ...replays] = sts.seen;
  expect(new URLSearchParams(assume?.body).get('Action')).toBe('AssumeRoleWithWebIdentity');
  expect(replays.length).toBeGreaterThan(0);
  expect(
    new Set(replays.map((r) => `${new URLSearchParams(r.body).get('Action')} ${String(r.headers.authorization)}`)).size,
  ).toBe(1);
  expect(new URLSearchParams(replays[0]?.body).get('Action')).toBe('GetCallerIdentity');
  expect(replays[0]?.headers['x-vault-aws-iam-server-id']).toBe('vault.example.test');
  for (const secret of [KEYS.secretAccessKey, KEYS.sessionToken, 'aws-login-works'])
    expect(run.output).not.toContain(secret);
});

test('the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, auth-config-profile) → signed STS request → login → secret', async () => {
  // The file as a Secret mounted with agent-extra-secret (/vault/custom), its profile from the annotation.
  const decision = decide(
    pod(
      {
        role: 'app',
        'auth-type': 'aws',
        'auth-path': `auth/${mount}`,
        'auth-config-type': 'iam',
        'auth-config-header-value': 'vault.example.test',
        'auth-config-profile': 'vault-app',
        'agent-extra-secret': 'aws-credentials',
        'agent-pre-populate-only': 'true',
        'agent-inject-secret-config': kv,
        'agent-inject-template-config': `{{ with secret "${kv}" }}{{ .Data.data.password }}{{ end }}`,
      },
      {},
    ),
    'default',
    { vaultAddress: stack.vaultAddr },
  );
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const init = decision.pod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
  expect(init?.volumeMounts).toContainEqual({ name: 'extra-secrets', mountPath: '/vault/custom', readOnly: true });
  const encoded = init?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value ?? '';

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aws-shared-agent-'));
  fs.mkdirSync(path.join(root, 'vault/custom'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'vault/custom/credentials'),
    `[default]\naws_access_key_id = AKIANOTTHISPROFILE00\naws_secret_access_key = wrong\n[vault-app]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\naws_session_token = ${KEYS.sessionToken}\n`,
  );
  const before = sts.seen.length;
  const run = await spawnInit(root, encoded, {
    // The pod path; the agent reads it under its root. No metadata service is reachable.
    AWS_SHARED_CREDENTIALS_FILE: '/vault/custom/credentials',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
  });
  expect({ code: run.code, output: run.output }).toMatchObject({ code: 0 });
  expect(run.output).not.toMatch(/not used by the aws method/);
  expect(fs.readFileSync(path.join(root, 'vault/secrets/config'), 'utf8')).toBe('aws-login-works');
  // No AssumeRole: only Vault's replays of the one request the profile's keys signed.
  const replays = sts.seen.slice(before);
  expect(replays.length).toBeGreaterThan(0);
  expect(new Set(replays.map((r) => new URLSearchParams(r.body).get('Action')))).toEqual(
    new Set(['GetCallerIdentity']),
  );
  expect(replays[0]?.headers['x-amz-security-token']).toBe(KEYS.sessionToken);
  for (const secret of [KEYS.secretAccessKey, KEYS.sessionToken, 'aws-login-works'])
    expect(run.output).not.toContain(secret);
});

/** A local HTTP server standing in for a cloud metadata endpoint; `answer` gets the path and headers. */
async function metadataStandIn(
  answer: (url: URL, headers: http.IncomingHttpHeaders) => { status?: number; body: string },
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const reply = answer(new URL(req.url ?? '/', 'http://metadata'), req.headers);
    res.writeHead(reply.status ?? 200, { 'Content-Type': 'application/json' });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function runInit(
  annotations: Record<string, string>,
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const decision = decide(
    pod({ 'agent-pre-populate-only': 'true', 'agent-inject-secret-config': kv, ...annotations }),
    'default',
    { vaultAddress: stack.vaultAddr },
  );
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const encoded =
    decision.pod.spec?.initContainers
      ?.find((c) => c.name === 'vault-agent-init')
      ?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value ?? '';
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cloud-agent-'));
  return spawnInit(root, encoded, extraEnv);
}

/** `vaultbridge-agent init` as a process under `root` with the webhook's encoded config; its exit and output. */
function spawnInit(
  root: string,
  encoded: string,
  extraEnv: Record<string, string>,
): Promise<{ code: number | null; output: string }> {
  const tokenFile = path.join(root, '/var/run/secrets/kubernetes.io/serviceaccount/token');
  fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
  fs.writeFileSync(tokenFile, 'unused');
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          [AGENT_CONFIG_ENV]: encoded,
          VAULTBRIDGE_AGENT_ROOT: root,
          VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '3000',
          ...extraEnv,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

// gcp and azure through the agent: the annotations reach core's methods, the metadata endpoints are
// asked as Vault Agent asks them, and the real Vault stops at the cloud step (no Google or Azure AD here).
test('gcp gce and azure from annotations: the agent sends the login, Vault stops only at the cloud step', async () => {
  const gcpMount = stack.uniqueName('gcp-agent');
  await stack.vaultAdmin.write(`sys/auth/${gcpMount}`, { type: 'gcp' });
  await stack.vaultAdmin.write(`auth/${gcpMount}/role/app`, { type: 'gce', bound_projects: 'vaultbridge-test' });
  const idToken = `${Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'g1' })).toString('base64url')}.${Buffer.from(JSON.stringify({ aud: `${stack.vaultAddr}/vault/app`, sub: '1', email: 'app@vaultbridge-test.iam.gserviceaccount.com' })).toString('base64url')}.c2ln`;
  const gce = await metadataStandIn((url, headers) =>
    headers['metadata-flavor'] === 'Google' &&
    url.pathname === '/computeMetadata/v1/instance/service-accounts/default/identity' &&
    url.searchParams.get('audience') === `${stack.vaultAddr}/vault/app`
      ? { body: idToken }
      : { status: 403, body: '' },
  );
  try {
    const run = await runInit(
      {
        role: 'app',
        'auth-type': 'gcp',
        'auth-path': `auth/${gcpMount}`,
        'auth-config-type': 'gce',
        'agent-auto-auth-exit-on-err': 'true',
      },
      { GCE_METADATA_HOST: new URL(gce.url).host },
    );
    expect(run.code).toBe(1);
    expect(run.output).toContain('no Google OAuth2 provider key found for GCE role');
    expect(run.output).not.toContain(idToken);
  } finally {
    await gce.close();
  }

  const azureMount = stack.uniqueName('azure-agent');
  await stack.vaultAdmin.write(`sys/auth/${azureMount}`, { type: 'azure' });
  await stack.vaultAdmin.write(`auth/${azureMount}/config`, {
    tenant_id: '00000000-0000-0000-0000-000000000002',
    resource: 'https://management.azure.com/',
  });
  await stack.vaultAdmin.write(`auth/${azureMount}/role/app`, { bound_subscription_ids: 'sub-1' });
  const accessToken = `eyJ0eXAiOiJKV1QifQ.${Buffer.from('{"aud":"https://management.azure.com/"}').toString('base64url')}.c2ln`;
  const imds = await metadataStandIn((url, headers) => {
    if (headers.metadata !== 'true') return { status: 400, body: '{}' };
    if (url.pathname === '/metadata/instance')
      return {
        body: JSON.stringify({
          compute: { name: 'vm-1', resourceGroupName: 'rg-1', subscriptionId: 'sub-1', vmScaleSetName: '' },
        }),
      };
    if (
      url.pathname === '/metadata/identity/oauth2/token' &&
      url.searchParams.get('resource') === 'https://management.azure.com/' &&
      url.searchParams.get('object_id') === 'mi-object-1'
    ) {
      return { body: JSON.stringify({ access_token: accessToken }) };
    }
    return { status: 404, body: '{}' };
  });
  try {
    const run = await runInit(
      {
        role: 'app',
        'auth-type': 'azure',
        'auth-path': `auth/${azureMount}`,
        'auth-config-resource': 'https://management.azure.com/',
        'auth-config-object-id': 'mi-object-1',
      },
      { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url },
    );
    expect(run.code).toBe(1);
    expect(run.output).toContain(
      'login.microsoftonline.com/00000000-0000-0000-0000-000000000002/.well-known/openid-configuration',
    );
    expect(run.output).not.toContain(accessToken);
  } finally {
    await imds.close();
  }
});
