import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfigError } from './errors.ts';
import { loadKubeConfig } from './kubeconfig.ts';

const kubeconfig = (server: string): string => `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: ${server}
users:
- name: admin
  user:
    token: not-a-real-token
contexts:
- name: test
  context: { cluster: test, user: admin }
current-context: test
`;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vb-kubeconfig-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

test('loads the file it is given', () => {
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, kubeconfig('https://127.0.0.1:6443'));
  expect(loadKubeConfig(file).getCurrentCluster()?.server).toBe('https://127.0.0.1:6443');
});

test('a missing file names the file and the alternatives', () => {
  const file = path.join(dir, 'absent');
  expect(() => loadKubeConfig(file)).toThrow(KubeConfigError);
  expect(() => loadKubeConfig(file)).toThrow(`the kubeconfig file ${file} does not exist`);
});

test('a file without a current cluster is refused, and its credentials are not echoed', () => {
  const file = path.join(dir, 'config');
  fs.writeFileSync(
    file,
    kubeconfig('https://127.0.0.1:6443').replace('current-context: test', 'current-context: other'),
  );
  let caught: unknown;
  try {
    loadKubeConfig(file);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(KubeConfigError);
  expect((caught as Error).message).toContain('has no current cluster');
  expect((caught as Error).message).not.toContain('not-a-real-token');
});

test('without a path it follows $KUBECONFIG', () => {
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, kubeconfig('https://10.0.0.1:443'));
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = file;
  try {
    expect(loadKubeConfig().getCurrentCluster()?.server).toBe('https://10.0.0.1:443');
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});
