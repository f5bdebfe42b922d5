// The objects of VSO's documentation, in VSO's own group, as its examples write them: one source for the
// operator's API-tier e2e (test/vso-group-e2e.test.ts) and the cluster tier's VSO group proof
// (test/cluster/operator-vso-group.test.ts). Only what points at a server (addresses, mounts, role,
// service account) and the refresh interval come from the caller. Test-only: shipped code never imports it.

export const vsoGroup = 'secrets.hashicorp.com';
export const vsoVersion = 'v1beta1';

/** One VSO custom object, ready for createNamespacedCustomObject under VSO's group. */
export interface VsoManifest {
  apiVersion: `${typeof vsoGroup}/${typeof vsoVersion}`;
  kind: 'VaultConnection' | 'VaultAuth' | 'VaultStaticSecret' | 'VaultPKISecret' | 'VaultDynamicSecret';
  metadata: { name: string };
  spec: Record<string, unknown>;
}

/** The resource name of a VSO kind (`VaultStaticSecret` → `vaultstaticsecrets`). */
export const vsoPlural = (kind: string): string => `${kind.toLowerCase()}s`;

const manifest = (kind: VsoManifest['kind'], name: string, spec: Record<string, unknown>): VsoManifest => ({
  apiVersion: `${vsoGroup}/${vsoVersion}`,
  kind,
  metadata: { name },
  spec,
});

export interface VsoTutorialOptions {
  /** Vault as the operator reaches it (the stack's address, or the one pods use). */
  vaultAddress: string;
  /** The Kubernetes auth mount. */
  authMount: string;
  role: string;
  serviceAccount: string;
  /** The KV v2 mount and the path of the secret under it. */
  kvMount: string;
  kvPath: string;
  /** The tutorial's refreshAfter is 30s; tests that wait for a rotation pass less. */
  refreshAfter: string;
  /** Deployments etc. to restart when the Secret changes (the tutorial's rollout step). */
  rolloutRestartTargets?: ReadonlyArray<{ kind: string; name: string }>;
}

/**
 * VSO's Vault-source tutorial: VaultConnection `vault-connection`, VaultAuth `static-auth` (Kubernetes auth,
 * audience `vault`) and VaultStaticSecret `vault-kv-app` syncing a KV v2 secret into Secret `secretkv`.
 */
export function vsoTutorialManifests(options: VsoTutorialOptions): VsoManifest[] {
  return [
    manifest('VaultConnection', 'vault-connection', { address: options.vaultAddress }),
    manifest('VaultAuth', 'static-auth', {
      vaultConnectionRef: 'vault-connection',
      method: 'kubernetes',
      mount: options.authMount,
      kubernetes: { role: options.role, serviceAccount: options.serviceAccount, audiences: ['vault'] },
    }),
    manifest('VaultStaticSecret', 'vault-kv-app', {
      type: 'kv-v2',
      mount: options.kvMount,
      path: options.kvPath,
      destination: { name: 'secretkv', create: true },
      refreshAfter: options.refreshAfter,
      vaultAuthRef: 'static-auth',
      ...(options.rolloutRestartTargets ? { rolloutRestartTargets: [...options.rolloutRestartTargets] } : {}),
    }),
  ];
}

/** VSO's VaultPKISecret sample `vaultpkisecret-sample` (PEM into Secret `pki1`), on the tutorial's VaultAuth. */
export function vsoPkiSample(options: { mount: string; role: string; commonName: string }): VsoManifest {
  return manifest('VaultPKISecret', 'vaultpkisecret-sample', {
    vaultAuthRef: 'static-auth',
    mount: options.mount,
    role: options.role,
    commonName: options.commonName,
    format: 'pem',
    expiryOffset: '1s',
    ttl: '1h',
    destination: { create: true, name: 'pki1' },
  });
}

/** VSO's database VaultDynamicSecret `vso-db-demo` (credentials into Secret `vso-db-demo`). */
export function vsoDatabaseSample(options: { mount: string; path: string }): VsoManifest {
  return manifest('VaultDynamicSecret', 'vso-db-demo', {
    mount: options.mount,
    path: options.path,
    destination: { create: true, name: 'vso-db-demo' },
    vaultAuthRef: 'static-auth',
  });
}
