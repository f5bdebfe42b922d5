// What a conversion tells its caller, item by item: the object, the source field, the reason. The shape
// is shared with vaultbridge-migrate, which collects the findings of every direction.

export interface ConversionSource {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/**
 * - `error`: the converted object will not work as the original did until someone acts (or it was not
 *   converted at all);
 * - `dropped`: a field was left out because the target has no equivalent; the rest works;
 * - `changed`: expressed, but behaves differently in a way a user could notice;
 * - `info`: a choice the converter made that a reviewer may want to know about.
 */
export type ConversionSeverity = 'error' | 'dropped' | 'changed' | 'info';

export interface ConversionFinding {
  readonly severity: ConversionSeverity;
  readonly source: ConversionSource;
  /** path of the source field, e.g. `spec.aws` */
  readonly field: string;
  readonly reason: string;
}

/** Where findings go. */
export interface ConversionReport {
  add(severity: ConversionSeverity, source: ConversionSource, field: string, reason: string): void;
}

export type Manifest = Record<string, unknown>;

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function sourceOf(manifest: Manifest): ConversionSource {
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  const name =
    typeof metadata.name === 'string'
      ? metadata.name
      : typeof metadata.generateName === 'string'
        ? metadata.generateName
        : '';
  const namespace =
    typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : undefined;
  return {
    ...(typeof manifest.apiVersion === 'string' ? { apiVersion: manifest.apiVersion } : {}),
    kind: typeof manifest.kind === 'string' ? manifest.kind : 'document',
    ...(namespace ? { namespace } : {}),
    name,
  };
}

const strings = (value: unknown): Record<string, string> =>
  isRecord(value)
    ? Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      )
    : {};

/**
 * Metadata worth carrying to a new object: name, namespace, labels and the user's annotations. Server-
 * set fields (uid, resourceVersion, managedFields, finalizers, ownerReferences…) belong to the old
 * object and would be refused or misleading on the new one.
 */
export function portableMetadata(manifest: Manifest): Manifest {
  const metadata = isRecord(manifest.metadata) ? manifest.metadata : {};
  const { name, namespace } = sourceOf(manifest);
  const labels = strings(metadata.labels);
  const annotations = Object.fromEntries(
    Object.entries(strings(metadata.annotations)).filter(
      ([key]) => key !== 'kubectl.kubernetes.io/last-applied-configuration',
    ),
  );
  return {
    name,
    ...(namespace ? { namespace } : {}),
    ...(Object.keys(labels).length > 0 ? { labels } : {}),
    ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}
