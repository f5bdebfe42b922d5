import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { binaryPath } from './binaries.ts';
import { createCertificateAuthority, generateKeyPair, issueCertificate } from './certs.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningApiServer {
  process: ManagedProcess;
  url: string;
  caPem: string;
  kubeconfigPath: string;
  adminCertPem: string;
  adminKeyPem: string;
}

function getJson(url: string, tls: { ca: string; cert: string; key: string }): Promise<{ status: number; body: string }> {
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

/**
 * kube-apiserver with envtest's flag set: RBAC, service-account issuer and ES256 signing keys (so
 * TokenRequest and TokenReview work), a client CA for the admin certificate, bound to 127.0.0.1.
 * No controller-manager runs, so the ServiceAccount admission plugin is off (no default SA appears).
 */
export async function startApiServer(workDir: string, logDir: string, etcdUrl: string): Promise<RunningApiServer> {
  const certDir = path.join(workDir, 'kube-certs');
  fs.mkdirSync(certDir, { recursive: true });
  const port = await freeLoopbackPort();
  const url = `https://127.0.0.1:${port}`;

  const servingCa = await createCertificateAuthority('testenv-apiserver-ca');
  const serving = await issueCertificate(servingCa, { commonName: 'kube-apiserver', usage: 'server', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1'] });
  const clientCa = await createCertificateAuthority('testenv-client-ca');
  const admin = await issueCertificate(clientCa, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
  const signer = await generateKeyPair();

  const files = {
    'apiserver.crt': serving.certPem,
    'apiserver.key': serving.keyPem,
    'client-ca.crt': clientCa.certPem,
    'sa-signer.pub': signer.publicPem,
    'sa-signer.key': signer.privatePem,
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(certDir, name), content, { mode: 0o600 });

  const proc = startProcess('kube-apiserver', binaryPath('kube-apiserver'), [
    `--etcd-servers=${etcdUrl}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--secure-port=${port}`,
    `--tls-cert-file=${path.join(certDir, 'apiserver.crt')}`,
    `--tls-private-key-file=${path.join(certDir, 'apiserver.key')}`,
    `--cert-dir=${certDir}`,
    `--client-ca-file=${path.join(certDir, 'client-ca.crt')}`,
    '--authorization-mode=RBAC',
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--disable-admission-plugins=ServiceAccount',
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${path.join(certDir, 'sa-signer.pub')}`,
    `--service-account-signing-key-file=${path.join(certDir, 'sa-signer.key')}`,
    '--endpoint-reconciler-type=none',
    '--v=0',
  ], logDir);

  const tls = { ca: servingCa.certPem, cert: admin.certPem, key: admin.keyPem };
  await waitUntilReady(proc, async () => (await getJson(`${url}/readyz`, tls)).status === 200, 60_000);
  // The apiserver creates the default namespace shortly after it reports ready (envtest waits for it too).
  await waitUntilReady(proc, async () => (await getJson(`${url}/api/v1/namespaces/default`, tls)).status === 200, 30_000);

  const kubeconfigPath = path.join(workDir, 'kubeconfig');
  // JSON is YAML: kubectl, helm and client-node all read this file.
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'testenv', cluster: { server: url, 'certificate-authority-data': Buffer.from(servingCa.certPem).toString('base64') } }],
    users: [{ name: 'admin', user: { 'client-certificate-data': Buffer.from(admin.certPem).toString('base64'), 'client-key-data': Buffer.from(admin.keyPem).toString('base64') } }],
    contexts: [{ name: 'testenv', context: { cluster: 'testenv', user: 'admin' } }],
    'current-context': 'testenv',
  };
  fs.writeFileSync(kubeconfigPath, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  return { process: proc, url, caPem: servingCa.certPem, kubeconfigPath, adminCertPem: admin.certPem, adminKeyPem: admin.keyPem };
}
