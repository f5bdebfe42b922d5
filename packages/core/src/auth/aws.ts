// Vault's AWS auth method, with the login request Vault Agent's `aws` auto-auth method sends:
// - iam: an STS GetCallerIdentity request signed with AWS Signature V4 (aws4), handed to Vault as
//   iam_http_request_method / iam_request_url / iam_request_body / iam_request_headers (base64; the
//   headers as the JSON of Go's http.Header, canonical names to lists), optionally with the signed
//   X-Vault-AWS-IAM-Server-ID header (`header_value`). Vault replays it to STS and trusts STS's answer.
// - ec2: the instance identity document and its signature from the instance metadata service, and a
//   nonce kept for re-authentication.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import aws4 from 'aws4';
import type { VaultClient } from '../vault/client.ts';
import { CloudCredentialError, cloudCall, cloudJson, secretValue } from './cloud-http.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials expire; they are fetched again 5 minutes before. */
  expiration?: Date;
  /** Where they came from, for messages (never a key). */
  source: string;
}

export const AWS_DEFAULT_REGION = 'us-east-1';
const IAM_SERVER_ID_HEADER = 'X-Vault-AWS-IAM-Server-ID';
const GET_CALLER_IDENTITY = 'Action=GetCallerIdentity&Version=2011-06-15';
// aws-sdk-go v1's "legacy" STS endpoints (its default, and Vault Agent's): these regions are served by
// the global sts.amazonaws.com, signed for the region; every other region by its own endpoint.
const LEGACY_GLOBAL_STS_REGIONS = new Set([
  'ap-northeast-1',
  'ap-south-1',
  'ap-southeast-1',
  'ap-southeast-2',
  'aws-global',
  'ca-central-1',
  'eu-central-1',
  'eu-north-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
]);

/** The STS host a GetCallerIdentity request for `region` goes to, as aws-sdk-go v1 resolves it. */
export function stsHost(region: string, regionalEndpoints = false): string {
  if (!regionalEndpoints && LEGACY_GLOBAL_STS_REGIONS.has(region)) return 'sts.amazonaws.com';
  return region.startsWith('cn-') ? `sts.${region}.amazonaws.com.cn` : `sts.${region}.amazonaws.com`;
}

/** Go's http.CanonicalHeaderKey: `x-amz-date` → `X-Amz-Date`. */
function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase());
}

export interface AwsIamLoginDataOptions {
  region?: string;
  /** Vault's iam_server_id_header_value, sent as the signed X-Vault-AWS-IAM-Server-ID header. */
  headerValue?: string;
  /** Use sts.<region>.amazonaws.com for every region (AWS_STS_REGIONAL_ENDPOINTS=regional). */
  regionalEndpoints?: boolean;
  /** Signing time (tests); default now. */
  now?: Date;
}

/** The iam_* login parameters Vault's AWS auth method reads (without `role`). */
export function awsIamLoginData(
  credentials: AwsCredentials,
  options: AwsIamLoginDataOptions = {},
): Record<string, string> {
  const region = options.region ?? AWS_DEFAULT_REGION;
  const host = stsHost(region, options.regionalEndpoints === true);
  const headers: Record<string, string> = {};
  if (options.now !== undefined) headers['X-Amz-Date'] = options.now.toISOString().replace(/[:-]|\.\d{3}/g, '');
  if (options.headerValue !== undefined && options.headerValue !== '')
    headers[IAM_SERVER_ID_HEADER] = options.headerValue;
  const signed = aws4.sign(
    { host, path: '/', method: 'POST', service: 'sts', region, body: GET_CALLER_IDENTITY, headers },
    {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken }),
    },
  );
  // Go sends the request's Host outside its header map; Vault rebuilds it from the URL.
  const goHeader: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(signed.headers ?? {})) {
    if (name.toLowerCase() === 'host' || value === undefined) continue;
    goHeader[canonicalHeaderKey(name)] = [String(value)];
  }
  const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
  return {
    iam_http_request_method: 'POST',
    iam_request_url: b64(`https://${host}/`),
    iam_request_body: b64(GET_CALLER_IDENTITY),
    iam_request_headers: b64(JSON.stringify(goHeader)),
  };
}

// ---------------------------------------------------------------------------------------------
// Credentials, in the order of Vault Agent's chain (awsutil): the method's own keys, the
// environment, a web identity token (EKS IRSA), the shared credentials file (aws-sdk-go v1's
// SharedCredentialsProvider), container credentials (EKS Pod Identity, ECS), the EC2 instance role.

export interface AwsCredentialChainOptions {
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  region?: string;
  /** The shared credentials file's profile when AWS_PROFILE is unset (awsutil's Profile); default `default`. */
  profile?: string;
  env?: NodeJS.ProcessEnv;
  /** Reads a file named by the environment (token files, the shared credentials file); the agent confines paths. */
  readFile?: (file: string) => Promise<string>;
}

/** Where the SDK looks for the shared credentials file: AWS_SHARED_CREDENTIALS_FILE, else $HOME/.aws/credentials. */
export function sharedCredentialsFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_SHARED_CREDENTIALS_FILE) return env.AWS_SHARED_CREDENTIALS_FILE;
  return env.HOME ? `${env.HOME.replace(/\/+$/, '')}/.aws/credentials` : undefined;
}

/** The profile the shared credentials file is read for: AWS_PROFILE wins over the config, as in awsutil. */
export function sharedCredentialsProfile(env: NodeJS.ProcessEnv, configured?: string): string {
  return env.AWS_PROFILE || configured?.trim() || 'default';
}

/**
 * The INI file's sections as name → key → value: `[name]` headers, `key = value` lines (both trimmed),
 * `#` and `;` comment lines. A line that is none of these is refused by number only: a line of this
 * file may hold a key, so its text is never quoted.
 */
function parseIni(text: string, file: string): Map<string, Map<string, string>> {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[\s*([^\]]*?)\s*\]$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      current = sections.get(name) ?? new Map<string, string>();
      sections.set(name, current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || current === undefined)
      throw new CloudCredentialError(
        `the shared credentials file ${file}, line ${index + 1}: expected [profile] or key = value${current === undefined ? ' inside a [profile] section' : ''}`,
      );
    current.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  });
  return sections;
}

/**
 * A profile's keys from the shared credentials file, as aws-sdk-go v1's SharedCredentialsProvider
 * reads them (aws_access_key_id, aws_secret_access_key, optional aws_session_token). A profile that
 * only names a `credential_process` is refused: this agent runs no credential program.
 */
export function parseSharedCredentials(text: string, file: string, profile: string): AwsCredentials {
  const sections = parseIni(text, file);
  const section = sections.get(profile);
  if (section === undefined) {
    const names = [...sections.keys()].map((name) => `[${name}]`).join(', ') || 'none';
    throw new CloudCredentialError(
      `the shared credentials file ${file} has no profile [${profile}] (profiles: ${names}); set AWS_PROFILE or auth-config-profile to one of them`,
    );
  }
  const accessKeyId = section.get('aws_access_key_id') ?? '';
  const secretAccessKey = section.get('aws_secret_access_key') ?? '';
  if (accessKeyId === '' && section.has('credential_process'))
    throw new CloudCredentialError(
      `profile [${profile}] in ${file} uses credential_process, which this agent does not run: put aws_access_key_id and aws_secret_access_key in the profile, or use the pod's IRSA or Pod Identity credentials`,
    );
  if (accessKeyId === '' || secretAccessKey === '')
    throw new CloudCredentialError(
      `profile [${profile}] in ${file} has no ${accessKeyId === '' ? 'aws_access_key_id' : 'aws_secret_access_key'}: give both aws_access_key_id and aws_secret_access_key`,
    );
  const sessionToken = section.get('aws_session_token') ?? '';
  return {
    accessKeyId,
    secretAccessKey: secretValue(secretAccessKey),
    ...(sessionToken === '' ? {} : { sessionToken: secretValue(sessionToken) }),
    source: `the shared credentials file ${file} (profile ${profile})`,
  };
}

/** The shared credentials file's profile, or undefined when the file does not exist (the chain goes on). */
async function sharedFileCredentials(
  env: NodeJS.ProcessEnv,
  profile: string | undefined,
  readFile: (file: string) => Promise<string>,
): Promise<{ credentials?: AwsCredentials; absent?: string }> {
  const file = sharedCredentialsFile(env);
  if (file === undefined)
    return { absent: 'no shared credentials file: neither AWS_SHARED_CREDENTIALS_FILE nor HOME is set' };
  let text: string;
  try {
    text = await readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      return { absent: `the shared credentials file ${file} does not exist` };
    throw new CloudCredentialError(`cannot read the shared credentials file ${file} (${code ?? 'error'})`, {
      cause: error,
    });
  }
  return { credentials: parseSharedCredentials(text, file, sharedCredentialsProfile(env, profile)) };
}

interface TemporaryCredentialsJson {
  AccessKeyId?: string;
  SecretAccessKey?: string;
  Token?: string;
  Expiration?: string;
}

function fromJson(json: TemporaryCredentialsJson, source: string): AwsCredentials {
  if (!json.AccessKeyId || !json.SecretAccessKey)
    throw new CloudCredentialError(`${source} returned no AccessKeyId/SecretAccessKey`);
  return {
    accessKeyId: json.AccessKeyId,
    secretAccessKey: secretValue(json.SecretAccessKey),
    ...(json.Token ? { sessionToken: secretValue(json.Token) } : {}),
    ...(json.Expiration ? { expiration: new Date(json.Expiration) } : {}),
    source,
  };
}

function xmlTag(xml: string, tag: string): string | undefined {
  return new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml)?.[1];
}

export function imdsEndpoint(env: NodeJS.ProcessEnv): string {
  return (env.AWS_EC2_METADATA_SERVICE_ENDPOINT ?? 'http://169.254.169.254').replace(/\/+$/, '');
}

/** IMDSv2 session token; undefined when the service only speaks v1 (as the SDK falls back). */
async function imdsToken(endpoint: string): Promise<string | undefined> {
  try {
    const { text } = await cloudCall(`${endpoint}/latest/api/token`, {
      method: 'PUT',
      headers: { 'X-aws-ec2-metadata-token-ttl-seconds': '21600' },
      what: 'an IMDSv2 session token',
      timeoutMs: 2_000,
    });
    return secretValue(text.trim());
  } catch (error) {
    if (error instanceof CloudCredentialError && (error.status === 403 || error.status === undefined)) throw error;
    return undefined;
  }
}

/** A GET on the EC2 instance metadata service (IMDSv2 when it answers a session token). */
export async function imdsGet(env: NodeJS.ProcessEnv, resource: string, what: string): Promise<string> {
  const endpoint = imdsEndpoint(env);
  const token = await imdsToken(endpoint);
  const { text } = await cloudCall(`${endpoint}${resource}`, {
    what,
    ...(token === undefined ? {} : { headers: { 'X-aws-ec2-metadata-token': token } }),
  });
  return text;
}

async function webIdentityCredentials(
  env: NodeJS.ProcessEnv,
  region: string,
  readFile: (file: string) => Promise<string>,
): Promise<AwsCredentials> {
  const tokenFile = env.AWS_WEB_IDENTITY_TOKEN_FILE ?? '';
  const roleArn = env.AWS_ROLE_ARN ?? '';
  if (!roleArn)
    throw new CloudCredentialError(
      'AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: set both (EKS sets them for a service account annotated with eks.amazonaws.com/role-arn)',
    );
  const token = (await readFile(tokenFile)).trim();
  const endpoint = (
    env.AWS_ENDPOINT_URL_STS ?? `https://${stsHost(region, env.AWS_STS_REGIONAL_ENDPOINTS === 'regional')}`
  ).replace(/\/+$/, '');
  const form = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: env.AWS_ROLE_SESSION_NAME ?? `vaultbridge-agent-${Date.now()}`,
    WebIdentityToken: token,
  });
  const { text } = await cloudCall(`${endpoint}/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
    body: form.toString(),
    what: `credentials for ${roleArn} (AssumeRoleWithWebIdentity)`,
  });
  return fromJson(
    {
      AccessKeyId: xmlTag(text, 'AccessKeyId'),
      SecretAccessKey: xmlTag(text, 'SecretAccessKey'),
      Token: xmlTag(text, 'SessionToken'),
      Expiration: xmlTag(text, 'Expiration'),
    },
    `AssumeRoleWithWebIdentity for ${roleArn}`,
  );
}

async function containerCredentials(
  env: NodeJS.ProcessEnv,
  readFile: (file: string) => Promise<string>,
): Promise<AwsCredentials> {
  const url =
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? `http://169.254.170.2${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI ?? ''}`;
  let authorization = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)
    authorization = (await readFile(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)).trim();
  return fromJson(
    await cloudJson<TemporaryCredentialsJson>(url, {
      what: 'container credentials',
      ...(authorization ? { headers: { Authorization: authorization } } : {}),
    }),
    'the container credentials endpoint',
  );
}

async function instanceRoleCredentials(env: NodeJS.ProcessEnv): Promise<AwsCredentials> {
  const base = '/latest/meta-data/iam/security-credentials/';
  const role = (await imdsGet(env, base, 'the EC2 instance role name')).split('\n')[0]?.trim() ?? '';
  if (!role) throw new CloudCredentialError('the EC2 instance has no IAM role (instance profile)');
  const text = await imdsGet(env, `${base}${encodeURIComponent(role)}`, `credentials of the instance role ${role}`);
  let json: TemporaryCredentialsJson;
  try {
    json = JSON.parse(text) as TemporaryCredentialsJson;
  } catch (error) {
    throw new CloudCredentialError(`credentials of the instance role ${role} are not JSON`, { cause: error });
  }
  return fromJson(json, `the EC2 instance role ${role}`);
}

/** Vault Agent's credential chain, re-resolved when temporary credentials are about to expire. */
export function awsCredentialChain(options: AwsCredentialChainOptions = {}): () => Promise<AwsCredentials> {
  const env = options.env ?? process.env;
  const region = options.region ?? AWS_DEFAULT_REGION;
  const readFile = options.readFile ?? (async (file: string) => fs.readFile(file, 'utf8'));
  let cached: AwsCredentials | undefined;
  const resolve = async (): Promise<AwsCredentials> => {
    if (options.accessKey) {
      if (!options.secretKey)
        throw new CloudCredentialError('auth-config-access-key is set without auth-config-secret-key: give both');
      return {
        accessKeyId: options.accessKey,
        secretAccessKey: secretValue(options.secretKey),
        ...(options.sessionToken ? { sessionToken: secretValue(options.sessionToken) } : {}),
        source: 'the method config (access_key)',
      };
    }
    if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
      return {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: secretValue(env.AWS_SECRET_ACCESS_KEY),
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: secretValue(env.AWS_SESSION_TOKEN) } : {}),
        source: 'the environment (AWS_ACCESS_KEY_ID)',
      };
    }
    if (env.AWS_WEB_IDENTITY_TOKEN_FILE) return webIdentityCredentials(env, region, readFile);
    const shared = await sharedFileCredentials(env, options.profile, readFile);
    if (shared.credentials !== undefined) return shared.credentials;
    try {
      if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
        return await containerCredentials(env, readFile);
      return await instanceRoleCredentials(env);
    } catch (error) {
      // The last link failed: say what the chain passed over, so a missing file is not a mystery.
      if (error instanceof CloudCredentialError && env.AWS_SHARED_CREDENTIALS_FILE && shared.absent)
        throw new CloudCredentialError(`${error.message}; before that, ${shared.absent}`, { cause: error });
      throw error;
    }
  };
  return async () => {
    if (cached && (cached.expiration === undefined || cached.expiration.getTime() - Date.now() > 5 * 60_000))
      return cached;
    cached = await resolve();
    return cached;
  };
}

// ---------------------------------------------------------------------------------------------

export interface AwsAuthOptions {
  type: 'iam' | 'ec2';
  role: string;
  /** Mount path of the auth method. Default `aws`. */
  mount?: string;
  region?: string;
  headerValue?: string;
  /** iam: the shared credentials file's profile when AWS_PROFILE is unset (default `default`). */
  profile?: string;
  /** ec2: the re-authentication nonce; default a UUID made once and kept (as Vault Agent does). */
  nonce?: string;
  /** iam: where credentials come from; default `awsCredentialChain()`. */
  credentials?: () => Promise<AwsCredentials>;
  env?: NodeJS.ProcessEnv;
}

/** Vault's AWS auth: `POST auth/<mount>/login` with Vault Agent's iam or ec2 login data and `role`. */
export class AwsAuth implements VaultAuthMethod {
  readonly mount: string;
  readonly identity: string;
  private readonly options: AwsAuthOptions;
  private readonly credentials: () => Promise<AwsCredentials>;
  private nonce: string | undefined;

  constructor(options: AwsAuthOptions) {
    this.options = options;
    this.mount = authMountPath(options.mount ?? 'aws');
    this.identity = `aws:${this.mount}:${options.type}:${options.role}`;
    this.credentials =
      options.credentials ??
      awsCredentialChain({
        ...(options.region === undefined ? {} : { region: options.region }),
        ...(options.profile === undefined ? {} : { profile: options.profile }),
        ...(options.env === undefined ? {} : { env: options.env }),
      });
    this.nonce = options.nonce;
  }

  /** The body of the login request (tests compare it with Vault Agent's). */
  async loginData(): Promise<Record<string, string>> {
    const env = this.options.env ?? process.env;
    if (this.options.type === 'ec2') {
      const document = await imdsGet(
        env,
        '/latest/dynamic/instance-identity/document',
        'the EC2 instance identity document',
      );
      const signature = await imdsGet(
        env,
        '/latest/dynamic/instance-identity/signature',
        'the EC2 instance identity signature',
      );
      this.nonce ??= randomUUID();
      return {
        identity: Buffer.from(document, 'utf8').toString('base64'),
        signature,
        nonce: secretValue(this.nonce),
        role: this.options.role,
      };
    }
    const credentials = await this.credentials();
    return {
      ...awsIamLoginData(credentials, {
        ...(this.options.region === undefined ? {} : { region: this.options.region }),
        ...(this.options.headerValue === undefined ? {} : { headerValue: this.options.headerValue }),
        regionalEndpoints: env.AWS_STS_REGIONAL_ENDPOINTS === 'regional',
      }),
      role: this.options.role,
    };
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const body = await this.loginData();
    return loginAt(
      client,
      this.mount,
      body,
      (detail) =>
        `AWS ${this.options.type} login to Vault as role "${this.options.role}" at auth/${this.mount} failed (${detail}); check the role's bound principal, the credentials' identity and the mount's iam_server_id_header_value (auth-config-header-value)`,
    );
  }
}
