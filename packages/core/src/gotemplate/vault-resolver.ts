// Answers the Vault calls of consul-template functions (secret, secrets, pkiCert) with a VaultClient,
// as consul-template's Vault dependencies do: a read of a KV v2 secret named without `data/` is read
// at its API path, a call with "key=value" arguments is a write, `secrets` lists.
import { VaultConfigError } from '../vault/errors.ts';
import type { VaultClient } from '../vault/client.ts';
import { KvSecrets } from '../vault/kv.ts';
import { type DependencyResolver, type VaultDependency, pemParts, pkiValue, secretValue } from './funcs/consul.ts';
import { type GoValue, typed } from './values.ts';

/** A resolver over `client`; `kv` may be shared so mount detection is cached across renders. */
export function vaultDependencyResolver(
  client: VaultClient,
  kv: KvSecrets = new KvSecrets(client),
): DependencyResolver {
  const apiPath = async (path: string): Promise<string> => {
    let mount;
    try {
      mount = await kv.detectMount(path);
    } catch (error) {
      // Not a KV mount (database, pki…): the path is used as written.
      if (error instanceof VaultConfigError && error.status === undefined) return path;
      throw error;
    }
    if (mount.kvVersion !== 2) return path;
    const mountPath = mount.path.replace(/\/+$/, '');
    const relative = path.slice(mountPath.length).replace(/^\/+/, '');
    return relative.startsWith('data/') ? path : `${mountPath}/data/${relative}`;
  };
  return async (dep: VaultDependency): Promise<GoValue> => {
    switch (dep.kind) {
      case 'read': {
        // consul-template sends a `?query` on the path as request parameters (`secret "kv/x?version=2"`).
        const at = dep.path.indexOf('?');
        const path = at < 0 ? dep.path : dep.path.slice(0, at);
        const query = at < 0 ? {} : Object.fromEntries(new URLSearchParams(dep.path.slice(at + 1)));
        const response = await client.read(await apiPath(path), { query });
        return secretValue(response);
      }
      case 'write': {
        const response = await client.write(dep.path, dep.data);
        return response === null ? secretValue({}) : secretValue(response);
      }
      case 'list': {
        const response = await client.request<{ keys?: string[] }>('LIST', dep.path);
        return typed([...(response?.data?.keys ?? [])].sort(), '[]string');
      }
      case 'pki': {
        const response = await client.write<Record<string, unknown>>(dep.path, dep.data);
        if (response === null) throw new Error(`no secret exists at ${dep.path}`);
        // As consul-template: every string the issue returned, one PEM text, sorted into Cert/Key/CA.
        const text = Object.values(response.data ?? {})
          .filter((v): v is string => typeof v === 'string')
          .map((v) => `${v}\n`)
          .join('');
        return pkiValue(pemParts(text));
      }
    }
  };
}
