// Vault unavailable during the driver's rotation poll (a re-Mount of a mounted pod volume), through the
// provider's gRPC socket as the Secrets Store CSI Driver calls it: the Mount answer is an error (so the
// driver keeps the files it wrote), the provider never touches the target directory, the leased
// database credential of the pod volume is not read again (no duplicate lease), and the first poll
// after Vault is back succeeds with the value changed meanwhile. The fault is the stack's proxy,
// scoped to this test's KV path (503, then reset connections).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createLogger } from '@vaultbridge/core';
import { sharedStack } from '@vaultbridge/testenv';
import { loadProviderService, ProviderServer } from '../src/index.ts';

const stack = sharedStack();
const { layout } = stack;

interface MountResponse {
  files: Array<{ path: string; mode: number; contents: Buffer }>;
  error: { code: string } | null;
}
type Client = grpc.Client & {
  Mount(
    request: unknown,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: MountResponse) => void,
  ): void;
};

const namespace = stack.uniqueName('csi-outage');
const role = stack.uniqueName('csi-outage');
const appPath = stack.uniqueName('csi-outage-app');
const kvPrefix = `${layout.kvV2Mount}/data/${appPath}`;
// A database role of this file's own: the creds route is counted, and other test files running
// at the same time read the stack's shared role.
const dbRole = stack.uniqueName('csi-outage-db');
const credsRoute = `GET /v1/${layout.databaseMount}/creds/${dbRole}`;
const logLines: string[] = [];
let dir: string;
let server: ProviderServer;
let client: Client;

beforeAll(async () => {
  await stack.createNamespace(namespace);
  await stack.writeDatabaseRole(dbRole, { defaultTtl: '1h', maxTtl: '24h' });
  await stack.createServiceAccount(namespace, 'web');
  await stack.writePolicy(
    role,
    `
path "${kvPrefix}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${dbRole}" { capabilities = ["read"] }
path "sys/leases/renew" { capabilities = ["update"] }
`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['web'],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(kvPrefix, { data: { password: 'before-outage' } });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-outage-'));
  const socketPath = path.join(dir, 'vault.sock');
  server = new ProviderServer({
    logger: createLogger({
      name: 'csi-outage-test',
      level: 'trace',
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
  await stack.setVaultFault('none');
  client?.close();
  await server?.close(1000);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function attributes(podUid = '6f0c1d2e-0000-4000-8000-0000000000aa'): Promise<string> {
  const { token, expiresAt } = await stack.requestToken(namespace, 'web', { audiences: ['vault'] });
  return JSON.stringify({
    roleName: role,
    objects: `
- objectName: password
  secretPath: ${kvPrefix}
  secretKey: password
- objectName: db-password
  secretPath: ${layout.databaseMount}/creds/${dbRole}
  secretKey: password
`,
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.namespace': namespace,
    'csi.storage.k8s.io/pod.uid': podUid,
    'csi.storage.k8s.io/serviceAccount.name': 'web',
    'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
      vault: { token, expirationTimestamp: expiresAt.toISOString() },
    }),
    secretProviderClass: 'vault-app',
  });
}

const target = (): string => path.join(dir, 'target');

/** The Mount answer: its files, or the error the driver would see (gRPC status or the response's error). */
async function mount(
  options: { podUid?: string; deadlineMs?: number } = {},
): Promise<{ files: Record<string, string> } | { error: string }> {
  const attrs = await attributes(options.podUid);
  const callOptions: grpc.CallOptions =
    options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve) => {
    client.Mount(
      { attributes: attrs, secrets: 'null', target_path: target(), permission: '420', current_object_version: [] },
      new grpc.Metadata(),
      callOptions,
      (error, response) => {
        if (error) resolve({ error: `${grpc.status[error.code]}: ${error.details}` });
        else if (response.error?.code) resolve({ error: response.error.code });
        else
          resolve({
            files: Object.fromEntries(
              response.files.map((file) => [file.path, Buffer.from(file.contents).toString('utf8')]),
            ),
          });
      },
    );
  });
}

/** What the driver does with a successful answer: the files in the target directory. */
function writeTarget(files: Record<string, string>): void {
  fs.mkdirSync(target(), { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(target(), name), text);
}

const targetSnapshot = (): Record<string, string> =>
  Object.fromEntries(
    fs
      .readdirSync(target())
      .sort()
      .map((name) => [name, fs.readFileSync(path.join(target(), name), 'utf8')]),
  );

test('Vault down during rotation polls: each poll is an error, the target files are untouched, no new lease; the first poll after recovery succeeds', async () => {
  const first = await mount();
  if (!('files' in first)) throw new Error(`first mount failed: ${first.error}`);
  expect(first.files.password).toBe('before-outage');
  writeTarget(first.files);
  const before = targetSnapshot();
  const countsBefore = (await stack.requestCounts()).byRoute;

  const failures: string[] = [];
  try {
    for (const fault of ['unavailable', 'reset'] as const) {
      await stack.setVaultFault(fault, { pathPrefix: kvPrefix });
      // The value changes in Vault while the provider cannot reach it.
      await stack.vaultAdmin.write(kvPrefix, { data: { password: `during-${fault}` } });
      for (let poll = 0; poll < 3; poll++) {
        const answer = await mount();
        expect('error' in answer).toBe(true);
        if ('error' in answer) failures.push(answer.error);
        // The driver is told which object failed and why, as gRPC details.
        expect('error' in answer && answer.error).toMatch(
          /couldn't read secret "password" .*Vault .*is (unavailable|unreachable)/,
        );
        expect(targetSnapshot()).toEqual(before);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  } finally {
    await stack.setVaultFault('none');
  }
  const restoredAt = Date.now();
  const after = await mount();
  const recoveryMs = Date.now() - restoredAt;
  if (!('files' in after)) throw new Error(`the mount after recovery failed: ${after.error}`);
  console.info(
    `csi vault-outage-e2e: ${failures.length} polls failed (${[...new Set(failures)].join(' / ')}); the first poll after recovery answered in ${recoveryMs} ms`,
  );
  expect(after.files.password).toBe('during-reset');
  // The pod volume's database credential is the one leased before the outage: no second lease.
  expect(after.files['db-password']).toBe(first.files['db-password']);
  const countsAfter = (await stack.requestCounts()).byRoute;
  expect((countsAfter[credsRoute] ?? 0) - (countsBefore[credsRoute] ?? 0)).toBe(0);
  writeTarget(after.files);
  expect(targetSnapshot()).toEqual({ ...before, password: 'during-reset' });
  // Errors name no value; logs hold no secret value or token.
  expect(failures.join('\n')).not.toMatch(/before-outage|during-/);
  const logs = logLines.join('');
  expect(logs).not.toMatch(/before-outage|during-unavailable|during-reset/);
  expect(logs).not.toContain(first.files['db-password']);
  expect(logs).not.toMatch(/hvs\.[A-Za-z0-9_-]{20,}/);
}, 60_000);

test("Vault dripping its answer during a poll with the driver's deadline: the call ends at the deadline, the files are untouched, the next poll succeeds", async () => {
  await stack.vaultAdmin.write(kvPrefix, { data: { password: 'before-drip' } });
  const first = await mount();
  if (!('files' in first)) throw new Error(`mount failed: ${first.error}`);
  writeTarget(first.files);
  const before = targetSnapshot();
  await stack.setVaultFault('drip', { pathPrefix: kvPrefix });
  let dripped: Awaited<ReturnType<typeof mount>>;
  try {
    await stack.vaultAdmin.write(kvPrefix, { data: { password: 'after-drip' } });
    // The driver calls Mount with a deadline; a dripping Vault must not outlive it.
    dripped = await mount({ deadlineMs: 3000 });
  } finally {
    await stack.setVaultFault('none');
  }
  expect('error' in dripped && dripped.error).toMatch(/^DEADLINE_EXCEEDED/);
  expect(targetSnapshot()).toEqual(before);
  const restoredAt = Date.now();
  const after = await mount();
  if (!('files' in after)) throw new Error(`the mount after the drip failed: ${after.error}`);
  console.info(
    `csi vault-outage-e2e: drip: the first poll after Vault answered normally took ${Date.now() - restoredAt} ms`,
  );
  expect(after.files.password).toBe('after-drip');
  // The provider gave up the dripping request when the driver's call was cancelled, and said so.
  expect(logLines.join('')).toMatch(/mount failed/);
}, 60_000);

test('four concurrent polls of a new pod volume (NodePublish, its retry after a deadline, a rotation poll overlapping): one database lease, the same credential in every answer', async () => {
  const podUid = '6f0c1d2e-0000-4000-8000-0000000000bb';
  const countsBefore = (await stack.requestCounts()).byRoute;
  const answers = await Promise.all([0, 1, 2, 3].map(() => mount({ podUid })));
  const passwords = answers.map((answer) => ('files' in answer ? answer.files['db-password'] : answer.error));
  const countsAfter = (await stack.requestCounts()).byRoute;
  const leases = (countsAfter[credsRoute] ?? 0) - (countsBefore[credsRoute] ?? 0);
  console.info(
    `csi vault-outage-e2e: 4 concurrent first polls of one pod volume: ${leases} database lease(s), ${new Set(passwords).size} distinct answer(s)`,
  );
  expect(answers.every((answer) => 'files' in answer)).toBe(true);
  expect(new Set(passwords).size).toBe(1);
  expect(leases).toBe(1);
}, 60_000);
