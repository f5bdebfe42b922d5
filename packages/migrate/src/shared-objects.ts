// VaultConnections and VaultAuths that many converted objects share: one per distinct spec in a
// namespace, named after what they are for, created once.
import { API_VERSION } from '@vaultbridge/operator';
import type { Manifest } from './manifests.ts';
import { dnsName } from './names.ts';

export class SharedObjects {
  private readonly byKey = new Map<string, Manifest>();
  private readonly names = new Set<string>();

  /** The name of the `kind` object in `namespace` with `spec`, created on first use (`base`, then `base-2`…). */
  ensure(
    kind: 'VaultConnection' | 'VaultAuth',
    namespace: string,
    base: string,
    spec: Record<string, unknown>,
  ): string {
    const key = `${kind}\0${namespace}\0${JSON.stringify(spec)}`;
    const existing = this.byKey.get(key) as { metadata: { name: string } } | undefined;
    if (existing) return existing.metadata.name;
    let name = dnsName(base);
    for (let n = 2; this.names.has(`${kind}/${namespace}/${name}`); n++) name = dnsName(base, String(n));
    this.names.add(`${kind}/${namespace}/${name}`);
    this.byKey.set(key, { apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec });
    return name;
  }

  /** A name free for every kind of `kinds` in `namespace` (`base`, then `base-2`…), taken from now on. */
  uniqueName(kinds: readonly string[], namespace: string, base: string): string {
    let name = dnsName(base);
    for (let n = 2; kinds.some((kind) => this.names.has(`${kind}/${namespace}/${name}`)); n++)
      name = dnsName(base, String(n));
    for (const kind of kinds) this.names.add(`${kind}/${namespace}/${name}`);
    return name;
  }

  /** Objects a caller already has under these names (from the input), so new ones do not take them. */
  reserve(kind: string, namespace: string, name: string): void {
    this.names.add(`${kind}/${namespace}/${name}`);
  }

  /** A mark to roll back to: objects created after it are forgotten (a conversion that was abandoned). */
  mark(): () => void {
    const keys = new Set(this.byKey.keys());
    const names = new Set(this.names);
    return () => {
      for (const key of [...this.byKey.keys()]) if (!keys.has(key)) this.byKey.delete(key);
      for (const name of [...this.names]) if (!names.has(name)) this.names.delete(name);
    };
  }

  objects(): Manifest[] {
    return [...this.byKey.values()];
  }
}
