// auth-type cert end to end: certificate auth needs Vault over TLS (the client certificate is the
// credential, presented in the handshake), so the agent (as a process, with the config the webhook
// injects) logs in through the stack's Vault TLS listener (handle vault.tls) with a client certificate.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { createCertificateAuthority, issueCertificate, sharedStack } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV } from '../src/contract/index.ts';
import { pod } from './support/pods.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');
const stack = sharedStack();

test('auth-type cert: the agent logs in with its TLS client certificate and renders; a certificate of another CA is refused', async () => {
  const clientCa = await createCertificateAuthority('agent-clients');
  const otherCa = await createCertificateAuthority('someone-else');
  const good = await issueCertificate(clientCa, { commonName: 'web', usage: 'client' });
  const stranger = await issueCertificate(otherCa, { commonName: 'web', usage: 'client' });
  const tls = stack.handle.vault.tls;
  if (!tls) throw new Error('the stack runs no TLS listener for Vault (VAULTBRIDGE_USE_EXISTING has none)');
  const name = stack.uniqueName('cert');
  const admin = stack.vaultAdmin;
  await stack.writePolicy(name, `path "secret/data/${name}" { capabilities = ["read"] }`);
  await admin.write(`secret/data/${name}`, { data: { username: 'cert-user' } });
  await admin.write(`sys/auth/${name}`, { type: 'cert' });
  await admin.write(`auth/${name}/certs/web`, {
    certificate: clientCa.certPem,
    token_policies: [name],
    token_ttl: '1h',
  });

  // As a pod with a tls-secret at /vault/tls would be configured.
  const decision = decide(
    pod({
      'agent-pre-populate-only': 'true',
      role: '',
      'auth-type': 'cert',
      'auth-path': `auth/${name}`,
      'auth-config-name': 'web',
      'tls-secret': 'vault-client-tls',
      'ca-cert': '/vault/tls/ca.crt',
      'client-cert': '/vault/tls/tls.crt',
      'client-key': '/vault/tls/tls.key',
      'agent-inject-secret-web': `secret/data/${name}`,
      'agent-inject-template-web': 'user={{secret "username"}}\n',
    }),
    'app',
    { vaultAddress: tls.addr },
  );
  if (decision.kind !== 'inject')
    throw new Error(`expected an injection, got ${decision.kind}: ${'message' in decision ? decision.message : ''}`);
  const init = [...(decision.pod.spec?.initContainers ?? [])].find((c: V1Container) => c.name === 'vault-agent-init');
  const encoded = init?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value ?? '';

  const runWith = async (certificate: { certPem: string; keyPem: string }) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-cert-'));
    fs.mkdirSync(path.join(root, 'vault/tls'), { recursive: true });
    fs.writeFileSync(path.join(root, 'vault/tls/ca.crt'), tls.caPem);
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
  expect(refused.output).toContain(`at auth/${name} failed`);
}, 120_000);
