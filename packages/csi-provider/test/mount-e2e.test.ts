// The provider against the real stack (kube-apiserver, OpenBao, PostgreSQL), called the way the
// Secrets Store CSI Driver calls it: a gRPC client on unix:<socket>, Version, then Mount with the
// attributes JSON the driver builds (SPC parameters + pod info + the kubelet's serviceAccount.tokens).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { loadProviderService, ProviderServer } from '../src/index.ts';

const stack = sharedStack();
const { layout } = stack;

interface MountResponse {
  object_version: Array<{ id: string; version: string }>;
  files: Array<{ path: string; mode: number; contents: Buffer }>;
  error: { code: string } | null;
}

type Client = grpc.Client & {
  Version(
    request: unknown,
    callback: (error: grpc.ServiceError | null, response: { runtime_name: string; version: string }) => void,
  ): void;
  Mount(request: unknown, callback: (error: grpc.ServiceError | null, response: MountResponse) => void): void;
};

let dir: string;
let socketPath: string;
let server: ProviderServer;
let client: Client;
const logLines: string[] = [];

const namespace = stack.uniqueName('csi');
const serviceAccount = 'web';
const authMount = stack.uniqueName('k8s-csi');
const role = stack.uniqueName('csi-web');
const appPath = stack.uniqueName('csi-app');
const v1Path = stack.uniqueName('csi-legacy');

beforeAll(async () => {
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, serviceAccount);
  // An auth mount of our own: login counts are not disturbed by other suites.
  await stack.enableKubernetesAuth(authMount);
  await stack.writePolicy(
    role,
    `
path "${layout.kvV2Mount}/data/${appPath}" { capabilities = ["read"] }
path "${layout.kvV1Mount}/${v1Path}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${layout.databaseRole}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${role}-*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
`,
  );
  // Short-lived database roles: one renewable for an hour, one whose max TTL ends renewal after 4 s.
  for (const [name, maxTtl] of [
    [`${role}-renewable`, '1h'],
    [`${role}-capped`, '4s'],
  ] as const) {
    await stack.writeDatabaseRole(name, { defaultTtl: '3s', maxTtl });
  }
  await stack.writeKubernetesRole(role, {
    serviceAccounts: [serviceAccount],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
    mount: authMount,
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}`, {
    data: { username: 'app-user', password: 'hunter2<&>', port: 5432 },
  });
  await stack.vaultAdmin.write(`${layout.kvV1Mount}/${v1Path}`, {
    apiKey: 'v1-key',
    blob: Buffer.from('decoded!').toString('base64'),
  });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-provider-'));
  socketPath = path.join(dir, 'providers', 'vault.sock');
  fs.mkdirSync(path.dirname(socketPath));
  // A socket left behind by a provider that was killed (SIGKILL: no cleanup) must not stop a new start.
  const crashed = spawnSync(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(socketPath)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  expect(crashed.signal).toBe('SIGKILL');
  expect(fs.lstatSync(socketPath).isSocket()).toBe(true);

  server = new ProviderServer({
    logger: createLogger({
      name: 'csi-provider-test',
      level: 'debug',
      destination: { write: (line: string) => logLines.push(line) },
    }),
    flags: { vaultAddr: stack.vaultAddr, vaultMount: 'kubernetes', tls: {} },
    env: {},
  });
  await server.listen(socketPath);
  const Service = grpc.makeGenericClientConstructor(loadProviderService(), 'CSIDriverProvider');
  client = new Service(`unix:${socketPath}`, grpc.credentials.createInsecure(), {
    'grpc.default_authority': 'localhost',
  }) as unknown as Client;
});

afterAll(async () => {
  client?.close();
  await server?.close(1000);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function kubeletTokens(): Promise<string> {
  const { token, expiresAt } = await stack.requestToken(namespace, serviceAccount, { audiences: ['vault'] });
  return JSON.stringify({ vault: { token, expirationTimestamp: expiresAt.toISOString() } });
}

async function attributes(objects: string, extra: Record<string, string> = {}): Promise<string> {
  // What the driver marshals: SPC parameters overlaid by the pod's volume context, plus tokens.
  return JSON.stringify({
    roleName: role,
    vaultKubernetesMountPath: authMount,
    objects,
    'csi.storage.k8s.io/ephemeral': 'false',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.namespace': namespace,
    'csi.storage.k8s.io/pod.uid': '6f0c1d2e-0000-4000-8000-000000000001',
    'csi.storage.k8s.io/serviceAccount.name': serviceAccount,
    'csi.storage.k8s.io/serviceAccount.tokens': await kubeletTokens(),
    secretProviderClass: 'vault-app',
    ...extra,
  });
}

function mount(attrs: string): Promise<MountResponse> {
  return new Promise((resolve, reject) => {
    client.Mount(
      {
        attributes: attrs,
        secrets: 'null',
        target_path: path.join(dir, 'target'),
        permission: '420',
        current_object_version: [],
      },
      (error, response) => (error ? reject(error) : resolve(response)),
    );
  });
}

function fileMap(response: MountResponse): Record<string, { mode: number; text: string }> {
  return Object.fromEntries(
    response.files.map((file) => [file.path, { mode: file.mode, text: Buffer.from(file.contents).toString('utf8') }]),
  );
}

async function loginDelta<T>(
  work: () => Promise<T>,
): Promise<{ result: T; logins: number; routes: Record<string, number> }> {
  const route = `POST /v1/auth/${authMount}/login`;
  const before = (await stack.requestCounts()).byRoute;
  const result = await work();
  const after = (await stack.requestCounts()).byRoute;
  const routes = Object.fromEntries(
    Object.entries(after)
      .map(([key, count]) => [key, count - (before[key] ?? 0)])
      .filter(([, count]) => (count as number) > 0),
  );
  return { result, logins: (after[route] ?? 0) - (before[route] ?? 0), routes };
}

const objects = `
- objectName: app.json
  secretPath: ${layout.kvV2Mount}/data/${appPath}
- objectName: username
  secretPath: ${layout.kvV2Mount}/data/${appPath}
  secretKey: username
- objectName: secret/password
  secretPath: /v1/${layout.kvV2Mount}/data/${appPath}
  secretKey: password
  filePermission: 0600
- objectName: port
  secretPath: ${layout.kvV2Mount}/data/${appPath}
  secretKey: port
- objectName: legacy-key
  secretPath: ${layout.kvV1Mount}/${v1Path}
  secretKey: apiKey
  filePermission: 0440
- objectName: legacy-blob
  secretPath: ${layout.kvV1Mount}/${v1Path}
  secretKey: blob
  encoding: base64
- objectName: db-username
  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}
  secretKey: username
- objectName: db-password
  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}
  secretKey: password
`;

describe('vaultbridge-csi-provider over its unix socket', () => {
  it('answers Version like a provider', async () => {
    const version = await new Promise<{ runtime_name: string; version: string }>((resolve, reject) =>
      client.Version({ version: 'v1alpha1' }, (error, response) => (error ? reject(error) : resolve(response))),
    );
    expect(version).toMatchObject({ version: 'v1alpha1', runtime_name: 'vaultbridge-csi-provider' });
  });

  let firstVersions: Record<string, string> = {};

  it('mounts KV v2 (whole and by key), KV v1, and database credentials that log in to PostgreSQL', async () => {
    const { result: response, routes, logins } = await loginDelta(async () => mount(await attributes(objects)));
    expect(logins).toBe(1);
    const files = fileMap(response);
    expect(Object.keys(files)).toEqual([
      'app.json',
      'username',
      'secret/password',
      'port',
      'legacy-key',
      'legacy-blob',
      'db-username',
      'db-password',
    ]);

    const whole = JSON.parse(files['app.json']?.text ?? '') as {
      data: { data: Record<string, unknown>; metadata: { version: number } };
      warnings: null;
    };
    expect(whole.data.data).toEqual({ username: 'app-user', password: 'hunter2<&>', port: 5432 });
    expect(files['app.json']?.text).toMatch(
      /^\{"request_id":"[^"]+","lease_id":"","lease_duration":0,"renewable":false,"data":\{"data":\{"password":"hunter2\\u003c\\u0026\\u003e","port":5432,"username":"app-user"\},"metadata":\{/,
    );
    expect(files['username']).toEqual({ mode: 420, text: 'app-user' });
    expect(files['secret/password']).toEqual({ mode: 0o600, text: 'hunter2<&>' });
    expect(files['port']?.text).toBe('5432');
    expect(files['legacy-key']).toEqual({ mode: 0o440, text: 'v1-key' });
    expect(files['legacy-blob']?.text).toBe('decoded!');

    // Both database objects came from one read (coalesced), so they are one working credential.
    expect(routes[`GET /v1/${layout.databaseMount}/creds/${layout.databaseRole}`]).toBe(1);
    expect(routes[`GET /v1/${layout.kvV2Mount}/data/${appPath}`]).toBe(1);
    expect(routes[`GET /v1/${layout.kvV1Mount}/${v1Path}`]).toBe(1);
    const { host, port, database } = stack.postgres;
    const db = new pg.Client({
      host,
      port,
      database,
      user: files['db-username']?.text,
      password: files['db-password']?.text,
    });
    await db.connect();
    try {
      const { rows } = await db.query<{ user: string }>('select current_user as user');
      expect(rows[0]?.user).toBe(files['db-username']?.text);
    } finally {
      await db.end();
    }

    expect(response.object_version.map((version) => version.id)).toEqual(Object.keys(files));
    firstVersions = Object.fromEntries(response.object_version.map((version) => [version.id, version.version]));
    // Nothing secret reached the logs.
    expect(logLines.join('\n')).not.toMatch(/hunter2|app-user|v1-key|eyJ/);
  });

  it('a rotation poll of the same pod volume reuses its leased database credential; another pod gets its own', async () => {
    const credsRoute = `GET /v1/${layout.databaseMount}/creds/${layout.databaseRole}`;
    const first = fileMap(await mount(await attributes(objects)));
    const { result: poll, routes: pollRoutes } = await loginDelta(async () => mount(await attributes(objects)));
    expect(pollRoutes[credsRoute] ?? 0).toBe(0);
    expect(fileMap(poll)['db-username']?.text).toBe(first['db-username']?.text);
    const { result: other, routes: otherRoutes } = await loginDelta(async () =>
      mount(await attributes(objects, { 'csi.storage.k8s.io/pod.uid': '6f0c1d2e-0000-4000-8000-000000000002' })),
    );
    expect(otherRoutes[credsRoute]).toBe(1);
    expect(fileMap(other)['db-username']?.text).not.toBe(first['db-username']?.text);
  });

  const dbObjects = (dbRole: string) => `
- objectName: db-username
  secretPath: ${layout.databaseMount}/creds/${dbRole}
  secretKey: username
- objectName: db-password
  secretPath: ${layout.databaseMount}/creds/${dbRole}
  secretKey: password
`;
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const renewRoute = 'PUT /v1/sys/leases/renew';

  async function logsIn(files: Record<string, { text: string }>): Promise<boolean> {
    const { host, port, database } = stack.postgres;
    const db = new pg.Client({
      host,
      port,
      database,
      user: files['db-username']?.text,
      password: files['db-password']?.text,
    });
    try {
      await db.connect();
      return true;
    } catch {
      return false;
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  it('past two thirds of the lease a rotation poll renews it: one renewal for both objects, the same credentials, still valid after the first TTL', async () => {
    const dbRole = `${role}-renewable`;
    const volume = { 'csi.storage.k8s.io/pod.uid': '6f0c1d2e-0000-4000-8000-000000000010' };
    const first = fileMap(await mount(await attributes(dbObjects(dbRole), volume)));
    await sleep(2300);
    const { result, routes } = await loginDelta(async () => mount(await attributes(dbObjects(dbRole), volume)));
    expect(routes[renewRoute]).toBe(1);
    expect(routes[`GET /v1/${layout.databaseMount}/creds/${dbRole}`] ?? 0).toBe(0);
    expect(fileMap(result)['db-username']?.text).toBe(first['db-username']?.text);
    // The first 3 s TTL has run out; the renewal moved the PostgreSQL role's VALID UNTIL on.
    await sleep(1200);
    expect(await logsIn(first)).toBe(true);
  });

  it('when the max TTL cuts a renewal short, the poll reads new credentials', async () => {
    const dbRole = `${role}-capped`;
    const volume = { 'csi.storage.k8s.io/pod.uid': '6f0c1d2e-0000-4000-8000-000000000011' };
    const first = fileMap(await mount(await attributes(dbObjects(dbRole), volume)));
    await sleep(2300);
    const { result, routes } = await loginDelta(async () => mount(await attributes(dbObjects(dbRole), volume)));
    expect(routes[renewRoute]).toBe(1);
    expect(routes[`GET /v1/${layout.databaseMount}/creds/${dbRole}`]).toBe(1);
    const second = fileMap(result);
    expect(second['db-username']?.text).not.toBe(first['db-username']?.text);
    expect(await logsIn(second)).toBe(true);
  });

  it('renders a template (a connection string from database credentials) and selects nested keys, through the socket', async () => {
    await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}-nested`, {
      data: { postgres: { host: 'db.internal', port: 5432 } },
    });
    await stack.writePolicy(
      role,
      `
path "${layout.kvV2Mount}/data/${appPath}" { capabilities = ["read"] }
path "${layout.kvV2Mount}/data/${appPath}-nested" { capabilities = ["read"] }
path "${layout.kvV1Mount}/${v1Path}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${layout.databaseRole}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${role}-*" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
`,
    );
    const templated = `
- objectName: db-url
  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}
  template: "postgresql://{{username}}:{{password}}@${stack.postgres.host}:${stack.postgres.port}/${stack.postgres.database}"
- objectName: db-host
  secretPath: ${layout.kvV2Mount}/data/${appPath}-nested
  secretKey: postgres.host
- objectName: db-address
  secretPath: ${layout.kvV2Mount}/data/${appPath}-nested
  template: '{{ with .postgres }}{{ .host }}:{{ .port }}{{ end }} {{ .postgres.host | upper | printf "%q" }}'
`;
    const files = fileMap(
      await mount(
        await attributes(templated, { 'csi.storage.k8s.io/pod.uid': '6f0c1d2e-0000-4000-8000-000000000020' }),
      ),
    );
    expect(files['db-host']?.text).toBe('db.internal');
    // A Go template with the operator's functions; numbers print as Vault sent them.
    expect(files['db-address']?.text).toBe('db.internal:5432 "DB.INTERNAL"');
    const url = files['db-url']?.text ?? '';
    expect(url).toMatch(/^postgresql:\/\/[^:]+:[^@]+@/);
    // The rendered connection string works.
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    await db.end();
  });

  it('a second mount for the same service account reuses the Vault token (no login) and versions follow content', async () => {
    const staticObjects = objects.split('- objectName: db-username')[0] ?? '';
    const { result: unchanged, logins: noLogin } = await loginDelta(async () => mount(await attributes(staticObjects)));
    expect(noLogin).toBe(0);
    const unchangedVersions = Object.fromEntries(
      unchanged.object_version.map((version) => [version.id, version.version]),
    );
    expect(unchangedVersions['username']).toBe(firstVersions['username']);

    await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}`, {
      data: { username: 'app-user-2', password: 'hunter2<&>', port: 5432 },
    });
    const changed = await mount(await attributes(staticObjects));
    const changedVersions = Object.fromEntries(changed.object_version.map((version) => [version.id, version.version]));
    expect(fileMap(changed)['username']?.text).toBe('app-user-2');
    expect(changedVersions['username']).not.toBe(firstVersions['username']);
    expect(changedVersions['app.json']).not.toBe(firstVersions['app.json']);
    expect(changedVersions['secret/password']).toBe(firstVersions['secret/password']);
    expect(changedVersions['legacy-key']).toBe(firstVersions['legacy-key']);
  });

  it('two concurrent mounts of a new identity make exactly one Vault login', async () => {
    const otherRole = stack.uniqueName('csi-other');
    await stack.writeKubernetesRole(otherRole, {
      serviceAccounts: [serviceAccount],
      namespaces: [namespace],
      policies: [role],
      audience: 'vault',
      mount: authMount,
    });
    const one = `- objectName: u\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`;
    const { result, logins } = await loginDelta(async () => {
      const [a, b] = await Promise.all([
        attributes(one, { roleName: otherRole }),
        attributes(one, { roleName: otherRole }),
      ]);
      return Promise.all([mount(a), mount(b)]);
    });
    expect(logins).toBe(1);
    expect(result.map((response) => fileMap(response)['u']?.text)).toEqual(['app-user-2', 'app-user-2']);
  });

  it('a SecretProviderClass with a bad object gets INVALID_ARGUMENT naming the field, and the server keeps serving', async () => {
    const bad = `- objectName: ../escape\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n- objectName: b\n  secretPath: x\n  filePermission: 0999\n`;
    const error = await mount(await attributes(bad)).then(
      () => undefined,
      (failure: grpc.ServiceError) => failure,
    );
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(error?.details).toMatch(/objects\[0\]\.objectName: "\.\.\/escape" contains a "\.\." element/);
    expect(error?.details).toMatch(/objects\[1\]\.filePermission/);
    const ok = await mount(
      await attributes(`- objectName: u\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`),
    );
    expect(ok.files).toHaveLength(1);
  });

  it('a path the role does not allow fails naming the path, and returns no files', async () => {
    const forbidden = `${layout.kvV2Mount}/data/${stack.uniqueName('not-allowed')}`;
    const spc = `- objectName: ok\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n- objectName: nope\n  secretPath: ${forbidden}\n`;
    const error = await mount(await attributes(spc)).then(
      () => undefined,
      (failure: grpc.ServiceError) => failure,
    );
    expect(error?.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(error?.details).toContain(`couldn't read secret "nope" from ${forbidden}`);
    expect(error?.details).toContain(`must allow read on ${forbidden}`);
  });
});
