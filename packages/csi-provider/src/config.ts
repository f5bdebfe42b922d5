// SecretProviderClass parameters (MountRequest.attributes) → a typed MountConfig, once, at the edge.
// Same parameter names and defaults as hashicorp/vault-csi-provider (internal/config/config.go);
// everything after this module trusts the types.
import {
  authMountPath,
  compileUserTemplate,
  VSO_FUNCS,
  type TemplateRenderer,
  type VaultTlsOptions,
} from '@vaultbridge/core';
import YAML from 'yaml';
import {
  apiPathOf,
  attributesSchema,
  fieldOf,
  fileNameProblem,
  objectEntrySchema,
  parametersSchema,
  permissionSchema,
  podNameKey,
  podNamespaceKey,
  podUidKey,
  serviceAccountNameKey,
  serviceAccountTokensKey,
  readWith,
  secretsSchema,
  skipVerifySchema,
  targetPathSchema,
  type ObjectEncoding,
  type ObjectMethod,
} from './config-schema.ts';
import { MountConfigError, type ConfigIssue } from './errors.ts';
import { sameVaultAddress } from './vault-address.ts';

export {
  fileNameProblem,
  podNameKey,
  podNamespaceKey,
  podUidKey,
  serviceAccountNameKey,
  serviceAccountTokensKey,
  type ObjectEncoding,
  type ObjectMethod,
};

/** The audience whose kubelet token is used when `audience` is not set (as upstream). */
export const defaultTokenAudience = 'vault';
/** Go os.FileMode(0644), what the driver sends as permission. */
export const defaultFilePermission = 0o644;

/** Default cap on `objects` per SecretProviderClass (`--max-objects-per-mount`): each may cost a Vault read and a file. */
export const defaultMaxObjectsPerMount = 200;

/** One entry of `objects`. `raw` keeps the fields as written, for the object version HMAC. */
export interface SecretObject {
  objectName: string;
  /** Vault API path without `/v1/` and without the query. */
  path: string;
  query: Record<string, string>;
  /** `secretPath` as written. */
  secretPath: string;
  secretKey: string | undefined;
  /** ours: a template over the secret's data (KV v2 unwrapped), instead of secretKey: Go with the
   *  operator's (VSO's) functions, or handlebars (templateEngine, or told apart from the text) */
  template?: TemplateRenderer;
  method: ObjectMethod;
  secretArgs: Record<string, unknown> | undefined;
  /** 0 ⇒ the request permission. */
  filePermission: number;
  encoding: ObjectEncoding;
  raw: {
    objectName: string;
    secretPath: string;
    secretKey: string;
    method: string;
    secretArgs: Record<string, unknown> | null;
    filePermission: number;
    encoding: string;
  };
}

export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  serviceAccountName: string;
}

/** Connection settings from flags and SPC parameters (the environment is applied under them by VaultClient.fromEnv). */
export interface ConnectionSettings {
  address?: string;
  namespace?: string;
  tls: VaultTlsOptions;
  /** Which setting each value came from, for error messages. */
  sources: { address?: string; caFile?: string; caPath?: string; clientCert?: string; clientKey?: string };
}

export interface MountConfig {
  roleName: string;
  authMount: string;
  audience: string | undefined;
  connection: ConnectionSettings;
  objects: SecretObject[];
  pod: PodInfo;
  /** The kubelet's token for the audience, when the CSIDriver asks for tokenRequests. */
  serviceAccountToken: { token: string; expiresAt: Date | undefined } | undefined;
  /** Default file mode (MountRequest.permission). */
  filePermission: number;
  targetPath: string;
}

/** Provider flags (`--vault-addr`…); the layer between the environment and the parameters. */
export interface ProviderFlags {
  vaultAddr?: string;
  vaultNamespace?: string;
  vaultMount: string;
  tls: VaultTlsOptions;
  /** Default defaultMaxObjectsPerMount. */
  maxObjectsPerMount?: number;
  /**
   * Addresses a SecretProviderClass's vaultAddress may name besides vaultAddr (`--allowed-vault-addresses`).
   * Empty: any (as upstream); the provider's own TokenRequest is then still sent only to vaultAddr.
   */
  allowedVaultAddresses?: string[];
}

export interface MountRequestFields {
  attributes: string;
  targetPath: string;
  permission: string;
  /** JSON of the nodePublishSecretRef data (the provider uses none of it, but it must be what the driver sends). */
  secrets?: string;
}

class Issues {
  readonly list: ConfigIssue[] = [];
  add(field: string, message: string): void {
    this.list.push({ field, message });
  }
}

/** The parameters as strings; a value of another type is an issue, and left out so the rest is still checked. */
function readAttributes(text: string, issues: Issues): Record<string, string> {
  const input = text || '{}';
  const params = readWith(attributesSchema, input, issues.list, (at) => fieldOf(at) || 'attributes');
  if (params) return params;
  try {
    const value: unknown = JSON.parse(input);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return Object.fromEntries(
        Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      );
  } catch {
    // Already reported: attributes is not JSON.
  }
  return {};
}

/** `secretPath` → API path without `/v1/` and its query (upstream ensureV1Prefix + url.ParseQuery). */
export function splitSecretPath(secretPath: string): { path: string; query: Record<string, string> } {
  const at = secretPath.indexOf('?');
  const query = at === -1 ? {} : Object.fromEntries(new URLSearchParams(secretPath.slice(at + 1)));
  return { path: apiPathOf(secretPath), query };
}

const stringFields = ['objectName', 'secretPath', 'secretKey', 'template', 'templateEngine', 'method', 'encoding'];

/**
 * One `objects` entry as yaml.v3 decodes it into upstream's Go struct, for objectEntrySchema. `entry` is
 * the YAML 1.2 reading (typed: secretArgs keep numbers and booleans), `asText` the failsafe reading
 * (every scalar as its text) and `permissionSource` the YAML 1.1 value of filePermission. String fields
 * take the text, as yaml.v3 does when it decodes any scalar into a Go string (`secretKey: 2024` is
 * "2024", `0x1F` is "0x1F"); a null is "". A list or mapping is kept, for the schema to refuse.
 */
function readEntry(entry: unknown, asText: unknown, permissionSource: unknown): unknown {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return entry;
  const fields = entry as Record<string, unknown>;
  const written = (typeof asText === 'object' && asText !== null && !Array.isArray(asText) ? asText : {}) as Record<
    string,
    unknown
  >;
  const read: Record<string, unknown> = { secretArgs: fields.secretArgs, filePermission: permissionSource };
  for (const key of stringFields) {
    const value = fields[key];
    read[key] =
      value === undefined || value === null
        ? ''
        : typeof value === 'object'
          ? value
          : typeof written[key] === 'string'
            ? written[key]
            : String(value);
  }
  return read;
}

/** One `objects` entry, checked by objectEntrySchema, its template compiled. */
function parseObject(
  entry: unknown,
  asText: unknown,
  permissionSource: unknown,
  index: number,
  issues: Issues,
): SecretObject | undefined {
  const at = `objects[${index}]`;
  const fields = readWith(objectEntrySchema, readEntry(entry, asText, permissionSource), issues.list, (path) =>
    fieldOf(path, at),
  );
  if (fields === undefined) return undefined;
  const { objectName, secretPath, secretKey, method: methodText, encoding: encodingText } = fields;
  let template: TemplateRenderer | undefined;
  if (fields.template !== '') {
    try {
      const engine =
        fields.templateEngine === 'go' || fields.templateEngine === 'handlebars' ? fields.templateEngine : 'auto';
      template = compileUserTemplate(objectName, fields.template, {
        engine,
        go: { funcs: VSO_FUNCS },
        numbers: 'json.Number',
      }).render;
    } catch (error) {
      issues.add(`${at}.template`, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }
  const { path: apiPath, query } = splitSecretPath(secretPath);
  const secretArgs = fields.secretArgs ?? undefined;
  return {
    objectName,
    ...(template ? { template } : {}),
    path: apiPath,
    query,
    secretPath,
    secretKey: secretKey === '' ? undefined : secretKey,
    method: (methodText === '' ? 'GET' : methodText.toUpperCase()) as ObjectMethod,
    secretArgs,
    filePermission: fields.filePermission,
    encoding: (encodingText === '' ? 'utf-8' : encodingText.toLowerCase()) as ObjectEncoding,
    raw: {
      objectName,
      secretPath,
      secretKey,
      method: methodText,
      secretArgs: secretArgs ?? null,
      filePermission: fields.filePermission,
      encoding: encodingText,
    },
  };
}

/**
 * `objects` YAML. yaml.v3 (upstream) reads `0600` as octal (YAML 1.1) but `yes`/`n` as strings in
 * maps; the `yaml` package in 1.1 mode would turn those into booleans. So the document is read as
 * YAML 1.2 for everything, and `filePermission` alone is taken from a YAML 1.1 reading.
 */
export function parseObjects(
  text: string | undefined,
  issues: Issues,
  maxObjects = defaultMaxObjectsPerMount,
): SecretObject[] {
  if (text === undefined || text.trim() === '') {
    issues.add(
      'objects',
      'no secrets configured - the provider will not read any secret material; add a YAML list of objectName/secretPath entries',
    );
    return [];
  }
  let modern: unknown;
  let legacy: unknown;
  let asText: unknown;
  try {
    modern = YAML.parse(text);
    legacy = YAML.parse(text, { version: '1.1' });
  } catch (error) {
    issues.add('objects', `is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    return [];
  }
  if (!Array.isArray(modern)) {
    issues.add('objects', 'must be a YAML list of entries ("- objectName: …")');
    return [];
  }
  if (modern.length > maxObjects) {
    // Checked before any entry is read: each would cost a Vault read and a file.
    issues.add(
      'objects',
      `has ${modern.length} entries; at most ${maxObjects} are mounted per volume (provider flag --max-objects-per-mount); split the SecretProviderClass`,
    );
    return [];
  }
  try {
    asText = YAML.parse(text, { schema: 'failsafe', logLevel: 'silent' });
  } catch {
    // A tag the failsafe schema cannot read: string fields fall back to the typed value's text.
  }
  const legacyList = Array.isArray(legacy) ? legacy : [];
  const textList = Array.isArray(asText) ? asText : [];
  const objects: SecretObject[] = [];
  modern.forEach((entry, index) => {
    const legacyEntry = legacyList[index] as Record<string, unknown> | undefined;
    const permission = legacyEntry && typeof legacyEntry === 'object' ? legacyEntry.filePermission : undefined;
    const parsed = parseObject(entry, textList[index], permission, index, issues);
    if (parsed) objects.push(parsed);
  });
  const seen = new Map<string, number>();
  for (const object of objects) seen.set(object.objectName, (seen.get(object.objectName) ?? 0) + 1);
  const duplicated = [...seen].filter(([, count]) => count > 1).map(([name]) => name);
  if (duplicated.length > 0) {
    issues.add(
      'objects',
      `each objectName within a SecretProviderClass must be unique, but these were duplicated: ${duplicated.join(', ')}`,
    );
  }
  return objects;
}

/** The kubelet's token for `audience`, from the tokens map the parameters schema checked. */
function tokenFor(tokens: Record<string, unknown> | undefined, audience: string): MountConfig['serviceAccountToken'] {
  const entry = tokens?.[audience];
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { token, expirationTimestamp } = entry as { token?: unknown; expirationTimestamp?: unknown };
  if (typeof token !== 'string' || token.trim() === '') return undefined;
  const expiresAt = typeof expirationTimestamp === 'string' ? new Date(expirationTimestamp) : undefined;
  return { token, expiresAt: expiresAt && !Number.isNaN(expiresAt.getTime()) ? expiresAt : undefined };
}

/** Connection settings: flags, overlaid by the parameters (the environment sits under both). */
export function resolveConnection(
  params: Record<string, string>,
  flags: ProviderFlags,
  issues: Issues,
): ConnectionSettings {
  const settings: ConnectionSettings = { tls: { ...flags.tls }, sources: {} };
  if (flags.vaultAddr) {
    settings.address = flags.vaultAddr;
    settings.sources.address = '--vault-addr';
  }
  if (flags.vaultNamespace) settings.namespace = flags.vaultNamespace;
  if (flags.tls.caFile) settings.sources.caFile = '--vault-tls-ca-cert';
  if (flags.tls.caPath) settings.sources.caPath = '--vault-tls-ca-directory';
  if (flags.tls.clientCert) settings.sources.clientCert = '--vault-tls-client-cert';
  if (flags.tls.clientKey) settings.sources.clientKey = '--vault-tls-client-key';

  const given = (key: string): string | undefined =>
    params[key] === undefined || params[key] === '' ? undefined : params[key];
  const address = given('vaultAddress');
  const allowed = flags.allowedVaultAddresses ?? [];
  if (
    address &&
    allowed.length > 0 &&
    ![...allowed, ...(flags.vaultAddr ? [flags.vaultAddr] : [])].some((entry) => sameVaultAddress(entry, address))
  ) {
    issues.add(
      'vaultAddress',
      `"${address}" is not an address this provider may send tokens to; the admin allows ${[flags.vaultAddr, ...allowed].filter(Boolean).join(', ')} (--allowed-vault-addresses)`,
    );
  }
  if (address) {
    settings.address = address;
    settings.sources.address = 'vaultAddress';
  }
  const namespace = given('vaultNamespace');
  if (namespace) settings.namespace = namespace;
  const tlsParams: Array<[string, 'caFile' | 'caPath' | 'tlsServerName' | 'clientCert' | 'clientKey']> = [
    ['vaultCACertPath', 'caFile'],
    ['vaultCADirectory', 'caPath'],
    ['vaultTLSServerName', 'tlsServerName'],
    ['vaultTLSClientCertPath', 'clientCert'],
    ['vaultTLSClientKeyPath', 'clientKey'],
  ];
  for (const [param, option] of tlsParams) {
    const value = given(param);
    if (value === undefined) continue;
    settings.tls[option] = value;
    if (option !== 'tlsServerName') settings.sources[option] = param;
  }
  const skip = given('vaultSkipTLSVerify');
  // As upstream: the parameter can only turn verification off, never back on over a flag or env.
  if (skip !== undefined && readWith(skipVerifySchema, skip, issues.list, () => 'vaultSkipTLSVerify'))
    settings.tls.skipVerify = true;
  if (Boolean(settings.tls.clientCert) !== Boolean(settings.tls.clientKey)) {
    issues.add(
      'vaultTLSClientCertPath',
      'both vaultTLSClientCertPath and vaultTLSClientKeyPath must be given (or neither)',
    );
  }
  return settings;
}

/** MountRequest → MountConfig, or MountConfigError listing every problem at once. */
/** MountRequest → MountConfig, or MountConfigError listing every problem at once. */
export function parseMountRequest(request: MountRequestFields, flags: ProviderFlags): MountConfig {
  const issues = new Issues();
  const params = readAttributes(request.attributes, issues);
  const checked = readWith(parametersSchema, params, issues.list);

  const hasKubernetesMount = 'vaultKubernetesMountPath' in params;
  const hasAuthMount = 'vaultAuthMountPath' in params;
  if (hasKubernetesMount && hasAuthMount)
    issues.add('vaultAuthMountPath', 'cannot set both vaultKubernetesMountPath and vaultAuthMountPath; keep one');
  const mountParam = (hasAuthMount ? params.vaultAuthMountPath : params.vaultKubernetesMountPath) ?? '';
  const authMount = authMountPath(mountParam || flags.vaultMount || 'kubernetes');

  const audienceParam = params.audience?.trim() || undefined;
  const connection = resolveConnection(params, flags, issues);
  const objects = parseObjects(params.objects, issues, flags.maxObjectsPerMount);
  const filePermission = readWith(permissionSchema, request.permission, issues.list, () => 'permission');
  readWith(targetPathSchema, request.targetPath, issues.list, () => 'targetPath');
  // "null" and "" are what the driver sends without a nodePublishSecretRef.
  readWith(secretsSchema, request.secrets === '' ? undefined : request.secrets, issues.list, () => 'secrets');

  if (issues.list.length > 0 || checked === undefined || filePermission === undefined)
    throw new MountConfigError(issues.list);
  return {
    roleName: checked.roleName,
    authMount,
    audience: audienceParam,
    connection,
    objects,
    pod: {
      name: params[podNameKey] ?? '',
      namespace: params[podNamespaceKey] ?? '',
      uid: params[podUidKey] ?? '',
      serviceAccountName: params[serviceAccountNameKey] ?? '',
    },
    serviceAccountToken: tokenFor(checked[serviceAccountTokensKey], audienceParam ?? defaultTokenAudience),
    filePermission,
    targetPath: request.targetPath,
  };
}

export { Issues as ConfigIssues };
