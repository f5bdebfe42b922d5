// Manifests in and out: multi-document YAML (or JSON) with `kind: List` flattened, and YAML back.
import { parseAllDocuments, stringify } from 'yaml';

export type Manifest = Record<string, unknown>;

export class ManifestError extends Error {
  readonly code = 'MANIFEST';
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every object in `text`; `source` names the input in errors (a file name or "stdin"). */
export function parseManifests(text: string, source: string): Manifest[] {
  const documents = parseAllDocuments(text);
  const out: Manifest[] = [];
  for (const [index, document] of documents.entries()) {
    if (document.errors.length > 0)
      throw new ManifestError(
        `${source}: document ${index + 1} is not valid YAML: ${(document.errors[0]?.message ?? '').split('\n')[0]}`,
      );
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: 100 });
    } catch (error) {
      // yaml refuses documents whose aliases would expand without bound (and similar) by throwing.
      throw new ManifestError(`${source}: document ${index + 1} cannot be read: ${(error as Error).message}`);
    }
    if (value === null || value === undefined) continue;
    if (!isRecord(value))
      throw new ManifestError(
        `${source}: document ${index + 1} is not an object (a Kubernetes manifest has apiVersion, kind and metadata)`,
      );
    if (value.kind === 'List' && Array.isArray(value.items)) {
      for (const item of value.items) if (isRecord(item)) out.push(item);
      continue;
    }
    out.push(value);
  }
  return out;
}

export function formatManifests(manifests: readonly Manifest[]): string {
  return manifests.map((manifest) => stringify(manifest, { lineWidth: 0 })).join('---\n');
}

/** `metadata.name`/`namespace` as strings ('' when absent). */
export function metaOf(manifest: Manifest): {
  name: string;
  namespace: string | undefined;
  labels: Record<string, string>;
  annotations: Record<string, string>;
} {
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  const name =
    typeof metadata.name === 'string'
      ? metadata.name
      : typeof metadata.generateName === 'string'
        ? metadata.generateName
        : '';
  const namespace =
    typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  const strings = (value: unknown): Record<string, string> =>
    isRecord(value)
      ? Object.fromEntries(
          Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
        )
      : {};
  return { name, namespace, labels: strings(metadata.labels), annotations: strings(metadata.annotations) };
}

export function sourceOf(manifest: Manifest): { apiVersion?: string; kind: string; namespace?: string; name: string } {
  const { name, namespace } = metaOf(manifest);
  return {
    ...(typeof manifest.apiVersion === 'string' ? { apiVersion: manifest.apiVersion } : {}),
    kind: typeof manifest.kind === 'string' ? manifest.kind : 'document',
    ...(namespace ? { namespace } : {}),
    name,
  };
}

/**
 * Metadata worth carrying to a new object: name, namespace, labels and the user's annotations. Server-
 * set fields (uid, resourceVersion, managedFields, finalizers, ownerReferences…) belong to the old
 * object and would be refused or misleading on the new one.
 */
export function portableMetadata(manifest: Manifest): Manifest {
  const { name, namespace, labels, annotations } = metaOf(manifest);
  const kept = Object.fromEntries(
    Object.entries(annotations).filter(([key]) => key !== 'kubectl.kubernetes.io/last-applied-configuration'),
  );
  return {
    name,
    ...(namespace ? { namespace } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(Object.keys(kept).length > 0 ? { annotations: kept } : {}),
  };
}
