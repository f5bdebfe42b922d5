// The process-level demo (npm run demo where the machine is not root on Linux): the real stack, no node.
//  1. the injector webhook (the esbuild bundle) registered in the real API server mutates an
//     annotated pod; the demo prints what was injected;
//  2. the injected vault-agent-init and vault-agent run (the agent bundle) with the pod's env, its
//     service-account token and its volumes mapped under a temp dir, as the kubelet would run them:
//     init renders the secret, the sidecar re-renders it after it is rotated in Vault.
//  3. the CSI provider (its bundle) serves a unix socket; the demo calls Mount exactly as the Secrets
//     Store CSI Driver does, then again after a rotation (the driver's rotation poll).
//  4. the operator (its bundle) installs its CRDs and syncs a VaultStaticSecret into a Secret, then
//     picks up the rotation; a VaultDynamicSecret puts PostgreSQL credentials into a Secret, and the
//     force-sync annotation gets new ones (both log in).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { loadProviderService } from '@vaultbridge/csi-provider';
import {
  createCertificateAuthority,
  freeLoopbackPort,
  issueCertificate,
  repoRoot,
  startStack,
} from '@vaultbridge/testenv';

const step = (message: string) => console.log(`\n▶ ${message}`);
const started = Date.now();
const seconds = (from: number) => `${((Date.now() - from) / 1000).toFixed(2)} s`;

step('starting the real stack (etcd, kube-apiserver, Vault, PostgreSQL)');
const stack = await startStack({ onProgress: (m) => console.log(`  ${m}`) });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-demo-'));
let webhook: ReturnType<typeof spawn> | undefined;
let provider: ReturnType<typeof spawn> | undefined;
let operator: ReturnType<typeof spawn> | undefined;
try {
  const ns = 'demo';
  step('setting up Vault: a KV secret, a policy and a kubernetes-auth role for demo/web');
  await stack.createServiceAccount(ns, 'web');
  await stack.vaultAdmin.write('secret/data/demo/web', { data: { username: 'web', password: 'first-password' } });
  await stack.writePolicy('demo-web', 'path "secret/data/demo/*" { capabilities = ["read"] }');
  await stack.writeKubernetesRole('demo-web', {
    serviceAccounts: ['web'],
    namespaces: [ns],
    policies: ['demo-web'],
    audience: 'vault',
  });

  step('starting the injector webhook (packages/injector/dist/bundle/injector.mjs serve) and registering it');
  const ca = await createCertificateAuthority('demo-webhook');
  const serving = await issueCertificate(ca, { commonName: 'injector', usage: 'server', ipAddresses: ['127.0.0.1'] });
  fs.writeFileSync(path.join(work, 'tls.crt'), serving.certPem);
  fs.writeFileSync(path.join(work, 'tls.key'), serving.keyPem);
  const port = await freeLoopbackPort();
  webhook = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'packages/injector/dist/bundle/injector.mjs'),
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert-file',
      path.join(work, 'tls.crt'),
      '--tls-key-file',
      path.join(work, 'tls.key'),
      '--vault-address',
      stack.vaultAddr,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name: 'vaultbridge-demo' },
      webhooks: [
        {
          name: 'vault.hashicorp.com',
          admissionReviewVersions: ['v1', 'v1beta1'],
          sideEffects: 'None',
          failurePolicy: 'Fail',
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } },
          clientConfig: {
            url: `https://127.0.0.1:${port}/mutate`,
            caBundle: Buffer.from(ca.certPem).toString('base64'),
          },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        },
      ],
    },
  });

  step('creating an annotated pod through the API server');
  const template = 'username={{ secret "username" }}\npassword={{ secret "password" }}\n';
  const podBody = (name: string): k8s.V1Pod => ({
    metadata: {
      name,
      annotations: {
        'vault.hashicorp.com/agent-inject': 'true',
        'vault.hashicorp.com/role': 'demo-web',
        'vault.hashicorp.com/agent-inject-secret-db.env': 'secret/data/demo/web',
        'vault.hashicorp.com/agent-inject-template-db.env': template,
        'vault.hashicorp.com/agent-inject-perms-db.env': '0440',
        'vault.hashicorp.com/template-static-secret-render-interval': '1s',
      },
    },
    spec: {
      serviceAccountName: 'web',
      containers: [
        {
          name: 'web',
          image: 'nginx:1.27',
          volumeMounts: [{ name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        },
      ],
      volumes: [
        { name: 'token', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'vault' } }] } },
      ],
    },
  });
  let pod: k8s.V1Pod | undefined;
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      pod = await stack.kube.core.createNamespacedPod({ namespace: ns, body: podBody(`web-${attempt}`) });
      if (pod.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] === 'injected') break;
    } catch {
      // the webhook is still starting, or the API server has not seen its configuration yet
    }
    await sleep(200);
  }
  if (pod?.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status'] !== 'injected')
    throw new Error('the webhook never injected the demo pod');
  const injectedAt = Date.now();
  console.log(`  pod ${ns}/${pod.metadata?.name} came back injected:`);
  console.log(
    `    init containers: ${(pod.spec?.initContainers ?? []).map((c) => `${c.name} (${c.args?.join(' ') ?? ''})`).join(', ')}`,
  );
  console.log(`    containers:      ${pod.spec?.containers.map((c) => c.name).join(', ')}`);
  console.log(`    volumes:         ${(pod.spec?.volumes ?? []).map((v) => v.name).join(', ')}`);
  const configEnv = pod.spec?.initContainers?.[0]?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')?.value ?? '';
  const agentConfig = JSON.parse(Buffer.from(configEnv, 'base64').toString()) as {
    auth: { role: string };
    secrets: Array<{ name: string; destination: string }>;
  };
  console.log(
    `    agent config:    role ${agentConfig.auth.role}, secrets ${agentConfig.secrets.map((s) => `${s.name} → ${s.destination}`).join(', ')}`,
  );

  step(
    "running the injected agents as the kubelet would: vaultbridge-agent (bundle) with the pod's env and volumes under a temp root",
  );
  // No kubelet runs here, so the demo does its part: the projected service-account token (audience
  // vault) is written where the pod's volume would mount it, and the agents' absolute paths are mapped
  // under a temp root with VAULTBRIDGE_AGENT_ROOT.
  const root = path.join(work, 'pod-root');
  const tokenFile = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/token');
  fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
  fs.writeFileSync(tokenFile, (await stack.requestToken(ns, 'web', { audiences: ['vault'] })).token);
  const agentBundle = path.join(repoRoot, 'packages/agent/dist/bundle/agent.mjs');
  const agentEnv = (container: k8s.V1Container | undefined) => ({
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    VAULTBRIDGE_AGENT_ROOT: root,
    VAULTBRIDGE_AGENT_CONFIG: container?.env?.find((e) => e.name === 'VAULTBRIDGE_AGENT_CONFIG')?.value ?? '',
  });
  const initContainer = pod.spec?.initContainers?.find((c) => c.name === 'vault-agent-init');
  const sidecarContainer = pod.spec?.containers.find((c) => c.name === 'vault-agent');
  const file = path.join(root, 'vault/secrets/db.env');

  await stack.resetRequestCounts();
  const deliveryStarted = Date.now();
  const initExit = await new Promise<number | null>((resolve) => {
    const init = spawn(process.execPath, [agentBundle, 'init'], {
      env: agentEnv(initContainer),
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    init.once('exit', resolve);
  });
  const firstSecret = Date.now() - deliveryStarted;
  const firstRequests = (await stack.requestCounts()).total;
  if (initExit !== 0 || !fs.existsSync(file)) throw new Error(`vault-agent-init exited with ${initExit}`);
  console.log(
    `  vault-agent-init exited 0 after ${firstSecret} ms; ${path.relative(root, file)} (mode ${(fs.statSync(file).mode & 0o777).toString(8)}):`,
  );
  console.log(
    fs
      .readFileSync(file, 'utf8')
      .replace(/^/gm, '    ')
      .replace(/password=.*/, 'password=<redacted in the demo output>')
      .trimEnd(),
  );

  step('starting the vault-agent sidecar, then rotating the secret in Vault');
  const sidecar = spawn(process.execPath, [agentBundle, 'sidecar'], {
    env: agentEnv(sidecarContainer),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const readyFile = path.join(root, 'home/vault/.vaultbridge-ready');
  for (let i = 0; i < 100 && !fs.existsSync(readyFile); i++) await sleep(100);
  await stack.vaultAdmin.write('secret/data/demo/web', { data: { username: 'web', password: 'second-password' } });
  const rotationStarted = Date.now();
  let rotated = false;
  while (!rotated && Date.now() - rotationStarted < 15_000) {
    await sleep(50);
    rotated = fs.readFileSync(file, 'utf8').includes('second-password');
  }
  const rotation = Date.now() - rotationStarted;
  console.log(
    `  the sidecar re-rendered the file with the rotated password: ${rotated} (after ${rotation} ms; render interval 1 s)`,
  );
  const sidecarExit = new Promise((resolve) => sidecar.once('exit', resolve));
  sidecar.kill('SIGTERM');
  await sidecarExit;

  step(
    'CSI: starting the provider (packages/csi-provider/dist/bundle/cli.mjs) on a unix socket and mounting as the driver does',
  );
  const socketPath = path.join(work, 'vault.sock');
  const healthPort = await freeLoopbackPort();
  provider = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'packages/csi-provider/dist/bundle/cli.mjs'),
      '--endpoint',
      socketPath,
      '--health-addr',
      `127.0.0.1:${healthPort}`,
      '--vault-addr',
      stack.vaultAddr,
      '--kubeconfig',
      stack.handle.kubeconfigPath,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 100 && !fs.existsSync(socketPath); i++) await sleep(100);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  const driver = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    Mount(
      request: unknown,
      callback: (
        error: grpc.ServiceError | null,
        response: {
          object_version: Array<{ id: string; version: string }>;
          files: Array<{ path: string; mode: number; contents: Buffer }>;
        },
      ) => void,
    ): void;
  };
  // What the driver sends: the SecretProviderClass parameters, the pod's volume context and the
  // kubelet's service-account token for the CSIDriver's audience.
  const csiMount = async () => {
    const { token, expiresAt } = await stack.requestToken(ns, 'web', { audiences: ['vault'] });
    const attributes = JSON.stringify({
      roleName: 'demo-web',
      objects:
        '- objectName: password\n  secretPath: secret/data/demo/web\n  secretKey: password\n  filePermission: 0400\n',
      'csi.storage.k8s.io/pod.name': 'web-csi',
      'csi.storage.k8s.io/pod.namespace': ns,
      'csi.storage.k8s.io/serviceAccount.name': 'web',
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
        vault: { token, expirationTimestamp: expiresAt.toISOString() },
      }),
    });
    return new Promise<Parameters<Parameters<typeof driver.Mount>[1]>[1]>((resolve, reject) =>
      driver.Mount(
        {
          attributes,
          secrets: 'null',
          target_path: path.join(work, 'csi-target'),
          permission: '420',
          current_object_version: [],
        },
        (error, response) => (error ? reject(error) : resolve(response)),
      ),
    );
  };
  await stack.resetRequestCounts();
  const csiStarted = Date.now();
  const mounted = await csiMount();
  const csiFirst = Date.now() - csiStarted;
  const csiRequests = (await stack.requestCounts()).total;
  console.log(
    `  Mount answered in ${csiFirst} ms with ${mounted.files.map((f) => `${f.path} (mode ${f.mode.toString(8)}, ${f.contents.length} bytes)`).join(', ')}; object version ${mounted.object_version[0]?.version.slice(0, 12)}…`,
  );
  await stack.vaultAdmin.write('secret/data/demo/web', { data: { username: 'web', password: 'third-password' } });
  const csiRotationStarted = Date.now();
  const remounted = await csiMount(); // the driver's rotation poll
  const csiRotation = Date.now() - csiRotationStarted;
  const csiRotated = remounted.files[0]?.contents.toString() === 'third-password';
  console.log(
    `  after rotating in Vault, the driver's next Mount returns the new value: ${csiRotated}; object version ${remounted.object_version[0]?.version.slice(0, 12)}…`,
  );
  driver.close();

  step(
    'operator: starting vaultbridge-operator (packages/operator/dist/bundle/cli.mjs --install-crds) and applying a VaultStaticSecret',
  );
  const operatorHealth = await freeLoopbackPort();
  operator = spawn(
    process.execPath,
    [
      path.join(repoRoot, 'packages/operator/dist/bundle/cli.mjs'),
      '--kubeconfig',
      stack.handle.kubeconfigPath,
      '--install-crds',
      '--health-probe-bind-address',
      `127.0.0.1:${operatorHealth}`,
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
  const group = 'secrets.vaultbridge.dev';
  const create = async (plural: string, body: object) => {
    // The operator installs its CRDs at start: retry until the API server serves them.
    for (let attempt = 0; ; attempt++) {
      try {
        return await custom.createNamespacedCustomObject({ group, version: 'v1beta1', namespace: ns, plural, body });
      } catch (error) {
        if (attempt > 100) throw error;
        await sleep(100);
      }
    }
  };
  await create('vaultconnections', {
    apiVersion: `${group}/v1beta1`,
    kind: 'VaultConnection',
    metadata: { name: 'vault' },
    spec: { address: stack.vaultAddr },
  });
  await create('vaultauths', {
    apiVersion: `${group}/v1beta1`,
    kind: 'VaultAuth',
    metadata: { name: 'web' },
    spec: {
      vaultConnectionRef: 'vault',
      method: 'kubernetes',
      mount: 'kubernetes',
      kubernetes: { role: 'demo-web', serviceAccount: 'web', audiences: ['vault'] },
    },
  });
  await stack.resetRequestCounts();
  const operatorStarted = Date.now();
  await create('vaultstaticsecrets', {
    apiVersion: `${group}/v1beta1`,
    kind: 'VaultStaticSecret',
    metadata: { name: 'web' },
    spec: {
      vaultAuthRef: 'web',
      mount: 'secret',
      path: 'demo/web',
      type: 'kv-v2',
      refreshAfter: '1s',
      destination: { name: 'web-credentials', create: true },
    },
  });
  const secretPassword = async () => {
    try {
      const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'web-credentials' });
      return Buffer.from(secret.data?.password ?? '', 'base64').toString();
    } catch {
      return undefined;
    }
  };
  let synced = await secretPassword();
  while (synced === undefined && Date.now() - operatorStarted < 30_000) {
    await sleep(50);
    synced = await secretPassword();
  }
  const operatorFirst = Date.now() - operatorStarted;
  const operatorRequests = (await stack.requestCounts()).total;
  console.log(
    `  Secret ${ns}/web-credentials synced ${operatorFirst} ms after the VaultStaticSecret was created: ${synced !== undefined}`,
  );
  await stack.vaultAdmin.write('secret/data/demo/web', { data: { username: 'web', password: 'fourth-password' } });
  const operatorRotationStarted = Date.now();
  let operatorRotated = false;
  while (!operatorRotated && Date.now() - operatorRotationStarted < 15_000) {
    await sleep(50);
    operatorRotated = (await secretPassword()) === 'fourth-password';
  }
  const operatorRotation = Date.now() - operatorRotationStarted;
  console.log(
    `  after rotating in Vault the Secret holds the new value: ${operatorRotated} (after ${operatorRotation} ms; refreshAfter 1s)`,
  );

  step('operator: a VaultDynamicSecret — PostgreSQL credentials from Vault in a Secret, and new ones on demand');
  const { databaseMount, databaseRole } = stack.layout;
  await stack.writePolicy(
    'demo-web',
    `path "secret/data/demo/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }`,
  );
  const dbCredentials = async () => {
    try {
      const secret = await stack.kube.core.readNamespacedSecret({ namespace: ns, name: 'db-credentials' });
      const field = (key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString();
      return { user: field('username'), password: field('password') };
    } catch {
      return undefined;
    }
  };
  const logsIn = async (credentials: { user: string; password: string }) => {
    const client = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      database: stack.postgres.database,
      ...credentials,
    });
    try {
      await client.connect();
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await stack.resetRequestCounts();
  const dynamicStarted = Date.now();
  await create('vaultdynamicsecrets', {
    apiVersion: `${group}/v1beta1`,
    kind: 'VaultDynamicSecret',
    metadata: { name: 'db' },
    spec: {
      vaultAuthRef: 'web',
      mount: databaseMount,
      path: `creds/${databaseRole}`,
      destination: { name: 'db-credentials', create: true },
    },
  });
  let issued = await dbCredentials();
  while (issued === undefined && Date.now() - dynamicStarted < 30_000) {
    await sleep(50);
    issued = await dbCredentials();
  }
  const dynamicFirst = Date.now() - dynamicStarted;
  const dynamicRequests = (await stack.requestCounts()).total;
  const firstLogin = issued !== undefined && (await logsIn(issued));
  console.log(
    `  Secret ${ns}/db-credentials holds user ${issued?.user ?? '(none)'} ${dynamicFirst} ms after the VaultDynamicSecret was created; it logs in to PostgreSQL: ${firstLogin}`,
  );
  // The lease is renewed at 67% of its TTL; new credentials come at the max TTL, or now with force-sync.
  const forceStarted = Date.now();
  await custom.patchNamespacedCustomObject(
    {
      group,
      version: 'v1beta1',
      namespace: ns,
      plural: 'vaultdynamicsecrets',
      name: 'db',
      body: { metadata: { annotations: { 'secrets.vaultbridge.dev/force-sync': 'demo' } } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  let renewedCredentials = await dbCredentials();
  while (
    (renewedCredentials === undefined || renewedCredentials.user === issued?.user) &&
    Date.now() - forceStarted < 15_000
  ) {
    await sleep(50);
    renewedCredentials = await dbCredentials();
  }
  const dynamicRotation = Date.now() - forceStarted;
  const dynamicRotated =
    renewedCredentials !== undefined && renewedCredentials.user !== issued?.user && (await logsIn(renewedCredentials));
  console.log(
    `  after the force-sync annotation: new user ${renewedCredentials?.user ?? '(none)'} in ${dynamicRotation} ms; it logs in: ${dynamicRotated}`,
  );

  step('summary');
  console.log(
    '| method        | state                          | time to first secret | time to rotation | Vault requests / delivery |',
  );
  console.log(
    '|---------------|--------------------------------|----------------------|------------------|---------------------------|',
  );
  console.log(
    `| injector      | webhook + agent                | ${`${firstSecret} ms`.padEnd(20)} | ${`${rotation} ms`.padEnd(16)} | ${String(firstRequests).padEnd(25)} |`,
  );
  console.log(
    `| CSI provider  | provider + driver-style Mount  | ${`${csiFirst} ms`.padEnd(20)} | ${`${csiRotation} ms (next poll)`.padEnd(16)} | ${String(csiRequests).padEnd(25)} |`,
  );
  console.log(
    `| operator      | VaultStaticSecret → Secret     | ${`${operatorFirst} ms`.padEnd(20)} | ${`${operatorRotation} ms`.padEnd(16)} | ${String(operatorRequests).padEnd(25)} |`,
  );
  console.log(
    `| operator      | VaultDynamicSecret → Secret    | ${`${dynamicFirst} ms`.padEnd(20)} | ${`${dynamicRotation} ms (forced)`.padEnd(16)} | ${String(dynamicRequests).padEnd(25)} |`,
  );
  console.log(
    `\npod injected ${seconds(started)} after the demo started (stack start included); ${seconds(injectedAt)} since.`,
  );
  if (!rotated || !csiRotated || synced === undefined || !operatorRotated || !firstLogin || !dynamicRotated)
    process.exitCode = 1;
} finally {
  webhook?.kill('SIGTERM');
  provider?.kill('SIGTERM');
  operator?.kill('SIGTERM');
  await stack.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
