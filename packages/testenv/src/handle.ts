import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeAdmin, type TokenOptions } from './kube-admin.ts';
import type { ProxyFault, RequestCounts } from './counting-proxy.ts';
import { proxyAdminPrefix } from './counting-proxy.ts';
import { VaultAdmin } from './vault-api.ts';
import { postgresCreationStatements, type PostgresConnection, type VaultLayout } from './vault-setup.ts';

/** Everything a client needs to use a running stack. Plain JSON, so it can be written to a file. */
export interface StackHandle {
  workDir: string;
  kubeconfigPath: string;
  apiServer: { url: string; caPem: string };
  vault: {
    /** Address through the request-counting proxy: what code under test should use. */
    addr: string;
    /** Vault itself, for set-up calls that must not be counted. */
    directAddr: string;
    token: string;
    /**
     * The same Vault over TLS (no counting proxy), and the CA that signed its certificate: certificate
     * auth needs a TLS connection. Absent with VAULTBRIDGE_USE_EXISTING.
     */
    tls?: { addr: string; caPem: string };
  };
  postgres?: PostgresConnection;
  layout: VaultLayout;
  /** Processes the stack started (empty when it runs against an existing cluster and Vault). */
  pids: Record<string, number>;
  /** Present when the stack runs a real node (`up --cluster`). */
  cluster?: ClusterHandle;
}

/** What tests of the cluster tier need beyond the API: where pods reach things. */
export interface ClusterHandle {
  nodeName: string;
  /** The node's address on the pod bridge; the API server, Vault and DNS listen there. */
  nodeAddress: string;
  podCidr: string;
  /** Vault as pods reach it (no counting proxy in between). */
  vaultAddrForPods: string;
  /** The CSI provider socket directory on the node (the chart's csiProvider.providersDir). */
  providersDir: string;
  /** The docker-archive tarball the node's images were imported from. */
  imageArchive: string;
  /** Service images imported into the node's containerd, by package. */
  images: Record<'injector' | 'csi-provider' | 'operator', string>;
}

export interface KubernetesRoleOptions {
  serviceAccounts: string[];
  namespaces: string[];
  policies: string[];
  audience?: string;
  ttl?: string;
  maxTtl?: string;
  mount?: string;
}

/** Typed access to a running stack, with the helpers tests need. */
export class TestStack {
  readonly handle: StackHandle;
  /** Path prefixes this handle faulted and has not cleared yet. */
  private readonly faultPrefixes = new Set<string>();
  readonly kube: KubeAdmin;
  /** Root-token Vault access that bypasses the counting proxy. */
  readonly vaultAdmin: VaultAdmin;

  constructor(handle: StackHandle) {
    this.handle = handle;
    this.kube = new KubeAdmin(handle.kubeconfigPath);
    this.vaultAdmin = new VaultAdmin(handle.vault.directAddr, handle.vault.token);
  }

  get vaultAddr(): string {
    return this.handle.vault.addr;
  }

  get rootToken(): string {
    return this.handle.vault.token;
  }

  get layout(): VaultLayout {
    return this.handle.layout;
  }

  get postgres(): PostgresConnection {
    if (!this.handle.postgres)
      throw new Error('this stack runs without PostgreSQL (set VAULTBRIDGE_PG_* for an existing stack)');
    return this.handle.postgres;
  }

  /** A name no other test in this run uses (namespaces and Vault paths are shared by the whole run). */
  uniqueName(prefix: string): string {
    return `${prefix}-${randomBytes(4).toString('hex')}`;
  }

  createNamespace(name: string): Promise<void> {
    return this.kube.ensureNamespace(name);
  }

  createServiceAccount(namespace: string, name: string): Promise<void> {
    return this.kube.ensureServiceAccount(namespace, name);
  }

  requestToken(
    namespace: string,
    serviceAccount: string,
    options: TokenOptions = {},
  ): Promise<{ token: string; expiresAt: Date }> {
    return this.kube.requestToken(namespace, serviceAccount, options);
  }

  /**
   * What a pod of `serviceAccount` sees, outside a pod: a directory `root` holding
   * var/run/secrets/kubernetes.io/serviceaccount/{token,ca.crt,namespace} (a fresh token, this API server's
   * CA) and the KUBERNETES_SERVICE_HOST/PORT `env` that point at this API server, for code that reads
   * the in-cluster configuration under a path prefix. The caller removes `root`.
   */
  async serviceAccountRoot(
    namespace: string,
    serviceAccount: string,
    options: TokenOptions = {},
  ): Promise<{ root: string; env: { KUBERNETES_SERVICE_HOST: string; KUBERNETES_SERVICE_PORT: string } }> {
    await this.kube.ensureServiceAccount(namespace, serviceAccount);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-service-account-'));
    const dir = path.join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'token'), (await this.kube.requestToken(namespace, serviceAccount, options)).token);
    fs.writeFileSync(path.join(dir, 'ca.crt'), this.handle.apiServer.caPem);
    fs.writeFileSync(path.join(dir, 'namespace'), namespace);
    const server = new URL(this.kube.config.getCurrentCluster()!.server);
    return {
      root,
      env: {
        KUBERNETES_SERVICE_HOST: server.hostname.replace(/^\[(.*)\]$/, '$1'),
        KUBERNETES_SERVICE_PORT: server.port || (server.protocol === 'https:' ? '443' : '80'),
      },
    };
  }

  async writePolicy(name: string, hcl: string): Promise<void> {
    await this.vaultAdmin.request('PUT', `sys/policies/acl/${name}`, { policy: hcl });
  }

  /**
   * A Kubernetes auth mount of its own, configured like the stack's default one, so a test that
   * counts logins (`POST /v1/auth/<mount>/login`) is not disturbed by other tests logging in.
   */
  async enableKubernetesAuth(mount: string): Promise<void> {
    await this.vaultAdmin.write(`sys/auth/${mount}`, { type: 'kubernetes' });
    const reviewer = this.layout.tokenReviewer;
    const { token } = await this.kube.requestToken(reviewer.namespace, reviewer.serviceAccount, {
      expirationSeconds: 24 * 3600,
    });
    await this.vaultAdmin.write(`auth/${mount}/config`, {
      kubernetes_host: this.handle.apiServer.url,
      kubernetes_ca_cert: this.handle.apiServer.caPem,
      token_reviewer_jwt: token,
      disable_local_ca_jwt: true,
    });
  }

  /** A jwt auth mount that validates service-account tokens with the API server's signing keys. */
  async enableJwtAuth(mount: string): Promise<void> {
    await this.vaultAdmin.write(`sys/auth/${mount}`, { type: 'jwt' });
    await this.vaultAdmin.write(`auth/${mount}/config`, {
      jwt_validation_pubkeys: await this.kube.serviceAccountSigningKeys(),
    });
  }

  async writeKubernetesRole(name: string, options: KubernetesRoleOptions): Promise<void> {
    const mount = options.mount ?? this.layout.kubernetesAuthMount;
    await this.vaultAdmin.write(`auth/${mount}/role/${name}`, {
      bound_service_account_names: options.serviceAccounts,
      bound_service_account_namespaces: options.namespaces,
      token_policies: options.policies,
      ...(options.audience ? { audience: options.audience } : {}),
      ttl: options.ttl ?? '1h',
      ...(options.maxTtl ? { token_max_ttl: options.maxTtl } : {}),
    });
  }

  /**
   * A database role of its own on the stack's PostgreSQL connection, so a test can pick TTLs of seconds
   * (renewal, re-issue, max-TTL expiry) without touching the shared role other tests read.
   */
  async writeDatabaseRole(name: string, ttl: { defaultTtl: string; maxTtl: string }): Promise<void> {
    await this.vaultAdmin.write(`${this.layout.databaseMount}/roles/${name}`, {
      db_name: this.layout.databaseConnection,
      default_ttl: ttl.defaultTtl,
      max_ttl: ttl.maxTtl,
      creation_statements: postgresCreationStatements,
    });
  }

  async requestCounts(): Promise<RequestCounts> {
    const response = await fetch(`${this.vaultAddr}${proxyAdminPrefix}requests`);
    if (!response.ok) throw new Error(`counting proxy answered ${response.status}`);
    return (await response.json()) as RequestCounts;
  }

  async resetRequestCounts(): Promise<void> {
    const response = await fetch(`${this.vaultAddr}${proxyAdminPrefix}requests`, { method: 'DELETE' });
    if (!response.ok) throw new Error(`counting proxy answered ${response.status}`);
  }

  /**
   * Makes Vault look unavailable (503), unreachable (connection reset) or slow (`drip`: its answer one
   * byte a second) through the proxy, for
   * requests under `pathPrefix` (a Vault path such as `kv/my-test`). Give one: the proxy is shared by
   * every test of the run, and an unscoped fault fails whatever runs concurrently.
   */
  async setVaultFault(fault: ProxyFault, options: { pathPrefix?: string } = {}): Promise<void> {
    // `none` without a prefix clears the faults this handle (one test file) set, never another file's.
    if (fault === 'none' && options.pathPrefix === undefined) {
      for (const prefix of [...this.faultPrefixes]) await this.putVaultFault('none', prefix);
      return;
    }
    await this.putVaultFault(fault, options.pathPrefix ?? '');
  }

  private async putVaultFault(fault: ProxyFault, pathPrefix: string): Promise<void> {
    const response = await fetch(`${this.vaultAddr}${proxyAdminPrefix}fault`, {
      method: 'PUT',
      body: JSON.stringify({ fault, pathPrefix }),
    });
    if (!response.ok) throw new Error(`counting proxy answered ${response.status}`);
    if (fault === 'none') this.faultPrefixes.delete(pathPrefix);
    else this.faultPrefixes.add(pathPrefix);
  }
}

export function readHandle(file: string): StackHandle {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as StackHandle;
}

/**
 * The stack this test run shares. `npm test` (and each package's jest global setup) starts one and
 * names its handle file in VAULTBRIDGE_STACK. Fails loudly when there is none: a test that needs
 * Vault or the API server never passes without them.
 */
export function sharedStack(): TestStack {
  const file = process.env.VAULTBRIDGE_STACK;
  if (!file) {
    throw new Error(
      'No test stack: VAULTBRIDGE_STACK is not set. Run the tests with `npm test`, or start one with `npm run testenv -- up` and export what it prints.',
    );
  }
  if (!fs.existsSync(file))
    throw new Error(`No test stack: the handle file ${file} named by VAULTBRIDGE_STACK does not exist`);
  return new TestStack(readHandle(file));
}
