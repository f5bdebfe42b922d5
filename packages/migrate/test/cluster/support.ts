// What a migration proof in real pods needs: the stack's node, the chart installed once, Vault data and
// a role per namespace, a container that shows what it sees (`kubectl exec` of a Node one-liner in the
// services' image), and the migration run as a user runs it (`vaultbridge-migrate`, in process).
import { execFile } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import type * as k8s from '@kubernetes/client-node';
import { binaryPath, clusterEnv, sharedStack, waitFor, type ClusterStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { runMigrateCli } from '../../src/cli.ts';
import { parseManifests, type Manifest } from '../../src/manifests.ts';
import type { Finding } from '../../src/report.ts';

export function migrateEnv(): ClusterStack {
  return clusterEnv(
    sharedStack(),
    'the stack named by VAULTBRIDGE_STACK runs no node: the migration proofs in real pods run in the cluster tier (cd packages/testenv && npm run test:cluster)',
  );
}

/** What a container sees: every file under the given directories (mode and text) and the given variables. */
export interface ContainerView {
  files: Record<string, { mode: string; text: string }>;
  env: Record<string, string>;
}

// Runs inside the app container (the image carries Node). Entries starting with `..` are the atomic
// writer's timestamped directories and `..data` link of projected and CSI volumes: the files are the
// links beside them.
const VIEW_SCRIPT = `
const fs = require('fs'), path = require('path');
const [dirs, names] = JSON.parse(process.argv[1]);
const files = {}, env = {};
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir)) {
    if (entry.startsWith('..')) continue;
    const file = path.join(dir, entry), stat = fs.statSync(file);
    if (stat.isDirectory()) walk(file);
    else files[file] = { mode: (stat.mode & 0o777).toString(8), text: fs.readFileSync(file, 'utf8') };
  }
};
for (const dir of dirs) if (fs.existsSync(dir)) walk(dir);
for (const name of names) if (name in process.env) env[name] = process.env[name];
process.stdout.write(JSON.stringify({ files, env }));
`;

export function kubectl(env: ClusterStack, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      binaryPath('kubectl'),
      ['--kubeconfig', env.stack.handle.kubeconfigPath, ...args],
      { timeout: 60_000, encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

export async function containerView(
  env: ClusterStack,
  namespace: string,
  pod: string,
  dirs: readonly string[],
  envNames: readonly string[] = [],
): Promise<ContainerView> {
  const out = await kubectl(
    env,
    'exec',
    '-n',
    namespace,
    pod,
    '-c',
    'app',
    '--',
    'node',
    '-e',
    VIEW_SCRIPT,
    JSON.stringify([dirs, envNames]),
  );
  return JSON.parse(out) as ContainerView;
}

function isReady(pod: k8s.V1Pod): boolean {
  return (
    !pod.metadata?.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** The Ready pod of `app=<app>` whose template is the Deployment's current one (not one of `before`). */
export async function currentPod(
  env: ClusterStack,
  namespace: string,
  app: string,
  before: readonly string[] = [],
): Promise<string> {
  return waitFor(
    env,
    namespace,
    `a new Ready pod of ${app}`,
    async () => {
      const pods = (await env.stack.kube.core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items;
      const ready = pods.filter((pod) => isReady(pod) && !before.includes(pod.metadata!.name!));
      return ready.length === 1 ? ready[0]!.metadata!.name! : undefined;
    },
    180_000,
  );
}

/** A namespace with service account `app`, Vault policy and kubernetes role `<namespace>`. */
export async function vaultNamespace(
  env: ClusterStack,
  prefix: string,
  policy: (namespace: string) => string,
  audience?: string,
): Promise<string> {
  const namespace = env.stack.uniqueName(prefix);
  await env.stack.createServiceAccount(namespace, 'app');
  await env.stack.writePolicy(namespace, policy(namespace));
  await env.stack.writeKubernetesRole(namespace, {
    serviceAccounts: ['app'],
    namespaces: [namespace],
    policies: [namespace],
    ...(audience ? { audience } : {}),
  });
  return namespace;
}

/** The app container: runs as root so it reads every file whatever its owner and mode (0400 included). */
export function appContainer(env: ClusterStack, extra: Partial<k8s.V1Container> = {}): k8s.V1Container {
  return {
    name: 'app',
    image: env.cluster.images.injector,
    imagePullPolicy: 'Never',
    command: ['/bin/sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
    securityContext: { runAsUser: 0, runAsNonRoot: false },
    ...extra,
  };
}

export interface Migration {
  code: number;
  manifests: Manifest[];
  findings: Finding[];
}

/** `vaultbridge-migrate <argv> --report-format json`, in process, as a user runs it. */
export async function runMigrate(argv: readonly string[], stdin = ''): Promise<Migration> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await runMigrateCli([...argv, '--report-format', 'json'], {
    stdin: Readable.from(stdin === '' ? [] : [stdin]),
    stdout,
    stderr,
    env: {},
  });
  if (code === 2) throw new Error(`vaultbridge-migrate refused its input: ${err}`);
  return { code, manifests: parseManifests(out, 'stdout'), findings: JSON.parse(err) as Finding[] };
}

/** What the report says cannot be expressed or behaves differently (`info` items left out), as `severity kind field`. */
export function notExpressed(findings: readonly Finding[]): string[] {
  return findings.filter((f) => f.severity !== 'info').map((f) => `${f.severity} ${f.source.kind} ${f.field}`);
}

/** Database credentials are new on every read: what is compared is that they log in. */
export async function logsIn(env: ClusterStack, user: string, password: string): Promise<void> {
  const { host, port, database } = env.stack.postgres;
  const client = new pg.Client({ host, port, database, user, password });
  await client.connect();
  try {
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    if (rows[0]?.user !== user) throw new Error(`logged in as ${rows[0]?.user}, expected ${user}`);
  } finally {
    await client.end();
  }
}
