// SecretProviderClass for the vault provider, both ways: written from connection settings and objects,
// and read back with the CSI provider's own `objects` parser (parseObjects), so what this package
// accepts and writes is what the provider serves.
import type { V1Volume } from '@kubernetes/client-node';
import { parseObjects, type SecretObject } from '@vaultbridge/csi-provider';
import { parse, stringify } from 'yaml';
import { isRecord, type Manifest } from './manifests.ts';

export const SPC_API_VERSION = 'secrets-store.csi.x-k8s.io/v1';
export const CSI_DRIVER = 'secrets-store.csi.k8s.io';

/** Connection parameters with the provider's names (vault-csi-provider internal/config). */
export interface SpcConnection {
  readonly vaultAddress?: string;
  readonly roleName: string;
  readonly vaultKubernetesMountPath?: string;
  readonly vaultNamespace?: string;
  readonly vaultSkipTLSVerify?: boolean;
  readonly vaultTLSServerName?: string;
  readonly audience?: string;
}

/** One `objects` entry as written. */
export interface SpcObject {
  readonly objectName: string;
  readonly secretPath: string;
  readonly secretKey?: string;
  /** ours: a template over the secret's data (handlebars, or Go with templateEngine: go) */
  readonly template?: string;
  readonly templateEngine?: 'go' | 'handlebars';
  readonly method?: string;
  readonly secretArgs?: Record<string, unknown>;
  readonly filePermission?: number;
  readonly encoding?: string;
}

/** `objects` YAML; file modes in the YAML 1.1 octal form the docs use (`0400`), which yaml.v3 and ours read as octal. */
export function objectsYaml(objects: readonly SpcObject[]): string {
  const text = stringify(
    objects.map((object) => ({ ...object })),
    { lineWidth: 0 },
  );
  return text.replace(
    /^(\s*-?\s*filePermission: )(\d+)$/gm,
    (_all, head: string, mode: string) => `${head}0${Number(mode).toString(8)}`,
  );
}

export function secretProviderClass(
  name: string,
  namespace: string,
  connection: SpcConnection,
  objects: readonly SpcObject[],
  secretObjects?: readonly unknown[],
): Manifest {
  const parameters: Record<string, string> = {};
  if (connection.vaultAddress) parameters.vaultAddress = connection.vaultAddress;
  parameters.roleName = connection.roleName;
  if (connection.vaultKubernetesMountPath) parameters.vaultKubernetesMountPath = connection.vaultKubernetesMountPath;
  if (connection.vaultNamespace) parameters.vaultNamespace = connection.vaultNamespace;
  if (connection.vaultSkipTLSVerify) parameters.vaultSkipTLSVerify = 'true';
  if (connection.vaultTLSServerName) parameters.vaultTLSServerName = connection.vaultTLSServerName;
  if (connection.audience) parameters.audience = connection.audience;
  parameters.objects = objectsYaml(objects);
  return {
    apiVersion: SPC_API_VERSION,
    kind: 'SecretProviderClass',
    metadata: { name, namespace },
    spec: { provider: 'vault', parameters, ...(secretObjects && secretObjects.length > 0 ? { secretObjects } : {}) },
  };
}

export function csiVolume(name: string, secretProviderClass: string): V1Volume {
  return { name, csi: { driver: CSI_DRIVER, readOnly: true, volumeAttributes: { secretProviderClass } } };
}

export function isVaultSpc(manifest: Manifest): boolean {
  return (
    manifest.kind === 'SecretProviderClass' &&
    typeof manifest.apiVersion === 'string' &&
    manifest.apiVersion.startsWith('secrets-store.csi.x-k8s.io/') &&
    isRecord(manifest.spec) &&
    manifest.spec.provider === 'vault'
  );
}

export interface ParsedSpc {
  readonly parameters: Record<string, string>;
  /** the entries the provider accepts, each with its template text as written (the parser compiles it) */
  readonly objects: Array<SecretObject & { readonly templateText?: string }>;
  /** problems with field names as the provider reports them (`objects[0].secretPath`) */
  readonly issues: ReadonlyArray<{ field: string; message: string }>;
  readonly secretObjects: unknown[];
}

export function parseSpc(manifest: Manifest): ParsedSpc {
  const spec = isRecord(manifest.spec) ? manifest.spec : {};
  const raw = isRecord(spec.parameters) ? spec.parameters : {};
  const parameters = Object.fromEntries(
    Object.entries(raw).map(([key, value]) => [key, typeof value === 'string' ? value : String(value)]),
  );
  const issues: Array<{ field: string; message: string }> = [];
  // The provider's issue collector is a plain list with add(); ours has the same shape.
  const collector = { list: issues, add: (field: string, message: string) => void issues.push({ field, message }) };
  const objects = parseObjects(parameters.objects, collector as unknown as Parameters<typeof parseObjects>[1]);
  let written: unknown = [];
  try {
    written = parameters.objects ? parse(parameters.objects) : [];
  } catch {
    // parseObjects has already reported the YAML error.
  }
  const templates = new Map<string, string>();
  for (const entry of Array.isArray(written) ? written : []) {
    if (isRecord(entry) && typeof entry.objectName === 'string' && typeof entry.template === 'string')
      templates.set(entry.objectName, entry.template);
  }
  return {
    parameters,
    objects: objects.map((object) =>
      templates.has(object.objectName) ? { ...object, templateText: templates.get(object.objectName)! } : object,
    ),
    issues,
    secretObjects: Array.isArray(spec.secretObjects) ? spec.secretObjects : [],
  };
}
