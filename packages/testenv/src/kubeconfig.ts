import fs from 'node:fs';

/** A kubeconfig for one client-certificate identity. JSON is YAML: kubectl, helm, client-node and Go clients read it. */
export function writeKubeconfig(
  file: string,
  server: string,
  caPem: string,
  certPem: string,
  keyPem: string,
  user = 'admin',
): void {
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'testenv', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } },
    ],
    users: [
      {
        name: user,
        user: {
          'client-certificate-data': Buffer.from(certPem).toString('base64'),
          'client-key-data': Buffer.from(keyPem).toString('base64'),
        },
      },
    ],
    contexts: [{ name: 'testenv', context: { cluster: 'testenv', user } }],
    'current-context': 'testenv',
  };
  fs.writeFileSync(file, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
}
