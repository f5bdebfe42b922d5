// VaultClient against the real Vault of the test stack (errors, retries, faults) and against tiny
// local servers where a header, a unix socket or TLS has to be observed from the server side.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createCertificateAuthority, issueCertificate, sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  VaultClient,
  VaultConfigError,
  VaultError,
  VaultNotFoundError,
  VaultPermissionError,
  VaultUnavailableError,
  type VaultRetryEvent,
} from '../src/vault/index.ts';

let stack: TestStack;
let root: VaultClient;

beforeAll(() => {
  stack = sharedStack();
  root = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
});

async function routeCount(route: string): Promise<number> {
  return (await stack.requestCounts()).byRoute[route] ?? 0;
}

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  clientCertCn?: string;
}

/** A local server that records requests and answers with `reply(n)` for the n-th one (from 1). */
async function recordingServer(
  reply: (n: number, req: http.IncomingMessage) => { status: number; body?: unknown } | 'hang',
  listen: { socketPath?: string; tls?: https.ServerOptions } = {},
): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const peer = (req.socket as { getPeerCertificate?: () => { subject?: { CN?: string } } }).getPeerCertificate?.();
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        ...(peer?.subject?.CN ? { clientCertCn: peer.subject.CN } : {}),
      });
      const answer = reply(seen.length, req);
      if (answer === 'hang') return;
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  };
  const server = listen.tls ? https.createServer(listen.tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) =>
    listen.socketPath ? server.listen(listen.socketPath, resolve) : server.listen(0, '127.0.0.1', resolve),
  );
  const url = listen.socketPath
    ? `unix://${listen.socketPath}`
    : `${listen.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ok = {
  status: 200,
  body: {
    request_id: 'r',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    data: { ok: true },
    auth: null,
    warnings: null,
    wrap_info: null,
  },
};

describe('against Vault', () => {
  test('read, write, list and delete with typed responses', async () => {
    const name = stack.uniqueName('client');
    expect(await root.write(`${stack.layout.kvV1Mount}/${name}/a`, { value: '1' })).toBeNull();
    const read = await root.read<{ value: string }>(`${stack.layout.kvV1Mount}/${name}/a`);
    expect(read.data.value).toBe('1');
    expect(read).toMatchObject({ lease_id: '', renewable: false, auth: null, wrap_info: null });
    expect(read.request_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await root.list(`${stack.layout.kvV1Mount}/${name}`)).data.keys).toEqual(['a']);
    await root.delete(`${stack.layout.kvV1Mount}/${name}/a`);
    // "/v1/" and leading slashes are tolerated.
    await expect(root.read(`/v1/${stack.layout.kvV1Mount}/${name}/a`)).rejects.toBeInstanceOf(VaultNotFoundError);
  });

  test('404 is VaultNotFoundError naming the path', async () => {
    const name = stack.uniqueName('missing');
    const error = await root.read(`${stack.layout.kvV1Mount}/${name}`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultNotFoundError);
    expect(error).toMatchObject({ code: 'VAULT_NOT_FOUND', status: 404, method: 'GET', path: `kv/${name}` });
    expect((error as Error).message).toContain(`GET kv/${name}`);
  });

  test('403 is VaultPermissionError naming the path, without the token', async () => {
    const policy = stack.uniqueName('policy');
    await stack.writePolicy(policy, 'path "kv/allowed/*" { capabilities = ["read"] }');
    const created = await stack.vaultAdmin.write<{ auth: { client_token: string } }>('auth/token/create', {
      policies: [policy],
      ttl: '5m',
    });
    const token = created.auth.client_token;
    const limited = root.withToken(token);
    const error = await limited.read('kv/forbidden/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultPermissionError);
    expect(error).toMatchObject({
      code: 'VAULT_PERMISSION_DENIED',
      status: 403,
      path: 'kv/forbidden/x',
      errors: ['permission denied'],
    });
    expect((error as Error).message).toContain('GET kv/forbidden/x');
    expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(token);
    expect((error as Error).stack).not.toContain(token);
  });

  test('4xx answers are not retried', async () => {
    const route = `POST /v1/${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}`;
    const before = await routeCount(route);
    const client = new VaultClient({
      address: stack.vaultAddr,
      token: stack.rootToken,
      maxRetries: 5,
      retryBaseDelayMs: 1,
    });
    const error = await client
      .write(`${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}`, { common_name: 'not-allowed.invalid' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).status).toBe(400);
    expect((await routeCount(route)) - before).toBe(1);
  });

  test.each(['unavailable', 'reset'] as const)(
    'Vault down (%s): retried, then VaultUnavailableError',
    async (fault) => {
      const name = stack.uniqueName('down');
      const route = `GET /v1/kv/${name}`;
      const retries: VaultRetryEvent[] = [];
      const client = new VaultClient({
        address: stack.vaultAddr,
        token: stack.rootToken,
        maxRetries: 2,
        retryBaseDelayMs: 5,
        retryMaxDelayMs: 20,
        onRetry: (event) => retries.push(event),
      });
      const before = await routeCount(route);
      let error: unknown;
      await stack.setVaultFault(fault, { pathPrefix: `kv/${name}` });
      try {
        error = await client.read(`kv/${name}`).catch((e: unknown) => e);
      } finally {
        await stack.setVaultFault('none');
      }
      expect(error).toBeInstanceOf(VaultUnavailableError);
      const unavailable = error as VaultUnavailableError;
      expect(unavailable.code).toBe('VAULT_UNAVAILABLE');
      expect(unavailable.attempts).toBe(3);
      expect(unavailable.status).toBe(fault === 'unavailable' ? 503 : undefined);
      expect(unavailable.message).toContain('after 3 attempts');
      expect(unavailable.message).not.toContain(stack.rootToken);
      expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
      expect((await routeCount(route)) - before).toBe(3);
    },
  );

  test('a request that starts while Vault is down succeeds once it is back', async () => {
    const name = stack.uniqueName('flaky');
    await root.write(`kv/${name}`, { v: '1' });
    let retries = 0;
    const client = new VaultClient({
      address: stack.vaultAddr,
      token: stack.rootToken,
      maxRetries: 20,
      retryBaseDelayMs: 100,
      retryMaxDelayMs: 100,
      onRetry: () => (retries += 1),
    });
    let pending: Promise<unknown>;
    await stack.setVaultFault('unavailable', { pathPrefix: `kv/${name}` });
    try {
      pending = client.read(`kv/${name}`);
      await new Promise((resolve) => setTimeout(resolve, 150));
    } finally {
      await stack.setVaultFault('none');
    }
    await expect(pending).resolves.toMatchObject({ data: { v: '1' } });
    expect(retries).toBeGreaterThanOrEqual(1);
  });

  test('clients from withToken share the connection state but not the token', async () => {
    const other = root.withToken('not-a-token');
    expect(other.sharedState('probe', () => ({ n: 1 }))).toBe(root.sharedState('probe', () => ({ n: 2 })));
    await expect(other.read('auth/token/lookup-self')).rejects.toBeInstanceOf(VaultPermissionError);
    await expect(root.read('auth/token/lookup-self')).resolves.toMatchObject({ data: { id: stack.rootToken } });
  });

  test('fromEnv reads VAULT_ADDR and VAULT_TOKEN', async () => {
    const client = VaultClient.fromEnv({}, { VAULT_ADDR: stack.vaultAddr, VAULT_TOKEN: stack.rootToken });
    expect(client.address).toBe(stack.vaultAddr);
    await expect(client.read('sys/mounts')).resolves.toHaveProperty('data');
  });
});

describe('configuration errors name the setting', () => {
  test('malformed VAULT_ADDR', () => {
    expect(() => VaultClient.fromEnv({}, { VAULT_ADDR: 'vault:8200:x' })).toThrow(
      /VAULT_ADDR "vault:8200:x" is not a valid Vault address/,
    );
    expect(() => new VaultClient({ address: '127.0.0.1:8200' })).toThrow(
      /^address "127.0.0.1:8200" is not a valid Vault address: the scheme is missing/,
    );
  });

  test('unreadable CA file and CA directory', () => {
    const missing = path.join(os.tmpdir(), 'vb-no-such-ca.pem');
    const error = (() => {
      try {
        VaultClient.fromEnv({}, { VAULT_ADDR: 'https://vault:8200', VAULT_CACERT: missing });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(VaultConfigError);
    expect(error).toMatchObject({ setting: 'VAULT_CACERT' });
    expect((error as Error).message).toContain(
      `VAULT_CACERT names the CA file "${missing}" that cannot be read (ENOENT)`,
    );
    expect(() => new VaultClient({ address: 'https://vault:8200', tls: { caPath: missing } })).toThrow(
      /tls.caPath names the CA directory .* cannot be read/,
    );
    expect(() => new VaultClient({ address: 'https://vault:8200', tls: { clientCert: missing } })).toThrow(
      /set tls.clientKey too/,
    );
  });
});

describe('against local servers', () => {
  test('sends the namespace, token and request headers, the query and the JSON body', async () => {
    const server = await recordingServer(() => ok);
    try {
      const client = new VaultClient({ address: server.url, token: 's.local-token', namespace: 'team-a/sub' });
      await client.read('secret/data/app', { query: { version: 3 } });
      await client.write('transit/encrypt/app', { plaintext: 'aGk=' });
      expect(server.seen[0]).toMatchObject({ method: 'GET', url: '/v1/secret/data/app?version=3' });
      expect(server.seen[0]?.headers).toMatchObject({
        'x-vault-namespace': 'team-a/sub',
        'x-vault-token': 's.local-token',
        'x-vault-request': 'true',
      });
      expect(server.seen[1]).toMatchObject({
        method: 'POST',
        url: '/v1/transit/encrypt/app',
        body: '{"plaintext":"aGk="}',
      });
      expect(server.seen[1]?.headers['content-type']).toBe('application/json');
      // No namespace configured: no header.
      await new VaultClient({ address: server.url, token: 't' }).read('x');
      expect(server.seen[2]?.headers['x-vault-namespace']).toBeUndefined();
    } finally {
      await server.close();
    }
  });

  test('VAULT_NAMESPACE from the environment is sent', async () => {
    const server = await recordingServer(() => ok);
    try {
      await VaultClient.fromEnv({}, { VAULT_ADDR: server.url, VAULT_NAMESPACE: 'admin' }).read('sys/health');
      expect(server.seen[0]?.headers['x-vault-namespace']).toBe('admin');
    } finally {
      await server.close();
    }
  });

  test('talks over a unix socket (unix:///path)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vb-sock-'));
    const server = await recordingServer(() => ok, { socketPath: path.join(dir, 'agent.sock') });
    try {
      const client = new VaultClient({ address: server.url });
      expect(client.address).toBe(server.url);
      await expect(client.read('sys/health')).resolves.toMatchObject({ data: { ok: true } });
      expect(server.seen[0]?.url).toBe('/v1/sys/health');
    } finally {
      await server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('429 and 5xx are retried, 501 is not', async () => {
    const flaky = await recordingServer((n) =>
      n === 1 ? { status: 429, body: { errors: ['rate limited'] } } : n === 2 ? { status: 502 } : ok,
    );
    const notImplemented = await recordingServer(() => ({ status: 501, body: { errors: ['no'] } }));
    try {
      const client = new VaultClient({ address: flaky.url, maxRetries: 3, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
      await expect(client.read('x')).resolves.toMatchObject({ data: { ok: true } });
      expect(flaky.seen).toHaveLength(3);
      const error = await new VaultClient({ address: notImplemented.url, maxRetries: 3, retryBaseDelayMs: 1 })
        .read('x')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultError);
      expect(error).not.toBeInstanceOf(VaultUnavailableError);
      expect(notImplemented.seen).toHaveLength(1);
    } finally {
      await flaky.close();
      await notImplemented.close();
    }
  });

  test('a request that times out is retried, then VaultUnavailableError says it timed out', async () => {
    const server = await recordingServer(() => 'hang');
    try {
      const client = new VaultClient({ address: server.url, timeoutMs: 100, maxRetries: 1, retryBaseDelayMs: 1 });
      const error = await client.read('x').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultUnavailableError);
      expect((error as Error).message).toContain('timed out');
      expect(server.seen).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test('an abort signal cancels the request and its retries', async () => {
    const server = await recordingServer(() => 'hang');
    try {
      const client = new VaultClient({ address: server.url, maxRetries: 5 });
      const controller = new AbortController();
      // Aborted once the request is at the server (a fixed delay raced a loaded machine).
      const abortWhenSeen = setInterval(() => {
        if (server.seen.length > 0) controller.abort(new Error('shutting down'));
      }, 10);
      await expect(client.read('x', { signal: controller.signal }))
        .rejects.toThrow('shutting down')
        .finally(() => clearInterval(abortWhenSeen));
      expect(server.seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  describe('TLS', () => {
    let dir: string;
    let caFile: string;
    let server: Awaited<ReturnType<typeof recordingServer>>;
    let clientCertFile: string;
    let clientKeyFile: string;

    beforeAll(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vb-tls-'));
      const ca = await createCertificateAuthority('vaultbridge-core-test-ca');
      const serverCert = await issueCertificate(ca, {
        commonName: 'vault.internal',
        dnsNames: ['vault.internal'],
        usage: 'server',
      });
      const clientCert = await issueCertificate(ca, { commonName: 'core-test-client', usage: 'client' });
      caFile = path.join(dir, 'ca.pem');
      fs.writeFileSync(caFile, ca.certPem);
      fs.mkdirSync(path.join(dir, 'cas'));
      fs.writeFileSync(path.join(dir, 'cas', 'ca.crt'), ca.certPem);
      clientCertFile = path.join(dir, 'client.pem');
      clientKeyFile = path.join(dir, 'client-key.pem');
      fs.writeFileSync(clientCertFile, clientCert.certPem);
      fs.writeFileSync(clientKeyFile, clientCert.keyPem);
      server = await recordingServer(() => ok, {
        tls: {
          cert: serverCert.certPem,
          key: serverCert.keyPem,
          ca: ca.certPem,
          requestCert: true,
          rejectUnauthorized: false,
        },
      });
    });

    afterAll(async () => {
      await server?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('verifies the server with the CA file and the TLS server name, and presents a client certificate', async () => {
      const client = new VaultClient({
        address: server.url,
        tls: { caFile, tlsServerName: 'vault.internal', clientCert: clientCertFile, clientKey: clientKeyFile },
      });
      await expect(client.read('sys/health')).resolves.toMatchObject({ data: { ok: true } });
      expect(server.seen.at(-1)?.clientCertCn).toBe('core-test-client');
    });

    test('the same from VAULT_* variables, with a CA directory', async () => {
      const client = VaultClient.fromEnv(
        {},
        {
          VAULT_ADDR: server.url,
          VAULT_CAPATH: path.join(dir, 'cas'),
          VAULT_TLS_SERVER_NAME: 'vault.internal',
          VAULT_CLIENT_CERT: clientCertFile,
          VAULT_CLIENT_KEY: clientKeyFile,
        },
      );
      await expect(client.read('sys/health')).resolves.toMatchObject({ data: { ok: true } });
    });

    test('an unknown CA is a configuration error that says how to fix it, and is not retried', async () => {
      const before = server.seen.length;
      const error = await new VaultClient({ address: server.url, maxRetries: 3 })
        .read('sys/health')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultConfigError);
      expect((error as Error).message).toMatch(/TLS to Vault at https:\/\/127\.0\.0\.1:\d+ failed .*VAULT_CACERT/);
      expect(server.seen.length).toBe(before);
    });

    test('a server name not in the certificate is refused', async () => {
      const error = await new VaultClient({ address: server.url, tls: { caFile } })
        .read('sys/health')
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultConfigError);
      expect((error as Error).message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    });

    test('skipVerify connects without checking (VAULT_SKIP_VERIFY=true)', async () => {
      const client = VaultClient.fromEnv({}, { VAULT_ADDR: server.url, VAULT_SKIP_VERIFY: 'true' });
      await expect(client.read('sys/health')).resolves.toMatchObject({ data: { ok: true } });
    });
  });
});
