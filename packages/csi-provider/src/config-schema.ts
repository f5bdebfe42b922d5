// The shapes the provider accepts, as schemas: the MountRequest's own fields, the SecretProviderClass
// parameters and one `objects` entry. Each field's syntax and its error (naming the fix) are written
// once, here; config.ts reads the request through them and adds the rules that span fields (both mount
// parameters, the Vault address allow-list, duplicate objectNames). zod/mini, not zod: the provider
// parses every mount with these, from start (the warm-up), and zod/mini bundles only what is used
// (README, "One way to validate", has the measured cost).
import path from 'node:path';
import * as z from 'zod/mini';
import type { ConfigIssue } from './errors.ts';

/** Text in, `read`'s value out; when `read` gives undefined, one issue with `message(text)`. */
function textSyntax<T>(read: (text: string) => T | undefined, message: (text: string) => string) {
  return z.pipe(
    z.string(),
    z.transform((text: string, context): T => {
      const value = read(text);
      if (value !== undefined) return value;
      context.issues.push({ code: 'custom', message: message(text), input: text });
      return z.NEVER;
    }),
  );
}

/** Text that must be JSON; the issue says what the driver sends instead. */
function jsonText(message: (error: Error) => string) {
  return z.pipe(
    z.string(),
    z.transform((text: string, context): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        context.issues.push({ code: 'custom', message: message(error as Error), input: text });
        return z.NEVER;
      }
    }),
  );
}

// --- The MountRequest fields the driver fills in ---

/** `permission`: the decimal JSON of the volume's default file mode. */
export const permissionSchema = textSyntax(
  (text) => {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text.trim()) : Number.NaN;
    return Number.isInteger(value) && value >= 0 && value <= 0o777 ? value : undefined;
  },
  (text) => `expected the decimal JSON of a file mode such as "420" (0644), got ${JSON.stringify(text)}`,
);

/** `targetPath`: the absolute path the driver has mounted a tmpfs at. */
export const targetPathSchema = z.string().check(
  z.superRefine((targetPath: string, context) => {
    const problem =
      targetPath === ''
        ? "missing target path field; the driver sends the pod volume's mount path"
        : targetPath.includes('\0')
          ? 'contains a NUL byte'
          : !path.posix.isAbsolute(targetPath)
            ? `"${targetPath}" is not an absolute path; the driver sends the pod volume's mount path`
            : undefined;
    if (problem) context.addIssue({ code: 'custom', message: problem, input: targetPath });
  }),
);

/** `secrets`: json.Marshal of the nodePublishSecretRef data, an object of strings, or null (or nothing). */
export const secretsSchema = z.optional(
  z.pipe(
    jsonText(() => 'is not JSON; the driver sends the nodePublishSecretRef data as a JSON object of strings, or null'),
    z.nullable(z.record(z.string(), z.string(), { error: 'must be a JSON object of strings, or null' })),
  ),
);

// --- The SecretProviderClass parameters (MountRequest.attributes) ---

const describeType = (value: unknown): string => (value === null ? 'null' : typeof value);

/** `attributes`: a JSON map of strings. A value of another type is named by its parameter. */
export const attributesSchema = z.pipe(
  jsonText((error) => `is not JSON (${error.message}); the driver sends a JSON map of strings`),
  z.record(
    z.string(),
    z.string({
      error: (issue) =>
        `must be a string, got ${describeType(issue.input)}; quote it in the SecretProviderClass parameters`,
    }),
    { error: 'must be a JSON object of strings' },
  ),
);

/** Go strconv.ParseBool. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

const missingRoleName =
  "missing 'roleName' in SecretProviderClass definition; set it to the Vault Kubernetes auth role";

const podInfo = z
  .string({ error: 'is missing; set podInfoOnMount: true on the CSIDriver object' })
  .check(z.minLength(1, { error: 'is missing; set podInfoOnMount: true on the CSIDriver object' }));

/** `vaultSkipTLSVerify`: a Go boolean; empty is "not set". */
export const skipVerifySchema = textSyntax(
  (text) => (text === '' ? false : parseGoBool(text)),
  (text) => `expected true or false, got ${JSON.stringify(text)}`,
);

/** The kubelet's tokens (CSIDriver tokenRequests): JSON keyed by audience; empty is none. */
const tokensSchema = z.pipe(
  z.string(),
  z.transform((text: string, context): Record<string, unknown> | undefined => {
    if (text.trim() === '') return undefined;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      context.issues.push({
        code: 'custom',
        message:
          'is not JSON; expected {"<audience>": {"token": "…", "expirationTimestamp": "…"}} (set by the kubelet from CSIDriver tokenRequests)',
        input: text,
      });
      return z.NEVER;
    }
    if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
    context.issues.push({ code: 'custom', message: 'must be a JSON object keyed by audience', input: text });
    return z.NEVER;
  }),
);

// The parameters the driver adds from the pod (CSIDriver podInfoOnMount and tokenRequests).
export const podNameKey = 'csi.storage.k8s.io/pod.name';
export const podNamespaceKey = 'csi.storage.k8s.io/pod.namespace';
export const podUidKey = 'csi.storage.k8s.io/pod.uid';
export const serviceAccountNameKey = 'csi.storage.k8s.io/serviceAccount.name';
export const serviceAccountTokensKey = 'csi.storage.k8s.io/serviceAccount.tokens';

/**
 * The parameters that must be there or have a syntax of their own; the others are free text
 * (addresses, paths, names: resolveConnection in config.ts reads them), and vaultSkipTLSVerify is
 * read with the connection settings it belongs to.
 */
export const parametersSchema = z.looseObject({
  roleName: z.string({ error: missingRoleName }).check(z.refine((text) => text.trim() !== '', missingRoleName)),
  [podNamespaceKey]: podInfo,
  [serviceAccountNameKey]: podInfo,
  [serviceAccountTokensKey]: z.optional(tokensSchema),
});

// --- One `objects` entry ---

export type ObjectEncoding = 'utf-8' | 'base64' | 'hex';
export type ObjectMethod = 'GET' | 'LIST' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export const objectMethods: readonly ObjectMethod[] = ['GET', 'LIST', 'POST', 'PUT', 'PATCH', 'DELETE'];
const encodings: readonly ObjectEncoding[] = ['utf-8', 'base64', 'hex'];

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

/** A string field of an entry as yaml.v3 decodes it into a Go string: any scalar's text, "" for null. */
const text = z.string({
  error: (issue) => `must be a string, got a ${Array.isArray(issue.input) ? 'list' : 'mapping'}`,
});

/** The Vault API path of a secretPath, without `/v1/` and the query (upstream ensureV1Prefix). */
export function apiPathOf(secretPath: string): string {
  const at = secretPath.indexOf('?');
  const trimmed = (at === -1 ? secretPath : secretPath.slice(0, at)).replace(/^\/+/, '');
  const apiPath = trimmed.startsWith('v1/') ? trimmed.slice(3) : trimmed === 'v1' ? '' : trimmed;
  return apiPath.replace(/^\/+/, '');
}

function secretPathProblem(secretPath: string): string | undefined {
  if (secretPath.trim() === '') return 'is required: the Vault path to read, e.g. "secret/data/app"';
  if (
    apiPathOf(secretPath)
      .split('/')
      .some((segment) => segment === '.' || segment === '..')
  )
    return `"${secretPath}" contains a "." or ".." segment; name the Vault path directly`;
  return undefined;
}

/** A file mode: a YAML 1.1 number (0600 is octal there), or octal text such as "0440"; absent is 0. */
function fileModeOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return 0;
  let mode: number | undefined;
  if (typeof value === 'number') mode = value;
  else if (typeof value === 'string' && /^(0o?)?[0-7]+$/.test(value.trim()))
    mode = Number.parseInt(value.trim().replace(/^0o/, ''), 8);
  return mode !== undefined && Number.isInteger(mode) && mode >= 0 && mode <= 0o777 ? mode : undefined;
}

/** `filePermission`; the message quotes the value as YAML 1.1 read it. */
const filePermissionSchema = z.pipe(
  z.unknown(),
  z.transform((value: unknown, context): number => {
    const mode = fileModeOf(value);
    if (mode !== undefined) return mode;
    context.issues.push({
      code: 'custom',
      message: `expected a file mode such as 0600 (octal) or 384 (decimal) between 0 and 0777, got ${JSON.stringify(value)}`,
      input: value,
    });
    return z.NEVER;
  }),
);

/** A field whose problem, if any, `problem` names. */
const checkedText = (problem: (value: string) => string | undefined) =>
  text.check(
    z.superRefine((value: string, context) => {
      const message = problem(value);
      if (message) context.addIssue({ code: 'custom', message, input: value });
    }),
  );

/**
 * One `objects` entry, its string fields already read as their text (`readEntry` in config.ts),
 * `secretArgs` typed (YAML 1.2) and `filePermission` as YAML 1.1 reads it.
 */
export const objectEntrySchema = z
  .object(
    {
      objectName: checkedText(fileNameProblem),
      secretPath: checkedText(secretPathProblem),
      secretKey: text,
      template: text,
      templateEngine: checkedText((engine) =>
        engine === '' || engine === 'go' || engine === 'handlebars'
          ? undefined
          : `must be go or handlebars, got ${JSON.stringify(engine)}`,
      ),
      method: checkedText((method) =>
        method === '' || objectMethods.includes(method.toUpperCase() as ObjectMethod)
          ? undefined
          : `must be one of ${objectMethods.join(', ')} (any case), got ${JSON.stringify(method)}`,
      ),
      encoding: checkedText((encoding) =>
        encoding === '' || encodings.includes(encoding.toLowerCase() as ObjectEncoding)
          ? undefined
          : `must be utf-8, base64 or hex, got ${JSON.stringify(encoding)}`,
      ),
      secretArgs: z.nullish(
        z.record(z.string(), z.unknown(), { error: 'must be a mapping (sent as the JSON request body)' }),
      ),
      filePermission: filePermissionSchema,
    },
    { error: 'must be a mapping with objectName and secretPath' },
  )
  .check(
    // A template prints what it selects, as text: secretKey and encoding do not apply to it.
    z.superRefine(
      (entry, context) => {
        if (typeof entry.template !== 'string' || entry.template === '') return;
        if (typeof entry.secretKey === 'string' && entry.secretKey !== '')
          context.addIssue({
            code: 'custom',
            path: ['template'],
            message: 'cannot be combined with secretKey: a template selects what it prints itself; remove one of them',
            input: entry.template,
          });
        if (typeof entry.encoding === 'string' && entry.encoding !== '')
          context.addIssue({
            code: 'custom',
            path: ['template'],
            message:
              'cannot be combined with encoding: a template writes text; decode in the template with {{base64Decode …}}',
            input: entry.template,
          });
      },
      { when: () => true },
    ),
  );

export type ObjectEntry = z.output<typeof objectEntrySchema>;

// --- Issues ---

/** The field a zod issue path names, as the provider reports it: `roleName`, `objects[1].secretPath`. */
export function fieldOf(at: readonly PropertyKey[], prefix = ''): string {
  let field = prefix;
  for (const part of at) {
    if (typeof part === 'number') field += `[${part}]`;
    // An empty key still needs a name the user can find: the parameter map's entry for "".
    else if (part === '') field += field === '' ? 'parameters[""]' : '[""]';
    else field += field === '' ? String(part) : `.${String(part)}`;
  }
  return field;
}

/** `schema`'s value for `input`, or undefined with its issues added to `issues`, named by `field`. */
export function readWith<Schema extends z.ZodMiniType>(
  schema: Schema,
  input: unknown,
  issues: ConfigIssue[],
  field: (at: readonly PropertyKey[]) => string = (at) => fieldOf(at),
): z.output<Schema> | undefined {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  for (const issue of result.error.issues) issues.push({ field: field(issue.path), message: issue.message });
  return undefined;
}
