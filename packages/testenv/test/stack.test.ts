// Proves the test stack is made of real parts: TokenRequest, TokenReview through Vault's kubernetes
// auth, admission webhooks over HTTPS, CRDs, dynamic PostgreSQL credentials, PKI and the counting proxy.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import * as k8s from '@kubernetes/client-node';
import pg from 'pg';
import { createCertificateAuthority, issueCertificate, sharedStack, toolVersions, TestStack } from '../src/index.ts';
import { CountingProxy } from '../src/counting-proxy.ts';

let stack: TestStack;

async function vaultLogin(role: string, jwt: string): Promise<Response> {
  return fetch(`${stack.vaultAddr}/v1/auth/${stack.layout.kubernetesAuthMount}/login`, {
    method: 'POST',
    body: JSON.stringify({ role, jwt }),
  });
}

beforeAll(() => {
  stack = sharedStack();
});

describe('the servers', () => {
  // Against an existing cluster and Vault (VAULTBRIDGE_USE_EXISTING) their versions are whatever they are.
  const built = (): boolean => Object.keys(stack.handle.pids).length > 0;

  it('kube-apiserver reports the version it was built as (so helm kubeVersion checks work)', async () => {
    const version = await stack.kube.config.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toBe(built() ? toolVersions().KUBE_VERSION : expect.stringMatching(/^v1\.\d+/));
  });

  it('Vault is the MPL-licensed build named in tools/versions.env', async () => {
    const health = (await (await fetch(`${stack.vaultAddr}/v1/sys/health`)).json()) as {
      version: string;
      initialized: boolean;
      sealed: boolean;
    };
    expect(`v${health.version}`).toBe(built() ? toolVersions().VAULT_VERSION : expect.stringMatching(/^v\d+\./));
    expect(health).toMatchObject({ initialized: true, sealed: false });
  });
});

describe('Vault over TLS', () => {
  /** POST over the stack's TLS listener, verifying its CA, presenting `client` when given. */
  function tlsPost(
    path: string,
    body: unknown,
    client?: { certPem: string; keyPem: string },
  ): Promise<{ status: number; body: string }> {
    const tls = stack.handle.vault.tls!;
    return new Promise((resolve, reject) => {
      const request = https.request(
        `${tls.addr}/v1/${path}`,
        {
          method: 'POST',
          ca: tls.caPem,
          ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
          timeout: 10_000,
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        },
      );
      request.on('timeout', () => request.destroy(new Error('timed out')));
      request.on('error', reject);
      request.end(JSON.stringify(body));
    });
  }

  it('the same Vault serves a second, TLS listener that asks for client certificates: cert auth logs in', async () => {
    if (Object.keys(stack.handle.pids).length === 0) {
      // An existing Vault (VAULTBRIDGE_USE_EXISTING) has only its own listeners: none is claimed.
      expect(stack.handle.vault.tls).toBeUndefined();
      return;
    }
    expect(stack.handle.vault.tls?.addr).toMatch(/^https:\/\//);
    const mount = stack.uniqueName('cert');
    const clients = await createCertificateAuthority('stack-test-clients');
    const strangers = await createCertificateAuthority('stack-test-strangers');
    await stack.vaultAdmin.write(`sys/auth/${mount}`, { type: 'cert' });
    await stack.vaultAdmin.write(`auth/${mount}/certs/web`, { certificate: clients.certPem, token_ttl: '5m' });
    const good = await tlsPost(
      `auth/${mount}/login`,
      { name: 'web' },
      await issueCertificate(clients, { commonName: 'web', usage: 'client' }),
    );
    expect(good.status).toBe(200);
    expect((JSON.parse(good.body) as { auth: { metadata: { cert_name: string } } }).auth.metadata.cert_name).toBe(
      'web',
    );
    const stranger = await tlsPost(
      `auth/${mount}/login`,
      { name: 'web' },
      await issueCertificate(strangers, { commonName: 'web', usage: 'client' }),
    );
    expect(stranger.status).toBe(400);
  });
});

describe('kubernetes service-account tokens', () => {
  it('TokenRequest returns a signed JWT with the asked audience', async () => {
    const ns = stack.uniqueName('tokens');
    await stack.createServiceAccount(ns, 'app');
    const { token, expiresAt } = await stack.requestToken(ns, 'app', { audiences: ['vault'], expirationSeconds: 600 });
    const [, payload] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { aud: string[]; sub: string };
    expect(claims.aud).toEqual(['vault']);
    expect(claims.sub).toBe(`system:serviceaccount:${ns}:app`);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
  });

  it("Vault's jwt method (enableJwtAuth) validates a pod's token with the API server's keys, its audience the issuer", async () => {
    const ns = stack.uniqueName('jwt');
    await stack.createServiceAccount(ns, 'app');
    await stack.enableJwtAuth(ns);
    const issuer = await stack.kube.serviceAccountIssuer();
    await stack.vaultAdmin.write(`auth/${ns}/role/app`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: [issuer],
      bound_subject: `system:serviceaccount:${ns}:app`,
    });
    // A token without audiences gets the API server's default, the issuer, as pods' own tokens do.
    const { token } = await stack.requestToken(ns, 'app');
    const login = await fetch(`${stack.vaultAddr}/v1/auth/${ns}/login`, {
      method: 'POST',
      body: JSON.stringify({ role: 'app', jwt: token }),
    });
    expect(login.status).toBe(200);
  });

  it('Vault kubernetes login succeeds for the bound role and fails for a wrong service account or audience', async () => {
    const ns = stack.uniqueName('login');
    await stack.createServiceAccount(ns, 'app');
    await stack.createServiceAccount(ns, 'intruder');
    await stack.writePolicy(`${ns}-read`, 'path "secret/data/*" { capabilities = ["read"] }');
    await stack.writeKubernetesRole(ns, {
      serviceAccounts: ['app'],
      namespaces: [ns],
      policies: [`${ns}-read`],
      audience: 'vault',
    });

    const good = await stack.requestToken(ns, 'app', { audiences: ['vault'] });
    const ok = await vaultLogin(ns, good.token);
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { auth: { client_token: string; policies: string[] } };
    expect(body.auth.client_token).toMatch(/^hvs\.|^s\./);
    expect(body.auth.policies).toContain(`${ns}-read`);

    const wrongAccount = await stack.requestToken(ns, 'intruder', { audiences: ['vault'] });
    expect((await vaultLogin(ns, wrongAccount.token)).status).toBe(403);

    const wrongAudience = await stack.requestToken(ns, 'app', { audiences: ['not-vault'] });
    expect((await vaultLogin(ns, wrongAudience.token)).status).toBe(403);
  });
});

describe('admission webhooks', () => {
  it('the API server calls a MutatingWebhookConfiguration at https://127.0.0.1:<port> when a pod is created', async () => {
    const ca = await createCertificateAuthority('webhook-test-ca');
    const serving = await issueCertificate(ca, { commonName: 'webhook', usage: 'server', ipAddresses: ['127.0.0.1'] });
    const reviews: Array<{ request: { uid: string; namespace: string; object: { metadata: { name: string } } } }> = [];
    const server = https.createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const review = JSON.parse(body) as (typeof reviews)[number];
        reviews.push(review);
        const patch = [{ op: 'add', path: '/metadata/labels', value: { 'testenv-mutated': 'yes' } }];
        res.setHeader('Content-Type', 'application/json');
        res.end(
          JSON.stringify({
            apiVersion: 'admission.k8s.io/v1',
            kind: 'AdmissionReview',
            response: {
              uid: review.request.uid,
              allowed: true,
              patchType: 'JSONPatch',
              patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const ns = stack.uniqueName('webhook');
    const admission = stack.kube.config.makeApiClient(k8s.AdmissionregistrationV1Api);
    try {
      await stack.createNamespace(ns);
      await stack.kube.core.patchNamespace(
        { name: ns, body: { metadata: { labels: { 'testenv-webhook': ns } } } },
        k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
      );
      await admission.createMutatingWebhookConfiguration({
        body: {
          metadata: { name: ns },
          webhooks: [
            {
              name: 'mutate.testenv.vaultbridge.dev',
              admissionReviewVersions: ['v1'],
              sideEffects: 'None',
              failurePolicy: 'Fail',
              namespaceSelector: { matchLabels: { 'testenv-webhook': ns } },
              clientConfig: {
                url: `https://127.0.0.1:${port}/mutate`,
                caBundle: Buffer.from(ca.certPem).toString('base64'),
              },
              rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
            },
          ],
        },
      });
      // Webhook configurations reach the admission plugin through an informer: retry until it is seen.
      let created: k8s.V1Pod | undefined;
      for (let attempt = 0; attempt < 50 && !created?.metadata?.labels?.['testenv-mutated']; attempt++) {
        const name = `pod-${attempt}`;
        created = await stack.kube.core.createNamespacedPod({
          namespace: ns,
          body: { metadata: { name }, spec: { containers: [{ name: 'app', image: 'busybox' }] } },
        });
        if (!created.metadata?.labels?.['testenv-mutated']) await new Promise((r) => setTimeout(r, 100));
      }
      expect(created?.metadata?.labels?.['testenv-mutated']).toBe('yes');
      expect(
        reviews.some((r) => r.request.namespace === ns && r.request.object.metadata.name === created?.metadata?.name),
      ).toBe(true);
    } finally {
      await admission.deleteMutatingWebhookConfiguration({ name: ns }).catch(() => undefined);
      server.close();
    }
  });
});

describe('custom resources', () => {
  it('a CRD can be created, becomes established and stores objects', async () => {
    const ext = stack.kube.config.makeApiClient(k8s.ApiextensionsV1Api);
    const group = `${stack.uniqueName('g')}.testenv.vaultbridge.dev`;
    await ext.createCustomResourceDefinition({
      body: {
        metadata: { name: `widgets.${group}` },
        spec: {
          group,
          scope: 'Namespaced',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: { spec: { type: 'object', properties: { size: { type: 'integer' } } } },
                },
              },
            },
          ],
        },
      },
    });
    const custom = stack.kube.config.makeApiClient(k8s.CustomObjectsApi);
    let stored: { spec?: { size?: number } } | undefined;
    for (let attempt = 0; attempt < 100 && !stored; attempt++) {
      try {
        stored = (await custom.createNamespacedCustomObject({
          group,
          version: 'v1',
          namespace: 'default',
          plural: 'widgets',
          body: { apiVersion: `${group}/v1`, kind: 'Widget', metadata: { name: 'w' }, spec: { size: 3 } },
        })) as typeof stored;
      } catch {
        await new Promise((r) => setTimeout(r, 100)); // not established yet
      }
    }
    expect(stored?.spec?.size).toBe(3);
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace: 'default',
      plural: 'widgets',
      name: 'w',
    })) as { spec: { size: number } };
    expect(read.spec.size).toBe(3);
  });
});

describe('Vault engines', () => {
  it('dynamic PostgreSQL credentials from Vault log in to PostgreSQL', async () => {
    const creds = await stack.vaultAdmin.read<{ lease_id: string; data: { username: string; password: string } }>(
      `${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}`,
    );
    expect(creds.lease_id).toContain(`${stack.layout.databaseMount}/creds/${stack.layout.databaseRole}/`);
    const client = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      database: stack.postgres.database,
      user: creds.data.username,
      password: creds.data.password,
    });
    await client.connect();
    const result = await client.query<{ current_user: string }>('select current_user');
    await client.end();
    expect(result.rows[0]?.current_user).toBe(creds.data.username);

    const wrong = new pg.Client({
      host: stack.postgres.host,
      port: stack.postgres.port,
      database: stack.postgres.database,
      user: creds.data.username,
      password: 'not-the-password',
    });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
  });

  it('PKI issues a certificate for the role domain', async () => {
    const issued = await stack.vaultAdmin.write<{
      data: { certificate: string; private_key: string; serial_number: string };
    }>(`${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}`, { common_name: `svc.${stack.layout.pkiDomain}` });
    expect(issued.data.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(issued.data.private_key).toMatch(/PRIVATE KEY-----/);
    expect(issued.data.serial_number).toMatch(/^[0-9a-f:]+$/);
  });
});

describe('counting proxy', () => {
  it('faults only the requests under the given path, so concurrent tests are not disturbed', async () => {
    const scoped = stack.uniqueName('faulted');
    const headers = { 'X-Vault-Token': stack.rootToken };
    await stack.setVaultFault('unavailable', { pathPrefix: `secret/data/${scoped}` });
    try {
      expect((await fetch(`${stack.vaultAddr}/v1/secret/data/${scoped}`, { headers })).status).toBe(503);
      expect((await fetch(`${stack.vaultAddr}/v1/sys/health`)).status).toBe(200);
    } finally {
      await stack.setVaultFault('none');
    }
    expect((await fetch(`${stack.vaultAddr}/v1/secret/data/${scoped}`, { headers })).status).toBe(404);
  });

  it("keeps each test file's fault: clearing one prefix leaves another file's fault in place", async () => {
    const mine = stack.uniqueName('faulted-mine');
    const theirs = stack.uniqueName('faulted-theirs');
    const headers = { 'X-Vault-Token': stack.rootToken };
    // Another test file in a parallel worker is a handle of its own on the same proxy.
    const other = new TestStack(stack.handle);
    await other.setVaultFault('unavailable', { pathPrefix: `secret/data/${theirs}` });
    try {
      await stack.setVaultFault('reset', { pathPrefix: `secret/data/${mine}` });
      await stack.setVaultFault('none');
      expect((await fetch(`${stack.vaultAddr}/v1/secret/data/${mine}`, { headers })).status).toBe(404);
      expect((await fetch(`${stack.vaultAddr}/v1/secret/data/${theirs}`, { headers })).status).toBe(503);
    } finally {
      await other.setVaultFault('none');
    }
    expect((await fetch(`${stack.vaultAddr}/v1/secret/data/${theirs}`, { headers })).status).toBe(404);
  });

  it('counts Vault requests by method and path, and resets', async () => {
    const path = `${stack.uniqueName('counted')}`;
    await stack.resetRequestCounts();
    const headers = { 'X-Vault-Token': stack.rootToken };
    await fetch(`${stack.vaultAddr}/v1/secret/data/${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ data: { a: '1' } }),
    });
    await fetch(`${stack.vaultAddr}/v1/secret/data/${path}`, { headers });
    await fetch(`${stack.vaultAddr}/v1/secret/data/${path}?version=1`, { headers });
    const counts = await stack.requestCounts();
    expect(counts.byRoute[`GET /v1/secret/data/${path}`]).toBe(2);
    expect(counts.byRoute[`POST /v1/secret/data/${path}`]).toBe(1);
    await stack.resetRequestCounts();
    expect((await stack.requestCounts()).byRoute[`GET /v1/secret/data/${path}`]).toBeUndefined();
  });

  it('passes every method Vault accepts unchanged (LIST, lower-case, unknown) and chunked bodies, answering as Vault does', async () => {
    // A proxy of this code (not the one the running stack started with) in front of the same Vault.
    const proxy = new CountingProxy(stack.handle.vault.directAddr);
    const proxyAddr = await proxy.listen();
    try {
      const path = stack.uniqueName('listed');
      const headers = { 'X-Vault-Token': stack.rootToken };
      await stack.vaultAdmin.write(`secret/data/${path}/a`, { data: { x: '1' } });
      await stack.vaultAdmin.write(`secret/data/${path}/b`, { data: { x: '2' } });
      const both = async (method: string) => {
        const via = await fetch(`${proxyAddr}/v1/secret/metadata/${path}`, { method, headers });
        const direct = await fetch(`${stack.handle.vault.directAddr}/v1/secret/metadata/${path}`, { method, headers });
        return {
          via: { status: via.status, body: await via.text() },
          direct: { status: direct.status, body: await direct.text() },
        };
      };
      const list = await both('LIST');
      expect(list.via.status).toBe(200);
      expect((JSON.parse(list.via.body) as { data: { keys: string[] } }).data.keys).toEqual(['a', 'b']);
      for (const method of ['list', 'FROB']) {
        const answer = await both(method);
        expect(answer.via.status).toBe(answer.direct.status);
      }
      // A chunked request body (no Content-Length) reaches Vault whole.
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"data":'));
          controller.enqueue(new TextEncoder().encode('{"x":"chunked"}}'));
          controller.close();
        },
      });
      const written = await fetch(`${proxyAddr}/v1/secret/data/${path}/c`, {
        method: 'POST',
        headers,
        body,
        duplex: 'half',
      } as RequestInit);
      expect(written.status).toBe(200);
      expect(await stack.vaultAdmin.read(`secret/data/${path}/c`)).toMatchObject({ data: { data: { x: 'chunked' } } });
      const counts = (
        (await (await fetch(`${proxyAddr}/_testenv/requests`)).json()) as { byRoute: Record<string, number> }
      ).byRoute;
      expect([
        counts[`LIST /v1/secret/metadata/${path}`],
        counts[`list /v1/secret/metadata/${path}`],
        counts[`FROB /v1/secret/metadata/${path}`],
        counts[`POST /v1/secret/data/${path}/c`],
      ]).toEqual([1, 1, 1, 1]);
    } finally {
      await proxy.close();
    }
  });
});

describe('counting proxy: recorded headers', () => {
  it('records every header name and the chosen values, and refuses to record a credential header', async () => {
    expect(() => new CountingProxy(stack.handle.vault.directAddr, { recordHeaders: ['X-Vault-Token'] })).toThrow(
      /x-vault-token carry credentials and are never recorded/,
    );
    const proxy = new CountingProxy(stack.handle.vault.directAddr, { recordHeaders: ['X-Team'] });
    const proxyAddr = await proxy.listen();
    try {
      const path = stack.uniqueName('headers');
      const sent = { 'X-Vault-Token': stack.rootToken, 'X-Team': 'blue', 'X-Tier': 'gold' };
      expect((await fetch(`${proxyAddr}/v1/secret/data/${path}?version=2`, { headers: sent })).status).toBe(404);
      const [request, ...more] = proxy.requests();
      expect(more).toEqual([]);
      expect(request).toMatchObject({ method: 'GET', path: `/v1/secret/data/${path}`, headers: { 'x-team': 'blue' } });
      expect(request?.headerNames).toEqual(expect.arrayContaining(['x-vault-token', 'x-team', 'x-tier']));
      // The token's value is nowhere in what was recorded, and only chosen values are.
      expect(JSON.stringify(proxy.requests())).not.toContain(stack.rootToken);
      expect(JSON.stringify(proxy.requests())).not.toContain('gold');
      await fetch(`${proxyAddr}/_testenv/requests`, { method: 'DELETE' });
      expect(proxy.requests()).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});

describe('Vault events (events.alpha1)', () => {
  it('a KV write arrives on sys/events/subscribe through the counting proxy, counted once as the upgrade', async () => {
    const proxy = new CountingProxy(stack.handle.vault.directAddr);
    const proxyAddr = await proxy.listen();
    const path = stack.uniqueName('evented');
    const socket = new WebSocket(
      `${proxyAddr.replace(/^http/, 'ws')}/v1/sys/events/subscribe/kv-v2/data-write?json=true`,
      {
        headers: { 'X-Vault-Token': stack.rootToken },
      } as unknown as string[],
    );
    try {
      const received = new Promise<Record<string, unknown>>((resolve, reject) => {
        socket.onmessage = (message) => {
          const event = JSON.parse(String(message.data)) as { data: { event: { metadata: { path: string } } } };
          if (event.data.event.metadata.path === `data/${path}`) resolve(event as unknown as Record<string, unknown>);
        };
        socket.onclose = (closed) =>
          reject(new Error(`the event socket closed (${closed.code}) before the event arrived`));
      });
      await new Promise<void>((resolve, reject) => {
        socket.onopen = () => resolve();
        socket.onerror = () => reject(new Error('the event socket failed to open through the proxy'));
      });
      // Vault subscribes the socket just after accepting it, so a first write may precede the
      // subscription: write again until one is seen.
      let arrived: Record<string, unknown> | undefined;
      void received.then(
        (event) => (arrived = event),
        () => undefined,
      );
      for (let version = 1; arrived === undefined; version++) {
        await stack.vaultAdmin.write(`secret/data/${path}`, { data: { v: String(version) } });
        await Promise.race([received, new Promise((resolve) => setTimeout(resolve, 200))]);
      }
      expect(await received).toMatchObject({
        data: {
          event_type: 'kv-v2/data-write',
          event: { metadata: { path: `data/${path}` } },
          plugin_info: { mount_path: 'secret/', plugin: 'kv' },
        },
      });
      const counts = (
        (await (await fetch(`${proxyAddr}/_testenv/requests`)).json()) as { byRoute: Record<string, number> }
      ).byRoute;
      expect(counts['GET /v1/sys/events/subscribe/kv-v2/data-write']).toBe(1);
    } finally {
      socket.close();
      await proxy.close();
    }
  });
});
