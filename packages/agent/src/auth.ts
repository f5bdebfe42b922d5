// The agent's auto-auth methods, as Vault Agent's `auto_auth.method` of the same type reads its config
// (vault-k8s passes `auth-type` and `auth-config-*` through): kubernetes and jwt log in with `role` and
// a JWT file re-read on every login; approle with the role_id and secret_id files named in the config;
// aws, gcp and azure with core's methods, which send Vault Agent's own login requests.

import fs from 'node:fs/promises';
import {
  AppRoleAuth,
  AwsAuth,
  AzureAuth,
  CertAuth,
  FileTokenSource,
  GcpAuth,
  JwtAuth,
  KubernetesAuth,
  VaultClient,
  authMountPath,
  awsCredentialChain,
  type Logger,
  type VaultAuthMethod,
  type VaultClientOptions,
  type VaultLogin,
} from '@vaultbridge/core';
import type { AgentConfig } from './contract/index.ts';
import type { AgentPaths } from './paths.ts';

// Parameters each method reads. `remove_*` ask Vault Agent to delete the file after reading it; this
// agent never deletes (the files are read-only mounts of a Secret or a projected token), so they are
// accepted and have no effect. Anything else is reported once as not used.
const USED: Readonly<Record<AgentConfig['auth']['type'], readonly string[]>> = {
  kubernetes: ['role'],
  jwt: ['role', 'remove_jwt_after_reading', 'remove_jwt_follows_symlinks'],
  approle: ['role_id_file_path', 'secret_id_file_path', 'remove_secret_id_file_after_reading'],
  cert: ['name', 'client_cert', 'client_key', 'ca_cert'],
  // credential_poll_interval: Vault Agent polls for new credentials; this agent resolves them again at
  // every login (temporary ones 5 minutes before they expire), so the interval has nothing to set.
  aws: [
    'role',
    'type',
    'access_key',
    'secret_key',
    'session_token',
    'header_value',
    'nonce',
    'region',
    'credential_poll_interval',
    // ours: the shared credentials file's profile when AWS_PROFILE is unset (awsutil's Profile, which
    // Vault Agent does not expose)
    'profile',
  ],
  // project: read by Vault Agent and not used by it either.
  gcp: ['role', 'type', 'credentials', 'service_account', 'project', 'jwt_exp'],
  azure: ['role', 'resource', 'object_id', 'client_id'],
};

async function readTrimmed(file: string, what: string): Promise<string> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the ${what} file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: error,
    });
  }
  const value = text.trim();
  if (value === '') throw new Error(`the ${what} file ${file} is empty`);
  return value;
}

/** AppRole with both ids read from files on every login (a Secret mount may be updated). */
class AppRoleFromFiles implements VaultAuthMethod {
  readonly identity: string;
  private readonly mount: string;
  private readonly roleIdFile: string;
  private readonly secretIdFile: string | undefined;

  constructor(mount: string, roleIdFile: string, secretIdFile: string | undefined) {
    this.mount = mount;
    this.roleIdFile = roleIdFile;
    this.secretIdFile = secretIdFile;
    this.identity = `approle:${mount}:${roleIdFile}:${secretIdFile ?? ''}`;
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    const roleId = await readTrimmed(this.roleIdFile, 'role_id');
    const secretIdFile = this.secretIdFile;
    return new AppRoleAuth({
      roleId,
      mount: this.mount,
      // A role without bind_secret_id takes an empty secret_id.
      secretId: async () => (secretIdFile === undefined ? '' : readTrimmed(secretIdFile, 'secret_id')),
      secretIdSource: secretIdFile ?? '(no secret_id file)',
    }).login(client);
  }
}

/**
 * The login method of the configuration; file paths go through the agent root. `clientOptions` are the
 * session's Vault client options (the cert method may log in with a certificate of its own).
 */
export function authMethodFor(
  config: AgentConfig,
  paths: AgentPaths,
  logger: Logger,
  clientOptions: VaultClientOptions,
): VaultAuthMethod {
  const auth = config.auth;
  const unused = Object.keys(auth.config).filter((param) => !USED[auth.type].includes(param));
  if (unused.length > 0)
    logger.warn(
      { parameters: unused, method: auth.type },
      `auth-config-* parameters not used by the ${auth.type} method of this agent`,
    );
  const tokenSource = () => new FileTokenSource({ path: paths.hostPath(auth.serviceAccountTokenPath) });
  switch (auth.type) {
    case 'kubernetes':
      return new KubernetesAuth({ role: auth.role ?? '', mount: auth.mountPath, tokenSource: tokenSource() });
    case 'jwt':
      return new JwtAuth({ role: auth.role ?? '', mount: auth.mountPath, tokenSource: tokenSource() });
    case 'cert': {
      const own = auth.config.client_cert !== undefined && auth.config.client_key !== undefined;
      const caCert = auth.config.ca_cert;
      const loginClient =
        own || caCert !== undefined
          ? new VaultClient({
              ...clientOptions,
              tls: {
                ...clientOptions.tls,
                ...(own
                  ? {
                      clientCert: paths.hostPath(auth.config.client_cert ?? ''),
                      clientKey: paths.hostPath(auth.config.client_key ?? ''),
                    }
                  : {}),
                ...(caCert === undefined ? {} : { caFile: paths.hostPath(caCert) }),
              },
            })
          : undefined;
      return new CertAuth({
        ...(auth.config.name === undefined ? {} : { name: auth.config.name }),
        mount: auth.mountPath,
        ...(loginClient === undefined ? {} : { loginClient }),
        certificateSource: own
          ? `the certificate ${auth.config.client_cert}`
          : `the client certificate ${config.vault.clientCert ?? '(none: set vault.hashicorp.com/client-cert)'}`,
      });
    }
    case 'aws': {
      // Vault Agent's aws method; credentials as its chain finds them, the pod's own files (EKS IRSA's
      // web-identity token, Pod Identity's authorization token, the shared credentials file) read
      // through the agent root.
      const c = auth.config;
      const region = c.region?.trim() || undefined;
      const readPodFile = async (file: string): Promise<string> => fs.readFile(paths.hostPath(file), 'utf8');
      return new AwsAuth({
        type: c.type === 'ec2' ? 'ec2' : 'iam',
        role: auth.role ?? '',
        mount: auth.mountPath,
        ...(region === undefined ? {} : { region }),
        ...(c.header_value ? { headerValue: c.header_value } : {}),
        ...(c.nonce ? { nonce: c.nonce } : {}),
        credentials: awsCredentialChain({
          ...(c.access_key ? { accessKey: c.access_key } : {}),
          ...(c.secret_key ? { secretKey: c.secret_key } : {}),
          ...(c.session_token ? { sessionToken: c.session_token } : {}),
          ...(region === undefined ? {} : { region }),
          ...(c.profile?.trim() ? { profile: c.profile.trim() } : {}),
          readFile: readPodFile,
        }),
      });
    }
    case 'gcp': {
      const c = auth.config;
      const credentials = c.credentials?.trim();
      return new GcpAuth({
        type: c.type === 'gce' ? 'gce' : 'iam',
        role: auth.role ?? '',
        mount: auth.mountPath,
        ...(c.service_account === undefined ? {} : { serviceAccount: c.service_account }),
        // A key file (or GOOGLE_APPLICATION_CREDENTIALS) is read through the agent root.
        ...(credentials ? { credentials } : {}),
        ...(c.jwt_exp ? { jwtExpMinutes: Number(c.jwt_exp) } : {}),
        vaultAddress: config.vault.address,
        readFile: async (file: string) => fs.readFile(paths.hostPath(file), 'utf8'),
      });
    }
    case 'azure': {
      const c = auth.config;
      return new AzureAuth({
        role: auth.role ?? '',
        resource: c.resource ?? '',
        mount: auth.mountPath,
        ...(c.object_id ? { objectId: c.object_id } : {}),
        ...(c.client_id ? { clientId: c.client_id } : {}),
      });
    }
    case 'approle': {
      const secretIdFile = auth.config.secret_id_file_path;
      return new AppRoleFromFiles(
        authMountPath(auth.mountPath),
        paths.hostPath(auth.config.role_id_file_path ?? ''),
        secretIdFile === undefined ? undefined : paths.hostPath(secretIdFile),
      );
    }
  }
}
