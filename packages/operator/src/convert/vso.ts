// VSO manifests (secrets.hashicorp.com/v1beta1) → ours (secrets.vaultbridge.dev/v1beta1). The kinds and
// field names are the same by design, so most objects only change apiVersion; what does not carry over
// is found by the operator's own CRD schemas (fields it would prune) and its own spec parsers (specs it
// would refuse), so this report stays true as the operator grows.
import { API_VERSION, SpecError } from '../api/common.ts';
import { crds } from '../api/crds.ts';
import { parseSecretTransformationSpec } from '../api/secret-transformation.ts';
import { parseVaultAuthSpec } from '../api/vault-auth.ts';
import { unsupportedMessage, unsupportedVsoKind } from '../api/vso-unsupported.ts';
import {
  mergeVaultAuthGlobal,
  parseVaultAuthGlobalSpec,
  vaultAuthGlobalAllows,
  vaultAuthGlobalCandidates,
  vaultAuthGlobalRefOf,
} from '../api/vault-auth-global.ts';
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
  VaultAuthGlobal: parseVaultAuthGlobalSpec,
  VaultStaticSecret: parseVaultStaticSecretSpec,
  VaultDynamicSecret: parseVaultDynamicSecretSpec,
  VaultPKISecret: parseVaultPkiSecretSpec,
  SecretTransformation: parseSecretTransformationSpec,
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
  'VaultAuthGlobal spec.aws': {
    severity: 'dropped',
    reason:
      'the aws auth method is not implemented by the Vaultbridge operator, so its defaults are left out; a VaultAuth using them is refused naming spec.method',
  },
  'VaultAuthGlobal spec.gcp': {
    severity: 'dropped',
    reason:
      'the gcp auth method is not implemented by the Vaultbridge operator, so its defaults are left out; a VaultAuth using them is refused naming spec.method',
  },
};

function schemaOf(kind: string): unknown {
  const crd = crds().find((item) => item.spec.names.kind === kind);
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

// --- VaultAuthGlobal: a kind here too, merged at use time as VSO does; here only to check the VaultAuth ---

type Json = Record<string, unknown>;

function findGlobal(
  authSpec: Json,
  authNamespace: string | undefined,
  globals: readonly Manifest[],
): Manifest | undefined {
  const ref = vaultAuthGlobalRefOf(authSpec);
  if (ref === undefined) return undefined;
  const namespace = authNamespace ?? 'default';
  // The operator namespace is not known here: the default search looks in the VaultAuth's namespace,
  // then in any namespace of the input.
  const candidates = vaultAuthGlobalCandidates(ref, namespace, namespace);
  for (const candidate of candidates) {
    const found = globals.find(
      (global) =>
        sourceOf(global).name === candidate.name && (sourceOf(global).namespace ?? namespace) === candidate.namespace,
    );
    if (found) return found;
  }
  return ref.name || ref.namespace ? undefined : globals.find((global) => sourceOf(global).name === 'default');
}

/**
 * The VaultAuth's spec as the operator will use it: merged with its VaultAuthGlobal when that is in
 * the input (reported when it is not, or does not allow the VaultAuth's namespace).
 */
function effectiveAuthSpec(
  spec: Json,
  source: ConversionSource,
  globals: readonly Manifest[],
  findings: ConversionReport,
): Json | undefined {
  if (spec.vaultAuthGlobalRef === undefined || spec.vaultAuthGlobalRef === null) return spec;
  const global = findGlobal(spec, source.namespace, globals);
  if (global === undefined) {
    findings.add(
      'info',
      source,
      'spec.vaultAuthGlobalRef',
      'the referenced VaultAuthGlobal was not in the input, so this VaultAuth was not checked with its defaults; convert the VaultAuthGlobal too (it is a Vaultbridge kind, merged at login as VSO does)',
    );
    return undefined;
  }
  const globalSource = sourceOf(global);
  const globalRef = { namespace: globalSource.namespace ?? source.namespace ?? 'default', name: globalSource.name };
  const globalSpec = parseVaultAuthGlobalSpec(global.spec);
  if (!vaultAuthGlobalAllows(globalRef, globalSpec, source.namespace ?? 'default', '')) {
    findings.add(
      'error',
      source,
      'spec.vaultAuthGlobalRef',
      `VaultAuthGlobal ${globalRef.namespace}/${globalRef.name} does not list namespace ${source.namespace ?? '(none)'} in spec.allowedNamespaces; VSO refuses this VaultAuth too`,
    );
    return undefined;
  }
  return mergeVaultAuthGlobal(spec, globalSpec, `${globalRef.namespace}/${globalRef.name}`);
}

/** One VSO object → ours, or undefined when the kind has no counterpart (reported). */
function convertOne(
  manifest: Manifest,
  globals: readonly Manifest[],
  findings: ConversionReport,
): Manifest | undefined {
  const source = sourceOf(manifest);
  const kind = source.kind;
  const unsupported = unsupportedVsoKind(kind);
  const notConverted = unsupported && `${unsupportedMessage(unsupported)}; left out`;
  if (notConverted !== undefined || PARSERS[kind] === undefined) {
    findings.add(
      'error',
      source,
      'kind',
      notConverted ?? `${kind} is not a kind of ${VSO_GROUP} that Vaultbridge knows; left out`,
    );
    return undefined;
  }
  const spec: Json = isRecord(manifest.spec) ? manifest.spec : {};
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
    // A VaultAuth is checked as the operator will use it, merged with its VaultAuthGlobal.
    const checked =
      kind === 'VaultAuth' ? effectiveAuthSpec(pruned.value as Json, source, globals, findings) : pruned.value;
    if (checked !== undefined) PARSERS[kind]!(checked);
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
