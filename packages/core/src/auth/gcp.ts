// Vault's GCP auth method, with the login request Vault Agent's `gcp` auto-auth method sends:
// `POST auth/<mount>/login {role, jwt}`, where the JWT is Google-signed:
// - gce: the instance identity token from the metadata server (audience `<vault address>/vault/<role>`,
//   format full);
// - iam: a JWT `{aud: "http://vault/<role>", exp, sub: <service account>}` signed by the IAM Credentials
//   API's signJwt, called with an OAuth token of the `credentials` service-account key (or of the
//   metadata server's default account).
import { createSign } from 'node:crypto';
import fs from 'node:fs/promises';
import type { VaultClient } from '../vault/client.ts';
import { CloudCredentialError, cloudCall, cloudJson, secretValue } from './cloud-http.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
export const GCP_IAM_CREDENTIALS_ENDPOINT = 'https://iamcredentials.googleapis.com';
const DEFAULT_TOKEN_URI = 'https://oauth2.googleapis.com/token';
const DEFAULT_JWT_EXP_MINUTES = 15;

/** The metadata server's base URL: `GCE_METADATA_HOST` as Google's client libraries read it. */
export function gceMetadataBase(env: NodeJS.ProcessEnv): string {
  return `http://${env.GCE_METADATA_HOST ?? 'metadata.google.internal'}/computeMetadata/v1`;
}

interface ServiceAccountKey {
  type?: string;
  client_email?: string;
  private_key?: string;
  token_uri?: string;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export interface GcpAuthOptions {
  type: 'iam' | 'gce';
  role: string;
  /** Mount path of the auth method. Default `gcp`. */
  mount?: string;
  /** The service account to authenticate as. Default `default` (Vault Agent's default too). */
  serviceAccount?: string;
  /** iam: a service-account key, as JSON text or the path of its file; default GOOGLE_APPLICATION_CREDENTIALS, else the metadata server. */
  credentials?: string;
  /** iam: lifetime of the signed JWT in minutes; default 15 (Vault's iam max_jwt_exp default). */
  jwtExpMinutes?: number;
  /** gce: the Vault address the audience names (Vault Agent uses its client's address). */
  vaultAddress: string;
  /** The IAM Credentials API's base URL. */
  iamCredentialsEndpoint?: string;
  env?: NodeJS.ProcessEnv;
  readFile?: (file: string) => Promise<string>;
  now?: () => number;
}

/** Vault's GCP auth: `POST auth/<mount>/login {role, jwt}` with a JWT Google signed. */
export class GcpAuth implements VaultAuthMethod {
  readonly mount: string;
  readonly identity: string;
  private readonly options: GcpAuthOptions;
  private readonly env: NodeJS.ProcessEnv;
  private readonly readFile: (file: string) => Promise<string>;

  constructor(options: GcpAuthOptions) {
    this.options = options;
    this.env = options.env ?? process.env;
    this.readFile = options.readFile ?? (async (file: string) => fs.readFile(file, 'utf8'));
    this.mount = authMountPath(options.mount ?? 'gcp');
    this.identity = `gcp:${this.mount}:${options.type}:${options.role}:${options.serviceAccount ?? 'default'}`;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async serviceAccountKey(): Promise<ServiceAccountKey | undefined> {
    const given = this.options.credentials?.trim() || this.env.GOOGLE_APPLICATION_CREDENTIALS?.trim();
    if (!given) return undefined;
    const text = given.startsWith('{') ? given : await this.readFile(given);
    let key: ServiceAccountKey;
    try {
      key = JSON.parse(text) as ServiceAccountKey;
    } catch (error) {
      throw new CloudCredentialError(
        'the GCP credentials are not JSON: give a service-account key file (auth-config-credentials)',
        { cause: error },
      );
    }
    if (key.type !== 'service_account' || !key.client_email || !key.private_key) {
      throw new CloudCredentialError(
        `the GCP credentials are of type "${key.type ?? ''}": a service_account key with client_email and private_key is needed`,
      );
    }
    secretValue(key.private_key);
    return key;
  }

  /** An OAuth access token for the IAM Credentials API: from the key (JWT bearer grant) or the metadata server. */
  private async accessToken(key: ServiceAccountKey | undefined): Promise<string> {
    if (key === undefined) {
      const answer = await cloudJson<{ access_token?: string }>(
        `${gceMetadataBase(this.env)}/instance/service-accounts/default/token`,
        {
          headers: { 'Metadata-Flavor': 'Google' },
          what: 'an access token of the default service account',
        },
      );
      if (!answer.access_token) throw new CloudCredentialError('the metadata server returned no access_token');
      return secretValue(answer.access_token);
    }
    const tokenUri = key.token_uri ?? DEFAULT_TOKEN_URI;
    const iat = Math.floor(this.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
    const claims = base64url(
      JSON.stringify({ iss: key.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: tokenUri, iat, exp: iat + 3600 }),
    );
    const signature = createSign('RSA-SHA256')
      .update(`${header}.${claims}`)
      .sign(key.private_key ?? '')
      .toString('base64url');
    const answer = await cloudJson<{ access_token?: string }>(tokenUri, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
        assertion: `${header}.${claims}.${signature}`,
      }).toString(),
      what: `an access token for ${key.client_email ?? ''}`,
    });
    if (!answer.access_token) throw new CloudCredentialError(`${tokenUri} returned no access_token`);
    return secretValue(answer.access_token);
  }

  private async iamJwt(): Promise<string> {
    const key = await this.serviceAccountKey();
    const serviceAccount =
      this.options.serviceAccount === '' ? (key?.client_email ?? '') : (this.options.serviceAccount ?? 'default');
    if (serviceAccount === '')
      throw new CloudCredentialError('no service account to authenticate as: set auth-config-service-account');
    const accessToken = await this.accessToken(key);
    const exp = Math.floor(this.now() / 1000) + 60 * (this.options.jwtExpMinutes ?? DEFAULT_JWT_EXP_MINUTES);
    // Go's json.Marshal of Vault Agent's map: keys sorted.
    const payload = JSON.stringify({ aud: `http://vault/${this.options.role}`, exp, sub: serviceAccount });
    const resource = `projects/-/serviceAccounts/${serviceAccount}`;
    const answer = await cloudJson<{ signedJwt?: string }>(
      `${(this.options.iamCredentialsEndpoint ?? GCP_IAM_CREDENTIALS_ENDPOINT).replace(/\/+$/, '')}/v1/${resource}:signJwt`,
      {
        method: 'POST',
        headers: { Authorization: `Bearer ${accessToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ payload }),
        what: `a JWT signed for ${resource} (signJwt)`,
        quoteErrors: true,
      },
    );
    if (!answer.signedJwt) throw new CloudCredentialError(`signJwt for ${resource} returned no signedJwt`);
    return answer.signedJwt;
  }

  private async gceJwt(): Promise<string> {
    const serviceAccount = this.options.serviceAccount || 'default';
    const query = new URLSearchParams({
      audience: `${this.options.vaultAddress.replace(/\/+$/, '')}/vault/${this.options.role}`,
      format: 'full',
    });
    const url = `${gceMetadataBase(this.env)}/instance/service-accounts/${encodeURIComponent(serviceAccount)}/identity?${query.toString()}`;
    const { text } = await cloudCall(url, {
      headers: { 'Metadata-Flavor': 'Google' },
      what: `the instance identity token of ${serviceAccount}`,
    });
    return text.trim();
  }

  /** The body of the login request. */
  async loginData(): Promise<Record<string, string>> {
    const jwt = this.options.type === 'gce' ? await this.gceJwt() : await this.iamJwt();
    return { role: this.options.role, jwt: secretValue(jwt) };
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    return loginAt(
      client,
      this.mount,
      await this.loginData(),
      (detail) =>
        `GCP ${this.options.type} login to Vault as role "${this.options.role}" at auth/${this.mount} failed (${detail}); check the role's bound service accounts (iam) or bound zones/projects (gce), and that Vault can reach Google to check the token`,
    );
  }
}
