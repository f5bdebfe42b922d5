// Reading one secret of the configuration from Vault: KV (v1, or v2 unwrapped) through KvSecrets, any
// other engine (database, aws…) through readDynamicSecret with its lease. Whether a path is KV is asked
// once per mount (KvSecrets.detectMount caches it).

import {
  KvSecrets,
  VaultConfigError,
  readDynamicSecret,
  type DynamicSecret,
  type VaultClient,
} from '@vaultbridge/core';
import type { FetchedSecret } from './contract/render.ts';

export type { FetchedSecret } from './contract/render.ts';

/** Says which secret failed and where, without ever quoting a value (Vault errors carry none). */
export class SecretFetchError extends Error {
  readonly code = 'AGENT_SECRET_FETCH';
  readonly secretName: string;
  readonly vaultPath: string;

  constructor(secretName: string, vaultPath: string, cause: unknown) {
    super(
      `secret "${secretName}" (Vault path ${vaultPath}): ${cause instanceof Error ? cause.message : 'read failed'}`,
      { cause },
    );
    this.name = 'SecretFetchError';
    this.secretName = secretName;
    this.vaultPath = vaultPath;
  }
}

export class SecretFetcher {
  private readonly client: VaultClient;
  private readonly kv: KvSecrets;

  constructor(client: VaultClient) {
    this.client = client;
    this.kv = new KvSecrets(client);
  }

  /** `undefined` when the path is not on a KV mount. */
  private async kvLocation(
    vaultPath: string,
  ): Promise<{ mount: string; relative: string; kvVersion: 1 | 2 } | undefined> {
    let mount;
    try {
      mount = await this.kv.detectMount(vaultPath);
    } catch (error) {
      // A mount that is found but is not KV comes back as a VaultConfigError without an HTTP status.
      if (error instanceof VaultConfigError && error.status === undefined && / not KV$/.test(error.message))
        return undefined;
      throw error;
    }
    const logical = vaultPath.replace(/^\/+|\/+$/g, '');
    let relative = logical.slice(mount.path.length);
    // Annotations name KV v2 secrets by their API path (secret/data/app); KvSecrets wants the logical one.
    if (mount.kvVersion === 2 && relative.startsWith('data/')) relative = relative.slice('data/'.length);
    return { mount: mount.path, relative, kvVersion: mount.kvVersion };
  }

  async fetch(secretName: string, vaultPath: string): Promise<FetchedSecret> {
    try {
      const location = await this.kvLocation(vaultPath);
      if (location) {
        const secret = await this.kv.read<Record<string, unknown>>(location.relative, {
          mount: location.mount,
          kvVersion: location.kvVersion,
        });
        return { kind: 'kv', path: vaultPath, data: secret.data, version: secret.metadata?.version };
      }
      return this.dynamic(vaultPath, await readDynamicSecret<Record<string, unknown>>(this.client, vaultPath));
    } catch (error) {
      throw new SecretFetchError(secretName, vaultPath, error);
    }
  }

  /** A dynamic secret as fetched, e.g. re-issued by the LeaseManager. */
  dynamic(vaultPath: string, secret: DynamicSecret<Record<string, unknown>>): FetchedSecret {
    return { kind: 'dynamic', path: vaultPath, data: secret.data ?? {}, secret };
  }
}
