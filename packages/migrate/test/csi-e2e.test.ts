// The CSI directions end to end on the real stack, through the Vaultbridge CSI provider called the way
// the Secrets Store CSI driver calls it (gRPC Mount on its unix socket, attributes = the SPC parameters
// plus the pod info; no kubelet token, so the provider asks the API server for one bound to the pod):
//   1. injector → SPC: every file the provider mounts equals the file the agent renders;
//   2. that SPC → operator (the real operator syncing): every Secret key equals the mounted file;
//   3. those operator objects → SPC again: the provider mounts the same files.
// Database credentials are new per read: there the proof is the shape and a real login.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { loadProviderService, ProviderServer } from '@vaultbridge/csi-provider';
import type { RunningOperator } from '@vaultbridge/operator';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { sourceOf, type Manifest } from '../src/manifests.ts';
import { migrate } from '../src/migrate.ts';
import { agentFiles, annotatedDeployment, DB_DSN, type AgentFiles } from './support/agent.ts';
import { applyManifests, installShippedCrds, waitFor } from './support/apply.ts';
import { setUpAppNamespace, startNamespaceOperator, stopNamespaceOperator } from './support/operator.ts';

interface MountResponse {
  files: Array<{ path: string; mode: number; contents: Buffer }>;
}
type Client = grpc.Client & {
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('mig-csi');
const role = namespace;
const { kvV2Mount, databaseMount, databaseRole } = stack.layout;
const kvPath = `migrate/${namespace}/config`;
const deployment = annotatedDeployment(
  namespace,
  role,
  `${kvV2Mount}/data/${kvPath}`,
  `${databaseMount}/creds/${databaseRole}`,
);
const MOUNT_PATHS: Record<string, string> = { 'vault-secrets': '/vault/secrets', 'vault-secrets-custom-0': '/etc/app' };

let dir: string;
let server: ProviderServer;
let client: Client;
let operator: RunningOperator | undefined;
let agent: AgentFiles;
let podUid: string;

beforeAll(async () => {
  await installShippedCrds(kubeConfig);
  await setUpAppNamespace(stack, namespace, {
    policy: `
path "${kvV2Mount}/data/migrate/${namespace}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
`,
    secret: {
      path: `${kvV2Mount}/data/${kvPath}`,
      data: { username: 'app-user', password: 'p&ss<word>', port: '5432' },
    },
  });
  agent = await agentFiles(stack, namespace, 'app', deployment);
  // The provider binds the token it requests to the pod, so the pod must exist (no kubelet runs it here).
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: 'web-0' },
      spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'busybox' }] },
    },
  });
  podUid = pod.metadata!.uid!;

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-csi-'));
  const socketPath = path.join(dir, 'vault.sock');
  // The provider's admin runs it with this Vault's address (-vault-addr): it may mint pod tokens for it.
  server = new ProviderServer({
    logger: createLogger({ name: 'migrate-csi-e2e', level: 'warn' }),
    flags: { vaultAddr: stack.vaultAddr, vaultMount: 'kubernetes', tls: {} },
    env: {},
    kubeConfig,
    defaultVaultAddress: stack.vaultAddr,
  });
  await server.listen(socketPath);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
  }) as unknown as Client;
});

afterAll(async () => {
  await stopNamespaceOperator(operator, custom, namespace);
  client?.close();
  await server?.close(1000);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Mount every CSI volume of the workload in `manifests` as the driver would: file path → content and mode. */
async function mountVolumes(manifests: readonly Manifest[]): Promise<Map<string, { text: string; mode: number }>> {
  const workload = manifests.find((m) => m.kind === 'Deployment') as {
    spec: {
      template: {
        spec: { volumes: Array<{ name: string; csi?: { volumeAttributes: { secretProviderClass: string } } }> };
      };
    };
  };
  const files = new Map<string, { text: string; mode: number }>();
  for (const volume of workload.spec.template.spec.volumes) {
    const spcName = volume.csi!.volumeAttributes.secretProviderClass;
    const spc = manifests.find((m) => m.kind === 'SecretProviderClass' && sourceOf(m).name === spcName) as {
      spec: { parameters: Record<string, string> };
    };
    const attributes = JSON.stringify({
      ...spc.spec.parameters,
      'csi.storage.k8s.io/pod.name': 'web-0',
      'csi.storage.k8s.io/pod.namespace': namespace,
      'csi.storage.k8s.io/pod.uid': podUid,
      'csi.storage.k8s.io/serviceAccount.name': 'app',
      secretProviderClass: spcName,
    });
    const response = await new Promise<MountResponse>((resolve, reject) => {
      client.Mount(
        {
          attributes,
          secrets: 'null',
          target_path: path.join(dir, 'target', volume.name),
          permission: '420',
          current_object_version: [],
        },
        (error, answer) => (error ? reject(error) : resolve(answer)),
      );
    });
    for (const file of response.files)
      files.set(path.posix.join(MOUNT_PATHS[volume.name]!, file.path), {
        text: Buffer.from(file.contents).toString('utf8'),
        mode: file.mode,
      });
  }
  return files;
}

async function logsIn(dsn: string): Promise<void> {
  const [, user, password] = DB_DSN.exec(dsn)!;
  const db = new pg.Client({
    host: stack.postgres.host,
    port: stack.postgres.port,
    database: stack.postgres.database,
    user,
    password,
  });
  await db.connect();
  await db.end();
}

let toCsi: Manifest[];
let toOperator: Manifest[];

test('injector → SecretProviderClass: the provider mounts the files the agent renders', async () => {
  const result = migrate([deployment], { to: 'csi', injectorDefaults: { vaultAddress: stack.vaultAddr } });
  expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  toCsi = result.manifests;
  const files = await mountVolumes(toCsi);
  expect([...files.keys()].sort()).toEqual([
    '/etc/app/conf/dsn.env',
    '/vault/secrets/config.txt',
    '/vault/secrets/db',
    '/vault/secrets/password',
    '/vault/secrets/settings.json',
  ]);
  for (const [file, { text, mode }] of files) {
    if (file === '/vault/secrets/db') {
      expect(agent.read(file)).toMatch(DB_DSN);
      await logsIn(text);
    } else {
      expect({ file, text }).toEqual({ file, text: agent.read(file) });
    }
    if (file === '/etc/app/conf/dsn.env') expect(mode).toBe(agent.mode(file));
  }
  // The one-key template became upstream's secretKey.
  expect(
    toCsi.find((m) => m.kind === 'SecretProviderClass' && sourceOf(m).name === 'web-vault-secrets')!.spec,
  ).toMatchObject({ parameters: { objects: expect.stringContaining('secretKey: password') } });
});

test('that SecretProviderClass → operator: every Secret key equals the mounted file', async () => {
  const result = migrate(toCsi, { to: 'operator' });
  expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  toOperator = result.manifests;
  await applyManifests(kubeConfig, toOperator);
  operator = await startNamespaceOperator(stack, namespace, 'migrate-csi-op');
  const mounted = await mountVolumes(toCsi);
  const workload = toOperator.find((m) => m.kind === 'Deployment') as {
    spec: {
      template: {
        spec: {
          volumes: Array<{
            name: string;
            projected: {
              sources: Array<{ secret: { name: string; items: Array<{ key: string; path: string; mode?: number }> } }>;
            };
          }>;
        };
      };
    };
  };
  let compared = 0;
  for (const volume of workload.spec.template.spec.volumes) {
    for (const { secret } of volume.projected.sources) {
      const synced = await waitFor(
        `Secret ${secret.name}`,
        () => core.readNamespacedSecret({ name: secret.name, namespace }),
        30_000,
      );
      for (const item of secret.items) {
        const file = path.posix.join(MOUNT_PATHS[volume.name]!, item.path);
        const text = Buffer.from(synced.data?.[item.key] ?? '', 'base64').toString('utf8');
        if (file === '/vault/secrets/db') await logsIn(text);
        else expect({ file, text }).toEqual({ file, text: mounted.get(file)?.text });
        if (item.mode !== undefined) expect(item.mode).toBe(mounted.get(file)?.mode);
        compared++;
      }
    }
  }
  expect(compared).toBe(5);
});

test('and those operator objects → SecretProviderClass again: the same files', async () => {
  const result = migrate(toOperator, { to: 'csi' });
  expect(result.findings.filter((f) => f.severity === 'error')).toEqual([]);
  expect(result.manifests.map((m) => m.kind).sort()).toEqual([
    'Deployment',
    'SecretProviderClass',
    'SecretProviderClass',
  ]);
  const again = await mountVolumes(result.manifests);
  for (const [file, { text }] of again) {
    if (file === '/vault/secrets/db') await logsIn(text);
    else expect({ file, text }).toEqual({ file, text: agent.read(file) });
  }
  expect(again.size).toBe(5);
});
