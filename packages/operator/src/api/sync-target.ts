// What every synced kind shares: the destination Secret, the workloads to restart, and durations.
import { compileLinearRegex, compileUserTemplate, parseDuration, UnsupportedRegexError, VSO_FUNCS, type LinearRegex, type NamedTemplateText, type TemplateEngineName, type TemplateRenderer } from '@vaultbridge/core';
import { asBoolean, asObject, asString, asStringList, asStringMap, DURATION_PATTERN, SpecError, stringMapSchema } from './common.ts';

export interface Destination {
  name: string;
  create: boolean;
  overwrite: boolean;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Secret type; Opaque when empty. */
  type: string;
  /** VSO's `destination.transformation`, inline part (SecretTransformation refs are refused). */
  transformation?: Transformation;
}

export interface Transformation {
  /** Output key → compiled template over `{ Secrets, Metadata, Annotations, Labels }` (Go, as VSO, or handlebars). */
  templates: Record<string, TemplateRenderer>;
  /** What the templates were compiled from, so they can be compiled again with referenced `define`s. */
  sources: Record<string, TemplateSource>;
  /** `templateEngine` as written; undefined: decided per template from its text (see compileUserTemplates). */
  engine?: TemplateEngineName;
  /** Top-level keys dropped when one matches (before includes). */
  excludes: LinearRegex[];
  /** When any: only top-level keys matching one are kept (templated keys always are). */
  includes: LinearRegex[];
  excludeRaw: boolean;
  /** SecretTransformation objects to merge in (resolved by the controller, see transformation-refs.ts). */
  refs: TransformationRef[];
}

export interface TemplateSource {
  name: string;
  text: string;
  field: string;
}

export interface TransformationRef {
  /** Namespace of the SecretTransformation; the synced object's when empty. */
  namespace?: string;
  name: string;
  /** Templates to take, each under `keyOverride` or its own key; all of them when empty. */
  templateRefs: { name: string; keyOverride?: string }[];
  ignoreIncludes: boolean;
  ignoreExcludes: boolean;
}

export interface RolloutRestartTarget {
  kind: 'Deployment' | 'DaemonSet' | 'StatefulSet' | 'argo.Rollout';
  name: string;
}

export const templateEngineSchema = {
  type: 'string',
  enum: ['go', 'handlebars'],
  description: 'go (VSO\'s Go templates) or handlebars. Unset: each template is Go when it parses as Go, else handlebars when it compiles as handlebars.',
} as const;

export const destinationSchema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 253, description: 'Secret name, in the namespace of this object.' },
    create: { type: 'boolean', default: false, description: 'Create the Secret and own it (ownerReference, labels).' },
    overwrite: { type: 'boolean', default: false, description: 'With create, take over an existing Secret this object does not own.' },
    labels: { ...stringMapSchema, description: 'Labels of the Secret (only with create).' },
    annotations: { ...stringMapSchema, description: 'Annotations of the Secret (only with create).' },
    type: { type: 'string', description: 'Secret type (only with create); Opaque when empty.' },
    transformation: {
      type: 'object',
      description: 'Shape the Secret data: Go templates (as VSO: sprig with VSO\'s allowlist) or handlebars per key, include/exclude regexes for the raw keys, excludeRaw.',
      properties: {
        templateEngine: templateEngineSchema,
        templates: {
          type: 'object',
          additionalProperties: { type: 'object', required: ['text'], properties: { name: { type: 'string' }, text: { type: 'string' } } },
        },
        transformationRefs: {
          type: 'array',
          description: 'SecretTransformation objects whose templates and include/exclude rules apply too.',
          items: {
            type: 'object',
            required: ['name'],
            properties: {
              namespace: { type: 'string' },
              name: { type: 'string', minLength: 1 },
              templateRefs: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, keyOverride: { type: 'string' } } } },
              ignoreIncludes: { type: 'boolean' },
              ignoreExcludes: { type: 'boolean' },
            },
          },
        },
        includes: { type: 'array', items: { type: 'string' } },
        excludes: { type: 'array', items: { type: 'string' } },
        excludeRaw: { type: 'boolean' },
      },
    },
  },
} as const;

export const rolloutRestartTargetsSchema = {
  type: 'array',
  description: 'Workloads in this namespace to restart when the synced data changes.',
  items: {
    type: 'object',
    required: ['kind', 'name'],
    properties: { kind: { type: 'string', enum: ['Deployment', 'DaemonSet', 'StatefulSet', 'argo.Rollout'] }, name: { type: 'string', minLength: 1 } },
  },
} as const;

const secretNamePattern = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const labelKeyPattern = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * Include/exclude patterns compiled with RE2 semantics (as VSO's Go regexp): matching is linear in the
 * key's length, so a hostile pattern and a hostile Vault key cannot stall the operator's event loop.
 */
export function regexList(raw: unknown, field: string): LinearRegex[] {
  return asStringList(raw, field).map((source, index) => {
    try {
      return compileLinearRegex(source);
    } catch (error) {
      if (!(error instanceof UnsupportedRegexError)) throw error;
      throw new SpecError(`${field}[${index}]`, `"${source}" ${error.message} (lookaround, backreferences and possessive quantifiers are not RE2)`);
    }
  });
}

/** The `templateEngine` field: go, handlebars, or undefined (decided per template). */
export function parseTemplateEngine(raw: unknown, field: string): TemplateEngineName | undefined {
  const engine = asString(raw, field);
  if (engine === undefined || engine === '') return undefined;
  if (engine !== 'go' && engine !== 'handlebars') throw new SpecError(field, `"${engine}" is not a template engine; use go or handlebars`);
  return engine;
}

/**
 * Compiles one template as VSO does (Go text/template with sprig through VSO's allowlist, numbers as
 * Vault's client decodes them), or as handlebars; errors name the field, line and column.
 */
export function compileTransformationTemplate(source: TemplateSource, engine: TemplateEngineName | undefined, companions: readonly NamedTemplateText[] = []): TemplateRenderer {
  try {
    return compileUserTemplate(source.name, source.text, { engine: engine ?? 'auto', go: { funcs: VSO_FUNCS }, companions, numbers: 'json.Number' }).render;
  } catch (error) {
    throw new SpecError(source.field, (error as Error).message);
  }
}

/** Output key → its template's source, from `{ key: { name?, text } }`; errors name the key's text field. */
export function templateSources(raw: unknown, field: string): Record<string, TemplateSource> {
  const sources: Record<string, TemplateSource> = {};
  for (const [key, value] of Object.entries(asObject(raw, field) ?? {})) {
    if (!SECRET_KEY.test(key)) throw new SpecError(field, `"${key}" is not a valid Secret data key (letters, digits, -, _ and .)`);
    const template = asObject(value, `${field}.${key}`, true)!;
    const text = asString(template.text, `${field}.${key}.text`, true)!;
    sources[key] = { name: asString(template.name, `${field}.${key}.name`) ?? key, text, field: `${field}.${key}.text` };
  }
  return sources;
}

/** Output key → compiled template; errors name the key's text field, line and column. */
export function compileTemplates(sources: Record<string, TemplateSource>, engine: TemplateEngineName | undefined, companions: readonly NamedTemplateText[] = []): Record<string, TemplateRenderer> {
  const templates: Record<string, TemplateRenderer> = {};
  for (const [key, source] of Object.entries(sources)) templates[key] = compileTransformationTemplate(source, engine, companions);
  return templates;
}

function parseRefs(raw: unknown, field: string): TransformationRef[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new SpecError(field, 'expected a list');
  return raw.map((item, index) => {
    const at = `${field}[${index}]`;
    const ref = asObject(item, at, true)!;
    const templateRefs = ref.templateRefs ?? [];
    if (!Array.isArray(templateRefs)) throw new SpecError(`${at}.templateRefs`, 'expected a list');
    const namespace = asString(ref.namespace, `${at}.namespace`);
    return {
      ...(namespace ? { namespace } : {}),
      name: asString(ref.name, `${at}.name`, true)!,
      templateRefs: templateRefs.map((entry, i) => {
        const templateRef = asObject(entry, `${at}.templateRefs[${i}]`, true)!;
        const keyOverride = asString(templateRef.keyOverride, `${at}.templateRefs[${i}].keyOverride`);
        if (keyOverride !== undefined && !SECRET_KEY.test(keyOverride)) throw new SpecError(`${at}.templateRefs[${i}].keyOverride`, `"${keyOverride}" is not a valid Secret data key`);
        return { name: asString(templateRef.name, `${at}.templateRefs[${i}].name`, true)!, ...(keyOverride ? { keyOverride } : {}) };
      }),
      ignoreIncludes: asBoolean(ref.ignoreIncludes, `${at}.ignoreIncludes`, false),
      ignoreExcludes: asBoolean(ref.ignoreExcludes, `${at}.ignoreExcludes`, false),
    };
  });
}

export function parseTransformation(raw: unknown): Transformation | undefined {
  const field = 'spec.destination.transformation';
  const transformation = asObject(raw, field);
  if (transformation === undefined) return undefined;
  const engine = parseTemplateEngine(transformation.templateEngine, `${field}.templateEngine`);
  const sources = templateSources(transformation.templates, `${field}.templates`);
  return {
    templates: compileTemplates(sources, engine),
    sources,
    ...(engine === undefined ? {} : { engine }),
    excludes: regexList(transformation.excludes, `${field}.excludes`),
    includes: regexList(transformation.includes, `${field}.includes`),
    excludeRaw: asBoolean(transformation.excludeRaw, `${field}.excludeRaw`, false),
    refs: parseRefs(transformation.transformationRefs, `${field}.transformationRefs`),
  };
}

export function parseDestination(raw: unknown): Destination {
  const destination = asObject(raw, 'spec.destination', true)!;
  const name = asString(destination.name, 'spec.destination.name', true)!;
  if (!secretNamePattern.test(name) || name.length > 253) throw new SpecError('spec.destination.name', `"${name}" is not a valid Secret name (lower-case DNS subdomain)`);
  const labels = asStringMap(destination.labels, 'spec.destination.labels');
  for (const key of Object.keys(labels)) {
    if (!labelKeyPattern.test(key)) throw new SpecError(`spec.destination.labels`, `"${key}" is not a valid label key`);
  }
  return {
    name,
    create: asBoolean(destination.create, 'spec.destination.create', false),
    overwrite: asBoolean(destination.overwrite, 'spec.destination.overwrite', false),
    labels,
    annotations: asStringMap(destination.annotations, 'spec.destination.annotations'),
    type: asString(destination.type, 'spec.destination.type') ?? 'Opaque',
    ...(() => {
      const transformation = parseTransformation(destination.transformation);
      return transformation === undefined ? {} : { transformation };
    })(),
  };
}

export function parseRolloutRestartTargets(raw: unknown): RolloutRestartTarget[] {
  const targets = raw ?? [];
  if (!Array.isArray(targets)) throw new SpecError('spec.rolloutRestartTargets', 'expected a list');
  return targets.map((item, index) => {
    const target = asObject(item, `spec.rolloutRestartTargets[${index}]`, true)!;
    const kind = asString(target.kind, `spec.rolloutRestartTargets[${index}].kind`, true)!;
    if (!['Deployment', 'DaemonSet', 'StatefulSet', 'argo.Rollout'].includes(kind)) {
      throw new SpecError(`spec.rolloutRestartTargets[${index}].kind`, `"${kind}" is not one of Deployment, DaemonSet, StatefulSet, argo.Rollout`);
    }
    return { kind: kind as RolloutRestartTarget['kind'], name: asString(target.name, `spec.rolloutRestartTargets[${index}].name`, true)! };
  });
}

/** Refreshes more often than this would only load Vault; shorter durations are raised to it. */
export const MIN_REFRESH_MS = 1000;

/**
 * A refresh duration (`30s`, `5m`, `1h`) in milliseconds, or undefined when unset. `0s` is unset, as in
 * VSO (a zero requeue is no requeue there; here it would be a loop), and anything shorter than a second
 * is raised to one.
 */
export function parseOptionalDuration(raw: unknown, field: string): number | undefined {
  const text = asString(raw, field);
  if (text === undefined) return undefined;
  const ms = new RegExp(DURATION_PATTERN).test(text) ? parseDuration(text) : undefined;
  if (ms === undefined) throw new SpecError(field, `"${text}" is not a duration like 30s, 5m or 1h`);
  if (ms === 0) return undefined;
  return Math.max(MIN_REFRESH_MS, ms);
}
