// auth-type cert end to end: certificate auth needs Vault over TLS (the client certificate is the
// credential, presented in the handshake), and the shared stack's Vault listens on plain HTTP. So this
// test runs the stack's own Vault binary once more in dev mode with -dev-tls, and the agent (as a
// process, with the config the webhook injects) logs in to it with a client certificate.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { VaultClient } from '@vaultbridge/core';
import { binaryPath, createCertificateAuthority, freeLoopbackPort, issueCertificate } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV } from '../src/contract/index.ts';
import { pod } from './support/pods.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');

let vault: ChildProcess;
let address: string;
let certDir: string;
let admin: VaultClient;

beforeAll(async () => {
  certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vault-dev-tls-'));
  const port = await freeLoopbackPort();
  address = `https://127.0.0.1:${port}`;
  vault = spawn(
    binaryPath('vault'),
    [
      'server',
      '-dev',
      '-dev-tls',
      `-dev-tls-cert-dir=${certDir}`,
      '-dev-root-token-id=root',
      `-dev-listen-address=127.0.0.1:${port}`,
      '-dev-no-store-token',
    ],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: certDir,
        VAULT_LOG_LEVEL: 'warn',
        GODEBUG: 'x509negativeserial=1',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  vault.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  for (let attempt = 0; ; attempt++) {
    if (fs.existsSync(path.join(certDir, 'vault-ca.pem'))) {
      try {
        admin = new VaultClient({
          address,
          token: 'root',
          tls: { caFile: path.join(certDir, 'vault-ca.pem') },
          maxRetries: 0,
          timeoutMs: 2000,
        });
        await admin.read('sys/health');
        break;
      } catch {
        // not listening yet
      }
    }
    if (attempt > 150 || vault.exitCode !== null) throw new Error(`the TLS Vault did not start:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}, 60_000);

afterAll(() => {
  vault?.kill('SIGTERM');
});

test('auth-type cert: the agent logs in with its TLS client certificate and renders; a certificate of another CA is refused', async () => {
  const clientCa = await createCertificateAuthority('agent-clients');
  const otherCa = await createCertificateAuthority('someone-else');
  const good = await issueCertificate(clientCa, { commonName: 'web', usage: 'client' });
  const stranger = await issueCertificate(otherCa, { commonName: 'web', usage: 'client' });
  await admin.write('sys/policy/web', { policy: 'path "secret/data/web" { capabilities = ["read"] }' });
  await admin.write('secret/data/web', { data: { username: 'cert-user' } });
  await admin.write('sys/auth/cert', { type: 'cert' });
  await admin.write('auth/cert/certs/web', { certificate: clientCa.certPem, token_policies: ['web'], token_ttl: '1h' });

  // As a pod with a tls-secret at /vault/tls would be configured.
  const decision = decide(
    pod({
      'agent-pre-populate-only': 'true',
      role: '',
      'auth-type': 'cert',
      'auth-path': 'auth/cert',
      'auth-config-name': 'web',
      'tls-secret': 'vault-client-tls',
      'ca-cert': '/vault/tls/ca.crt',
      'client-cert': '/vault/tls/tls.crt',
      'client-key': '/vault/tls/tls.key',
      'agent-inject-secret-web': 'secret/data/web',
      'agent-inject-template-web': 'user={{secret "username"}}\n',
    }),
    'app',
    { vaultAddress: address },
  );
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const init = [...(decision.pod.spec?.initContainers ?? [])].find((c: V1Container) => c.name === 'vault-agent-init');
  const encoded = init?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value ?? '';

  const runWith = async (certificate: { certPem: string; keyPem: string }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cert-'));
    fs.mkdirSync(path.join(root, 'vault/tls'), { recursive: true });
    fs.copyFileSync(path.join(certDir, 'vault-ca.pem'), path.join(root, 'vault/tls/ca.crt'));
    fs.writeFileSync(path.join(root, 'vault/tls/tls.crt'), certificate.certPem);
    fs.writeFileSync(path.join(root, 'vault/tls/tls.key'), certificate.keyPem, { mode: 0o600 });
    // The service-account token is mounted in every pod; certificate auth does not read it.
    fs.mkdirSync(path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount'), { recursive: true });
    fs.writeFileSync(path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount/token'), 'unused');
    const child = spawn(
      process.execPath,
      ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
      {
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          [AGENT_CONFIG_ENV]: encoded,
          VAULTBRIDGE_AGENT_ROOT: root,
          VAULTBRIDGE_AGENT_RETRY_BUDGET_MS: '8000',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, output, root };
  };

  const ok = await runWith(good);
  expect({ code: ok.code, output: ok.output }).toMatchObject({ code: 0 });
  expect(fs.readFileSync(path.join(ok.root, 'vault/secrets/web'), 'utf8')).toBe('user=cert-user\n');
  expect(fs.readFileSync(path.join(ok.root, 'home/vault/.vault-token'), 'utf8')).toMatch(/^hvs\./);

  const refused = await runWith(stranger);
  expect(refused.code).not.toBe(0);
  expect(refused.output).toContain('certificate login to Vault as role');
  expect(refused.output).toContain('at auth/cert failed');
}, 120_000);
