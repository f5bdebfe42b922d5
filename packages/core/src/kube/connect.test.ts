import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { asLocalKubeError, chooseKubeAccess, connectKube } from './connect.ts';
import { KubeConfigError, ServiceAccountTokenError } from './errors.ts';
import { serviceAccountDir } from './kube-http.ts';

let dir: string;
let home: string;
let root: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'core-connect-'));
  home = path.join(dir, 'home');
  root = path.join(dir, 'root');
  fs.mkdirSync(home);
  fs.mkdirSync(`${root}${serviceAccountDir}`, { recursive: true });
  fs.writeFileSync(`${root}${serviceAccountDir}/token`, 'a-token');
  fs.writeFileSync(`${root}${serviceAccountDir}/namespace`, 'from-account\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeKubeconfig(namespace: string): string {
  const file = path.join(dir, 'kubeconfig');
  fs.writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: c, cluster: { server: 'https://127.0.0.1:6443' } }]
users: [{ name: u, user: { token: t } }]
contexts: [{ name: x, context: { cluster: c, user: u, namespace: ${namespace} } }]
current-context: x
`,
  );
  return file;
}

describe('chooseKubeAccess', () => {
  it('a named file, $KUBECONFIG, ~/.kube/config, then the service account', () => {
    const env = { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root };
    expect(chooseKubeAccess(undefined, env)).toEqual({ kind: 'in-cluster', root });
    expect(chooseKubeAccess('/etc/kc', env)).toEqual({ kind: 'kubeconfig', path: '/etc/kc' });
    expect(chooseKubeAccess(undefined, { ...env, KUBECONFIG: '/a' })).toEqual({ kind: 'kubeconfig', path: undefined });
    fs.mkdirSync(path.join(home, '.kube'));
    fs.writeFileSync(path.join(home, '.kube', 'config'), '');
    expect(chooseKubeAccess(undefined, env)).toEqual({ kind: 'kubeconfig', path: undefined });
  });

  it("neither a kubeconfig nor a token: the account (an error later), or client-node's last resort when asked", () => {
    fs.rmSync(`${root}${serviceAccountDir}/token`);
    const env = { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root };
    expect(chooseKubeAccess(undefined, env)).toEqual({ kind: 'in-cluster', root });
    expect(chooseKubeAccess(undefined, env, { clientNodeLastResort: true })).toEqual({
      kind: 'kubeconfig',
      path: undefined,
    });
  });
});

describe('connectKube', () => {
  it('the service account: its namespace file, no client-node', async () => {
    const kube = await connectKube(undefined, {
      env: {
        HOME: home,
        VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root,
        KUBERNETES_SERVICE_HOST: '10.0.0.1',
        KUBERNETES_SERVICE_PORT: '443',
      },
    });
    expect(kube.namespace).toBe('from-account');
  });

  it("a kubeconfig, read through kube-config-client: its context's namespace unless the caller names one", async () => {
    const file = writeKubeconfig('from-context');
    const env = { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root };
    expect((await connectKube(file, { env })).namespace).toBe('from-context');
    expect((await connectKube(file, { env, namespace: 'mine' })).namespace).toBe('mine');
  });

  it('neither a kubeconfig nor a token: a KubeConfigError naming the token path', async () => {
    fs.rmSync(`${root}${serviceAccountDir}/token`);
    const connecting = connectKube(undefined, { env: { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root } });
    await expect(connecting).rejects.toThrow(KubeConfigError);
    await expect(connecting).rejects.toThrow(
      `no in-cluster service account token at ${root}${serviceAccountDir}/token`,
    );
  });

  it('a missing kubeconfig file: a KubeConfigError naming it', async () => {
    const missing = path.join(dir, 'nowhere');
    await expect(connectKube(missing, { env: { HOME: home } })).rejects.toThrow(
      new KubeConfigError(
        `the kubeconfig file ${missing} does not exist; pass an existing file or unset it to use $KUBECONFIG, ~/.kube/config or the in-cluster account`,
      ),
    );
  });
});

describe('asLocalKubeError: the other bundle’s classes made ours by code', () => {
  class ForeignConfigError extends Error {
    readonly code = 'KUBE_CONFIG';
  }
  class ForeignTokenError extends Error {
    readonly code = 'KUBE_SERVICE_ACCOUNT_TOKEN';
  }

  it('keeps message and cause', () => {
    const cause = new Error('root cause');
    const mapped = asLocalKubeError(new ForeignConfigError('bad file', { cause }));
    expect(mapped).toBeInstanceOf(KubeConfigError);
    expect((mapped as Error).message).toBe('bad file');
    expect((mapped as Error).cause).toBe(cause);
    expect(asLocalKubeError(new ForeignTokenError('no token'))).toBeInstanceOf(ServiceAccountTokenError);
  });

  it('leaves ours, other codes and non-errors as they are', () => {
    const ours = new KubeConfigError('x');
    expect(asLocalKubeError(ours)).toBe(ours);
    const other = Object.assign(new Error('gone'), { code: 'ENOENT' });
    expect(asLocalKubeError(other)).toBe(other);
    expect(asLocalKubeError('text')).toBe('text');
  });
});
