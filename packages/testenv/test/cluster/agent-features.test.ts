// The agent's own additions in real pods (issue 10), beyond the injector test's basics: the default
// init → sidecar handover, env-var secrets, and the cache listener. The webhook mutates real pods, the
// agents run from the built image and reach Vault directly (ClusterHandle.vaultAddrForPods: no
// counting proxy in between), so requests are counted from Vault's own audit log: a file audit device
// enabled for this file only, entries matched by request path and the login's role (not hashed).
import fs from 'node:fs';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import pg from 'pg';
import { shelllessAppImage } from '../../src/cluster/images.ts';
import {
  appNamespace,
  clusterStack,
  installChart,
  lastPrint,
  podLog,
  printingContainer,
  waitFor,
  waitForPodsReady,
  type ClusterStack,
} from './support.ts';

const env: ClusterStack = clusterStack();
const { databaseMount, kubernetesAuthMount } = env.stack.layout;
const auditDevice = 'vb-agent-features';
const auditFile = path.join(env.stack.handle.workDir, `${auditDevice}.log`);

let namespace: string;
let role: string;
let dbRole: string;

interface AuditEntry {
  type: 'request' | 'response';
  error?: string;
  auth?: { metadata?: Record<string, string> };
  request?: { path?: string; remote_address?: string };
}

function auditResponses(): AuditEntry[] {
  const text = fs.existsSync(auditFile) ? fs.readFileSync(auditFile, 'utf8') : '';
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEntry)
    .filter((e) => e.type === 'response' && !e.error);
}

/** Successful logins with this test's role, and credentials issued from its database role (nobody else uses either). */
function counts(): { logins: number; credentials: number } {
  const responses = auditResponses();
  return {
    logins: responses.filter(
      (e) => e.request?.path === `auth/${kubernetesAuthMount}/login` && e.auth?.metadata?.role === role,
    ).length,
    credentials: responses.filter((e) => e.request?.path === `${databaseMount}/creds/${dbRole}`).length,
  };
}

async function logsIn(user: string, password: string): Promise<void> {
  const { host, port, database } = env.stack.postgres;
  const client = new pg.Client({ host, port, database, user, password, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ user: string }>('SELECT current_user AS user');
    expect(rows[0]?.user).toBe(user);
  } finally {
    await client.end();
  }
}

async function deployment(
  name: string,
  annotations: Record<string, string>,
  show: string,
  app: V1Container = printingContainer(env.cluster.images.injector, show),
): Promise<string> {
  await env.apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: name } },
        template: {
          metadata: {
            labels: { app: name },
            annotations: {
              'vault.hashicorp.com/agent-inject': 'true',
              'vault.hashicorp.com/role': role,
              ...annotations,
            },
          },
          spec: { serviceAccountName: 'app', containers: [app] },
        },
      },
    },
  });
  const [pod] = await waitForPodsReady(env, namespace, `app=${name}`);
  expect(pod!.metadata?.annotations?.['vault.hashicorp.com/agent-inject-status']).toBe('injected');
  return pod!.metadata!.name!;
}

beforeAll(async () => {
  await installChart(env);
  // One namespace, one Vault role and one database role for the whole file.
  namespace = await appNamespace(env, 'agent-feat');
  role = `${namespace}-app`;
  dbRole = `${namespace}-db`;
  await env.stack.writeDatabaseRole(dbRole, { defaultTtl: '1h', maxTtl: '2h' });
  await env.stack.writePolicy(
    role,
    `path "secret/data/${namespace}/*" { capabilities = ["read"] }\npath "${databaseMount}/creds/${dbRole}" { capabilities = ["read"] }\n`,
  );
  await env.stack.writeKubernetesRole(role, { serviceAccounts: ['app'], namespaces: [namespace], policies: [role] });
  fs.rmSync(auditFile, { force: true });
  await env.stack.vaultAdmin.write(`sys/audit/${auditDevice}`, { type: 'file', options: { file_path: auditFile } });
});

afterAll(async () => {
  await env.stack.vaultAdmin.delete(`sys/audit/${auditDevice}`);
  fs.rmSync(auditFile, { force: true });
});

describe('the agent on a real node', () => {
  const dbAnnotations = (): Record<string, string> => ({
    'vault.hashicorp.com/agent-inject-secret-db': `${databaseMount}/creds/${dbRole}`,
    'vault.hashicorp.com/agent-inject-template-db': `{{ with secret "${databaseMount}/creds/${dbRole}" }}{{ .Data.username }} {{ .Data.password }}{{ end }}`,
  });

  /** Deploys an app printing the database credential and the secrets directory; returns the counts its pod cost. */
  async function databasePod(
    name: string,
    extra: Record<string, string>,
  ): Promise<{ pod: string; sidecarLog: string; cost: { logins: number; credentials: number } }> {
    const before = counts();
    const pod = await deployment(
      name,
      { ...dbAnnotations(), ...extra },
      'cat /vault/secrets/db; echo; ls -A /vault/secrets',
    );
    // The sidecar is done with Vault for now (handover taken or fresh login, first render) when it says so.
    const sidecarLog = await waitFor(env, namespace, 'the sidecar reporting its first render', async () => {
      const log = await podLog(env, namespace, pod, 'vault-agent');
      return log.includes('sidecar ready') ? log : undefined;
    });
    // The app reads a working credential, in a print begun after the sidecar said so: the print before
    // may have listed the secrets directory before the sidecar took (and deleted) the handover file.
    // Two prints on, the whole print ran after that moment.
    const printsThen = (await podLog(env, namespace, pod, 'app')).split('>>>').length;
    const print = await waitFor(env, namespace, 'the app printing the credential', async () => {
      const log = await podLog(env, namespace, pod, 'app');
      const last = lastPrint(log);
      return log.split('>>>').length >= printsThen + 2 && last && /^\S+ \S+\n/.test(last) ? last : undefined;
    });
    const [user, password] = print.split('\n')[0]!.split(' ');
    await logsIn(user!, password!);
    const after = counts();
    return {
      pod,
      sidecarLog,
      cost: { logins: after.logins - before.logins, credentials: after.credentials - before.credentials },
    };
  }

  it('hands init’s token and database credential to the sidecar: one login and one credential for the pod', async () => {
    const { pod, sidecarLog, cost } = await databasePod('handover', {});
    expect(sidecarLog).toContain('handover from the init agent restored');
    expect(sidecarLog).toContain('vault token adopted from the init agent (no new login)');
    expect(sidecarLog).not.toContain('logging in afresh');
    // The sidecar deleted the hidden handover file when it took it.
    const print = lastPrint(await podLog(env, namespace, pod, 'app'));
    expect(print?.split('\n').slice(1)).toEqual(['db', '']);
    const sidecar = (
      await env.stack.kube.core.readNamespacedPod({ namespace, name: pod })
    ).status?.containerStatuses?.find((s) => s.name === 'vault-agent');
    expect([sidecar?.ready, sidecar?.restartCount]).toEqual([true, 0]);
    expect(cost).toEqual({ logins: 1, credentials: 1 });
  });

  it('counts two logins and two credentials for a pod that opts out (agent-handover "false"), as vault-k8s does', async () => {
    const { sidecarLog, cost } = await databasePod('no-handover', { 'vault.hashicorp.com/agent-handover': 'false' });
    expect(sidecarLog).not.toContain('handover from the init agent restored');
    expect(cost).toEqual({ logins: 2, credentials: 2 });
  });

  it('gives an app image without a shell its env-var secret, byte for byte, nowhere in the pod spec', async () => {
    // Quotes, `$`, backquotes and a newline: the exec wrapper must take every byte literally. The app
    // image holds one static binary (tools/images/envprint.c): no /bin/sh, no libc.
    const value = `it's "$HOME" \`id\` $(id) *\nsecond line \\n`;
    await env.stack.vaultAdmin.write(`secret/data/${namespace}/env`, { data: { password: value } });
    const pod = await deployment(
      'env',
      {
        'vault.hashicorp.com/agent-inject-secret-pw': `secret/data/${namespace}/env`,
        'vault.hashicorp.com/agent-inject-template-pw': `{{ with secret "secret/data/${namespace}/env" }}{{ .Data.data.password }}{{ end }}`,
        'vault.hashicorp.com/agent-inject-env-pw': 'DB_PASSWORD',
      },
      '',
      {
        name: 'app',
        image: shelllessAppImage,
        imagePullPolicy: 'Never',
        command: ['/envprint'],
        args: ['DB_PASSWORD'],
      },
    );

    const print = await waitFor(env, namespace, 'the app printing its DB_PASSWORD', async () =>
      lastPrint(await podLog(env, namespace, pod, 'app')),
    );
    // PID 1 of the container: the wrapper exec'd the app, which has the variable in its own environment.
    expect(print).toBe(`pid=1\nshell=absent\nDB_PASSWORD=${value}\n`);
    const spec = await env.stack.kube.core.readNamespacedPod({ namespace, name: pod });
    expect(JSON.stringify(spec)).not.toContain('$(id)');
    const app = spec.spec?.containers.find((c) => c.name === 'app');
    expect([app?.command, app?.args]).toEqual([
      ['/vault/exec/vaultbridge-exec', '/vault/secrets/.vaultbridge-env', '--'],
      ['/envprint', 'DB_PASSWORD'],
    ]);
    expect(app?.volumeMounts).toContainEqual({ name: 'vault-exec', mountPath: '/vault/exec', readOnly: true });
  });

  // The image runs node with --expose-gc, and the sidecar gives back what its login and first render grew
  // once it is quiet (core's idle memory trim); counted in its metrics, read here from inside the pod.
  it('gives memory back once the sidecar is quiet, and counts it in its metrics', async () => {
    await env.stack.vaultAdmin.write(`secret/data/${namespace}/trim`, { data: { password: 'p' } });
    const pod = await deployment(
      'trim',
      {
        'vault.hashicorp.com/agent-inject-secret-trim': `secret/data/${namespace}/trim`,
        'vault.hashicorp.com/agent-metrics-listener-port': '9102',
      },
      // A scrape every ~5 s, not every 0.5 s: scrapes are work too, and the trim waits for 3 quiet seconds.
      'sleep 4; wget -qO- http://127.0.0.1:9102/agent/v1/metrics | grep ^vaultbridge_idle_memory_trims_total',
    );
    const trims = await waitFor(env, namespace, 'the sidecar counting an idle memory trim', async () => {
      const count = Number(
        /^vaultbridge_idle_memory_trims_total(?:\{[^}]*\})? (\d+)/m.exec(
          lastPrint(await podLog(env, namespace, pod, 'app')) ?? '',
        )?.[1] ?? 0,
      );
      return count >= 1 ? count : undefined;
    });
    expect(trims).toBeGreaterThanOrEqual(1);
  });

  it('serves the app through the cache listener without a token', async () => {
    await env.stack.vaultAdmin.write(`secret/data/${namespace}/cache`, { data: { password: 'through-the-listener' } });
    const pod = await deployment(
      'cache',
      {
        'vault.hashicorp.com/agent-inject-secret-unused': `secret/data/${namespace}/cache`,
        'vault.hashicorp.com/agent-cache-enable': 'true',
      },
      `wget -qO- http://127.0.0.1:8200/v1/secret/data/${namespace}/cache`,
    );

    const print = await waitFor(env, namespace, 'the app reading through the listener', async () => {
      const last = lastPrint(await podLog(env, namespace, pod, 'app'));
      return last?.startsWith('{') ? last : undefined;
    });
    const body = JSON.parse(print) as { data?: { data?: { password?: string } } };
    expect(body.data?.data?.password).toBe('through-the-listener');
  });
});
