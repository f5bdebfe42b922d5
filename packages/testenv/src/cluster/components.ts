import fs from 'node:fs';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { binaryPath, sharePath } from '../binaries.ts';
import { issueCertificate } from '../certs.ts';
import { serviceClusterIpRange, type RunningApiServer } from '../kube-apiserver.ts';
import { writeKubeconfig } from '../kubeconfig.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from '../processes.ts';
import type { ClusterLayout } from './layout.ts';

/** A kubeconfig for a client certificate the API server's client CA signs (user = CN, groups = O). */
async function identityKubeconfig(
  api: RunningApiServer,
  dir: string,
  name: string,
  commonName: string,
  organizations: string[] = [],
): Promise<string> {
  const cert = await issueCertificate(api.clientCa, { commonName, organizations, usage: 'client' });
  const file = path.join(dir, `${name}.kubeconfig`);
  writeKubeconfig(file, api.url, api.caPem, cert.certPem, cert.keyPem, name);
  return file;
}

async function httpOk(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return response.ok;
}

/**
 * The kubelet on cgroup v1 (`failCgroupV1: false`, cgroupfs), talking to our containerd, with the
 * node's address on the bridge. Imported images are never garbage-collected and eviction
 * thresholds are loose, for a small shared disk. The API server reaches it with its client
 * certificate (logs, exec); anonymous access is off.
 */
export async function startKubelet(
  layout: ClusterLayout,
  api: RunningApiServer,
  dir: string,
  logDir: string,
): Promise<ManagedProcess> {
  const kubeconfig = await identityKubeconfig(api, dir, 'kubelet', `system:node:${layout.nodeName}`, ['system:nodes']);
  const clientCaFile = path.join(dir, 'client-ca.crt');
  fs.writeFileSync(clientCaFile, api.clientCa.certPem);
  fs.mkdirSync(layout.kubeletRoot, { recursive: true });
  const config = {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    containerRuntimeEndpoint: `unix://${layout.containerdSocket}`,
    failSwapOn: false,
    address: layout.gateway,
    healthzBindAddress: '127.0.0.1',
    readOnlyPort: 0,
    authentication: { anonymous: { enabled: false }, webhook: { enabled: true }, x509: { clientCAFile: clientCaFile } },
    authorization: { mode: 'Webhook' },
    clusterDNS: [layout.gateway],
    clusterDomain: layout.clusterDomain,
    resolvConf: '/etc/resolv.conf',
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
      'imagefs.inodesFree': '1%',
    },
    serializeImagePulls: false,
    staticPodPath: '',
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // Pods are confined to the node's bridge; a restart should not wait for long grace periods.
    shutdownGracePeriod: '0s',
    syncFrequency: '10s',
  };
  const configFile = path.join(dir, 'kubelet-config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const proc = startProcess(
    'kubelet',
    binaryPath('kubelet'),
    [
      `--config=${configFile}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${layout.kubeletRoot}`,
      `--cert-dir=${path.join(dir, 'kubelet-pki')}`,
      `--hostname-override=${layout.nodeName}`,
      `--node-ip=${layout.gateway}`,
      '--v=1',
    ],
    logDir,
  );
  await waitUntilReady(proc, () => httpOk('http://127.0.0.1:10248/healthz'), 60_000);
  return proc;
}

export async function startScheduler(api: RunningApiServer, dir: string, logDir: string): Promise<ManagedProcess> {
  const kubeconfig = await identityKubeconfig(api, dir, 'kube-scheduler', 'system:kube-scheduler');
  return startProcess(
    'kube-scheduler',
    binaryPath('kube-scheduler'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=10259',
      '--v=1',
    ],
    logDir,
  );
}

/**
 * The controllers a node's pods need: ReplicaSets, Deployments, Jobs, DaemonSets, the service
 * account and kube-root-ca.crt publishers, EndpointSlices, garbage collection. Each controller gets
 * its own service-account credentials, as in a real cluster.
 */
export async function startControllerManager(
  layout: ClusterLayout,
  api: RunningApiServer,
  dir: string,
  logDir: string,
): Promise<ManagedProcess> {
  const kubeconfig = await identityKubeconfig(api, dir, 'kube-controller-manager', 'system:kube-controller-manager');
  const rootCa = path.join(dir, 'serving-ca.crt');
  fs.writeFileSync(rootCa, api.caPem);
  return startProcess(
    'kube-controller-manager',
    binaryPath('kube-controller-manager'),
    [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      '--leader-elect=false',
      '--bind-address=127.0.0.1',
      '--secure-port=10257',
      '--use-service-account-credentials=true',
      `--service-account-private-key-file=${api.serviceAccountKeyPath}`,
      `--root-ca-file=${rootCa}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      `--cluster-cidr=${layout.podCidr}`,
      '--allocate-node-cidrs=false',
      '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-route,-bootstrapsigner,-tokencleaner',
      '--v=1',
    ],
    logDir,
  );
}

/** kube-proxy in iptables mode, so ClusterIP Services (webhooks, the chart's Services) work. */
export async function startKubeProxy(
  layout: ClusterLayout,
  api: RunningApiServer,
  dir: string,
  logDir: string,
): Promise<ManagedProcess> {
  const kubeconfig = await identityKubeconfig(api, dir, 'kube-proxy', 'system:kube-proxy');
  const proc = startProcess(
    'kube-proxy',
    binaryPath('kube-proxy'),
    [
      `--kubeconfig=${kubeconfig}`,
      '--proxy-mode=iptables',
      `--hostname-override=${layout.nodeName}`,
      `--cluster-cidr=${layout.podCidr}`,
      '--bind-address=127.0.0.1',
      '--healthz-bind-address=127.0.0.1:10256',
      '--metrics-bind-address=127.0.0.1:10249',
      // Leave the machine's conntrack table size alone.
      '--conntrack-max-per-core=0',
      '--v=1',
    ],
    logDir,
  );
  return proc;
}

/** Removes kube-proxy's rules after it stopped, so no Service rule outlives the cluster. */
export function kubeProxyCleanupArgs(): [string, string[]] {
  return [binaryPath('kube-proxy'), ['--cleanup', '--proxy-mode=iptables']];
}

/**
 * Cluster DNS: CoreDNS on the node's address (port 53), serving `*.svc.cluster.local` from the API
 * server with read-only RBAC of its own. It runs as a host process, not a Deployment: the kubelet
 * points pods at the gateway address, which needs no Service of its own.
 */
export async function startCoreDns(
  layout: ClusterLayout,
  api: RunningApiServer,
  dir: string,
  logDir: string,
): Promise<ManagedProcess> {
  const kubeconfig = await identityKubeconfig(api, dir, 'coredns', 'vaultbridge:coredns');
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(api.kubeconfigPath);
  const rbac = admin.makeApiClient(k8s.RbacAuthorizationV1Api);
  await createOrReplace(() =>
    rbac.createClusterRole({
      body: {
        metadata: { name: 'vaultbridge:coredns' },
        rules: [
          { apiGroups: [''], resources: ['endpoints', 'services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
          { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
        ],
      },
    }),
  );
  await createOrReplace(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'vaultbridge:coredns' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'vaultbridge:coredns' },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'vaultbridge:coredns' }],
      },
    }),
  );
  const corefile = path.join(dir, 'Corefile');
  fs.writeFileSync(
    corefile,
    `.:53 {
    bind ${layout.gateway}
    errors
    health 127.0.0.1:8053
    ready 127.0.0.1:8181
    kubernetes ${layout.clusterDomain} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig} testenv
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 5
    loadbalance
}
`,
  );
  const proc = startProcess('coredns', binaryPath('coredns'), ['-conf', corefile], logDir);
  await waitUntilReady(proc, () => httpOk('http://127.0.0.1:8181/ready'), 60_000);
  return proc;
}

async function createOrReplace(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 409)) throw error;
  }
}

/** Applies the driver's own CRDs, CSIDriver and RBAC (from the same module version as the binary). */
async function applyCsiDriverObjects(api: RunningApiServer): Promise<void> {
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(api.kubeconfigPath);
  const objects = admin.makeApiClient(k8s.KubernetesObjectApi);
  const dir = sharePath('secrets-store-csi-driver');
  for (const file of fs.readdirSync(dir).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      const object = doc.toJS() as k8s.KubernetesObject | null;
      if (!object?.kind) continue;
      await createOrReplace(() => objects.create(object));
    }
  }
  const extensions = admin.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of [
    'secretproviderclasses.secrets-store.csi.x-k8s.io',
    'secretproviderclasspodstatuses.secrets-store.csi.x-k8s.io',
  ]) {
    for (let attempt = 0; ; attempt++) {
      const crd = await extensions.readCustomResourceDefinition({ name });
      if (crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) break;
      if (attempt > 100) throw new Error(`CRD ${name} was not Established after 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * The Secrets Store CSI Driver and our registrar, as host processes (the driver's mounts land in
 * the kubelet's root directly; no mount propagation through a container is needed). The driver
 * acts as its upstream ServiceAccount (kube-system/secrets-store-csi-driver) with its upstream
 * RBAC; rotation is on with a short poll so a test sees a rotation within seconds.
 */
export async function startCsiDriver(
  layout: ClusterLayout,
  api: RunningApiServer,
  dir: string,
  logDir: string,
  options: { rotationPollInterval: string },
): Promise<ManagedProcess[]> {
  await applyCsiDriverObjects(api);
  const admin = new k8s.KubeConfig();
  admin.loadFromFile(api.kubeconfigPath);
  const core = admin.makeApiClient(k8s.CoreV1Api);
  await createOrReplace(() =>
    core.createNamespacedServiceAccount({
      namespace: 'kube-system',
      body: { metadata: { name: 'secrets-store-csi-driver' } },
    }),
  );
  const { status } = await core.createNamespacedServiceAccountToken({
    namespace: 'kube-system',
    name: 'secrets-store-csi-driver',
    body: { spec: { audiences: [], expirationSeconds: 7 * 24 * 3600 } },
  });
  const kubeconfig = path.join(dir, 'secrets-store-csi-driver.kubeconfig');
  fs.writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'testenv',
          cluster: { server: api.url, 'certificate-authority-data': Buffer.from(api.caPem).toString('base64') },
        },
      ],
      users: [{ name: 'secrets-store-csi-driver', user: { token: status?.token } }],
      contexts: [{ name: 'testenv', context: { cluster: 'testenv', user: 'secrets-store-csi-driver' } }],
      'current-context': 'testenv',
    }),
    { mode: 0o600 },
  );

  const pluginDir = path.join(layout.kubeletRoot, 'plugins/csi-secrets-store');
  const socket = path.join(pluginDir, 'csi.sock');
  fs.mkdirSync(pluginDir, { recursive: true });
  fs.mkdirSync(layout.providersDir, { recursive: true });
  fs.rmSync(socket, { force: true });
  const driver = startProcess(
    'secrets-store-csi-driver',
    binaryPath('secrets-store-csi-driver'),
    [
      `--endpoint=unix://${socket}`,
      `--nodeid=${layout.nodeName}`,
      `--provider-volume=${layout.providersDir}`,
      '--metrics-addr=127.0.0.1:8095',
      '--enable-secret-rotation=true',
      `--rotation-poll-interval=${options.rotationPollInterval}`,
      '--provider-health-check=false',
      '--v=2',
    ],
    logDir,
    { env: { ...process.env, KUBECONFIG: kubeconfig } },
  );
  const registrar = startProcess(
    'csi-registrar',
    binaryPath('csi-registrar'),
    [`--csi-address=${socket}`, `--plugin-registration-path=${path.join(layout.kubeletRoot, 'plugins_registry')}`],
    logDir,
  );
  return [driver, registrar];
}
