import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { serviceAccountDir } from '@vaultbridge/core';
import { chooseKubeAccess, providerNamespace } from './kube-access.ts';

let dir: string;
let home: string;
let root: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'csi-kube-access-'));
  home = path.join(dir, 'home');
  root = path.join(dir, 'root');
  fs.mkdirSync(home);
  fs.mkdirSync(`${root}${serviceAccountDir}`, { recursive: true });
  fs.writeFileSync(`${root}${serviceAccountDir}/token`, 'a-token');
  fs.writeFileSync(`${root}${serviceAccountDir}/namespace`, 'vault-csi\n');
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("chooseKubeAccess: client-node's loadFromDefault order", () => {
  it('the service account when no kubeconfig is named or found', () => {
    expect(chooseKubeAccess(undefined, { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root })).toEqual({
      kind: 'in-cluster',
      root,
    });
  });

  it('--kubeconfig, $KUBECONFIG and ~/.kube/config each win over the service account', () => {
    const env = { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root };
    expect(chooseKubeAccess('/etc/kubeconfig', env)).toEqual({ kind: 'kubeconfig', path: '/etc/kubeconfig' });
    expect(chooseKubeAccess(undefined, { ...env, KUBECONFIG: '/a:/b' })).toEqual({
      kind: 'kubeconfig',
      path: undefined,
    });
    fs.mkdirSync(path.join(home, '.kube'));
    fs.writeFileSync(path.join(home, '.kube', 'config'), '');
    expect(chooseKubeAccess(undefined, env)).toEqual({ kind: 'kubeconfig', path: undefined });
  });

  it('an empty KUBECONFIG counts as unset, as in client-node', () => {
    expect(chooseKubeAccess(undefined, { HOME: home, KUBECONFIG: '', VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root })).toEqual(
      { kind: 'in-cluster', root },
    );
  });

  it("no kubeconfig and no service-account token: client-node's own default, as before", () => {
    fs.rmSync(`${root}${serviceAccountDir}/token`);
    expect(chooseKubeAccess(undefined, { HOME: home, VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root })).toEqual({
      kind: 'kubeconfig',
      path: undefined,
    });
  });
});

it("providerNamespace: NAMESPACE, else the service account's namespace file, else default", () => {
  expect(providerNamespace({ NAMESPACE: 'mine', VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root })).toBe('mine');
  expect(providerNamespace({ VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: root })).toBe('vault-csi');
  expect(providerNamespace({ VAULTBRIDGE_SERVICE_ACCOUNT_ROOT: path.join(dir, 'nowhere') })).toBe('default');
});
