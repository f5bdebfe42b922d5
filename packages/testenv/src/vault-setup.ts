import type { KubeAdmin } from './kube-admin.ts';
import type { VaultAdmin } from './vault-api.ts';

/** The PostgreSQL statements every database role of the stack uses: a login role that expires with its lease. */
export const postgresCreationStatements = [
  `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
];

/** Names of what the stack configures in Vault, so tests never guess them. */
export interface VaultLayout {
  kvV2Mount: string;
  kvV1Mount: string;
  databaseMount: string;
  databaseConnection: string;
  databaseRole: string;
  pkiMount: string;
  pkiRole: string;
  pkiDomain: string;
  transitMount: string;
  transitKey: string;
  kubernetesAuthMount: string;
  tokenReviewer: { namespace: string; serviceAccount: string };
}

export const defaultVaultLayout: VaultLayout = {
  kvV2Mount: 'secret',
  kvV1Mount: 'kv',
  databaseMount: 'database',
  databaseConnection: 'pg',
  databaseRole: 'app',
  pkiMount: 'pki',
  pkiRole: 'example-dot-test',
  pkiDomain: 'example.test',
  transitMount: 'transit',
  transitKey: 'app',
  kubernetesAuthMount: 'kubernetes',
  tokenReviewer: { namespace: 'vaultbridge-system', serviceAccount: 'vault-token-reviewer' },
};

export interface PostgresConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

async function mountIfAbsent(vault: VaultAdmin, path: string, body: unknown): Promise<void> {
  const mounts = await vault.read<{ data: Record<string, unknown> }>('sys/mounts');
  if (`${path}/` in mounts.data) return;
  await vault.write(`sys/mounts/${path}`, body);
}

/**
 * Enables and configures kv-v1, database (PostgreSQL), pki, transit and kubernetes auth. Idempotent,
 * so it also prepares an existing Vault (VAULTBRIDGE_USE_EXISTING) without failing on what is there.
 */
export async function configureVault(
  vault: VaultAdmin,
  kube: KubeAdmin,
  apiServer: { url: string; caPem: string },
  postgres: PostgresConnection | undefined,
  layout: VaultLayout = defaultVaultLayout,
): Promise<void> {
  await mountIfAbsent(vault, layout.kvV2Mount, { type: 'kv', options: { version: '2' } });
  await mountIfAbsent(vault, layout.kvV1Mount, { type: 'kv', options: { version: '1' } });

  await mountIfAbsent(vault, layout.transitMount, { type: 'transit' });
  await vault.write(`${layout.transitMount}/keys/${layout.transitKey}`, {});

  await mountIfAbsent(vault, layout.pkiMount, { type: 'pki', config: { max_lease_ttl: '87600h' } });
  const issuers = await vault
    .request<{ data?: { keys?: string[] } }>('LIST', `${layout.pkiMount}/issuers`)
    .catch(() => ({ data: { keys: [] } }));
  if ((issuers.data?.keys ?? []).length === 0) {
    await vault.write(`${layout.pkiMount}/root/generate/internal`, {
      common_name: 'vaultbridge-testenv-root',
      ttl: '87600h',
      key_type: 'ec',
      key_bits: 256,
    });
  }
  await vault.write(`${layout.pkiMount}/roles/${layout.pkiRole}`, {
    allowed_domains: [layout.pkiDomain],
    allow_subdomains: true,
    max_ttl: '72h',
    key_type: 'ec',
    key_bits: 256,
  });

  if (postgres) {
    await mountIfAbsent(vault, layout.databaseMount, { type: 'database' });
    await vault.write(`${layout.databaseMount}/config/${layout.databaseConnection}`, {
      plugin_name: 'postgresql-database-plugin',
      allowed_roles: '*',
      connection_url: `postgresql://{{username}}:{{password}}@${postgres.host}:${postgres.port}/${postgres.database}?sslmode=disable`,
      username: postgres.user,
      password: postgres.password,
      verify_connection: true,
    });
    await vault.write(`${layout.databaseMount}/roles/${layout.databaseRole}`, {
      db_name: layout.databaseConnection,
      default_ttl: '1h',
      max_ttl: '24h',
      creation_statements: postgresCreationStatements,
    });
  }

  // Kubernetes auth: Vault calls TokenReview with a reviewer service account bound to system:auth-delegator.
  const reviewer = layout.tokenReviewer;
  await kube.ensureServiceAccount(reviewer.namespace, reviewer.serviceAccount);
  await kube.bindClusterRole(
    `${reviewer.serviceAccount}-auth-delegator`,
    'system:auth-delegator',
    reviewer.namespace,
    reviewer.serviceAccount,
  );
  const { token: reviewerJwt } = await kube.requestToken(reviewer.namespace, reviewer.serviceAccount, {
    expirationSeconds: 7 * 24 * 3600,
  });
  const auths = await vault.read<{ data: Record<string, unknown> }>('sys/auth');
  if (!(`${layout.kubernetesAuthMount}/` in auths.data)) {
    await vault.write(`sys/auth/${layout.kubernetesAuthMount}`, { type: 'kubernetes' });
  }
  await vault.write(`auth/${layout.kubernetesAuthMount}/config`, {
    kubernetes_host: apiServer.url,
    kubernetes_ca_cert: apiServer.caPem,
    token_reviewer_jwt: reviewerJwt,
    disable_local_ca_jwt: true,
  });
}
