// agent-configmap's cache listener over TLS: a Vault Agent config.hcl whose `listener "tcp"` names
// tls_cert_file and tls_key_file (as Vault Agent's listener serves TLS unless tls_disable) runs our
// sidecar as a process against the real Vault; an app that verifies the listener's certificate against
// its CA reads a secret through it with the agent's token, a client that trusts another CA is refused
// at the handshake, and plain HTTP gets no Vault answer. Pod paths are moved under a temporary root.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import type { TLSSocket } from 'node:tls';
import path from 'node:path';
import {
  createCertificateAuthority,
  freeLoopbackPort,
  issueCertificate,
  sharedStack,
  type CertificateAuthority,
  type TestStack,
} from '@vaultbridge/testenv';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');
const TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token';

let stack: TestStack;
let ns: string;
let role: string;
let kv: string;
let ca: CertificateAuthority;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('cachetls');
  role = `${ns}-app`;
  kv = `${stack.layout.kvV2Mount}/data/${ns}/config`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writePolicy(role, `path "${stack.layout.kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
  await stack.vaultAdmin.write(kv, { data: { password: 'through-tls-7731' } });
  ca = await createCertificateAuthority('cache listener test CA');
});

function get(
  port: number,
  urlPath: string,
  trust: string,
): Promise<{ status: number | undefined; body: string; protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host: '127.0.0.1',
        port,
        path: urlPath,
        ca: trust,
        servername: 'localhost',
        rejectUnauthorized: true,
        // One connection per request, closed after it: nothing left open when the sidecar stops.
        agent: false,
        timeout: 10_000,
      },
      (response) => {
        // Read before the end: the socket is detached from a finished response.
        const protocol = (response.socket as TLSSocket).getProtocol();
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode, body, protocol }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error('no answer within 10 s')));
    request.on('error', reject);
  });
}

/** Plain HTTP to the TLS port: the first bytes the listener sends back. */
function plainHttp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /v1/sys/health HTTP/1.1\r\nHost: x\r\n\r\n'));
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    socket.on('close', () => resolve(received));
    socket.on('error', () => resolve(received));
    socket.setTimeout(5_000, () => socket.destroy());
  });
}

async function podRoot(listener: string): Promise<{ root: string; port: number }> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cache-tls-'));
  const port = await freeLoopbackPort();
  const { token } = await stack.requestToken(ns, 'app', { audiences: ['vault'] });
  const server = await issueCertificate(ca, {
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    usage: 'server',
  });
  const files: Record<string, string> = {
    [TOKEN_PATH]: token,
    '/vault/tls/tls.crt': server.certPem,
    '/vault/tls/tls.key': server.keyPem,
    '/vault/configs/config.hcl': `
vault {
  address = "${stack.vaultAddr}"
}
auto_auth {
  method "kubernetes" {
    config = {
      role = "${role}"
    }
  }
  sink "file" {
    config = {
      path = "/home/vault/.vault-token"
    }
  }
}
cache {
  use_auto_auth_token = true
}
${listener.replace('ADDRESS', `127.0.0.1:${port}`)}
template {
  contents    = "{{ with secret \\"${kv}\\" }}{{ .Data.data.password }}{{ end }}"
  destination = "/vault/secrets/password"
}
`,
  };
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  for (const dir of ['/vault/secrets', '/home/vault']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  return { root, port };
}

function startSidecar(root: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'sidecar'],
    {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        VAULTBRIDGE_AGENT_CONFIG_FILE: path.join(root, 'vault/configs/config.json'),
        VAULTBRIDGE_AGENT_ROOT: root,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(what: string, check: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('the app verifies the listener certificate and reads a secret through it with the agent token', async () => {
  const { root, port } = await podRoot(`listener "tcp" {
  address       = "ADDRESS"
  tls_cert_file = "/vault/tls/tls.crt"
  tls_key_file  = "/vault/tls/tls.key"
}`);
  const sidecar = startSidecar(root);
  try {
    await waitFor(
      'the ready file',
      () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')),
      sidecar.output,
    );
    // No token of its own: the listener adds the agent's (use_auto_auth_token = true).
    const answer = await get(port, `/v1/${kv}`, ca.certPem);
    expect({ status: answer.status, protocol: answer.protocol }).toEqual({ status: 200, protocol: 'TLSv1.3' });
    expect((JSON.parse(answer.body) as { data: { data: { password: string } } }).data.data.password).toBe(
      'through-tls-7731',
    );
    // A client that trusts another CA refuses the listener at the handshake.
    const other = await createCertificateAuthority('another CA');
    await expect(get(port, `/v1/${kv}`, other.certPem)).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    // Plain HTTP to the TLS port gets no Vault answer.
    expect(await plainHttp(port)).not.toContain('through-tls-7731');
    expect(sidecar.output()).toMatch(/"tls":true/);
    expect(sidecar.output()).not.toContain('through-tls-7731');
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  } finally {
    sidecar.child.kill('SIGKILL');
  }
}, 90_000);

test('tls_min_version tls13 refuses a TLS 1.2 client', async () => {
  const { root, port } = await podRoot(`listener "tcp" {
  address         = "ADDRESS"
  tls_cert_file   = "/vault/tls/tls.crt"
  tls_key_file    = "/vault/tls/tls.key"
  tls_min_version = "tls13"
}`);
  const sidecar = startSidecar(root);
  try {
    await waitFor(
      'the ready file',
      () => fs.existsSync(path.join(root, 'home/vault/.vaultbridge-ready')),
      sidecar.output,
    );
    const tls12 = await new Promise<string>((resolve) => {
      const request = https.get(
        {
          host: '127.0.0.1',
          port,
          path: '/v1/sys/health',
          ca: ca.certPem,
          servername: 'localhost',
          maxVersion: 'TLSv1.2',
        },
        () => resolve('connected'),
      );
      request.on('error', (error) => resolve(error.message));
    });
    expect(tls12).toMatch(/protocol version|alert/i);
    expect((await get(port, `/v1/${kv}`, ca.certPem)).status).toBe(200);
    sidecar.child.kill('SIGTERM');
    expect(await sidecar.exited).toBe(0);
  } finally {
    sidecar.child.kill('SIGKILL');
  }
}, 90_000);

test('an unreadable key file stops the sidecar with a message naming it', async () => {
  const { root } = await podRoot(`listener "tcp" {
  address       = "ADDRESS"
  tls_cert_file = "/vault/tls/tls.crt"
  tls_key_file  = "/vault/tls/missing.key"
}`);
  const sidecar = startSidecar(root);
  const code = await sidecar.exited;
  expect(code).toBe(1);
  expect(sidecar.output()).toContain('cache listener: cannot read tls_key_file /vault/tls/missing.key (ENOENT)');
}, 90_000);
