import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { binaryPath } from './binaries.ts';
import { createCertificateAuthority, generateKeyPair, issueCertificate, type CertificateAuthority } from './certs.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningApiServer {
  process: ManagedProcess;
  url: string;
  caPem: string;
  kubeconfigPath: string;
  adminCertPem: string;
  adminKeyPem: string;
  /** Signs the API server's serving certificate; pods trust it through kube-root-ca.crt. */
  servingCa: CertificateAuthority;
  /** The API server trusts client certificates it signs (kubelet, controllers, admin). */
  clientCa: CertificateAuthority;
  /** Private key the API server signs service-account tokens with (the controller-manager's too). */
  serviceAccountKeyPath: string;
}

/** What a real node needs beyond envtest's flag set (cluster mode). */
export interface NodeApiServerOptions {
  /** Address to bind and advertise: one the pods can reach (the pod bridge's gateway). */
  address: string;
  /** The `kubernetes` Service's ClusterIP, for the serving certificate. */
  serviceIp: string;
}

function getJson(
  url: string,
  tls: { ca: string; cert: string; key: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { ...tls, timeout: 2000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
    request.on('timeout', () => request.destroy(new Error('timeout')));
  });
}

/** The Service range of every stack; the `kubernetes` Service takes its first address. */
export const serviceClusterIpRange = '10.0.0.0/24';

/**
 * kube-apiserver with envtest's flag set: RBAC, service-account issuer and ES256 signing keys (so
 * TokenRequest and TokenReview work), a client CA for the admin certificate, bound to 127.0.0.1.
 * No controller-manager runs, so the ServiceAccount admission plugin is off (no default SA appears).
 * With `node` (cluster mode) it gets what a real node needs instead: an address pods reach, Node and
 * RBAC authorization, a client certificate for calling kubelets, ServiceAccount admission (the
 * controller-manager runs) and the lease endpoint reconciler (so the `kubernetes` Service has
 * endpoints).
 */
export async function startApiServer(
  workDir: string,
  logDir: string,
  etcdUrl: string,
  node?: NodeApiServerOptions,
): Promise<RunningApiServer> {
  const certDir = path.join(workDir, 'kube-certs');
  fs.mkdirSync(certDir, { recursive: true });
  const port = await freeLoopbackPort();
  const address = node?.address ?? '127.0.0.1';
  const url = `https://${address}:${port}`;

  const servingCa = await createCertificateAuthority('testenv-apiserver-ca');
  const serving = await issueCertificate(servingCa, {
    commonName: 'kube-apiserver',
    usage: 'server',
    dnsNames: [
      'localhost',
      'kubernetes',
      'kubernetes.default',
      'kubernetes.default.svc',
      'kubernetes.default.svc.cluster.local',
    ],
    ipAddresses: [...new Set(['127.0.0.1', address, ...(node ? [node.serviceIp] : [])])],
  });
  const clientCa = await createCertificateAuthority('testenv-client-ca');
  const admin = await issueCertificate(clientCa, {
    commonName: 'admin',
    organizations: ['system:masters'],
    usage: 'client',
  });
  const signer = await generateKeyPair();

  const files: Record<string, string> = {
    'apiserver.crt': serving.certPem,
    'apiserver.key': serving.keyPem,
    'serving-ca.crt': servingCa.certPem,
    'client-ca.crt': clientCa.certPem,
    'sa-signer.pub': signer.publicPem,
    'sa-signer.key': signer.privatePem,
  };
  if (node) {
    // The API server's identity towards kubelets (logs, exec, port-forward).
    const kubeletClient = await issueCertificate(clientCa, {
      commonName: 'kube-apiserver-kubelet-client',
      organizations: ['system:masters'],
      usage: 'client',
    });
    files['kubelet-client.crt'] = kubeletClient.certPem;
    files['kubelet-client.key'] = kubeletClient.keyPem;
  }
  for (const [name, content] of Object.entries(files))
    fs.writeFileSync(path.join(certDir, name), content, { mode: 0o600 });

  const modeArgs = node
    ? [
        '--authorization-mode=Node,RBAC',
        `--kubelet-client-certificate=${path.join(certDir, 'kubelet-client.crt')}`,
        `--kubelet-client-key=${path.join(certDir, 'kubelet-client.key')}`,
        '--kubelet-preferred-address-types=InternalIP',
        '--endpoint-reconciler-type=lease',
      ]
    : ['--authorization-mode=RBAC', '--disable-admission-plugins=ServiceAccount', '--endpoint-reconciler-type=none'];
  const proc = startProcess(
    'kube-apiserver',
    binaryPath('kube-apiserver'),
    [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${address}`,
      `--advertise-address=${address}`,
      `--secure-port=${port}`,
      `--tls-cert-file=${path.join(certDir, 'apiserver.crt')}`,
      `--tls-private-key-file=${path.join(certDir, 'apiserver.key')}`,
      `--cert-dir=${certDir}`,
      `--client-ca-file=${path.join(certDir, 'client-ca.crt')}`,
      `--service-cluster-ip-range=${serviceClusterIpRange}`,
      '--allow-privileged=true',
      `--service-account-issuer=${url}`,
      `--service-account-key-file=${path.join(certDir, 'sa-signer.pub')}`,
      `--service-account-signing-key-file=${path.join(certDir, 'sa-signer.key')}`,
      ...modeArgs,
      '--v=0',
    ],
    logDir,
  );

  const tls = { ca: servingCa.certPem, cert: admin.certPem, key: admin.keyPem };
  await waitUntilReady(proc, async () => (await getJson(`${url}/readyz`, tls)).status === 200, 60_000);
  // The apiserver creates the default namespace shortly after it reports ready (envtest waits for it too).
  await waitUntilReady(
    proc,
    async () => (await getJson(`${url}/api/v1/namespaces/default`, tls)).status === 200,
    30_000,
  );

  const kubeconfigPath = path.join(workDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url, servingCa.certPem, admin.certPem, admin.keyPem);
  return {
    process: proc,
    url,
    caPem: servingCa.certPem,
    kubeconfigPath,
    adminCertPem: admin.certPem,
    adminKeyPem: admin.keyPem,
    servingCa,
    clientCa,
    serviceAccountKeyPath: path.join(certDir, 'sa-signer.key'),
  };
}
