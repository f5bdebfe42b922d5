// SecretProviderClass parameters (MountRequest.attributes) → a typed MountConfig, once, at the edge.
// Same parameter names and defaults as hashicorp/vault-csi-provider (internal/config/config.go);
// everything after this module trusts the types.
import path from 'node:path';
import {
  authMountPath,
  compileUserTemplate,
  VSO_FUNCS,
  type TemplateRenderer,
  type VaultTlsOptions,
} from '@vaultbridge/core';
import YAML from 'yaml';
import { MountConfigError, type ConfigIssue } from './errors.ts';
import { sameVaultAddress } from './vault-address.ts';

export const podNameKey = 'csi.storage.k8s.io/pod.name';
export const podNamespaceKey = 'csi.storage.k8s.io/pod.namespace';
export const podUidKey = 'csi.storage.k8s.io/pod.uid';
export const serviceAccountNameKey = 'csi.storage.k8s.io/serviceAccount.name';
export const serviceAccountTokensKey = 'csi.storage.k8s.io/serviceAccount.tokens';

/** The audience whose kubelet token is used when `audience` is not set (as upstream). */
export const defaultTokenAudience = 'vault';
/** Go os.FileMode(0644), what the driver sends as permission. */
export const defaultFilePermission = 0o644;

export type ObjectEncoding = 'utf-8' | 'base64' | 'hex';
export type ObjectMethod = 'GET' | 'LIST' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const methods: readonly ObjectMethod[] = ['GET', 'LIST', 'POST', 'PUT', 'PATCH', 'DELETE'];
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

function parseAttributes(text: string, issues: Issues): Record<string, string> {
  let value: unknown;
  try {
    value = JSON.parse(text || '{}');
  } catch (error) {
    issues.add('attributes', `is not JSON (${(error as Error).message}); the driver sends a JSON map of strings`);
    return {};
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.add('attributes', 'must be a JSON object of strings');
    return {};
  }
  const result: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry === 'string') result[key] = entry;
    // An empty key still needs a name the user can find: the parameter map's entry for "".
    else
      issues.add(
        key === '' ? 'parameters[""]' : key,
        `must be a string, got ${entry === null ? 'null' : typeof entry}; quote it in the SecretProviderClass parameters`,
      );
  }
  return result;
}

function parsePermission(text: string, issues: Issues): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text.trim()) : Number.NaN;
  if (!Number.isInteger(value) || value < 0 || value > 0o777) {
    issues.add(
      'permission',
      `expected the decimal JSON of a file mode such as "420" (0644), got ${JSON.stringify(text)}`,
    );
    return defaultFilePermission;
  }
  return value;
}

/** The driver sends an absolute path it has mounted a tmpfs at; anything else is not a driver's request. */
function checkTargetPath(targetPath: string, issues: Issues): void {
  if (targetPath === '')
    issues.add('targetPath', "missing target path field; the driver sends the pod volume's mount path");
  else if (targetPath.includes('\0')) issues.add('targetPath', 'contains a NUL byte');
  else if (!path.posix.isAbsolute(targetPath))
    issues.add('targetPath', `"${targetPath}" is not an absolute path; the driver sends the pod volume's mount path`);
}

/** `secrets` is json.Marshal of a map[string]string: an object of strings, or null when there is no nodePublishSecretRef. */
function checkSecrets(text: string | undefined, issues: Issues): void {
  if (text === undefined || text === '' || text === 'null') return;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.add(
      'secrets',
      'is not JSON; the driver sends the nodePublishSecretRef data as a JSON object of strings, or null',
    );
    return;
  }
  if (value === null) return;
  if (
    typeof value !== 'object' ||
    Array.isArray(value) ||
    Object.values(value).some((entry) => typeof entry !== 'string')
  ) {
    issues.add('secrets', 'must be a JSON object of strings, or null');
  }
}

/** `secretPath` → API path without `/v1/` and its query (upstream ensureV1Prefix + url.ParseQuery). */
export function splitSecretPath(secretPath: string): { path: string; query: Record<string, string> } {
  const at = secretPath.indexOf('?');
  const rawPath = at === -1 ? secretPath : secretPath.slice(0, at);
  const query = at === -1 ? {} : Object.fromEntries(new URLSearchParams(secretPath.slice(at + 1)));
  const trimmed = rawPath.replace(/^\/+/, '');
  const apiPath = trimmed.startsWith('v1/') ? trimmed.slice(3) : trimmed === 'v1' ? '' : trimmed;
  return { path: apiPath.replace(/^\/+/, ''), query };
}

/** The driver's File.path check (fileutil.Validate): relative, clean, no `..` element, length limits. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty; use a file name such as "db-password"';
  if (name.includes('\0')) return 'contains a NUL byte';
  if (path.posix.isAbsolute(name))
    return `"${name}" is absolute; use a path relative to the volume, such as "db/password"`;
  if (name.length > 4096) return 'is longer than 4096 characters';
  const elements = name.split('/');
  if (elements.includes('..')) return `"${name}" contains a ".." element; use a path inside the volume`;
  if (elements.some((element) => element === '' || element === '.')) {
    return `"${name}" is not a file name (an empty or "." element${name.endsWith('/') ? ', or a trailing "/"' : ''}); name a file such as "db/password"`;
  }
  if (elements[0]?.startsWith('..')) return `"${name}" starts with "..", which the driver reserves for its own files`;
  if (elements.some((element) => element.length > 255)) return 'has an element longer than 255 characters';
  if (path.posix.normalize(name) !== name)
    return `"${name}" is not clean (the driver wants "${path.posix.normalize(name)}")`;
  return undefined;
}

function parseFilePermission(value: unknown, field: string, issues: Issues): number {
  if (value === undefined || value === null) return 0;
  let mode: number | undefined;
  if (typeof value === 'number') mode = value;
  else if (typeof value === 'string' && /^(0o?)?[0-7]+$/.test(value.trim()))
    mode = Number.parseInt(value.trim().replace(/^0o/, ''), 8);
  if (mode === undefined || !Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    issues.add(
      field,
      `expected a file mode such as 0600 (octal) or 384 (decimal) between 0 and 0777, got ${JSON.stringify(value)}`,
    );
    return 0;
  }
  return mode;
}

/**
 * One `objects` entry. `entry` is the YAML 1.2 reading (typed: secretArgs keep numbers and booleans),
 * `asText` the failsafe reading (every scalar as its text) and `permissionSource` the YAML 1.1 value of
 * filePermission. String fields take the text, as yaml.v3 does when it decodes any scalar into a Go
 * string (`secretKey: 2024` is "2024", `0x1F` is "0x1F"); a null is "".
 */
function parseObject(
  entry: unknown,
  asText: unknown,
  permissionSource: unknown,
  index: number,
  issues: Issues,
): SecretObject | undefined {
  const at = `objects[${index}]`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    issues.add(at, 'must be a mapping with objectName and secretPath');
    return undefined;
  }
  const fields = entry as Record<string, unknown>;
  const textFields = (typeof asText === 'object' && asText !== null && !Array.isArray(asText) ? asText : {}) as Record<
    string,
    unknown
  >;
  const before = issues.list.length;
  const text = (key: string): string => {
    const value = fields[key];
    if (value === undefined || value === null) return '';
    if (typeof value === 'object') {
      issues.add(`${at}.${key}`, `must be a string, got a ${Array.isArray(value) ? 'list' : 'mapping'}`);
      return '';
    }
    const written = textFields[key];
    return typeof written === 'string' ? written : String(value);
  };
  const objectName = text('objectName');
  const secretPath = text('secretPath');
  const secretKey = text('secretKey');
  const templateText = text('template');
  const engineText = text('templateEngine');
  const methodText = text('method');
  const encodingText = text('encoding');

  const nameProblem = fileNameProblem(objectName);
  if (nameProblem) issues.add(`${at}.objectName`, nameProblem);
  if (secretPath.trim() === '')
    issues.add(`${at}.secretPath`, 'is required: the Vault path to read, e.g. "secret/data/app"');
  const method = (methodText === '' ? 'GET' : methodText.toUpperCase()) as ObjectMethod;
  if (!methods.includes(method))
    issues.add(`${at}.method`, `must be one of ${methods.join(', ')} (any case), got ${JSON.stringify(methodText)}`);
  const encoding = (encodingText === '' ? 'utf-8' : encodingText.toLowerCase()) as ObjectEncoding;
  if (!['utf-8', 'base64', 'hex'].includes(encoding)) {
    issues.add(`${at}.encoding`, `must be utf-8, base64 or hex, got ${JSON.stringify(encodingText)}`);
  }
  const argsValue = fields.secretArgs;
  let secretArgs: Record<string, unknown> | undefined;
  if (argsValue !== undefined && argsValue !== null) {
    if (typeof argsValue === 'object' && !Array.isArray(argsValue)) secretArgs = argsValue as Record<string, unknown>;
    else issues.add(`${at}.secretArgs`, 'must be a mapping (sent as the JSON request body)');
  }
  const filePermission = parseFilePermission(permissionSource, `${at}.filePermission`, issues);
  const { path: apiPath, query } = splitSecretPath(secretPath);
  if (secretPath.trim() !== '' && apiPath.split('/').some((segment) => segment === '.' || segment === '..')) {
    issues.add(`${at}.secretPath`, `"${secretPath}" contains a "." or ".." segment; name the Vault path directly`);
  }
  let template: TemplateRenderer | undefined;
  if (templateText !== '') {
    if (secretKey !== '')
      issues.add(
        `${at}.template`,
        'cannot be combined with secretKey: a template selects what it prints itself; remove one of them',
      );
    if (encodingText !== '')
      issues.add(
        `${at}.template`,
        'cannot be combined with encoding: a template writes text; decode in the template with {{base64Decode …}}',
      );
    if (engineText !== '' && engineText !== 'go' && engineText !== 'handlebars')
      issues.add(`${at}.templateEngine`, `must be go or handlebars, got ${JSON.stringify(engineText)}`);
    try {
      const engine = engineText === 'go' || engineText === 'handlebars' ? engineText : 'auto';
      template = compileUserTemplate(objectName || at, templateText, {
        engine,
        go: { funcs: VSO_FUNCS },
        numbers: 'json.Number',
      }).render;
    } catch (error) {
      issues.add(`${at}.template`, error instanceof Error ? error.message : String(error));
    }
  }
  if (issues.list.length > before) return undefined;
  return {
    objectName,
    ...(template ? { template } : {}),
    path: apiPath,
    query,
    secretPath,
    secretKey: secretKey === '' ? undefined : secretKey,
    method,
    secretArgs,
    filePermission,
    encoding,
    raw: {
      objectName,
      secretPath,
      secretKey,
      method: methodText,
      secretArgs: secretArgs ?? null,
      filePermission,
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

function parseTokens(text: string | undefined, audience: string, issues: Issues): MountConfig['serviceAccountToken'] {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    issues.add(
      serviceAccountTokensKey,
      'is not JSON; expected {"<audience>": {"token": "…", "expirationTimestamp": "…"}} (set by the kubelet from CSIDriver tokenRequests)',
    );
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    issues.add(serviceAccountTokensKey, 'must be a JSON object keyed by audience');
    return undefined;
  }
  const entry = (value as Record<string, unknown>)[audience];
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
  if (skip !== undefined) {
    const parsed = parseGoBool(skip);
    if (parsed === undefined) issues.add('vaultSkipTLSVerify', `expected true or false, got ${JSON.stringify(skip)}`);
    // As upstream: the parameter can only turn verification off, never back on over a flag or env.
    else if (parsed) settings.tls.skipVerify = true;
  }
  if (Boolean(settings.tls.clientCert) !== Boolean(settings.tls.clientKey)) {
    issues.add(
      'vaultTLSClientCertPath',
      'both vaultTLSClientCertPath and vaultTLSClientKeyPath must be given (or neither)',
    );
  }
  return settings;
}

/** Go strconv.ParseBool. */
function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

/** MountRequest → MountConfig, or MountConfigError listing every problem at once. */
export function parseMountRequest(request: MountRequestFields, flags: ProviderFlags): MountConfig {
  const issues = new Issues();
  const params = parseAttributes(request.attributes, issues);

  const roleName = params.roleName ?? '';
  if (roleName.trim() === '')
    issues.add(
      'roleName',
      "missing 'roleName' in SecretProviderClass definition; set it to the Vault Kubernetes auth role",
    );

  const hasKubernetesMount = 'vaultKubernetesMountPath' in params;
  const hasAuthMount = 'vaultAuthMountPath' in params;
  if (hasKubernetesMount && hasAuthMount)
    issues.add('vaultAuthMountPath', 'cannot set both vaultKubernetesMountPath and vaultAuthMountPath; keep one');
  const mountParam = (hasAuthMount ? params.vaultAuthMountPath : params.vaultKubernetesMountPath) ?? '';
  const authMount = authMountPath(mountParam || flags.vaultMount || 'kubernetes');

  const audienceParam = params.audience?.trim() || undefined;
  const connection = resolveConnection(params, flags, issues);
  const objects = parseObjects(params.objects, issues, flags.maxObjectsPerMount);
  const pod: PodInfo = {
    name: params[podNameKey] ?? '',
    namespace: params[podNamespaceKey] ?? '',
    uid: params[podUidKey] ?? '',
    serviceAccountName: params[serviceAccountNameKey] ?? '',
  };
  if (pod.namespace === '') issues.add(podNamespaceKey, 'is missing; set podInfoOnMount: true on the CSIDriver object');
  if (pod.serviceAccountName === '')
    issues.add(serviceAccountNameKey, 'is missing; set podInfoOnMount: true on the CSIDriver object');
  const serviceAccountToken = parseTokens(
    params[serviceAccountTokensKey],
    audienceParam ?? defaultTokenAudience,
    issues,
  );
  const filePermission = parsePermission(request.permission, issues);
  checkTargetPath(request.targetPath, issues);
  checkSecrets(request.secrets, issues);

  if (issues.list.length > 0) throw new MountConfigError(issues.list);
  return {
    roleName,
    authMount,
    audience: audienceParam,
    connection,
    objects,
    pod,
    serviceAccountToken,
    filePermission,
    targetPath: request.targetPath,
  };
}

export { Issues as ConfigIssues };
