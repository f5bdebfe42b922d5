// The bundles as the image ships them (the package's bundle step, into a temporary directory), on the real
// API server with --tls-auto (the certificate Secret, the Lease and the CA patched into the webhook
// configuration): injector.mjs and admission-worker.mjs hold no client-node (nor its undici); alone, as in
// a pod (no kubeconfig, the service account's projected-token directory), injector.mjs becomes ready; with
// $KUBECONFIG it imports kube-config-client.mjs, the bundle of its own beside it, and becomes ready too.
// Every module the process loads is recorded by a module hook preloaded with --import.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { TURBOFAN_WHEN_READY_ENV } from '@vaultbridge/core';
import {
  bundleCommands,
  freeLoopbackPort,
  moduleLogHook,
  parseDockerfile,
  repoRoot,
  sharedStack,
  wrapperNodeFlags,
} from '@vaultbridge/testenv';
import { pod } from './support/pods.ts';
import { podCreateReview, postReview, servingCertificateFiles, untilWebhookReady } from './support/webhook.ts';
import { inClusterWebhookAccess, type InClusterWebhookAccess } from './support/in-cluster.ts';

const stack = sharedStack();
const packageDir = path.join(repoRoot, 'packages/injector');
const namespace = stack.uniqueName('injector-bundle');
const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
let work: string;
let bundleDir: string;
const webhookConfigs: string[] = [];
const children: ChildProcess[] = [];
let access: InClusterWebhookAccess | undefined;

/** A webhook configuration matching no namespace, as helm installs it (no caBundle): readiness waits for the CA. */
async function createWebhookConfiguration(name: string): Promise<void> {
  await admission.createMutatingWebhookConfiguration({
    body: {
      metadata: { name },
      webhooks: [
        {
          name: 'vault.hashicorp.com',
          admissionReviewVersions: ['v1'],
          sideEffects: 'None',
          failurePolicy: 'Ignore',
          namespaceSelector: { matchLabels: { [`never-${name}`]: 'true' } },
          clientConfig: { url: 'https://127.0.0.1:1/mutate' },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        },
      ],
    },
  });
  webhookConfigs.push(name);
}

/**
 * `<dir>/injector.mjs serve --tls-auto <name>` in `env` (no KUBECONFIG unless given, a HOME without
 * ~/.kube/config), until /health/ready answers 2xx (the CA is in the webhook configuration). Returns
 * the URLs of the modules it loaded by then.
 */
async function serveUntilReady(dir: string, name: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  const port = await freeLoopbackPort();
  const log = path.join(work, `${name}-modules.log`);
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  const child = spawn(
    process.execPath,
    [
      '--import',
      moduleLogHook(work, log),
      path.join(dir, 'injector.mjs'),
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-auto',
      name,
      '--tls-auto-hosts',
      '127.0.0.1',
      '--tls-secret-name',
      `${name}-certs`,
      '--vault-address',
      'https://vault.vault.svc:8200',
      '--log-level',
      'warn',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...parentEnv, HOME: work, NAMESPACE: namespace, POD_NAME: `${name}-0`, ...env },
    },
  );
  children.push(child);
  await untilWebhookReady(child, port, 'the bundled injector');
  const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  child.kill('SIGTERM');
  return loaded;
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'injector-bundle-kube-'));
  bundleDir = path.join(work, 'bundle');
  for (const args of bundleCommands(packageDir))
    execFileSync(process.execPath, [path.join(repoRoot, 'tools/bundle.js'), '--outdir', bundleDir, ...args], {
      cwd: packageDir,
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    });
  await stack.createNamespace(namespace);
}, 240_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const name of webhookConfigs)
    await admission.deleteMutatingWebhookConfiguration({ name }).catch(() => undefined);
  await access?.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
});

test('injector.mjs and admission-worker.mjs carry no client-node or undici source; kube-config-client.mjs does', () => {
  const sources = (file: string) =>
    (JSON.parse(fs.readFileSync(path.join(bundleDir, `${file}.map`), 'utf8')) as { sources: string[] }).sources;
  const clientNode = (source: string) => /node_modules\/(@kubernetes\/client-node|undici)\//.test(source);
  expect(sources('injector.mjs').filter(clientNode)).toEqual([]);
  expect(sources('admission-worker.mjs').filter(clientNode)).toEqual([]);
  expect(sources('kube-config-client.mjs').some(clientNode)).toBe(true);
});

test('as in a pod, injector.mjs without kube-config-client.mjs (the service account) becomes ready', async () => {
  const name = `${namespace}-pod`;
  await createWebhookConfiguration(name);
  access = await inClusterWebhookAccess(stack, namespace, `${name}-certs`, name);
  const podDir = path.join(work, 'pod');
  fs.mkdirSync(podDir);
  for (const file of ['injector.mjs', 'admission-worker.mjs'])
    fs.copyFileSync(path.join(bundleDir, file), path.join(podDir, file));
  const loaded = await serveUntilReady(podDir, name, {
    ...access.env,
    VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: access.root,
  });
  expect(loaded).toContain(pathToFileURL(path.join(podDir, 'injector.mjs')).href);
  expect(loaded.filter((url) => url.includes('kube-config-client'))).toEqual([]);
}, 120_000);

test('with $KUBECONFIG, injector.mjs reads it through kube-config-client.mjs and becomes ready', async () => {
  const name = `${namespace}-kubeconfig`;
  await createWebhookConfiguration(name);
  const loaded = await serveUntilReady(bundleDir, name, { KUBECONFIG: stack.handle.kubeconfigPath });
  expect(loaded).toContain(pathToFileURL(path.join(bundleDir, 'kube-config-client.mjs')).href);
}, 120_000);

// As the image starts it: the node flags of its `vaultbridge-injector` wrapper and its ENV, plus --trace-opt.
// Start-up runs without TurboFan (nothing of the bundle's evaluation is optimised, so the compiler's pages
// stay out of an idle webhook); once it listens, reviews are optimised as before.
test('as the image starts it, TurboFan optimises nothing until the webhook listens, then the review path', async () => {
  const dockerfile = fs.readFileSync(path.join(packageDir, 'Dockerfile'), 'utf8');
  const nodeFlags = wrapperNodeFlags(dockerfile, '/app/injector.mjs');
  const { env: imageEnv } = parseDockerfile(dockerfile);
  expect(nodeFlags).toContain('--no-turbofan');
  expect(imageEnv[TURBOFAN_WHEN_READY_ENV]).toBe('on');

  const certificates = await servingCertificateFiles(`${namespace}-trace`, '127.0.0.1');
  const port = await freeLoopbackPort();
  const { KUBECONFIG: _kubeconfig, ...parentEnv } = process.env;
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      '--trace-opt',
      path.join(bundleDir, 'injector.mjs'),
      'serve',
      '--listen',
      `127.0.0.1:${port}`,
      '--tls-cert-file',
      certificates.certFile,
      '--tls-key-file',
      certificates.keyFile,
      '--vault-address',
      'https://vault.vault.svc:8200',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...parentEnv, ...imageEnv, HOME: work } },
  );
  children.push(child);
  const { output } = await untilWebhookReady(child, port, 'the bundled injector');
  const untilReady = output();
  expect(untilReady).not.toMatch(/target TURBOFAN/);

  const agent = new https.Agent({ keepAlive: true, ca: certificates.caPem });
  const review = podCreateReview(pod({ 'agent-inject-secret-db': 'database/creds/web' }));
  try {
    for (let round = 0; round < 3_000 && !/completed optimizing .*target TURBOFAN/.test(output()); round++)
      expect(await postReview(port, review, { agent })).toBe(200);
  } finally {
    agent.destroy();
  }
  expect(output().slice(untilReady.length)).toMatch(/completed optimizing .*target TURBOFAN/);
  child.kill('SIGTERM');
}, 120_000);
