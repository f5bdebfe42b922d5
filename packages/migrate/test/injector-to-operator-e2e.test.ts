// Injector → operator end to end on the real stack (kube-apiserver + Vault 1.13 + PostgreSQL): a
// Deployment with vault.hashicorp.com annotations is migrated, the output is created in the real API
// server (CRDs from packages/operator/crds), the real operator syncs it, and each Secret key equals the
// file the agent renders for the same annotations and the same Vault data (the agent run as a process,
// as its own e2e runs it). Database credentials are new per read, so there the proof is the shape and a
// real login with the operator's credentials.
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, type V1Secret } from '@kubernetes/client-node';
import type { RunningOperator } from '@vaultbridge/operator';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { migrate } from '../src/migrate.ts';
import { agentFiles, annotatedDeployment, DB_DSN } from './support/agent.ts';
import { applyManifests, installShippedCrds, waitFor } from './support/apply.ts';
import { setUpAppNamespace, startNamespaceOperator, stopNamespaceOperator } from './support/operator.ts';

const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('mig-inj');
const role = namespace;
const { kvV2Mount, databaseMount, databaseRole } = stack.layout;
const kvPath = `migrate/${namespace}/config`;
let operator: RunningOperator | undefined;

const deployment = annotatedDeployment(
  namespace,
  role,
  `${kvV2Mount}/data/${kvPath}`,
  `${databaseMount}/creds/${databaseRole}`,
);

beforeAll(async () => {
  await installShippedCrds(kubeConfig);
  // No audience on the role: a pod's own token (the agent's) and a TokenRequest token with the API
  // server's default audience (the operator's, as converted) both carry the default audience.
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
});

afterAll(async () => {
  await stopNamespaceOperator(operator, custom, namespace);
});

const decode = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

test('the migrated Deployment is accepted, synced by the operator, and each Secret key is the file the agent renders', async () => {
  const { manifests, findings } = migrate([deployment], {
    to: 'operator',
    injectorDefaults: { vaultAddress: stack.vaultAddr },
  });
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);

  // Every converted document is created by the real API server (CRD schemas, the Deployment's validation).
  const created = await applyManifests(kubeConfig, manifests);
  expect(created.map((m) => m.kind)).toEqual([
    'VaultConnection',
    'VaultAuth',
    'VaultStaticSecret',
    'VaultDynamicSecret',
    'Deployment',
  ]);

  operator = await startNamespaceOperator(stack, namespace, 'migrate-e2e');

  const agent = await agentFiles(stack, namespace, 'app', deployment);
  const migrated = manifests.find((m) => m.kind === 'Deployment') as {
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
  const volumeMounts = { 'vault-secrets': '/vault/secrets', 'vault-secrets-custom-0': '/etc/app' } as Record<
    string,
    string
  >;

  // Walk the projected volumes as the kubelet would: each item is a file at mountPath/path from a Secret key.
  let compared = 0;
  for (const volume of migrated.spec.template.spec.volumes) {
    for (const { secret } of volume.projected.sources) {
      const synced = await waitFor(
        `Secret ${secret.name}`,
        () => core.readNamespacedSecret({ name: secret.name, namespace }).catch(() => undefined),
        30_000,
      );
      for (const item of secret.items) {
        const file = path.posix.join(volumeMounts[volume.name]!, item.path);
        const fromOperator = decode(synced, item.key);
        if (file === '/vault/secrets/db') {
          // New credentials per read: the same shape, and the operator's log in to PostgreSQL.
          expect(agent.read(file)).toMatch(DB_DSN);
          const [, user, password] = DB_DSN.exec(fromOperator)!;
          const client = new pg.Client({
            host: stack.postgres.host,
            port: stack.postgres.port,
            database: stack.postgres.database,
            user,
            password,
          });
          await client.connect();
          await client.end();
        } else {
          expect({ file, content: fromOperator }).toEqual({ file, content: agent.read(file) });
        }
        // The agent's file mode comes back as the projected item's mode.
        if (item.mode !== undefined) expect(agent.mode(file)).toBe(item.mode);
        compared++;
      }
    }
  }
  expect(compared).toBe(5);
  // Not only equal to each other: the content is what the annotations ask for.
  expect(agent.read('/vault/secrets/config.txt')).toBe('password: p&ss<word>\nport: 5432\nusername: app-user\n');
  expect(agent.read('/vault/secrets/settings.json')).toBe(
    '{"password":"p&ss<word>","port":"5432","username":"app-user"}\n',
  );
  expect(agent.read('/etc/app/conf/dsn.env')).toBe('user=app-user\npassword=p&ss<word>\n');
});
