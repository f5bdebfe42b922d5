// Shapes shared by every kind of the API group: names, object metadata, conditions, the spec error.

export const GROUP = 'secrets.vaultbridge.dev';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The API group and version the operator serves its kinds under. */
export interface ApiGroup {
  group: string;
  version: string;
}

/** Ours (the default). */
export const OUR_API: ApiGroup = { group: GROUP, version: VERSION };
/**
 * VSO's: the same kinds and fields under `secrets.hashicorp.com/v1beta1`, served instead of ours in VSO
 * group mode (a cluster migrating away from VSO keeps its manifests; see the README, "Serving VSO's API group").
 */
export const VSO_API: ApiGroup = { group: 'secrets.hashicorp.com', version: 'v1beta1' };

export const apiVersionOf = (api: ApiGroup): string => `${api.group}/${api.version}`;

/**
 * Set (or change) this annotation to sync an object now: new credentials for a VaultDynamicSecret, a new
 * certificate for a VaultPKISecret, a fresh read for a VaultStaticSecret. The value handled last is kept
 * in `status.lastForceSync`, so each new value acts once.
 */
export const FORCE_SYNC_ANNOTATION = 'secrets.vaultbridge.dev/force-sync';

/** Go `time.ParseDuration` subset VSO accepts in its CRDs (`30s`, `1.5m`, `2h`). */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(s|m|h))$';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: Date;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** A spec that cannot be used, naming the field (`spec.destination.name`) and what to change. */
export class SpecError extends Error {
  readonly code = 'INVALID_SPEC';
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'SpecError';
    this.field = field;
  }
}

export interface ObjectRef {
  namespace: string;
  name: string;
}

/**
 * `name` or `namespace/name`; a bare name is in `defaultNamespace`. Empty gives `default` in
 * `emptyNamespace` (the operator's namespace), as VSO does.
 */
export function parseObjectRef(
  value: unknown,
  field: string,
  defaultNamespace: string,
  emptyNamespace: string,
): ObjectRef {
  if (value === undefined || value === null || value === '') return { namespace: emptyNamespace, name: 'default' };
  if (typeof value !== 'string') throw new SpecError(field, 'expected a string "name" or "namespace/name"');
  const parts = value.split('/');
  const valid = (part: string | undefined): part is string =>
    part !== undefined && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(part);
  if (parts.length === 1 && valid(parts[0])) return { namespace: defaultNamespace, name: parts[0] };
  if (parts.length === 2 && valid(parts[0]) && valid(parts[1])) return { namespace: parts[0], name: parts[1] };
  throw new SpecError(
    field,
    `"${value}" is not a reference; expected "name" or "namespace/name" (lower-case DNS names)`,
  );
}

// --- OpenAPI pieces every kind's status uses (the Kubernetes shapes, not described in zod) ---

export const conditionsSchema = {
  type: 'array',
  description:
    "The latest observations of the object's state (metav1.Condition), one per type: Ready, Healthy, and per kind SecretSynced.",
  items: {
    type: 'object',
    description: 'One observation (metav1.Condition).',
    required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
    properties: {
      type: {
        type: 'string',
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
        description: 'What is observed, e.g. Ready.',
      },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'True, False or Unknown.' },
      observedGeneration: {
        type: 'integer',
        format: 'int64',
        minimum: 0,
        description: 'The metadata.generation the observation was made for.',
      },
      lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed.' },
      reason: {
        type: 'string',
        maxLength: 1024,
        minLength: 1,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
        description: 'Why, in one CamelCase word, e.g. VaultAddressNotAllowed.',
      },
      message: { type: 'string', maxLength: 32768, description: 'Why, for a person: the field at fault and the fix.' },
    },
  },
  'x-kubernetes-list-map-keys': ['type'],
  'x-kubernetes-list-type': 'map',
} as const;

export const healthyReadyColumns = [
  { name: 'Healthy', type: 'string', jsonPath: '.status.conditions[?(@.type=="Healthy")].status' },
  { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];
