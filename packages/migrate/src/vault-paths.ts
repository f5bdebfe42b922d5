// Which kind of Vault secret a path names. The agent and the CSI provider ask Vault at run time
// (`sys/internal/ui/mounts`); the operator's kinds need it written down. Without a Vault to ask, the path's
// shape decides, and the report says it was a guess.
export type VaultSource =
  /** KV: mount and the path inside it (without `data/` for v2) */
  | {
      readonly kind: 'kv';
      readonly mount: string;
      readonly path: string;
      readonly version: 1 | 2;
      readonly guessed: boolean;
    }
  /** a secrets engine read (database/creds, aws/creds, …): a VaultDynamicSecret */
  | {
      readonly kind: 'dynamic';
      readonly mount: string;
      readonly path: string;
      readonly staticCreds: boolean;
      readonly guessed: boolean;
    }
  /** a PKI issue endpoint */
  | { readonly kind: 'pki'; readonly mount: string; readonly role: string; readonly guessed: boolean };

/** What is known about mounts (from Vault, or from the user): mount path → engine. */
export type MountTable = ReadonlyMap<string, { readonly type: 'kv' | 'other'; readonly version?: 1 | 2 }>;

function clean(path: string): string {
  return path.replace(/^\/+|\/+$/g, '').replace(/^v1\//, '');
}

/** The longest mount of `mounts` that `path` is under. */
function mountOf(path: string, mounts: MountTable): string | undefined {
  let best: string | undefined;
  for (const mount of mounts.keys()) {
    const prefix = clean(mount);
    if ((path === prefix || path.startsWith(`${prefix}/`)) && (best === undefined || prefix.length > best.length))
      best = prefix;
  }
  return best;
}

function byShape(mount: string, relative: string, guessed: boolean): VaultSource | undefined {
  const pki = /^(issue|issuer\/[^/]+\/issue)\/([^/]+)$/.exec(relative);
  if (pki) return { kind: 'pki', mount, role: pki[2]!, guessed };
  if (/^(static-)?creds\//.test(relative))
    return { kind: 'dynamic', mount, path: relative, staticCreds: relative.startsWith('static-creds/'), guessed };
  return undefined;
}

/**
 * Classify `rawPath` (an API path such as `secret/data/app` or `database/creds/app`). With `mounts`
 * (read from Vault) the answer is exact; without, the shape decides: `<mount>/data/<path>` is KV v2,
 * `<mount>/creds/<role>` and `static-creds` dynamic, `<mount>/issue/<role>` PKI, anything else KV v1 on
 * the first path segment.
 */
export function classifyVaultPath(rawPath: string, mounts: MountTable = new Map()): VaultSource | undefined {
  const path = clean(rawPath);
  if (path === '' || !path.includes('/')) return undefined;
  const known = mountOf(path, mounts);
  if (known !== undefined) {
    const info = mounts.get(known) ?? [...mounts].find(([mount]) => clean(mount) === known)?.[1];
    const relative = path.slice(known.length + 1);
    if (info?.type === 'kv') {
      const version = info.version ?? 1;
      const inner = version === 2 && relative.startsWith('data/') ? relative.slice('data/'.length) : relative;
      return { kind: 'kv', mount: known, path: inner, version, guessed: false };
    }
    return (
      byShape(known, relative, false) ?? {
        kind: 'dynamic',
        mount: known,
        path: relative,
        staticCreds: false,
        guessed: false,
      }
    );
  }
  const v2 = /^(.+?)\/data\/(.+)$/.exec(path);
  if (v2) return { kind: 'kv', mount: v2[1]!, path: v2[2]!, version: 2, guessed: true };
  const [first, ...rest] = path.split('/');
  const shaped = byShape(first!, rest.join('/'), true);
  if (shaped) return shaped;
  return { kind: 'kv', mount: first!, path: rest.join('/'), version: 1, guessed: true };
}
