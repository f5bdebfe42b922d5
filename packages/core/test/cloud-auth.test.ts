// The cloud auth methods (aws iam/ec2, gcp iam/gce, azure) against the real Vault 1.13 of the stack.
// No cloud is reachable here, so this proves the request level: Vault parses the login request we
// build exactly as Vault Agent builds it, and stops only at the step that needs the cloud (STS,
// Google's or Azure AD's keys), never at "malformed". The cloud endpoints the *agent* calls (instance
// metadata, STS AssumeRoleWithWebIdentity, Google's token and signJwt APIs) are local stand-ins that
// check what they receive; for the iam method, Vault's STS endpoint is also pointed at a stand-in that
// verifies the SigV4 signature with AWS's own signer (@smithy/signature-v4), so the login completes.
import { createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sharedStack, startStsStandIn, verifySigV4, type StsStandIn, type TestStack } from '@vaultbridge/testenv';
import {
  AwsAuth,
  AzureAuth,
  GcpAuth,
  VaultAuthError,
  awsCredentialChain,
  type AwsCredentials,
} from '../src/auth/index.ts';
import { VaultClient, VaultError } from '../src/vault/index.ts';

let stack: TestStack;
let admin: VaultClient;
let client: VaultClient;
const servers: http.Server[] = [];

beforeAll(() => {
  stack = sharedStack();
  admin = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken, maxRetries: 0 });
  client = new VaultClient({ address: stack.vaultAddr, maxRetries: 0 });
});

const closers: (() => Promise<void>)[] = [];

afterAll(async () => {
  await Promise.all(closers.map(async (close) => close()));
  await Promise.all(
    servers.map(
      async (server) =>
        new Promise((resolve) => {
          server.closeAllConnections();
          server.close(resolve);
        }),
    ),
  );
});

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A local HTTP server standing in for a cloud endpoint; records every request it gets. */
type Reply = { status?: number; type?: string; body: string };
async function standIn(answer: (request: Seen) => Reply | Promise<Reply>): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      void Promise.resolve(answer(request)).then((reply) => {
        res.writeHead(reply.status ?? 200, { 'Content-Type': reply.type ?? 'application/json' });
        res.end(reply.body);
      });
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

async function loginError(login: Promise<unknown>): Promise<VaultError> {
  const error = await login.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof VaultError)) throw new Error(`expected a Vault error, got ${String(error)}`);
  return error;
}

function b64(text: string): string {
  return Buffer.from(text, 'base64').toString('utf8');
}

const TEST_KEYS = {
  accessKeyId: 'AKIAVAULTBRIDGETEST1',
  secretAccessKey: `test/${randomBytes(18).toString('base64')}`,
  sessionToken: `IQoJ${randomBytes(24).toString('base64')}`,
};
const CALLER_ARN = 'arn:aws:sts::123456789012:assumed-role/app/vaultbridge-agent';

describe('aws iam', () => {
  let mount: string;
  let sts: StsStandIn;

  beforeAll(async () => {
    // STS as Vault calls it: GetCallerIdentity answered when the signature verifies with AWS's signer
    // and the test's keys, AWS's SignatureDoesNotMatch error otherwise.
    sts = await startStsStandIn({ keys: TEST_KEYS, callerArn: CALLER_ARN });
    closers.push(() => sts.close());
    mount = stack.uniqueName('aws');
    await admin.write(`sys/auth/${mount}`, { type: 'aws' });
    await admin.write(`auth/${mount}/config/client`, { iam_server_id_header_value: 'vault.example.test' });
    await admin.write(`auth/${mount}/role/app`, {
      auth_type: 'iam',
      bound_iam_principal_arn: 'arn:aws:iam::123456789012:role/app',
      resolve_aws_unique_ids: false,
    });
  });

  it('Vault checks the signed server-ID header, then goes to STS (no network here): the request parses', async () => {
    const auth = new AwsAuth({
      type: 'iam',
      role: 'app',
      mount: `auth/${mount}`,
      headerValue: 'vault.example.test',
      credentials: async () => ({ ...TEST_KEYS, source: 'test' }),
    });
    const error = await loginError(auth.login(client));
    expect(error).toBeInstanceOf(VaultAuthError);
    // Here STS is unreachable (no network); with one, AWS would refuse the test keys: either way, at STS.
    expect(error.errors.join(' ')).toMatch(/error making upstream request/);
    for (const secret of [TEST_KEYS.secretAccessKey, TEST_KEYS.sessionToken])
      expect(error.message).not.toContain(secret);

    // The same credentials with another server ID are refused before STS: the header is checked.
    const wrong = new AwsAuth({
      type: 'iam',
      role: 'app',
      mount,
      headerValue: 'other.example.test',
      credentials: async () => ({ ...TEST_KEYS, source: 'test' }),
    });
    expect((await loginError(wrong.login(client))).errors.join(' ')).toMatch(
      /X-Vault-AWS-IAM-Server-ID.*other\.example\.test|expected "vault\.example\.test"/,
    );
  });

  it('credentials from a web identity token (EKS IRSA): AssumeRoleWithWebIdentity, then a login Vault forwards to STS with a valid signature', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'irsa-'));
    const tokenFile = path.join(dir, 'token');
    fs.writeFileSync(tokenFile, 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVtbzphcHAifQ.c2ln\n');
    const assume = await standIn((request) => {
      const form = new URLSearchParams(request.body);
      const expected =
        form.get('Action') === 'AssumeRoleWithWebIdentity' &&
        form.get('RoleArn') === 'arn:aws:iam::123456789012:role/app' &&
        form.get('WebIdentityToken')?.startsWith('eyJhbGciOiJSUzI1NiJ9.') === true &&
        !('authorization' in request.headers);
      return expected
        ? {
            type: 'text/xml',
            body: `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${TEST_KEYS.accessKeyId}</AccessKeyId><SecretAccessKey>${TEST_KEYS.secretAccessKey}</SecretAccessKey><SessionToken>${TEST_KEYS.sessionToken}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
          }
        : {
            status: 400,
            type: 'text/xml',
            body: '<ErrorResponse><Error><Code>InvalidParameterValue</Code></Error></ErrorResponse>',
          };
    });
    const credentials = awsCredentialChain({
      env: {
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/app',
        AWS_ENDPOINT_URL_STS: assume.url,
      },
    });
    const resolved: AwsCredentials = await credentials();
    expect(resolved).toMatchObject({ accessKeyId: TEST_KEYS.accessKeyId, sessionToken: TEST_KEYS.sessionToken });
    expect(assume.seen).toHaveLength(1);

    // Vault replays the signed request to its STS endpoint: here the stand-in, which checks the
    // signature with AWS's signer before answering as STS would.
    const stsMount = stack.uniqueName('aws-sts');
    await admin.write(`sys/auth/${stsMount}`, { type: 'aws' });
    await admin.write(`auth/${stsMount}/config/client`, {
      iam_server_id_header_value: 'vault.example.test',
      sts_endpoint: sts.url,
    });
    await admin.write(`auth/${stsMount}/role/app`, {
      auth_type: 'iam',
      bound_iam_principal_arn: 'arn:aws:iam::123456789012:role/app',
      resolve_aws_unique_ids: false,
      token_ttl: '5m',
    });
    const auth = new AwsAuth({
      type: 'iam',
      role: 'app',
      mount: stsMount,
      headerValue: 'vault.example.test',
      credentials,
    });
    const body = await auth.loginData();
    const headers = JSON.parse(b64(body.iam_request_headers ?? '')) as Record<string, string[]>;
    expect(b64(body.iam_request_url ?? '')).toBe('https://sts.amazonaws.com/');
    expect(b64(body.iam_request_body ?? '')).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(headers['X-Vault-Aws-Iam-Server-Id']).toEqual(['vault.example.test']);
    expect(headers['X-Amz-Security-Token']).toEqual([TEST_KEYS.sessionToken]);
    expect(headers.Authorization?.[0]).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIAVAULTBRIDGETEST1\/\d{8}\/us-east-1\/sts\/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date;x-amz-security-token;x-vault-aws-iam-server-id, Signature=[0-9a-f]{64}$/,
    );

    const before = sts.seen.length;
    const result = await auth.login(client);
    expect(sts.seen.length).toBeGreaterThan(before);
    const forwarded = sts.seen.at(-1) as Seen;
    expect(forwarded.headers.host).toBe('sts.amazonaws.com');
    expect(forwarded.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(await verifySigV4(forwarded, TEST_KEYS)).toBe(true);
    // A changed secret key gives another signature: the check is real.
    expect(await verifySigV4(forwarded, { ...TEST_KEYS, secretAccessKey: `${TEST_KEYS.secretAccessKey}x` })).toBe(
      false,
    );
    expect(result.clientToken).toMatch(/^hvs\./);
    expect(result.metadata).toMatchObject({ account_id: '123456789012', auth_type: 'iam' });
    await admin.withToken(result.clientToken).write('auth/token/revoke-self', {});
  });
});

describe('aws iam from the shared credentials file', () => {
  it('AWS_SHARED_CREDENTIALS_FILE + AWS_PROFILE: the profile signs the login Vault forwards to STS', async () => {
    const sts = await startStsStandIn({ keys: TEST_KEYS, callerArn: CALLER_ARN });
    closers.push(() => sts.close());
    const mount = stack.uniqueName('aws-shared');
    await admin.write(`sys/auth/${mount}`, { type: 'aws' });
    await admin.write(`auth/${mount}/config/client`, {
      iam_server_id_header_value: 'vault.example.test',
      sts_endpoint: sts.url,
    });
    await admin.write(`auth/${mount}/role/app`, {
      auth_type: 'iam',
      bound_iam_principal_arn: 'arn:aws:iam::123456789012:role/app',
      resolve_aws_unique_ids: false,
      token_ttl: '5m',
    });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'aws-shared-')), 'credentials');
    fs.writeFileSync(
      file,
      `[default]\naws_access_key_id = AKIAOTHERPROFILE0000\naws_secret_access_key = not-this-one\n\n[app]\naws_access_key_id = ${TEST_KEYS.accessKeyId}\naws_secret_access_key = ${TEST_KEYS.secretAccessKey}\naws_session_token = ${TEST_KEYS.sessionToken}\n`,
    );
    const auth = new AwsAuth({
      type: 'iam',
      role: 'app',
      mount,
      headerValue: 'vault.example.test',
      // No metadata service is reachable: only the file can give these credentials.
      env: {
        AWS_SHARED_CREDENTIALS_FILE: file,
        AWS_PROFILE: 'app',
        AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9',
      },
    });
    const result = await auth.login(client);
    const forwarded = sts.seen.at(-1) as Seen;
    expect(forwarded.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    expect(forwarded.headers['x-amz-security-token']).toBe(TEST_KEYS.sessionToken);
    expect(await verifySigV4(forwarded, TEST_KEYS)).toBe(true);
    expect(result.clientToken).toMatch(/^hvs\./);
    await admin.withToken(result.clientToken).write('auth/token/revoke-self', {});

    // The [default] profile's keys are not the STS stand-in's: Vault's replay is refused at STS.
    const wrongProfile = new AwsAuth({
      type: 'iam',
      role: 'app',
      mount,
      headerValue: 'vault.example.test',
      env: { AWS_SHARED_CREDENTIALS_FILE: file, AWS_EC2_METADATA_SERVICE_ENDPOINT: 'http://127.0.0.1:9' },
    });
    const refused = await loginError(wrongProfile.login(client));
    expect(refused).toBeInstanceOf(VaultAuthError);
    expect(refused.message).not.toContain('not-this-one');
  });
});

describe('aws ec2', () => {
  it('the identity document and signature from instance metadata (IMDSv2): Vault parses them and refuses the signature', async () => {
    const document = JSON.stringify({
      accountId: '123456789012',
      region: 'us-east-1',
      instanceId: 'i-0123456789abcdef0',
      imageId: 'ami-0123456789abcdef0',
      pendingTime: '2026-12-01T00:00:00Z',
    });
    const imds = await standIn((request) => {
      if (request.method === 'PUT' && request.url === '/latest/api/token')
        return { type: 'text/plain', body: 'imds-session-token-123' };
      if (request.headers['x-aws-ec2-metadata-token'] !== 'imds-session-token-123') return { status: 401, body: '' };
      if (request.url === '/latest/dynamic/instance-identity/document') return { type: 'text/plain', body: document };
      if (request.url === '/latest/dynamic/instance-identity/signature')
        return { type: 'text/plain', body: Buffer.from('not an AWS signature').toString('base64') };
      return { status: 404, body: '' };
    });
    const mount = stack.uniqueName('aws-ec2');
    await admin.write(`sys/auth/${mount}`, { type: 'aws' });
    await admin.write(`auth/${mount}/role/app`, { auth_type: 'ec2', bound_ami_id: 'ami-0123456789abcdef0' });
    const auth = new AwsAuth({ type: 'ec2', role: 'app', mount, env: { AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url } });
    const body = await auth.loginData();
    expect(b64(body.identity ?? '')).toBe(document);
    expect(body.nonce).toMatch(/^[0-9a-f-]{36}$/);
    expect((await auth.loginData()).nonce).toBe(body.nonce); // kept for re-authentication
    const error = await loginError(auth.login(client));
    // Vault decoded the document and checked its signature against AWS's public certificate.
    expect(error.errors).toEqual(['instance identity verification using SHA256 RSA signature is unsuccessful']);
  });
});

function rsaKey(): { pem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function signJwt(pem: string, claims: object, kid: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${header}.${payload}.${createSign('RSA-SHA256').update(`${header}.${payload}`).sign(pem).toString('base64url')}`;
}

function jwtClaims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

describe('gcp', () => {
  const serviceAccount = 'app@vaultbridge-test.iam.gserviceaccount.com';
  const google = rsaKey(); // stands in for Google's signing key (signJwt, metadata identity tokens)
  let mount: string;

  beforeAll(async () => {
    mount = stack.uniqueName('gcp');
    await admin.write(`sys/auth/${mount}`, { type: 'gcp' });
    const vaultKey = rsaKey();
    await admin.write(`auth/${mount}/config`, {
      credentials: JSON.stringify({
        type: 'service_account',
        project_id: 'vaultbridge-test',
        private_key_id: 'v1',
        private_key: vaultKey.pem,
        client_email: 'vault@vaultbridge-test.iam.gserviceaccount.com',
        client_id: '1',
      }),
    });
    await admin.write(`auth/${mount}/role/iam-app`, {
      type: 'iam',
      bound_service_accounts: serviceAccount,
      max_jwt_exp: '15m',
    });
    await admin.write(`auth/${mount}/role/gce-app`, { type: 'gce', bound_projects: 'vaultbridge-test' });
  });

  it('iam: key file → OAuth token (JWT bearer) → signJwt → login; Vault parses the JWT and goes to Google for its key', async () => {
    const key = rsaKey();
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    const oauth = await standIn((request) => {
      const form = new URLSearchParams(request.body);
      const assertion = form.get('assertion') ?? '';
      const [header, payload, signature] = assertion.split('.');
      const valid =
        form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' &&
        createVerify('RSA-SHA256')
          .update(`${header}.${payload}`)
          .verify(key.publicPem, Buffer.from(signature ?? '', 'base64url'));
      const claims = valid ? jwtClaims(assertion) : {};
      return valid && claims.iss === serviceAccount && claims.scope === 'https://www.googleapis.com/auth/cloud-platform'
        ? { body: JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }) }
        : { status: 400, body: '{"error":"invalid_grant"}' };
    });
    const iam = await standIn((request) => {
      if (
        request.headers.authorization !== `Bearer ${accessToken}` ||
        request.url !== `/v1/projects/-/serviceAccounts/${serviceAccount}:signJwt`
      )
        return { status: 403, body: '{}' };
      const payload = (JSON.parse(request.body) as { payload: string }).payload;
      return {
        body: JSON.stringify({ keyId: 'g1', signedJwt: signJwt(google.pem, JSON.parse(payload) as object, 'g1') }),
      };
    });
    const keyFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gcp-')), 'key.json');
    fs.writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        private_key_id: 'k1',
        private_key: key.pem,
        client_email: serviceAccount,
        token_uri: `${oauth.url}/token`,
      }),
    );
    const auth = new GcpAuth({
      type: 'iam',
      role: 'iam-app',
      mount,
      serviceAccount,
      credentials: keyFile,
      vaultAddress: stack.vaultAddr,
      iamCredentialsEndpoint: iam.url,
    });
    const body = await auth.loginData();
    const claims = jwtClaims(body.jwt ?? '');
    expect(Object.keys(claims)).toEqual(['aud', 'exp', 'sub']);
    expect(claims).toMatchObject({ aud: 'http://vault/iam-app', sub: serviceAccount });
    expect(Number(claims.exp) - Date.now() / 1000).toBeGreaterThan(14 * 60);
    expect(Number(claims.exp) - Date.now() / 1000).toBeLessThanOrEqual(15 * 60);
    const error = await loginError(auth.login(client));
    // Past the JWT's parsing and claims: Vault fetches the service account's public keys from Google.
    expect(error.errors.join(' ')).toContain(`unable to get public key "g1" for JWT subject "${serviceAccount}"`);
    expect(error.errors.join(' ')).toContain(`googleapis.com/service_accounts/v1/metadata/x509/${serviceAccount}`);
    expect(error.message).not.toContain(accessToken);
  });

  it("gce: the metadata server's identity token (audience <vault>/vault/<role>, format full); Vault looks up Google's key", async () => {
    const metadata = await standIn((request) => {
      const url = new URL(request.url, 'http://metadata');
      if (
        request.headers['metadata-flavor'] !== 'Google' ||
        url.pathname !== '/computeMetadata/v1/instance/service-accounts/default/identity'
      )
        return { status: 403, body: '' };
      const now = Math.floor(Date.now() / 1000);
      return {
        type: 'text/plain',
        body: signJwt(
          google.pem,
          {
            aud: url.searchParams.get('audience'),
            azp: '1',
            email: serviceAccount,
            exp: now + 3600,
            iat: now,
            iss: 'https://accounts.google.com',
            sub: '1',
            google: {
              compute_engine: {
                instance_creation_timestamp: now,
                instance_id: '1',
                instance_name: 'vm',
                project_id: 'vaultbridge-test',
                project_number: 1,
                zone: 'us-east1-b',
              },
            },
            format: url.searchParams.get('format'),
          },
          'g1',
        ),
      };
    });
    const auth = new GcpAuth({
      type: 'gce',
      role: 'gce-app',
      mount,
      vaultAddress: stack.vaultAddr,
      env: { GCE_METADATA_HOST: new URL(metadata.url).host },
    });
    const body = await auth.loginData();
    expect(jwtClaims(body.jwt ?? '')).toMatchObject({ aud: `${stack.vaultAddr}/vault/gce-app`, format: 'full' });
    const error = await loginError(auth.login(client));
    expect(error.errors.join(' ')).toContain(
      'unable to get public key "g1" for JWT subject "1": no Google OAuth2 provider key found for GCE role',
    );
  });
});

describe('azure', () => {
  it('IMDS compute metadata + managed-identity token → login fields; Vault 1.13 contacts Azure AD first', async () => {
    const imdsToken = `eyJ0eXAiOiJKV1QifQ.${Buffer.from(JSON.stringify({ aud: 'https://management.azure.com/' })).toString('base64url')}.c2ln`;
    const imds = await standIn((request) => {
      const url = new URL(request.url, 'http://imds');
      if (request.headers.metadata !== 'true' || url.searchParams.get('api-version') !== '2018-02-01')
        return { status: 400, body: '{"error":"bad_request"}' };
      if (url.pathname === '/metadata/instance') {
        return {
          body: JSON.stringify({
            compute: {
              name: 'vm-1',
              resourceGroupName: 'rg-1',
              subscriptionId: 'sub-1',
              vmScaleSetName: 'vmss-1',
              location: 'westeurope',
            },
          }),
        };
      }
      if (
        url.pathname === '/metadata/identity/oauth2/token' &&
        url.searchParams.get('resource') === 'https://management.azure.com/' &&
        url.searchParams.get('client_id') === 'mi-client-1'
      ) {
        return {
          body: JSON.stringify({
            access_token: imdsToken,
            token_type: 'Bearer',
            resource: 'https://management.azure.com/',
          }),
        };
      }
      return { status: 404, body: '{}' };
    });
    const mount = stack.uniqueName('azure');
    await admin.write(`sys/auth/${mount}`, { type: 'azure' });
    await admin.write(`auth/${mount}/config`, {
      tenant_id: '00000000-0000-0000-0000-000000000001',
      resource: 'https://management.azure.com/',
    });
    await admin.write(`auth/${mount}/role/app`, { bound_subscription_ids: 'sub-1', bound_resource_groups: 'rg-1' });
    const auth = new AzureAuth({
      role: 'app',
      resource: 'https://management.azure.com/',
      clientId: 'mi-client-1',
      mount,
      env: { AZURE_POD_IDENTITY_AUTHORITY_HOST: imds.url },
    });
    expect(await auth.loginData()).toEqual({
      role: 'app',
      jwt: imdsToken,
      subscription_id: 'sub-1',
      resource_group_name: 'rg-1',
      vm_name: 'vm-1',
      vmss_name: 'vmss-1',
    });
    const error = await loginError(auth.login(client));
    expect(error.errors.join(' ')).toContain(
      'login.microsoftonline.com/00000000-0000-0000-0000-000000000001/.well-known/openid-configuration',
    );
    expect(error.message).not.toContain(imdsToken);
    expect(() => new AzureAuth({ role: 'app', resource: 'r', clientId: 'a', objectId: 'b' })).toThrow(/at most one/);
  });
});
