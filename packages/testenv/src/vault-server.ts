import fs from 'node:fs';
import path from 'node:path';
import { binaryPath } from './binaries.ts';
import { createCertificateAuthority, issueCertificate } from './certs.ts';
import { freeLoopbackPort } from './ports.ts';
import { startProcess, waitUntilReady, type ManagedProcess } from './processes.ts';

export interface RunningVault {
  process: ManagedProcess;
  addr: string;
  rootToken: string;
  /** The same Vault on a second, TLS listener (certificate auth needs the client certificate in a handshake). */
  tls: { addr: string; caPem: string };
}

/**
 * A second listener, over TLS, merged into the dev server's config (`-dev` with `-config` adds it):
 * it asks for client certificates, as Vault listeners do by default, so `auth/cert` logins work.
 */
async function tlsListenerConfig(home: string, host: string, port: number): Promise<{ file: string; caPem: string }> {
  const ca = await createCertificateAuthority('vaultbridge-testenv-vault-tls', 365);
  const leaf = await issueCertificate(ca, {
    commonName: 'vault',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: [...new Set([host, '127.0.0.1'])],
    validDays: 365,
  });
  const certFile = path.join(home, 'tls.crt');
  const keyFile = path.join(home, 'tls.key');
  fs.writeFileSync(certFile, leaf.certPem);
  fs.writeFileSync(keyFile, leaf.keyPem, { mode: 0o600 });
  const file = path.join(home, 'tls-listener.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      listener: [{ tcp: { address: `${host}:${port}`, tls_cert_file: certFile, tls_key_file: keyFile } }],
    }),
  );
  return { file, caPem: ca.certPem };
}

/** A free port that is not next to `port` (Vault puts a listener's cluster port at its port + 1). */
async function portApartFrom(port: number): Promise<number> {
  for (;;) {
    const candidate = await freeLoopbackPort();
    if (Math.abs(candidate - port) > 1) return candidate;
  }
}

/**
 * A dev-mode Vault server (in-memory, unsealed, kv-v2 at secret/, the events.alpha1 experiment on)
 * with a fixed root token, on loopback, or on `host` (the cluster's node address, so pods reach it too);
 * plain HTTP, plus the same server over TLS on a second port.
 */
export async function startVault(workDir: string, logDir: string, host = '127.0.0.1'): Promise<RunningVault> {
  const port = await freeLoopbackPort();
  const home = path.join(workDir, 'vault-home');
  fs.mkdirSync(home, { recursive: true });
  const rootToken = 'testenv-root';
  const addr = `http://${host}:${port}`;
  const tlsPort = await portApartFrom(port);
  const tls = await tlsListenerConfig(home, host, tlsPort);
  const proc = startProcess(
    'vault',
    binaryPath('vault'),
    [
      'server',
      '-dev',
      `-dev-root-token-id=${rootToken}`,
      `-dev-listen-address=${host}:${port}`,
      '-dev-no-store-token',
      `-config=${tls.file}`,
      // Vault 1.13 publishes KV events (sys/events/subscribe) only under this experiment; the
      // operator's and agent's instant updates subscribe to them.
      '-experiment',
      'events.alpha1',
    ],
    logDir,
    {
      // A private HOME so the dev server never writes a token helper file into the user's home.
      // Vault 1.14 links gosnowflake 1.6, whose bundled CA has a negative serial that Go ≥1.23 rejects at init.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: home,
        VAULT_LOG_LEVEL: 'warn',
        GODEBUG: 'x509negativeserial=1',
      },
    },
  );
  await waitUntilReady(proc, async () => (await fetch(`${addr}/v1/sys/health`)).status === 200, 30_000);
  return { process: proc, addr, rootToken, tls: { addr: `https://${host}:${tlsPort}`, caPem: tls.caPem } };
}
