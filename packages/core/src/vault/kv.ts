// KV secrets engine, versions 1 and 2. Callers name secrets by their logical path (`secret/app/db`);
// which mount holds it and whether it is KV v1 or v2 is asked once per mount from
// `sys/internal/ui/mounts/<path>` (what the `vault kv` CLI does) and cached on the connection.
import type { VaultClient } from './client.ts';
import { registerSecretData } from '../runtime/secret-redactor.ts';
import {
  VaultConfigError,
  VaultError,
  VaultNotFoundError,
  VaultPermissionError,
  VaultSecretVersionError,
} from './errors.ts';
import type { VaultResponse } from './types.ts';

export type KvVersion = 1 | 2;

export interface KvMount {
  /** Mount path with its trailing slash, e.g. `secret/`. */
  path: string;
  kvVersion: KvVersion;
}

/** Where a secret is: explicit mount and/or KV version, else detected. */
export interface KvLocation {
  /** Mount path; when set, the secret path is relative to it (`{ mount: 'secret' }` + `app/db`). */
  mount?: string;
  /** Skips detection when given together with `mount`. */
  kvVersion?: KvVersion;
  signal?: AbortSignal;
}

export interface KvReadOptions extends KvLocation {
  /** KV v2 version to read; the current version when omitted. */
  version?: number;
}

export interface KvVersionMetadata {
  version: number;
  createdTime: string;
  /** Empty unless the version was soft-deleted (or is scheduled for deletion). */
  deletionTime: string;
  destroyed: boolean;
  customMetadata: Record<string, string> | null;
}

export interface KvSecret<T = Record<string, unknown>> {
  /** Logical path, mount included (`secret/app/db`). */
  path: string;
  mount: string;
  kvVersion: KvVersion;
  data: T;
  /** KV v2 only. */
  metadata: KvVersionMetadata | undefined;
  /** The data as Vault answered it: KV v2's `{data, metadata}`, KV v1's data (what VSO stores as `_raw`). */
  raw: unknown;
}

export interface KvSecretMetadata {
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  createdTime: string;
  updatedTime: string;
  customMetadata: Record<string, string> | null;
  versions: Record<string, { createdTime: string; deletionTime: string; destroyed: boolean }>;
}

interface RawVersionMetadata {
  version: number;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
  custom_metadata: Record<string, string> | null;
}

interface UiMount {
  path: string;
  type: string;
  options: Record<string, string> | null;
}

function toMetadata(raw: RawVersionMetadata): KvVersionMetadata {
  return {
    version: raw.version,
    createdTime: raw.created_time,
    deletionTime: raw.deletion_time,
    destroyed: raw.destroyed,
    customMetadata: raw.custom_metadata ?? null,
  };
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+/, '').replace(/\/+$/, '');
}

/** Mounts learnt so far on one connection, and lookups in flight (concurrent reads ask once). */
class MountCache {
  readonly mounts = new Map<string, KvMount>();
  readonly inFlight = new Map<string, Promise<KvMount>>();

  find(path: string): KvMount | undefined {
    // Vault forbids overlapping mounts, so at most one cached mount is a prefix of the path.
    const withSlash = `${trimSlashes(path)}/`;
    for (const mount of this.mounts.values()) if (withSlash.startsWith(mount.path)) return mount;
    return undefined;
  }
}

interface Resolved {
  mount: KvMount;
  /** Path inside the mount, no leading slash. */
  relative: string;
}

/**
 * KV v1/v2 reads and writes through a VaultClient. One instance per client is enough; the mount
 * cache lives on the client's connection, so every KvSecrets of the same connection shares it.
 */
export class KvSecrets {
  private readonly client: VaultClient;
  private readonly cache: MountCache;

  constructor(client: VaultClient) {
    this.client = client;
    this.cache = client.sharedState('kv.mounts', () => new MountCache());
  }

  /** The mount holding `path` and its KV version: from the cache, else one `GET sys/internal/ui/mounts/<path>`. */
  async detectMount(path: string, signal?: AbortSignal): Promise<KvMount> {
    const logical = trimSlashes(path);
    const cached = this.cache.find(logical);
    if (cached) return cached;
    const pending = this.cache.inFlight.get(logical);
    if (pending) return pending;
    const lookup = this.lookupMount(logical, signal).finally(() => this.cache.inFlight.delete(logical));
    this.cache.inFlight.set(logical, lookup);
    return lookup;
  }

  /** Forgets detected mounts, e.g. after a mount was moved or re-enabled with another version. */
  forgetMounts(): void {
    this.cache.mounts.clear();
  }

  /**
   * Reads a secret. KV v2: the current or the pinned `version`, with its metadata; a deleted or
   * destroyed version throws VaultSecretVersionError, a missing secret VaultNotFoundError.
   */
  async read<T = Record<string, unknown>>(path: string, options: KvReadOptions = {}): Promise<KvSecret<T>> {
    const { mount, relative } = await this.resolve(path, options);
    const logical = `${mount.path}${relative}`;
    const signal = options.signal ? { signal: options.signal } : {};
    if (mount.kvVersion === 1) {
      if (options.version !== undefined) {
        throw new VaultConfigError(
          `${logical} is on KV v1 mount ${mount.path}, which has no versions; drop the version`,
          { setting: 'version', path: logical },
        );
      }
      const response = await this.client.read<T>(logical, signal);
      registerSecretData(response.data);
      return {
        path: logical,
        mount: mount.path,
        kvVersion: 1,
        data: response.data,
        metadata: undefined,
        raw: response.data,
      };
    }
    const apiPath = `${mount.path}data/${relative}`;
    const response = await this.client.request<{ data: T | null; metadata: RawVersionMetadata | null } | null>(
      'GET',
      apiPath,
      {
        ...signal,
        query: { version: options.version },
        acceptStatuses: [404],
      },
    );
    const body = response?.data;
    if (body && body.data !== null && body.metadata) {
      // Safety net: secret values never survive into a log line of this process.
      registerSecretData(body.data);
      return {
        path: logical,
        mount: mount.path,
        kvVersion: 2,
        data: body.data,
        metadata: toMetadata(body.metadata),
        raw: body,
      };
    }
    if (body?.metadata) throw versionError(logical, apiPath, `${mount.path}undelete/${relative}`, body.metadata);
    const which = options.version === undefined ? '' : ` version ${options.version}`;
    throw new VaultNotFoundError(
      `no secret at ${logical}${which} (KV v2 mount ${mount.path}; GET ${apiPath} answered 404)`,
      { status: 404, method: 'GET', path: apiPath },
    );
  }

  /** Writes a secret (a new version on KV v2; `cas` for check-and-set). Returns the new version's metadata on v2. */
  async write(
    path: string,
    data: Record<string, unknown>,
    options: KvLocation & { cas?: number } = {},
  ): Promise<KvVersionMetadata | undefined> {
    const { mount, relative } = await this.resolve(path, options);
    const signal = options.signal ? { signal: options.signal } : {};
    if (mount.kvVersion === 1) {
      await this.client.write(`${mount.path}${relative}`, data, signal);
      return undefined;
    }
    const body = { data, ...(options.cas === undefined ? {} : { options: { cas: options.cas } }) };
    const response = await this.client.write<RawVersionMetadata>(`${mount.path}data/${relative}`, body, signal);
    return response ? toMetadata(response.data) : undefined;
  }

  /** KV v1: deletes the secret. KV v2: soft-deletes the given versions, or the current one. */
  async delete(path: string, options: KvLocation & { versions?: number[] } = {}): Promise<void> {
    const { mount, relative } = await this.resolve(path, options);
    const signal = options.signal ? { signal: options.signal } : {};
    if (mount.kvVersion === 1) await this.client.delete(`${mount.path}${relative}`, signal);
    else if (options.versions)
      await this.client.write(`${mount.path}delete/${relative}`, { versions: options.versions }, signal);
    else await this.client.delete(`${mount.path}data/${relative}`, signal);
  }

  /** KV v2: destroys versions for good. */
  async destroy(path: string, versions: number[], options: KvLocation = {}): Promise<void> {
    const { mount, relative } = await this.resolve(path, options);
    this.requireV2(mount, relative, 'destroy');
    await this.client.write(
      `${mount.path}destroy/${relative}`,
      { versions },
      options.signal ? { signal: options.signal } : {},
    );
  }

  /** Keys under a folder (folders end in `/`); empty when there are none. */
  async list(path: string, options: KvLocation = {}): Promise<string[]> {
    const { mount, relative } = await this.resolve(path, options);
    const apiPath = mount.kvVersion === 1 ? `${mount.path}${relative}` : `${mount.path}metadata/${relative}`;
    try {
      const response = await this.client.list(
        apiPath.endsWith('/') ? apiPath : `${apiPath}/`,
        options.signal ? { signal: options.signal } : {},
      );
      return response.data.keys;
    } catch (error) {
      // Vault answers an empty folder with a bare 404.
      if (error instanceof VaultNotFoundError && error.errors.length === 0) return [];
      throw error;
    }
  }

  /** KV v2: all versions of a secret and its settings. */
  async readMetadata(path: string, options: KvLocation = {}): Promise<KvSecretMetadata> {
    const { mount, relative } = await this.resolve(path, options);
    this.requireV2(mount, relative, 'readMetadata');
    interface Raw {
      current_version: number;
      oldest_version: number;
      max_versions: number;
      created_time: string;
      updated_time: string;
      custom_metadata: Record<string, string> | null;
      versions: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
    }
    const { data } = await this.client.read<Raw>(
      `${mount.path}metadata/${relative}`,
      options.signal ? { signal: options.signal } : {},
    );
    return {
      currentVersion: data.current_version,
      oldestVersion: data.oldest_version,
      maxVersions: data.max_versions,
      createdTime: data.created_time,
      updatedTime: data.updated_time,
      customMetadata: data.custom_metadata ?? null,
      versions: Object.fromEntries(
        Object.entries(data.versions ?? {}).map(([v, m]) => [
          v,
          { createdTime: m.created_time, deletionTime: m.deletion_time, destroyed: m.destroyed },
        ]),
      ),
    };
  }

  private requireV2(mount: KvMount, relative: string, operation: string): void {
    if (mount.kvVersion !== 2) {
      throw new VaultConfigError(
        `${operation} needs KV v2, but ${mount.path}${relative} is on KV v1 mount ${mount.path}`,
        { path: `${mount.path}${relative}` },
      );
    }
  }

  private async resolve(path: string, location: KvLocation): Promise<Resolved> {
    if (location.mount !== undefined) {
      const mountPath = `${trimSlashes(location.mount)}/`;
      const relative = trimSlashes(path);
      const mount = location.kvVersion
        ? { path: mountPath, kvVersion: location.kvVersion }
        : await this.detectMount(mountPath, location.signal);
      if (mount.path !== mountPath) {
        throw new VaultConfigError(`mount "${location.mount}" is not a mount: the nearest one is ${mount.path}`, {
          setting: 'mount',
        });
      }
      return { mount, relative };
    }
    const logical = trimSlashes(path);
    // KV v1 paths are used as they are, so no mount needs to be known.
    if (location.kvVersion === 1) {
      const cached = this.cache.find(logical);
      if (cached) return { mount: { path: cached.path, kvVersion: 1 }, relative: logical.slice(cached.path.length) };
      const slash = logical.indexOf('/');
      return { mount: { path: logical.slice(0, slash + 1), kvVersion: 1 }, relative: logical.slice(slash + 1) };
    }
    const mount = await this.detectMount(logical, location.signal);
    const relative = logical.slice(mount.path.length);
    if (relative === '')
      throw new VaultConfigError(`${path} is the mount ${mount.path} itself, not a secret in it`, { setting: 'path' });
    return { mount: location.kvVersion ? { ...mount, kvVersion: location.kvVersion } : mount, relative };
  }

  private async lookupMount(logical: string, signal?: AbortSignal): Promise<KvMount> {
    const apiPath = `sys/internal/ui/mounts/${logical}`;
    let response: VaultResponse<UiMount>;
    try {
      response = await this.client.read<UiMount>(apiPath, signal ? { signal } : {});
    } catch (error) {
      // Vault answers 403 both when nothing is mounted there and when the token may use no path in
      // the mount, so that this endpoint cannot be used to list mounts.
      if (error instanceof VaultPermissionError && error.errors.some((e) => e.includes('preflight capability check'))) {
        throw new VaultConfigError(
          `cannot find the secrets engine for "${logical}": nothing is mounted there, or the token's policies allow no path in that mount. Check the path (vault secrets list) and the policies, or pass { mount, kvVersion } to skip detection`,
          { status: 403, errors: error.errors, method: 'GET', path: apiPath, setting: 'path' },
        );
      }
      throw error;
    }
    const { path: mountPath, type, options } = response.data;
    if (type !== 'kv' && type !== 'generic') {
      throw new VaultConfigError(`${logical} is on mount ${mountPath}, a "${type}" engine, not KV`, {
        method: 'GET',
        path: apiPath,
        setting: 'path',
      });
    }
    const kvVersion: KvVersion = options?.version === '2' ? 2 : 1;
    const mount: KvMount = { path: mountPath, kvVersion };
    this.cache.mounts.set(mountPath, mount);
    return mount;
  }
}

function versionError(
  logical: string,
  apiPath: string,
  undeletePath: string,
  metadata: RawVersionMetadata,
): VaultError {
  const details = { status: 404, method: 'GET', path: apiPath, version: metadata.version };
  if (metadata.destroyed) {
    return new VaultSecretVersionError(
      `version ${metadata.version} of ${logical} was destroyed; read another version or write a new one`,
      { ...details, state: 'destroyed' },
    );
  }
  return new VaultSecretVersionError(
    `version ${metadata.version} of ${logical} was deleted at ${metadata.deletion_time}; undelete it (POST ${undeletePath} {"versions":[${metadata.version}]}) or read another version`,
    { ...details, state: 'deleted', deletionTime: metadata.deletion_time },
  );
}
