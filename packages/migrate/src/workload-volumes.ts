// Finding and replacing a workload's volumes, whatever kind of document holds the pod.
import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { findPod, type PodSlot } from '@vaultbridge/injector';
import { isRecord, sourceOf, type Manifest } from './manifests.ts';
import type { SourceRef } from './report.ts';

export interface PodDocument {
  readonly index: number;
  readonly manifest: Manifest;
  readonly slot: PodSlot;
  readonly source: SourceRef;
  readonly namespace: string;
  readonly name: string;
  readonly serviceAccount: string;
}

export function podDocuments(manifests: readonly Manifest[], defaultNamespace: string): PodDocument[] {
  const out: PodDocument[] = [];
  manifests.forEach((manifest, index) => {
    const slot = findPod(manifest);
    if (slot === undefined) return;
    const source = sourceOf(manifest);
    out.push({
      index,
      manifest,
      slot,
      source,
      namespace: source.namespace ?? defaultNamespace,
      name: source.name || slot.pod.metadata?.name || 'workload',
      serviceAccount: slot.pod.spec?.serviceAccountName || 'default',
    });
  });
  return out;
}

/** The document with some of its pod's volumes replaced (same names, so volumeMounts stay valid). */
export function replaceVolumes(document: PodDocument, replacements: ReadonlyMap<string, V1Volume>): Manifest {
  const pod: V1Pod = structuredClone(document.slot.pod);
  pod.spec!.volumes = (pod.spec!.volumes ?? []).map((volume) => replacements.get(volume.name) ?? volume);
  const put = document.slot.put(pod);
  return isRecord(put) ? put : document.manifest;
}

/** The document with its pod changed by `edit` (on a copy). */
export function editPod(document: PodDocument, edit: (pod: V1Pod) => void): Manifest {
  const pod: V1Pod = structuredClone(document.slot.pod);
  edit(pod);
  const put = document.slot.put(pod);
  return isRecord(put) ? put : document.manifest;
}

/** Where the pod spec sits in a document of `kind`, for field paths in the report. */
export function podSpecField(kind: string): string {
  if (kind === 'Pod') return 'spec';
  if (kind === 'CronJob') return 'spec.jobTemplate.spec.template.spec';
  return 'spec.template.spec';
}
