// VSO manifests (secrets.hashicorp.com/v1beta1) → ours (secrets.vaultbridge.dev/v1beta1). The kinds and
// field names are the same by design, so most objects only change apiVersion; what does not carry over
// is found by the operator's own CRD schemas (fields it would prune) and its own spec parsers (specs it
// would refuse), so this report stays true as the operator grows.
import { API_VERSION, SpecError } from '../api/common.ts';
import { crds } from '../api/crds.ts';
import { parseSecretTransformationSpec } from '../api/secret-transformation.ts';
import { parseVaultAuthSpec } from '../api/vault-auth.ts';
import { parseVaultConnectionSpec } from '../api/vault-connection.ts';
import { parseVaultDynamicSecretSpec } from '../api/vault-dynamic-secret.ts';
import { parseVaultPkiSecretSpec } from '../api/vault-pki-secret.ts';
import { parseVaultStaticSecretSpec } from '../api/vault-static-secret.ts';
import {
  isRecord,
  portableMetadata,
  sourceOf,
  type ConversionReport,
  type ConversionSource,
  type Manifest,
} from './report.ts';
import { pruneBySchema } from './schema-prune.ts';

export const VSO_GROUP = 'secrets.hashicorp.com';

export function isVsoManifest(manifest: Manifest): boolean {
  return typeof manifest.apiVersion === 'string' && manifest.apiVersion.startsWith(`${VSO_GROUP}/`);
}

const PARSERS: Record<string, (spec: unknown) => unknown> = {
  VaultConnection: parseVaultConnectionSpec,
  VaultAuth: parseVaultAuthSpec,
  VaultStaticSecret: parseVaultStaticSecretSpec,
  VaultDynamicSecret: parseVaultDynamicSecretSpec,
  VaultPKISecret: parseVaultPkiSecretSpec,
  SecretTransformation: parseSecretTransformationSpec,
};

/** Kinds of VSO with no counterpart here, and why. */
const NOT_CONVERTED: Record<string, string> = {
  HCPAuth:
    'HCP Vault Secrets is a separate SaaS that Vaultbridge does not talk to; keep VSO for it or move the secrets into Vault',
  HCPVaultSecretsApp:
    'HCP Vault Secrets is a separate SaaS that Vaultbridge does not talk to; keep VSO for it or move the secrets into Vault',
  CSISecrets:
    "VSO's own CSI driver (Vault Enterprise); use a SecretProviderClass with the Vaultbridge CSI provider instead (vaultbridge-migrate --to csi)",
};

/** Why a field our schema lacks matters, where a generic sentence would not help. */
const DROPPED_REASONS: Record<string, { severity: 'error' | 'dropped'; reason: string }> = {
  'VaultConnection spec.caCertPath': {
    severity: 'error',
    reason:
      "names a file in the operator's pod, which Vaultbridge does not read; put the CA in a Secret under key ca.crt and name it in spec.caCertSecretRef",
  },
  'VaultConnection spec.timeout': {
    severity: 'dropped',
    reason:
      'the Vaultbridge operator uses its own per-request deadline for every Vault call; there is no per-connection setting',
  },
  'VaultAuth spec.aws': {
    severity: 'error',
    reason: 'the aws auth method is not implemented by the Vaultbridge operator (kubernetes, jwt and appRole are)',
  },
  'VaultAuth spec.gcp': {
    severity: 'error',
    reason: 'the gcp auth method is not implemented by the Vaultbridge operator (kubernetes, jwt and appRole are)',
  },
  'VaultAuth spec.vaultAuthGlobalRef': {
    severity: 'error',
    reason:
      'VaultAuthGlobal is not a Vaultbridge kind and the referenced VaultAuthGlobal was not in the input, so its defaults could not be merged in; convert it together with this VaultAuth',
  },
};

function schemaOf(kind: string): unknown {
  const crd = crds.find((item) => item.spec.names.kind === kind);
  return crd === undefined
    ? undefined
    : (crd.spec.versions[0]!.schema.openAPIV3Schema as { properties: Record<string, unknown> }).properties.spec;
}

function behaviourFindings(
  kind: string,
  spec: Record<string, unknown>,
  source: ConversionSource,
  findings: ConversionReport,
): void {
  if (kind === 'VaultDynamicSecret' && spec.revoke !== true) {
    findings.add(
      'changed',
      source,
      'spec.revoke',
      'VSO 1.4 revokes the lease when the object is deleted whatever spec.revoke says; Vaultbridge honours the field, so the lease is left to expire. Set revoke: true to keep the old behaviour',
    );
  }
  if (kind === 'VaultAuth' && isRecord(spec.storageEncryption)) {
    findings.add(
      'changed',
      source,
      'spec.storageEncryption',
      "VSO uses the transit key of one VaultAuth labelled cacheStorageEncryption=true for every client it persists; Vaultbridge keeps the tokens of the VaultAuth that names the key (other VaultAuths need their own storageEncryption), and that VaultAuth's role needs update on <mount>/encrypt/<keyName> and <mount>/decrypt/<keyName>",
    );
  }
  if (kind === 'VaultPKISecret' && typeof spec.issuerRef === 'string' && spec.issuerRef !== '') {
    findings.add(
      'changed',
      source,
      'spec.issuerRef',
      'VSO 1.4.1 requested <mount>/issuer/<ref>/<role> (missing /issue/, fixed upstream later); Vaultbridge requests <mount>/issuer/<ref>/issue/<role>, which is what Vault serves',
    );
  }
}

// --- VaultAuthGlobal: VSO merges it into a VaultAuth at use time; here it is merged once, into the copy ---

type Json = Record<string, unknown>;

const firstText = (...values: unknown[]): string | undefined =>
  values.find((value): value is string => typeof value === 'string' && value !== '');

function mergeMaps(strategy: unknown, auth: unknown, method: unknown, defaults: unknown): Json | undefined {
  const maps = [auth, method, defaults].map((value) => (isRecord(value) ? value : {}));
  switch (strategy) {
    case 'union':
      return { ...maps[2], ...maps[1], ...maps[0] };
    case 'replace':
      return maps.find((map) => Object.keys(map).length > 0);
    default:
      return isRecord(auth) ? auth : undefined;
  }
}

function mergeGlobal(authSpec: Json, global: Manifest, source: ConversionSource, findings: ConversionReport): Json {
  const globalSpec = isRecord(global.spec) ? global.spec : {};
  const ref = isRecord(authSpec.vaultAuthGlobalRef) ? authSpec.vaultAuthGlobalRef : {};
  const strategy = isRecord(ref.mergeStrategy) ? ref.mergeStrategy : {};
  const method = firstText(authSpec.method, globalSpec.defaultAuthMethod);
  const block = method !== undefined && isRecord(globalSpec[method]) ? (globalSpec[method] as Json) : {};
  const {
    namespace: blockNamespace,
    mount: blockMount,
    params: blockParams,
    headers: blockHeaders,
    ...blockConfig
  } = block;
  const merged: Json = { ...authSpec };
  delete merged.vaultAuthGlobalRef;
  if (method !== undefined) merged.method = method;
  const mount = firstText(authSpec.mount, blockMount, globalSpec.defaultMount);
  const namespace = firstText(authSpec.namespace, blockNamespace, globalSpec.defaultVaultNamespace);
  const connection = firstText(authSpec.vaultConnectionRef, globalSpec.vaultConnectionRef);
  if (mount) merged.mount = mount;
  if (namespace) merged.namespace = namespace;
  if (connection) merged.vaultConnectionRef = connection;
  const headers = mergeMaps(strategy.headers, authSpec.headers, blockHeaders, globalSpec.headers);
  if (headers) merged.headers = headers;
  const params = mergeMaps(strategy.params, authSpec.params, blockParams, globalSpec.params);
  if (params) merged.params = params;
  if (method !== undefined) {
    const own = isRecord(authSpec[method]) ? (authSpec[method] as Json) : {};
    const filled: Json = { ...blockConfig };
    for (const [key, value] of Object.entries(own))
      if (value !== undefined && value !== null && value !== '') filled[key] = value;
    if (Object.keys(filled).length > 0) merged[method] = filled;
  }
  findings.add(
    'info',
    source,
    'spec.vaultAuthGlobalRef',
    `merged in VaultAuthGlobal ${sourceOf(global).namespace ?? ''}/${sourceOf(global).name} (method, mount, namespace, connection and the ${method ?? 'method'} block), as VSO does at use time; later changes to that VaultAuthGlobal no longer apply`,
  );
  return merged;
}

function findGlobal(
  authSpec: Json,
  authNamespace: string | undefined,
  globals: readonly Manifest[],
): Manifest | undefined {
  const ref = isRecord(authSpec.vaultAuthGlobalRef) ? authSpec.vaultAuthGlobalRef : undefined;
  if (ref === undefined) return undefined;
  const name = firstText(ref.name) ?? (ref.allowDefault === true ? 'default' : undefined);
  if (name === undefined) return undefined;
  const namespace = firstText(ref.namespace) ?? authNamespace;
  return globals.find((global) => sourceOf(global).name === name && sourceOf(global).namespace === namespace);
}

function globalAllows(global: Manifest, namespace: string | undefined): boolean {
  const spec = isRecord(global.spec) ? global.spec : {};
  const allowed = Array.isArray(spec.allowedNamespaces) ? spec.allowedNamespaces : [];
  return sourceOf(global).namespace === namespace || allowed.includes('*') || allowed.includes(namespace);
}

/** One VSO object → ours, or undefined when the kind has no counterpart (reported). */
function convertOne(
  manifest: Manifest,
  globals: readonly Manifest[],
  findings: ConversionReport,
): Manifest | undefined {
  const source = sourceOf(manifest);
  const kind = source.kind;
  if (kind === 'VaultAuthGlobal') {
    findings.add(
      'info',
      source,
      'kind',
      'not a Vaultbridge kind; its defaults were merged into the VaultAuths of the input that reference it, and the object itself is left out',
    );
    return undefined;
  }
  const notConverted = NOT_CONVERTED[kind];
  if (notConverted !== undefined || PARSERS[kind] === undefined) {
    findings.add(
      'error',
      source,
      'kind',
      notConverted ?? `${kind} is not a kind of ${VSO_GROUP} that Vaultbridge knows; left out`,
    );
    return undefined;
  }
  let spec: Json = isRecord(manifest.spec) ? manifest.spec : {};
  if (kind === 'VaultAuth' && spec.vaultAuthGlobalRef !== undefined) {
    const global = findGlobal(spec, source.namespace, globals);
    if (global !== undefined && globalAllows(global, source.namespace))
      spec = mergeGlobal(spec, global, source, findings);
    else if (global !== undefined)
      findings.add(
        'error',
        source,
        'spec.vaultAuthGlobalRef',
        `VaultAuthGlobal ${sourceOf(global).name} does not list namespace ${source.namespace ?? '(none)'} in spec.allowedNamespaces; VSO would refuse this VaultAuth too`,
      );
  }
  const pruned = pruneBySchema(spec, schemaOf(kind), 'spec');
  for (const field of pruned.dropped) {
    const known = DROPPED_REASONS[`${kind} ${field}`];
    findings.add(
      known?.severity ?? 'dropped',
      source,
      field,
      known?.reason ?? `not a field of the Vaultbridge ${kind}; the API server would drop it, so it is left out`,
    );
  }
  behaviourFindings(kind, spec, source, findings);
  try {
    PARSERS[kind]!(pruned.value);
  } catch (error) {
    if (!(error instanceof SpecError)) throw error;
    findings.add(
      'error',
      source,
      error.field,
      `the Vaultbridge operator will refuse this object (InvalidSpec): ${error.message.slice(error.field.length + 2)}`,
    );
  }
  return { apiVersion: API_VERSION, kind, metadata: portableMetadata(manifest), spec: pruned.value };
}

/** Every VSO object of `manifests` converted (others are passed through unchanged, in order). */
export function convertVsoManifests(manifests: readonly Manifest[], findings: ConversionReport): Manifest[] {
  const globals = manifests.filter((manifest) => isVsoManifest(manifest) && manifest.kind === 'VaultAuthGlobal');
  const out: Manifest[] = [];
  for (const manifest of manifests) {
    if (!isVsoManifest(manifest)) {
      out.push(manifest);
      continue;
    }
    const converted = convertOne(manifest, globals, findings);
    if (converted !== undefined) out.push(converted);
  }
  return out;
}
