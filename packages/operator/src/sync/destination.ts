// Pure: Vault data + spec → the desired Secret, and the decision whether an existing one may be written.
import type { V1ObjectMeta, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import { goJson, goJsonMember } from '@vaultbridge/core';
import type { Destination, Transformation } from '../api/sync-target.ts';
import { secretMac } from './hmac.ts';
import { cacheStrings } from '../runtime/intern.ts';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'vaultbridge-operator';
export const OWNER_UID_LABEL = 'secrets.vaultbridge.dev/owner-uid';
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
/**
 * With `destination.create: false`, the existing Secret must carry this annotation naming the objects
 * that may write its data (`VaultStaticSecret/app`, comma-separated, or `*`): whoever can edit the
 * Secret says so, so creating a VaultStaticSecret does not grant write on any Secret of the namespace.
 */
export const ALLOW_SYNC_ANNOTATION = 'secrets.vaultbridge.dev/allow-sync-from';
/** Secret types whose data belongs to Kubernetes or helm: never written, opt-in or not. */
const PROTECTED_TYPES = new Set([
  'kubernetes.io/service-account-token',
  'helm.sh/release.v1',
  'bootstrap.kubernetes.io/token',
]);

export interface Owner {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

/** A Vault field that would clash with the `_raw` key VSO adds. */
export class SecretDataError extends Error {
  readonly code = 'SECRET_DATA';
  constructor(message: string) {
    super(message);
    this.name = 'SecretDataError';
  }
}

/**
 * Secret `.data` (base64) as VSO builds it: every top-level field of `keys` (strings as-is, anything
 * else as JSON) plus `_raw`, the JSON of the whole Vault data. The JSON is Go's encoding/json bytes
 * (HTML-safe strings, sorted keys, number literals as Vault sent them), so the data and its MAC are
 * byte-identical to VSO's.
 */
export function buildSecretData(
  fields: Record<string, unknown>,
  raw: unknown,
  keys: readonly string[] = Object.keys(fields),
): Record<string, string> {
  if (keys.includes('_raw'))
    throw new SecretDataError('the Vault secret has a field named "_raw", which is reserved for the raw data');
  const data: Record<string, string> = { _raw: Buffer.from(goJson(raw)).toString('base64') };
  for (const key of keys) {
    const value = fields[key];
    // goJsonMember, not goJson(value): a top-level number's literal is kept on `fields`.
    const text = typeof value === 'string' ? value : goJsonMember(fields, key);
    data[key] = Buffer.from(text).toString('base64');
  }
  return data;
}

/** What templates see besides the secret's fields (VSO's `.Metadata`, `.Annotations`, `.Labels`). */
export interface TemplateContext {
  metadata?: unknown;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
}

/**
 * Secret `.data` after `destination.transformation`: raw keys minus excludes, then only includes (when
 * any), `_raw` unless excludeRaw, and one key per template rendered over `{ Secrets, Metadata,
 * Annotations, Labels }` (Go: `{{ .Secrets.password }}`; handlebars: `{{Secrets.password}}`). Without a
 * transformation, buildSecretData.
 */
export function transformSecretData(
  fields: Record<string, unknown>,
  raw: unknown,
  transformation: Transformation | undefined,
  context: TemplateContext = {},
): Record<string, string> {
  if (transformation === undefined) return buildSecretData(fields, raw);
  const kept = Object.keys(fields).filter(
    (key) =>
      !transformation.excludes.some((pattern) => pattern.test(key)) &&
      (transformation.includes.length === 0 || transformation.includes.some((pattern) => pattern.test(key))),
  );
  const data = buildSecretData(fields, raw, kept);
  if (transformation.excludeRaw) delete data._raw;
  const input = {
    Secrets: fields,
    Metadata: context.metadata ?? {},
    Annotations: context.annotations ?? {},
    Labels: context.labels ?? {},
  };
  for (const [key, render] of Object.entries(transformation.templates)) {
    let text: string;
    try {
      text = render(input);
    } catch (error) {
      // The engine names the template and the field; values never reach the message.
      throw new SecretDataError(`template for key "${key}": ${(error as Error).message}`);
    }
    data[key] = Buffer.from(text, 'utf8').toString('base64');
  }
  return data;
}

export function ownerReference(owner: Owner): V1OwnerReference {
  // No controller/blockOwnerDeletion, as VSO: GC deletes the Secret with its owner.
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.name, uid: owner.uid };
}

export function ownerLabels(owner: Owner): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY, [OWNER_UID_LABEL]: owner.uid };
}

/**
 * The label VSO puts on the Secrets it creates, with the owning object's UID. In VSO group mode we serve
 * the very objects VSO served (same UIDs), so a Secret VSO created for one of them is that object's.
 */
export const VSO_OWNER_UID_LABEL = 'secrets.hashicorp.com/vso-ownerRefUID';

export function isOwnedBy(secret: ExistingSecret, owner: Owner): boolean {
  const labels = secret.metadata?.labels;
  return (
    (secret.metadata?.ownerReferences ?? []).some((ref) => ref.uid === owner.uid) &&
    (labels?.[OWNER_UID_LABEL] === owner.uid || labels?.[VSO_OWNER_UID_LABEL] === owner.uid)
  );
}

/**
 * A destination Secret as the destination watch keeps it: the fields planWrite and the drift check read,
 * and the MAC (the operator's key) of its data instead of the data. Drift is a MAC comparison, so the
 * values never have to stay in memory; a write that needs the whole Secret (`create: false`, where the
 * user's metadata is sent back) reads it from the API server.
 */
export interface CachedSecret {
  metadata: Pick<V1ObjectMeta, 'name' | 'namespace' | 'resourceVersion' | 'labels' | 'annotations' | 'ownerReferences'>;
  type?: string;
  data?: undefined;
  /** secretMac(operator key, data) of the Secret as the API server sent it. */
  dataMac: string;
}

/** What the operator knows of an existing destination: the whole Secret (read) or the cache's summary. */
export type ExistingSecret = V1Secret | CachedSecret;

export function isCachedSecret(secret: ExistingSecret): secret is CachedSecret {
  return 'dataMac' in secret && typeof secret.dataMac === 'string';
}

/**
 * The cache's summary of a Secret, built as a new object of one fixed shape (V8 shares one hidden class
 * for all of them; the parsed Secret, its data and every field not listed here become garbage), its
 * repeated strings (namespace, label values, owner kind and apiVersion) interned.
 */
export function toCachedSecret(macKey: Buffer, secret: V1Secret): CachedSecret {
  const metadata = secret.metadata ?? {};
  return cacheStrings.internValues({
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      resourceVersion: metadata.resourceVersion,
      labels: metadata.labels,
      annotations: metadata.annotations,
      ownerReferences: metadata.ownerReferences,
    },
    type: secret.type,
    dataMac: secretMac(macKey, secret.data ?? {}),
  });
}

/** The MAC (the operator's key) of an existing destination's data. */
export function existingDataMac(macKey: Buffer, secret: ExistingSecret): string {
  return isCachedSecret(secret) ? secret.dataMac : secretMac(macKey, secret.data ?? {});
}

/**
 * Whether `existing` holds `data`. A cached summary has only the MAC of its data, so it compares with
 * `dataMac` (the MAC of `data` under the same key); without it the data counts as different (one write
 * more, never one less).
 */
function holdsData(existing: ExistingSecret, data: Record<string, string>, dataMac: string | undefined): boolean {
  if (isCachedSecret(existing)) return dataMac !== undefined && existing.dataMac === dataMac;
  return sameMap(existing.data, data);
}

export type WritePlan =
  | { action: 'create'; secret: V1Secret }
  | { action: 'update'; secret: V1Secret }
  | { action: 'none' }
  | {
      action: 'refuse';
      reason:
        | 'DestinationNotOwned'
        | 'DestinationMissing'
        | 'DestinationTypeChange'
        | 'DestinationNotOptedIn'
        | 'DestinationProtected'
        | 'DestinationTypeNotAllowed';
      message: string;
    };

function sameMap(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  const left = a ?? {};
  const right = b ?? {};
  const keys = Object.keys(left);
  return keys.length === Object.keys(right).length && keys.every((key) => left[key] === right[key]);
}

/**
 * Why a Secret the operator did not create (`create: false`) may not get this owner's data, if it may
 * not: one of Kubernetes' or helm's own, one another controller owns, a non-Opaque type the spec does not
 * name, or no opt-in annotation naming this owner.
 */
function refuseUnownedWrite(
  destination: Destination,
  namespace: string,
  owner: Owner,
  existing: ExistingSecret,
): WritePlan | undefined {
  const where = `Secret ${namespace}/${destination.name}`;
  const type = existing.type || 'Opaque';
  const labels = existing.metadata?.labels ?? {};
  const annotations = existing.metadata?.annotations ?? {};
  if (
    PROTECTED_TYPES.has(type) ||
    labels.owner === 'helm' ||
    annotations['kubernetes.io/service-account.name'] !== undefined
  ) {
    return {
      action: 'refuse',
      reason: 'DestinationProtected',
      message: `${where} is a ${type === 'Opaque' ? 'helm or service-account' : type} Secret, which is never overwritten with Vault data; name another Secret in spec.destination.name`,
    };
  }
  const controller = (existing.metadata?.ownerReferences ?? []).find(
    (ref) => ref.controller === true && ref.uid !== owner.uid,
  );
  if (controller) {
    return {
      action: 'refuse',
      reason: 'DestinationProtected',
      message: `${where} is controlled by ${controller.kind} ${controller.name}, which would fight over its data; name another Secret in spec.destination.name`,
    };
  }
  if (type !== 'Opaque' && type !== destination.type) {
    return {
      action: 'refuse',
      reason: 'DestinationTypeNotAllowed',
      message: `${where} has type ${type}; set spec.destination.type to ${type} to write it anyway`,
    };
  }
  const allowed = (annotations[ALLOW_SYNC_ANNOTATION] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (!allowed.includes('*') && !allowed.includes(`${owner.kind}/${owner.name}`)) {
    return {
      action: 'refuse',
      reason: 'DestinationNotOptedIn',
      message: `${where} exists and spec.destination.create is false, but the Secret does not allow it: annotate it with ${ALLOW_SYNC_ANNOTATION}: ${owner.kind}/${owner.name} (whoever may edit the Secret decides)`,
    };
  }
  return undefined;
}

/**
 * What to do with the destination given what exists. Never writes a Secret another party owns
 * (unless `overwrite` and it is unlabelled), never deletes one. `dataMac` is secretMac(operator key,
 * data), when the caller has it: it lets a cached summary (no data) be compared.
 */
export function planWrite(
  destination: Destination,
  namespace: string,
  owner: Owner,
  data: Record<string, string>,
  existing: ExistingSecret | undefined,
  dataMac?: string,
): WritePlan {
  if (!destination.create) {
    if (!existing) {
      return {
        action: 'refuse',
        reason: 'DestinationMissing',
        message: `Secret ${namespace}/${destination.name} does not exist and spec.destination.create is false`,
      };
    }
    const refusal = refuseUnownedWrite(destination, namespace, owner, existing);
    if (refusal) return refusal;
    if (holdsData(existing, data, dataMac)) return { action: 'none' };
    // The user's metadata is sent back as it is, so a summary without it must never reach here.
    if (isCachedSecret(existing))
      throw new Error(
        `Secret ${namespace}/${destination.name}: create: false needs the Secret as read, not the cache's summary`,
      );
    // Only data is ours to set: labels, annotations, type and owners stay the user's.
    return { action: 'update', secret: { ...existing, data } };
  }
  const labels = { ...destination.labels, ...ownerLabels(owner) };
  const desired: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: destination.name,
      namespace,
      labels,
      annotations: destination.annotations,
      ownerReferences: [ownerReference(owner)],
    },
    type: destination.type || 'Opaque',
    data,
  };
  if (!existing) return { action: 'create', secret: desired };
  if (!isOwnedBy(existing, owner)) {
    const labelledByOther = existing.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;
    if (!destination.overwrite || labelledByOther) {
      return {
        action: 'refuse',
        reason: 'DestinationNotOwned',
        message: labelledByOther
          ? `Secret ${namespace}/${destination.name} is managed by another object; spec.destination.name must name a Secret no other object syncs`
          : `Secret ${namespace}/${destination.name} exists and is not owned by this object; set spec.destination.overwrite to take it over`,
      };
    }
  }
  if ((existing.type ?? 'Opaque') !== desired.type) {
    return {
      action: 'refuse',
      reason: 'DestinationTypeChange',
      message: `Secret ${namespace}/${destination.name} has type ${existing.type ?? 'Opaque'} but spec.destination.type asks for ${desired.type}; the type of a Secret cannot change, delete the Secret to recreate it`,
    };
  }
  const existingOwners = existing.metadata?.ownerReferences ?? [];
  const unchanged =
    holdsData(existing, data, dataMac) &&
    sameMap(existing.metadata?.labels, labels) &&
    sameMap(existing.metadata?.annotations, destination.annotations) &&
    existingOwners.length === 1 &&
    existingOwners[0]?.uid === owner.uid;
  if (unchanged) return { action: 'none' };
  return {
    action: 'update',
    secret: { ...desired, metadata: { ...desired.metadata, resourceVersion: existing.metadata?.resourceVersion } },
  };
}
