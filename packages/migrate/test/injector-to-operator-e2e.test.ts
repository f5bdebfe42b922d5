// Injector → operator end to end on the real stack (kube-apiserver + Vault 1.13 + PostgreSQL): a
// Deployment with vault.hashicorp.com annotations is migrated, the output is created in the real API
// server (CRDs from packages/operator/crds), the real operator syncs it, and each Secret key equals the
// file the agent renders for the same annotations and the same Vault data (the agent run as a process,
// as its own e2e runs it). Database credentials are new per read, so there the proof is the shape and a
// real login with the operator's credentials.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CoreV1Api, CustomObjectsApi, type V1Container, type V1Secret } from '@kubernetes/client-node';
import { createLogger } from '@vaultbridge/core';
import { AGENT_CONFIG_ENV, applyServiceAccountAdmission, decide, expandAgentConfig, findPod } from '@vaultbridge/injector';
import { startOperator, type RunningOperator } from '@vaultbridge/operator';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { migrate } from '../src/migrate.ts';
import type { Manifest } from '../src/manifests.ts';
import { applyManifests, deleteOperatorObjects, installShippedCrds, waitFor } from './support/apply.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../../injector/src/cli/agent.ts');
const stack = sharedStack();
const kubeConfig = stack.kube.config;
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
const namespace = stack.uniqueName('mig-inj');
const role = namespace;
const { kvV2Mount, databaseMount, databaseRole } = stack.layout;
const kvPath = `migrate/${namespace}/config`;
let operator: RunningOperator | undefined;

const deployment: Manifest = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace },
  spec: {
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: {
        labels: { app: 'web' },
        annotations: {
          'vault.hashicorp.com/agent-inject': 'true',
          'vault.hashicorp.com/role': role,
          // the default rendering (key: value lines)
          'vault.hashicorp.com/agent-inject-secret-config.txt': `${kvV2Mount}/data/${kvPath}`,
          // a template with the secret helper and a field, in a custom directory and file name with a mode
          'vault.hashicorp.com/agent-inject-secret-dsn': `${kvV2Mount}/data/${kvPath}`,
          'vault.hashicorp.com/agent-inject-template-dsn': 'user={{secret "username"}}\npassword={{password}}\n',
          'vault.hashicorp.com/secret-volume-path-dsn': '/etc/app',
          'vault.hashicorp.com/agent-inject-file-dsn': 'conf/dsn.env',
          'vault.hashicorp.com/agent-inject-perms-dsn': '0400',
          // the JSON default for one secret; and a database credential with a template
          'vault.hashicorp.com/agent-inject-secret-settings.json': `${kvV2Mount}/data/${kvPath}`,
          'vault.hashicorp.com/agent-inject-default-template-settings.json': 'json',
          'vault.hashicorp.com/agent-inject-secret-db': `${databaseMount}/creds/${databaseRole}`,
          'vault.hashicorp.com/agent-inject-template-db': 'postgresql://{{username}}:{{password}}@db/app',
        },
      },
      spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'busybox' }] },
    },
  },
};

beforeAll(async () => {
  await installShippedCrds(kubeConfig);
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, 'app');
  await stack.writePolicy(role, `
path "${kvV2Mount}/data/migrate/${namespace}/*" { capabilities = ["read"] }
path "${databaseMount}/creds/${databaseRole}" { capabilities = ["read"] }
`);
  // No audience on the role: a pod's own token (the agent's) and a TokenRequest token with the API
  // server's default audience (the operator's, as converted) both carry the default audience.
  await stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });
  await stack.vaultAdmin.write(`${kvV2Mount}/data/${kvPath}`, { data: { username: 'app-user', password: 'p&ss<word>', port: '5432' } });
});

afterAll(async () => {
  if (operator) await deleteOperatorObjects(custom, namespace);
  await operator?.stop();
});

/** The agent's files for the pod: its init container run as a process, as the kubelet would run it. */
async function agentFiles(pod: Manifest): Promise<{ root: string; read: (file: string) => string }> {
  const decision = decide(applyServiceAccountAdmission(findPod(pod)!.pod), namespace, { vaultAddress: stack.vaultAddr });
  if (decision.kind !== 'inject') throw new Error(`the injector would not inject: ${JSON.stringify(decision)}`);
  const init = (decision.pod.spec?.initContainers ?? []).find((c: V1Container) => c.name === 'vault-agent-init')!;
  const encoded = init.env!.find((e) => e.name === AGENT_CONFIG_ENV)!.value!;
  const config = expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as { auth: { serviceAccountTokenPath: string } };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-agent-'));
  const { token } = await stack.requestToken(namespace, 'app');
  const tokenFile = path.join(root, config.auth.serviceAccountTokenPath);
  fs.mkdirSync(path.dirname(tokenFile), { recursive: true });
  fs.writeFileSync(tokenFile, token);
  const child = spawn(process.execPath, ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [AGENT_CONFIG_ENV]: encoded, VAULTBRIDGE_AGENT_ROOT: root },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the agent exited ${code}:\n${output}`);
  return { root, read: (file) => fs.readFileSync(path.join(root, file), 'utf8') };
}

const decode = (secret: V1Secret, key: string) => Buffer.from(secret.data?.[key] ?? '', 'base64').toString('utf8');

test('the migrated Deployment is accepted, synced by the operator, and each Secret key is the file the agent renders', async () => {
  const { manifests, findings } = migrate([deployment], { to: 'operator', injectorDefaults: { vaultAddress: stack.vaultAddr } });
  expect(findings.filter((f) => f.severity === 'error')).toEqual([]);

  // Every converted document is created by the real API server (CRD schemas, the Deployment's validation).
  const created = await applyManifests(kubeConfig, manifests);
  expect(created.map((m) => m.kind)).toEqual(['VaultConnection', 'VaultAuth', 'VaultStaticSecret', 'VaultDynamicSecret', 'Deployment']);

  operator = await startOperator({ kubeConfig, logger: createLogger({ name: 'migrate-e2e', level: 'warn' }), operatorNamespace: namespace, backoff: { baseDelayMs: 200, maxDelayMs: 2000 } });

  const agent = await agentFiles(deployment);
  const migrated = manifests.find((m) => m.kind === 'Deployment') as { spec: { template: { spec: { volumes: Array<{ name: string; projected: { sources: Array<{ secret: { name: string; items: Array<{ key: string; path: string; mode?: number }> } }> } }> } } } };
  const volumeMounts = { 'vault-secrets': '/vault/secrets', 'vault-secrets-custom-0': '/etc/app' } as Record<string, string>;

  // Walk the projected volumes as the kubelet would: each item is a file at mountPath/path from a Secret key.
  let compared = 0;
  for (const volume of migrated.spec.template.spec.volumes) {
    for (const { secret } of volume.projected.sources) {
      const synced = await waitFor(`Secret ${secret.name}`, () => core.readNamespacedSecret({ name: secret.name, namespace }).catch(() => undefined), 30_000);
      for (const item of secret.items) {
        const file = path.posix.join(volumeMounts[volume.name]!, item.path);
        const fromOperator = decode(synced, item.key);
        if (file === '/vault/secrets/db') {
          // New credentials per read: the same shape, and the operator's log in to PostgreSQL.
          const pattern = /^postgresql:\/\/([^:]+):([^@]+)@db\/app$/;
          expect(agent.read(file)).toMatch(pattern);
          const [, user, password] = pattern.exec(fromOperator)!;
          const client = new pg.Client({ host: stack.postgres.host, port: stack.postgres.port, database: stack.postgres.database, user, password });
          await client.connect();
          await client.end();
        } else {
          expect({ file, content: fromOperator }).toEqual({ file, content: agent.read(file) });
        }
        // The agent's file mode comes back as the projected item's mode.
        if (item.mode !== undefined) expect(fs.statSync(path.join(agent.root, file)).mode & 0o777).toBe(item.mode);
        compared++;
      }
    }
  }
  expect(compared).toBe(4);
  // Not only equal to each other: the content is what the annotations ask for.
  expect(agent.read('/vault/secrets/config.txt')).toBe('password: p&ss<word>\nport: 5432\nusername: app-user\n');
  expect(agent.read('/vault/secrets/settings.json')).toBe('{"password":"p&ss<word>","port":"5432","username":"app-user"}\n');
  expect(agent.read('/etc/app/conf/dsn.env')).toBe('user=app-user\npassword=p&ss<word>\n');
});
