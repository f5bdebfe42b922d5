import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AuthenticationV1TokenRequest } from '@kubernetes/client-node';
import { ServiceAccountTokenError } from './errors.ts';
import { KubeApiError } from './kube-http.ts';
import { FileTokenSource, StaticTokenSource, TokenRequestSource, type TokenRequestApi } from './token-source.ts';

describe('FileTokenSource', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vb-token-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('reads the file, trims it, and sees every rewrite', async () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'jwt-one\n');
    const source = new FileTokenSource({ path: file });
    expect(source.identity).toBe(`file:${file}`);
    expect(await source.token()).toBe('jwt-one');
    expect(await source.token()).toBe('jwt-one');
    // Rewritten in place with a token of the same length (as JWTs of one account often are).
    fs.writeFileSync(file, 'jwt-two\n');
    expect(await source.token()).toBe('jwt-two');
    fs.writeFileSync(file, 'jwt-three-longer');
    expect(await source.token()).toBe('jwt-three-longer');
  });

  test('a missing or empty file is a ServiceAccountTokenError naming the file, not a token', async () => {
    const file = path.join(dir, 'absent');
    await expect(new FileTokenSource({ path: file }).token()).rejects.toThrow(
      new RegExp(`token file ${file} cannot be read \\(ENOENT\\)`),
    );
    fs.writeFileSync(file, '  \n');
    await expect(new FileTokenSource({ path: file }).token()).rejects.toBeInstanceOf(ServiceAccountTokenError);
  });
});

test('StaticTokenSource returns what it was given and refuses an empty token', async () => {
  expect(await new StaticTokenSource(' jwt ', 'pod:ns/name').token()).toBe('jwt');
  expect(() => new StaticTokenSource('', 'pod:ns/name')).toThrow(ServiceAccountTokenError);
});

describe('TokenRequestSource', () => {
  /** Stands in for the API server: answers each call with a numbered token valid `lifetimeS` seconds. */
  function fakeApi(
    lifetimeS: number,
    now: () => number,
  ): TokenRequestApi & { calls: Array<{ name: string; namespace: string; body: AuthenticationV1TokenRequest }> } {
    const calls: Array<{ name: string; namespace: string; body: AuthenticationV1TokenRequest }> = [];
    return {
      calls,
      async createNamespacedServiceAccountToken(request) {
        calls.push(request);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return {
          spec: request.body.spec,
          status: { token: `jwt-${calls.length}`, expirationTimestamp: new Date(now() + lifetimeS * 1000) },
        };
      },
    };
  }

  test('asks with audiences and expiry, caches until 80% of the granted life, and coalesces callers', async () => {
    let clock = 1_000_000;
    const now = (): number => clock;
    const api = fakeApi(1000, now);
    const source = new TokenRequestSource({
      api,
      namespace: 'team',
      serviceAccount: 'app',
      audiences: ['vault'],
      expirationSeconds: 1000,
      now,
    });
    expect(source.identity).toBe('serviceaccount:team/app;aud=vault');

    const tokens = await Promise.all(Array.from({ length: 20 }, () => source.token()));
    expect(new Set(tokens)).toEqual(new Set(['jwt-1']));
    expect(api.calls).toHaveLength(1);
    expect(api.calls[0]).toMatchObject({
      namespace: 'team',
      name: 'app',
      body: { kind: 'TokenRequest', spec: { audiences: ['vault'], expirationSeconds: 1000 } },
    });

    clock += 799_000;
    expect(await source.token()).toBe('jwt-1');
    clock += 2_000;
    expect(await source.token()).toBe('jwt-2');
    expect(api.calls).toHaveLength(2);
  });

  test('uses the lifetime the API server granted, not the one asked', async () => {
    let clock = 0;
    const now = (): number => clock;
    const api = fakeApi(100, now);
    const source = new TokenRequestSource({ api, namespace: 'n', serviceAccount: 's', expirationSeconds: 3600, now });
    await source.token();
    clock += 81_000;
    await source.token();
    expect(api.calls).toHaveLength(2);
  });

  test('API errors become ServiceAccountTokenError with a hint', async () => {
    const failing = (code: number): TokenRequestApi => ({
      createNamespacedServiceAccountToken: async () => {
        throw Object.assign(new Error(`HTTP-Code: ${code}`), {
          code,
          body: JSON.stringify({
            kind: 'Status',
            message: `serviceaccounts "app" is ${code === 404 ? 'not found' : 'forbidden'}`,
          }),
        });
      },
    });
    const notFound = new TokenRequestSource({ api: failing(404), namespace: 'n', serviceAccount: 'app' });
    await expect(notFound.token()).rejects.toMatchObject({ code: 'KUBE_SERVICE_ACCOUNT_TOKEN', status: 404 });
    await expect(notFound.token()).rejects.toThrow(
      'TokenRequest for service account n/app failed (404): serviceaccounts "app" is not found; the service account n/app does not exist',
    );
    const forbidden = new TokenRequestSource({ api: failing(403), namespace: 'n', serviceAccount: 'app' });
    await expect(forbidden.token()).rejects.toThrow(/needs "create" on serviceaccounts\/token/);
  });
});

test("a KubeApiError (KubeHttp's) carries its status and the API server's message into the error", async () => {
  const api: TokenRequestApi = {
    createNamespacedServiceAccountToken: async () => {
      throw new KubeApiError('POST', '/api/v1/namespaces/n/serviceaccounts/app/token', 404, {
        reason: 'NotFound',
        message: 'serviceaccounts "app" not found',
      });
    },
  };
  const source = new TokenRequestSource({ api, namespace: 'n', serviceAccount: 'app' });
  await expect(source.token()).rejects.toMatchObject({ code: 'KUBE_SERVICE_ACCOUNT_TOKEN', status: 404 });
  await expect(source.token()).rejects.toThrow(
    /serviceaccounts "app" not found; the service account n\/app does not exist/,
  );
});
