// Vault's Azure auth method, with the login request Vault Agent's `azure` auto-auth method sends:
// the VM's compute metadata and a managed-identity access token for `resource` from the instance
// metadata service (IMDS), as `POST auth/<mount>/login {role, jwt, subscription_id,
// resource_group_name, vm_name, vmss_name}`.
import type { VaultClient } from '../vault/client.ts';
import { CloudCredentialError, cloudJson, secretValue } from './cloud-http.ts';
import { authMountPath, loginAt, type VaultAuthMethod, type VaultLogin } from './login.ts';

// Vault Agent's IMDS API version (the identity endpoint needs at least 2018-02-01).
const IMDS_API_VERSION = '2018-02-01';

/** IMDS base URL: `AZURE_POD_IDENTITY_AUTHORITY_HOST` overrides it as Azure's identity libraries do. */
export function azureImdsBase(env: NodeJS.ProcessEnv): string {
  return (env.AZURE_POD_IDENTITY_AUTHORITY_HOST ?? 'http://169.254.169.254').replace(/\/+$/, '');
}

export interface AzureAuthOptions {
  role: string;
  /** The resource (audience) the access token is asked for; Vault's config `resource` must match. */
  resource: string;
  /** A user-assigned managed identity by object ID or client ID (at most one). */
  objectId?: string;
  clientId?: string;
  /** Mount path of the auth method. Default `azure`. */
  mount?: string;
  env?: NodeJS.ProcessEnv;
}

interface InstanceMetadata {
  compute?: { name?: string; resourceGroupName?: string; subscriptionId?: string; vmScaleSetName?: string };
}

/** Vault's Azure auth with a managed identity of the VM the pod runs on. */
export class AzureAuth implements VaultAuthMethod {
  readonly mount: string;
  readonly identity: string;
  private readonly options: AzureAuthOptions;

  constructor(options: AzureAuthOptions) {
    if (options.objectId && options.clientId)
      throw new CloudCredentialError(
        'auth-config-object-id and auth-config-client-id name the managed identity twice: give at most one',
      );
    this.options = options;
    this.mount = authMountPath(options.mount ?? 'azure');
    this.identity = `azure:${this.mount}:${options.role}:${options.resource}:${options.objectId ?? options.clientId ?? ''}`;
  }

  /** The body of the login request. */
  async loginData(): Promise<Record<string, string>> {
    const base = azureImdsBase(this.options.env ?? process.env);
    const headers = { Metadata: 'true' };
    const instance = await cloudJson<InstanceMetadata>(
      `${base}/metadata/instance?${new URLSearchParams({ 'api-version': IMDS_API_VERSION }).toString()}`,
      {
        headers,
        what: "the VM's instance metadata",
      },
    );
    const query = new URLSearchParams({ 'api-version': IMDS_API_VERSION, resource: this.options.resource });
    if (this.options.objectId) query.set('object_id', this.options.objectId);
    if (this.options.clientId) query.set('client_id', this.options.clientId);
    const token = await cloudJson<{ access_token?: string }>(
      `${base}/metadata/identity/oauth2/token?${query.toString()}`,
      {
        headers,
        what: `a managed-identity access token for ${this.options.resource}`,
      },
    );
    if (!token.access_token) throw new CloudCredentialError('the instance metadata service returned no access_token');
    const compute = instance.compute ?? {};
    return {
      role: this.options.role,
      vm_name: compute.name ?? '',
      vmss_name: compute.vmScaleSetName ?? '',
      resource_group_name: compute.resourceGroupName ?? '',
      subscription_id: compute.subscriptionId ?? '',
      jwt: secretValue(token.access_token),
    };
  }

  async login(client: VaultClient): Promise<VaultLogin> {
    return loginAt(
      client,
      this.mount,
      await this.loginData(),
      (detail) =>
        `Azure login to Vault as role "${this.options.role}" at auth/${this.mount} failed (${detail}); check the role's bound service principals, groups, subscriptions and resource groups, the mount's tenant_id and resource, and that Vault can reach Azure AD to check the token`,
    );
  }
}
