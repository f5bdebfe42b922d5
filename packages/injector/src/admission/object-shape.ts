// The API server only sends pods it has decoded into its own types, but anyone who can reach the
// webhook can post a review with `containers: {}` or `name: 7`. The parts of a pod the injector reads
// are checked for their JSON types first, so such a review is a 400 naming the field, not a TypeError
// deep in the mutation answered with 500. Only types are checked; values are the annotations' business.

type Json = unknown;

const describe = (value: Json): string =>
  value === null
    ? 'null'
    : Array.isArray(value)
      ? 'a list'
      : typeof value === 'object'
        ? 'an object'
        : `a ${typeof value}`;

class ShapeError extends Error {}

function fail(field: string, expected: string, value: Json): never {
  throw new ShapeError(`${field}: expected ${expected}, got ${describe(value)}`);
}

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Absent (undefined or null) is fine; otherwise the right JSON type. */
function optionalObject(value: Json, field: string): Record<string, Json> | undefined {
  if (value === undefined || value === null) return undefined;
  return isObject(value) ? value : fail(field, 'an object', value);
}

function optionalList(value: Json, field: string): Json[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : fail(field, 'a list', value);
}

function optionalString(value: Json, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'string') fail(field, 'a string', value);
}

function requiredString(value: Json, field: string): void {
  if (typeof value !== 'string') fail(field, 'a string', value);
}

function optionalBoolean(value: Json, field: string): void {
  if (value !== undefined && value !== null && typeof value !== 'boolean') fail(field, 'true or false', value);
}

function optionalInteger(value: Json, field: string): void {
  if (value !== undefined && value !== null && !Number.isInteger(value)) fail(field, 'an integer', value);
}

function checkContainer(value: Json, field: string): void {
  const container = isObject(value) ? value : fail(field, 'an object', value);
  requiredString(container.name, `${field}.name`);
  optionalString(container.image, `${field}.image`);
  optionalList(container.volumeMounts, `${field}.volumeMounts`).forEach((item, i) => {
    const mount = isObject(item) ? item : fail(`${field}.volumeMounts[${i}]`, 'an object', item);
    requiredString(mount.name, `${field}.volumeMounts[${i}].name`);
    requiredString(mount.mountPath, `${field}.volumeMounts[${i}].mountPath`);
  });
  optionalList(container.env, `${field}.env`);
  const securityContext = optionalObject(container.securityContext, `${field}.securityContext`);
  optionalInteger(securityContext?.runAsUser, `${field}.securityContext.runAsUser`);
  optionalInteger(securityContext?.runAsGroup, `${field}.securityContext.runAsGroup`);
  optionalObject(container.resources, `${field}.resources`);
}

function checkVolume(value: Json, field: string): void {
  const volume = isObject(value) ? value : fail(field, 'an object', value);
  requiredString(volume.name, `${field}.name`);
  const projected = optionalObject(volume.projected, `${field}.projected`);
  optionalList(projected?.sources, `${field}.projected.sources`).forEach((item, i) => {
    const source = isObject(item) ? item : fail(`${field}.projected.sources[${i}]`, 'an object', item);
    const token = optionalObject(source.serviceAccountToken, `${field}.projected.sources[${i}].serviceAccountToken`);
    optionalString(token?.path, `${field}.projected.sources[${i}].serviceAccountToken.path`);
  });
}

/** The first field of `object` (a Pod as sent) with the wrong JSON type, as a message; undefined if none. */
export function podShapeProblem(object: Record<string, Json>, prefix = 'request.object'): string | undefined {
  try {
    const metadata = optionalObject(object.metadata, `${prefix}.metadata`);
    optionalString(metadata?.name, `${prefix}.metadata.name`);
    optionalString(metadata?.namespace, `${prefix}.metadata.namespace`);
    optionalObject(metadata?.annotations, `${prefix}.metadata.annotations`);
    optionalObject(metadata?.labels, `${prefix}.metadata.labels`);
    const spec = optionalObject(object.spec, `${prefix}.spec`);
    optionalList(spec?.containers, `${prefix}.spec.containers`).forEach((c, i) =>
      checkContainer(c, `${prefix}.spec.containers[${i}]`),
    );
    optionalList(spec?.initContainers, `${prefix}.spec.initContainers`).forEach((c, i) =>
      checkContainer(c, `${prefix}.spec.initContainers[${i}]`),
    );
    optionalList(spec?.volumes, `${prefix}.spec.volumes`).forEach((v, i) =>
      checkVolume(v, `${prefix}.spec.volumes[${i}]`),
    );
    optionalBoolean(spec?.shareProcessNamespace, `${prefix}.spec.shareProcessNamespace`);
    optionalString(spec?.serviceAccountName, `${prefix}.spec.serviceAccountName`);
    optionalObject(spec?.securityContext, `${prefix}.spec.securityContext`);
    const status = optionalObject(object.status, `${prefix}.status`);
    optionalString(status?.phase, `${prefix}.status.phase`);
    return undefined;
  } catch (error) {
    if (error instanceof ShapeError) return error.message;
    throw error;
  }
}

/**
 * Whether JSON text nests deeper than `maxDepth` (objects and arrays), found in one pass over the
 * bytes before parsing: a 1M-deep array within the 4 MiB limit otherwise costs seconds in JSON.parse.
 * Brackets inside strings do not count.
 */
export function jsonDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
