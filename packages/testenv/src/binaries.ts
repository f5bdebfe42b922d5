import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type ServerBinary =
  | 'etcd'
  | 'kube-apiserver'
  | 'vault'
  | 'helm'
  | 'csi-driver-client'
  | 'gotemplate-ref'
  | 'consul-template'
  | 'vaultbridge-exec'
  | ClusterBinary;

/** What `tools/install.sh cluster` builds for the one-node cluster tier. */
export type ClusterBinary =
  | 'kubelet'
  | 'kube-scheduler'
  | 'kube-controller-manager'
  | 'kube-proxy'
  | 'kubectl'
  | 'coredns'
  | 'secrets-store-csi-driver'
  | 'csi-registrar'
  | 'pause'
  | 'envprint';

const versionKeys: Record<ServerBinary, string> = {
  etcd: 'ETCD_VERSION',
  'kube-apiserver': 'KUBE_VERSION',
  vault: 'VAULT_VERSION',
  helm: 'HELM_VERSION',
  'csi-driver-client': 'CSI_DRIVER_CLIENT_VERSION',
  'gotemplate-ref': 'GOTEMPLATE_REF_VERSION',
  'consul-template': 'CONSUL_TEMPLATE_VERSION',
  'vaultbridge-exec': 'EXEC_WRAPPER_VERSION',
  kubelet: 'KUBE_VERSION',
  'kube-scheduler': 'KUBE_VERSION',
  'kube-controller-manager': 'KUBE_VERSION',
  'kube-proxy': 'KUBE_VERSION',
  kubectl: 'KUBE_VERSION',
  coredns: 'COREDNS_VERSION',
  'secrets-store-csi-driver': 'CSI_DRIVER_VERSION',
  'csi-registrar': 'CSI_DRIVER_VERSION',
  pause: 'PAUSE_VERSION',
  envprint: 'ENVPRINT_VERSION',
};

const clusterBinaries = new Set<string>([
  'kubelet',
  'kube-scheduler',
  'kube-controller-manager',
  'kube-proxy',
  'kubectl',
  'coredns',
  'secrets-store-csi-driver',
  'csi-registrar',
  'pause',
  'envprint',
]);

/** The versions tools/install.sh builds, read from tools/versions.env (the one place they are named). */
export function toolVersions(): Record<string, string> {
  const text = fs.readFileSync(path.join(repoRoot, 'tools/versions.env'), 'utf8');
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z_]+)=(\S+)/.exec(line);
    if (match?.[1] && match[2]) versions[match[1]] = match[2];
  }
  return versions;
}

/**
 * Path of a Go-built server. `VAULTBRIDGE_BIN_<NAME>` overrides it (as envtest's TEST_ASSET_<NAME> does).
 */
export function binaryPath(name: ServerBinary): string {
  const override = process.env[`VAULTBRIDGE_BIN_${name.toUpperCase().replaceAll('-', '_')}`];
  if (override) return override;
  const version = toolVersions()[versionKeys[name]];
  const file = path.join(repoRoot, '.cache/bin', `${name}-${version}`);
  if (!fs.existsSync(file)) {
    const component = clusterBinaries.has(name) ? 'cluster' : name;
    throw new Error(
      `${name} ${version} is not built at ${file}: run 'bash tools/install.sh ${component}' (npm test and npm run demo do it for you)`,
    );
  }
  return file;
}

/** Where install.sh puts the non-binary files of a cluster component (the CSI driver's CRDs). */
export function sharePath(name: 'secrets-store-csi-driver'): string {
  const dir = path.join(repoRoot, '.cache/share', `${name}-${toolVersions()[versionKeys[name]]}`);
  if (!fs.existsSync(dir)) throw new Error(`${dir} is missing: run 'bash tools/install.sh cluster'`);
  return dir;
}

/** Directory of Debian's PostgreSQL server binaries (initdb, postgres, pg_isready). */
export function postgresBinDir(): string {
  const override = process.env.VAULTBRIDGE_PG_BIN;
  if (override) return override;
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base)
    ? fs.readdirSync(base).filter((v) => fs.existsSync(path.join(base, v, 'bin/postgres')))
    : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error(`PostgreSQL is not installed under ${base}: run 'bash tools/install.sh postgres'`);
  return path.join(base, newest, 'bin');
}
