// Asking Vault which engine serves each path the input names (`sys/internal/ui/mounts/<path>`, what the
// agent and the CSI provider ask at run time), so paths are classified by fact, not by shape.
import type { VaultClient } from '@vaultbridge/core';
import { A, findPod } from '@vaultbridge/injector';
import { isRecord, type Manifest } from './manifests.ts';
import { isVaultSpc, parseSpc } from './spc.ts';
import type { MountTable } from './vault-paths.ts';

/** Every Vault path the input's injector annotations and SecretProviderClass objects name. */
export function vaultPathsOf(manifests: readonly Manifest[]): string[] {
  const paths = new Set<string>();
  for (const manifest of manifests) {
    const annotations = findPod(manifest)?.pod.metadata?.annotations ?? {};
    for (const [key, value] of Object.entries(annotations))
      if (key.startsWith(`${A.agentInjectSecret}-`) && value.trim() !== '') paths.add(value.trim());
    if (isVaultSpc(manifest)) for (const object of parseSpc(manifest).objects) paths.add(object.path);
  }
  return [...paths].sort();
}

interface MountAnswer {
  path?: unknown;
  type?: unknown;
  options?: unknown;
}

/** The mount of each path, per Vault; a path Vault does not know (or the token may not see) is left out. */
export async function readMounts(
  client: VaultClient,
  paths: readonly string[],
  timeoutMs = 10_000,
): Promise<MountTable> {
  const table = new Map<string, { type: 'kv' | 'other'; version?: 1 | 2 }>();
  for (const path of paths) {
    const clean = path.replace(/^\/+/, '').replace(/^v1\//, '');
    if ([...table.keys()].some((mount) => clean.startsWith(mount))) continue;
    let answer: MountAnswer;
    try {
      answer =
        (await client.read<MountAnswer>(`sys/internal/ui/mounts/${clean}`, { signal: AbortSignal.timeout(timeoutMs) }))
          .data ?? {};
    } catch {
      // Not visible to this token, or not mounted: the path's shape decides, and the report says so.
      continue;
    }
    if (typeof answer.path !== 'string' || answer.path === '') continue;
    const version = isRecord(answer.options) && String(answer.options.version) === '2' ? 2 : 1;
    table.set(
      answer.path,
      answer.type === 'kv' || answer.type === 'generic' ? { type: 'kv', version } : { type: 'other' },
    );
  }
  return table;
}
