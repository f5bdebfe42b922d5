// The provider called by grpc-go exactly as the Secrets Store CSI Driver v1.5.4 calls it
// (tools/csi-driver-client: grpc.Dial of the socket path, the driver's dial options and service
// config, the MountRequest the driver builds), on the real stack (kube-apiserver, Vault, PostgreSQL).
// grpc-go sends the socket path as the HTTP/2 :authority; before h2-authority.ts every call failed
// with RST_STREAM PROTOCOL_ERROR.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '@vaultbridge/core';
import { binaryPath, sharedStack } from '@vaultbridge/testenv';
import pg from 'pg';
import { ProviderServer } from '../src/index.ts';

const stack = sharedStack();
const { layout } = stack;

const namespace = stack.uniqueName('csi-go');
const serviceAccount = 'web';
const authMount = stack.uniqueName('k8s-csi-go');
const role = stack.uniqueName('csi-go');
const appPath = stack.uniqueName('csi-go-app');

let dir: string;
let providerVolume: string;
let socketPath: string;
let server: ProviderServer;
const logLines: string[] = [];

interface ClientLine {
  call: 'version' | 'mount';
  ok: boolean;
  code?: string;
  message?: string;
  runtimeName?: string;
  version?: string;
  objectVersions?: Record<string, string>;
  files?: Array<{ path: string; mode: number; contents: string }>;
  written?: boolean;
}

beforeAll(async () => {
  await stack.createNamespace(namespace);
  await stack.createServiceAccount(namespace, serviceAccount);
  await stack.enableKubernetesAuth(authMount);
  await stack.writePolicy(
    role,
    `
path "${layout.kvV2Mount}/data/${appPath}" { capabilities = ["read"] }
path "${layout.databaseMount}/creds/${layout.databaseRole}" { capabilities = ["read"] }
`,
  );
  await stack.writeKubernetesRole(role, {
    serviceAccounts: [serviceAccount],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
    mount: authMount,
  });
  await stack.vaultAdmin.write(`${layout.kvV2Mount}/data/${appPath}`, {
    data: { username: 'go-user', password: 's3cret<&>' },
  });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-go-'));
  providerVolume = path.join(dir, 'secrets-store-csi-providers');
  socketPath = path.join(providerVolume, 'vault.sock');
  server = new ProviderServer({
    logger: createLogger({
      name: 'csi-go-test',
      level: 'debug',
      destination: { write: (line: string) => logLines.push(line) },
    }),
    flags: { vaultAddr: stack.vaultAddr, vaultMount: 'kubernetes', tls: {} },
    env: {},
  });
  await server.listen(socketPath);
});

afterAll(async () => {
  await server?.close(1000);
  fs.rmSync(dir, { recursive: true, force: true });
});

/** SPC parameters overlaid with the volume context the kubelet sends, as the driver merges them. */
async function attributesFile(
  name: string,
  objects: string,
  podUid: string,
  extra: Record<string, string> = {},
): Promise<string> {
  const { token, expiresAt } = await stack.requestToken(namespace, serviceAccount, { audiences: ['vault'] });
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(
    file,
    JSON.stringify({
      roleName: role,
      vaultKubernetesMountPath: authMount,
      objects,
      secretProviderClass: 'vault-app',
      'csi.storage.k8s.io/ephemeral': 'false',
      'csi.storage.k8s.io/pod.name': 'web-go',
      'csi.storage.k8s.io/pod.namespace': namespace,
      'csi.storage.k8s.io/pod.uid': podUid,
      'csi.storage.k8s.io/serviceAccount.name': serviceAccount,
      'csi.storage.k8s.io/serviceAccount.tokens': JSON.stringify({
        vault: { token, expirationTimestamp: expiresAt.toISOString() },
      }),
      ...extra,
    }),
  );
  return file;
}

/** Runs the Go client; resolves its exit code and one parsed JSON line per call. */
function runClient(args: string[]): Promise<{ exitCode: number | null; lines: ClientLine[]; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      binaryPath('csi-driver-client'),
      ['-provider-volume', providerVolume, '-provider', 'vault', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (exitCode) => {
      const lines = stdout
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as ClientLine);
      resolve({ exitCode, lines, stderr });
    });
  });
}

const objects = `
- objectName: username
  secretPath: ${layout.kvV2Mount}/data/${appPath}
  secretKey: username
- objectName: secret/password
  secretPath: ${layout.kvV2Mount}/data/${appPath}
  secretKey: password
  filePermission: 0600
- objectName: db-username
  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}
  secretKey: username
- objectName: db-password
  secretPath: ${layout.databaseMount}/creds/${layout.databaseRole}
  secretKey: password
`;

describe('the provider called by grpc-go as the Secrets Store CSI Driver v1.5.4 calls it', () => {
  it('answers Version and two Mounts on one connection; the driver writes the files; the database credentials log in', async () => {
    const target = path.join(dir, 'pods', 'web-go', 'volumes', 'secrets-store-inline');
    const attributes = await attributesFile('mount', objects, '0d1c7a55-0000-4000-8000-000000000001');
    const { exitCode, lines, stderr } = await runClient([
      '-attributes-file',
      attributes,
      '-target-path',
      target,
      '-write',
      'version',
      'mount',
      'mount',
    ]);
    expect(stderr).toBe('');
    expect(lines.map((line) => [line.call, line.ok, line.code ?? ''])).toEqual([
      ['version', true, ''],
      ['mount', true, ''],
      ['mount', true, ''],
    ]);
    expect(exitCode).toBe(0);
    expect(lines[0]).toMatchObject({ runtimeName: 'vaultbridge-csi-provider', version: 'v1alpha1' });

    const read = (name: string) => fs.readFileSync(path.join(target, name), 'utf8');
    const mode = (name: string) => fs.statSync(path.join(target, name)).mode & 0o777;
    expect(read('username')).toBe('go-user');
    expect(mode('username')).toBe(0o644);
    expect(read('secret/password')).toBe('s3cret<&>');
    expect(mode('secret/password')).toBe(0o600);
    // The rotation poll's answer (second Mount) reuses the pod volume's leased credential: the same file.
    expect(lines[2]?.files?.find((file) => file.path === 'db-username')?.contents).toBe(
      lines[1]?.files?.find((file) => file.path === 'db-username')?.contents,
    );
    expect(Object.keys(lines[1]?.objectVersions ?? {}).sort()).toEqual([
      'db-password',
      'db-username',
      'secret/password',
      'username',
    ]);
    expect(lines[2]?.objectVersions).toEqual(lines[1]?.objectVersions);
    const { host, port, database } = stack.postgres;
    const db = new pg.Client({ host, port, database, user: read('db-username'), password: read('db-password') });
    await db.connect();
    await db.end();

    // What grpc-go sent as :authority was the socket path (the reason for h2-authority.ts).
    const replaced = logLines
      .map((line) => JSON.parse(line) as { authority?: string })
      .filter((line) => line.authority !== undefined);
    expect(replaced.map((line) => line.authority)).toContain(socketPath);
    expect(logLines.join('\n')).not.toMatch(/go-user|s3cret|eyJ/);
  });

  it('a bad SecretProviderClass reaches grpc-go as InvalidArgument naming the field; the provider keeps serving', async () => {
    const target = path.join(dir, 'pods', 'web-bad', 'volumes', 'secrets-store-inline');
    const bad = await attributesFile(
      'bad',
      `- objectName: ../escape\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n`,
      '0d1c7a55-0000-4000-8000-000000000002',
    );
    const good = await attributesFile(
      'good',
      `- objectName: u\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`,
      '0d1c7a55-0000-4000-8000-000000000003',
    );
    const failed = await runClient(['-attributes-file', bad, '-target-path', target, 'mount']);
    expect(failed.exitCode).toBe(3);
    expect(failed.lines[0]).toMatchObject({ call: 'mount', ok: false, code: 'InvalidArgument' });
    expect(failed.lines[0]?.message).toMatch(/objects\[0\]\.objectName: "\.\.\/escape" contains a "\.\." element/);
    expect(fs.existsSync(target)).toBe(false);
    const served = await runClient(['-attributes-file', good, '-target-path', target, '-write', 'mount']);
    expect(served.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(target, 'u'), 'utf8')).toBe('go-user');
  });

  it('a 3 MiB MountRequest (its DATA over hundreds of frames and flow-control windows) is served', async () => {
    // SecretProviderClass parameters the provider does not read still travel in attributes.
    const attributes = await attributesFile(
      'large',
      `- objectName: u\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`,
      '0d1c7a55-0000-4000-8000-000000000004',
      { annotations: 'x'.repeat(3 * 1024 * 1024) },
    );
    const { exitCode, lines } = await runClient([
      '-attributes-file',
      attributes,
      '-target-path',
      path.join(dir, 'large'),
      'mount',
    ]);
    expect(lines[0]).toMatchObject({ call: 'mount', ok: true });
    expect(exitCode).toBe(0);
  });

  it('ten driver processes mounting at once are all served', async () => {
    const runs = await Promise.all(
      Array.from({ length: 10 }, async (_, index) => {
        const attributes = await attributesFile(
          `many-${index}`,
          `- objectName: u\n  secretPath: ${layout.kvV2Mount}/data/${appPath}\n  secretKey: username\n`,
          `0d1c7a55-0000-4000-8000-0000000001${String(index).padStart(2, '0')}`,
        );
        return runClient([
          '-attributes-file',
          attributes,
          '-target-path',
          path.join(dir, 'many', String(index)),
          'mount',
        ]);
      }),
    );
    expect(
      runs.map((run) => [
        run.exitCode,
        Buffer.from(run.lines[0]?.files?.[0]?.contents ?? '', 'base64').toString('utf8'),
      ]),
    ).toEqual(Array.from({ length: 10 }, () => [0, 'go-user']));
  });
});
