// What every synced kind shares, described once in zod (see kind-schema.ts): the destination Secret, its
// transformation, the workloads to restart, and the fields every synced kind has. Field names and
// defaults are VSO's (§1.0 of the reference).
import {
  compileLinearRegex,
  compileUserTemplate,
  NO_GIVEN_VALUE,
  parseDuration,
  UnsupportedRegexError,
  VSO_FUNCS,
  type LinearRegex,
  type NamedTemplateText,
  type TemplateEngineName,
  type TemplateRenderer,
} from '@vaultbridge/core';
import * as z from 'zod/mini';
import { DURATION_PATTERN, SpecError } from './common.ts';
import { addIssue, described, parseSpec, transformed, withMeta } from './kind-schema.ts';

/** A custom issue whose message already quotes the value (parseConfig adds no ", got …"). */
export const given = { params: NO_GIVEN_VALUE };

/** Optional text; empty means unset, as in VSO (omitempty). */
export const optionalText = (description: string) =>
  described(z.optional(z.string({ error: 'expected a string' })), description);

/** Required text: missing and empty are both refused naming what to write. */
export const requiredText = (what: string, description: string) =>
  described(z.string({ error: `expected ${what}` }).check(z.minLength(1, { error: `expected ${what}` })), description);

export const stringMap = (description: string, valueDescription: string) =>
  described(
    z.optional(
      z.record(z.string(), described(z.string({ error: 'expected a string' }), valueDescription), {
        error: 'expected a mapping of names to strings',
      }),
    ),
    description,
  );

export const stringList = (description: string, itemDescription: string) =>
  described(
    z.optional(
      z.array(described(z.string({ error: 'expected a string' }), itemDescription), {
        error: 'expected a list of strings',
      }),
    ),
    description,
  );

/** Returns `value` without the keys whose value is undefined or empty text (optional fields as VSO's omitempty). */
export function withoutEmpty<T extends Record<string, unknown>>(value: T): { [K in keyof T]: Exclude<T[K], ''> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined && item !== '')) as {
    [K in keyof T]: Exclude<T[K], ''>;
  };
}

/** `mount`/`path` as Vault takes them: outer slashes dropped; refused when empty or with `.`/`..` segments. */
export const vaultPath = (what: string, description: string) =>
  transformed(requiredText(what, description), (value) => value.replace(/^\/+|\/+$/g, '')).check(
    z.superRefine((value, context) => {
      if (value === '') context.addIssue({ code: 'custom', message: `is empty; expected ${what}`, ...given });
      else if (value.split('/').some((segment) => segment === '..' || segment === '.'))
        context.addIssue({ code: 'custom', message: 'may not contain "." or ".." segments', ...given });
    }),
  );

export const vaultAuthRefField = optionalText(
  'VaultAuth to log in with, as name or namespace/name; empty: the VaultAuth named default in the operator namespace.',
);
export const vaultNamespaceField = optionalText(
  'Vault namespace of the mount (Vault Enterprise); not supported yet: a value fails with Ready=False.',
);

/** Refreshes more often than this would only load Vault; shorter durations are raised to it. */
export const MIN_REFRESH_MS = 1000;

/**
 * A refresh duration (`30s`, `5m`, `1h`) in milliseconds, or undefined when unset. `0s` is unset, as in
 * VSO (a zero requeue is no requeue there; here it would be a loop), and anything shorter than a second
 * is raised to one.
 */
export const refreshDuration = (description: string) =>
  transformed(
    described(
      z.optional(
        z
          .string({ error: 'expected a duration like 30s, 5m or 1h' })
          .check(z.regex(new RegExp(DURATION_PATTERN), { error: 'expected a duration like 30s, 5m or 1h' })),
      ),
      description,
    ),
    (text) => {
      const ms = text === undefined ? undefined : parseDuration(text);
      return ms === undefined || ms === 0 ? undefined : Math.max(MIN_REFRESH_MS, ms);
    },
  );

// --- templates and regexes (compiled while parsing, so a bad one is refused naming its field) ---

export interface TemplateSource {
  name: string;
  text: string;
  field: string;
}

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

export const templateEngineField = described(
  z.optional(z.enum(['go', 'handlebars'], { error: 'expected a template engine: go or handlebars' })),
  "go (VSO's Go text/template with sprig through VSO's allowlist) or handlebars. Unset: each template is Go when it parses as Go, else handlebars.",
);

const templateText = z.object(
  {
    name: optionalText('Name of the template, used in error messages and by template calls; the key when empty.'),
    text: described(
      z.string({ error: 'expected the template text' }),
      'The template over { Secrets, Metadata, Annotations, Labels }; its output is the value of the key.',
    ),
  },
  { error: 'expected an object with the template text under text' },
);

/** Output key → template: `{ key: { name?, text } }`; keys must be valid Secret data keys. */
export const templatesField = (description: string) =>
  described(
    z.optional(
      z.record(z.string(), described(templateText, 'One template: its text, and optionally a name.'), {
        error: 'expected a mapping of Secret keys to templates ({text: ...})',
      }),
    ),
    description,
  ).check(
    z.superRefine((templates, context) => {
      for (const key of Object.keys(templates ?? {})) {
        if (!SECRET_KEY.test(key))
          context.addIssue({
            code: 'custom',
            message: `"${key}" is not a valid Secret data key (letters, digits, -, _ and .)`,
            ...given,
          });
      }
    }),
  );

/**
 * Compiles one template as VSO does (Go text/template with sprig through VSO's allowlist, numbers as
 * Vault's client decodes them), or as handlebars; errors name the field, line and column.
 */
export function compileTransformationTemplate(
  source: TemplateSource,
  engine: TemplateEngineName | undefined,
  companions: readonly NamedTemplateText[] = [],
): TemplateRenderer {
  try {
    return compileUserTemplate(source.name, source.text, {
      engine: engine ?? 'auto',
      go: { funcs: VSO_FUNCS },
      companions,
      numbers: 'json.Number',
    }).render;
  } catch (error) {
    throw new SpecError(source.field, (error as Error).message);
  }
}

/** Output key → compiled template; errors name the key's text field, line and column. */
export function compileTemplates(
  sources: Record<string, TemplateSource>,
  engine: TemplateEngineName | undefined,
  companions: readonly NamedTemplateText[] = [],
): Record<string, TemplateRenderer> {
  const templates: Record<string, TemplateRenderer> = {};
  for (const [key, source] of Object.entries(sources))
    templates[key] = compileTransformationTemplate(source, engine, companions);
  return templates;
}

/** Where each template came from, so it can be compiled again later with referenced `define`s. */
export function templateSources(
  templates: Record<string, { name?: string | undefined; text: string }> | undefined,
  field: string,
): Record<string, TemplateSource> {
  const sources: Record<string, TemplateSource> = {};
  for (const [key, template] of Object.entries(templates ?? {}))
    sources[key] = { name: template.name || key, text: template.text, field: `${field}.${key}.text` };
  return sources;
}

/**
 * Compiles `sources` inside a zod transform: a template that does not compile becomes an issue at
 * `<key>.text` under `path`, whose message (from the template engine) names the line and column.
 */
export function compileInto(
  payload: z.core.ParsePayload,
  path: PropertyKey[],
  sources: Record<string, TemplateSource>,
  engine: TemplateEngineName | undefined,
  companions: readonly NamedTemplateText[] = [],
): Record<string, TemplateRenderer> {
  const templates: Record<string, TemplateRenderer> = {};
  for (const [key, source] of Object.entries(sources)) {
    try {
      templates[key] = compileTransformationTemplate(source, engine, companions);
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      addIssue(payload, {
        path: [...path, key, 'text'],
        message: error.message.slice(source.field.length + 2),
        ...given,
      });
    }
  }
  return templates;
}

/**
 * Include/exclude patterns compiled with RE2 semantics (as VSO's Go regexp): matching is linear in the
 * key's length, so a hostile pattern and a hostile Vault key cannot stall the operator's event loop.
 */
export const regexListField = (description: string) =>
  transformed(
    described(
      z.optional(
        z.array(
          transformed(
            described(
              z.string({ error: 'expected a regular expression' }),
              'An RE2 regular expression matched against each key of the Vault answer.',
            ),
            (source, payload): LinearRegex => {
              try {
                return compileLinearRegex(source);
              } catch (error) {
                if (!(error instanceof UnsupportedRegexError)) throw error;
                addIssue(payload, {
                  message: `"${source}" ${error.message} (lookaround, backreferences and possessive quantifiers are not RE2)`,
                  ...given,
                });
                return z.NEVER;
              }
            },
          ),
          { error: 'expected a list of regular expressions' },
        ),
      ),
      description,
    ),
    (list) => list ?? [],
  );

// --- destination.transformation ---

const transformationRef = z.object(
  {
    namespace: optionalText('Namespace of the SecretTransformation; the namespace of this object when empty.'),
    name: requiredText('the name of a SecretTransformation', 'Name of the SecretTransformation.'),
    templateRefs: described(
      z.optional(
        z.array(
          described(
            z.object(
              {
                name: requiredText(
                  'the name of a template of the SecretTransformation',
                  "Key of the template in the SecretTransformation's templates.",
                ),
                keyOverride: optionalText(
                  "Secret data key to write the template's output under, instead of its name.",
                ).check(
                  z.refine((key) => key === undefined || key === '' || SECRET_KEY.test(key), {
                    error: (issue) =>
                      `"${String(issue.input)}" is not a valid Secret data key (letters, digits, -, _ and .)`,
                    ...given,
                  }),
                ),
              },
              { error: 'expected an object with name (and keyOverride)' },
            ),
            'One template to take.',
          ),
          { error: 'expected a list of templates to take' },
        ),
      ),
      'Templates to take from the SecretTransformation; all of them when empty.',
    ),
    ignoreIncludes: described(
      z._default(z.boolean({ error: 'expected true or false' }), false),
      "Do not apply the SecretTransformation's includes.",
    ),
    ignoreExcludes: described(
      z._default(z.boolean({ error: 'expected true or false' }), false),
      "Do not apply the SecretTransformation's excludes.",
    ),
  },
  { error: 'expected an object naming a SecretTransformation' },
);

export const transformationSchema = transformed(
  described(
    z.object(
      {
        templateEngine: templateEngineField,
        templates: templatesField(
          "Secret data key → template rendered over the Vault answer { Secrets, Metadata } and this object's { Annotations, Labels }. These win over templates from transformationRefs.",
        ),
        transformationRefs: described(
          z.optional(
            z.array(described(transformationRef, 'A SecretTransformation and which of its templates to take.'), {
              error: 'expected a list of SecretTransformation references',
            }),
          ),
          'SecretTransformation objects whose templates and include/exclude rules apply too.',
        ),
        includes: regexListField(
          'Only keys of the Vault answer matching one of these are kept (when any are given); templated keys always are. Applied after excludes.',
        ),
        excludes: regexListField(
          'Keys of the Vault answer matching one of these are dropped (.* drops them all). Applied before includes.',
        ),
        excludeRaw: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'Leave out the _raw key (the whole Vault answer as JSON).',
        ),
      },
      { error: 'expected an object' },
    ),
    'Shape the Secret data: templates per key (Go as VSO, or handlebars), include/exclude regexes for the keys of the Vault answer, excludeRaw.',
  ),
  (spec, payload) => {
    const sources = templateSources(spec.templates, 'spec.destination.transformation.templates');
    return {
      templates: compileInto(payload, ['templates'], sources, spec.templateEngine),
      sources,
      ...(spec.templateEngine === undefined ? {} : { engine: spec.templateEngine }),
      excludes: spec.excludes,
      includes: spec.includes,
      excludeRaw: spec.excludeRaw,
      refs: (spec.transformationRefs ?? []).map((ref) => ({
        ...withoutEmpty({ namespace: ref.namespace }),
        name: ref.name,
        templateRefs: (ref.templateRefs ?? []).map((templateRef) => ({
          name: templateRef.name,
          ...withoutEmpty({ keyOverride: templateRef.keyOverride }),
        })),
        ignoreIncludes: ref.ignoreIncludes,
        ignoreExcludes: ref.ignoreExcludes,
      })),
    };
  },
);

/** VSO's `destination.transformation`, compiled: templates, include/exclude regexes, refs resolved at sync. */
export type Transformation = z.output<typeof transformationSchema>;
export type TransformationRef = Transformation['refs'][number];

/** `destination.transformation` alone (for tests of the data shaping); errors name `spec.destination.transformation.*`. */
export function parseTransformation(raw: unknown): Transformation {
  return parseSpec(transformationSchema, raw, 'spec.destination.transformation');
}

// --- destination ---

const SECRET_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export const destinationSchema = transformed(
  described(
    z.object(
      {
        name: described(
          z
            .string({ error: 'expected the name of the Secret to write' })
            .check(
              z.minLength(1, { error: 'expected the name of the Secret to write' }),
              z.maxLength(253, { error: 'expected a Secret name of at most 253 characters' }),
            ),
          'Name of the Secret to write, in the namespace of this object.',
        ).check(
          z.refine((name) => SECRET_NAME.test(name), {
            error: (issue) => `"${String(issue.input)}" is not a valid Secret name (lower-case DNS subdomain)`,
            ...given,
          }),
        ),
        create: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'Create the Secret and own it (ownerReference, labels); without it the Secret must exist and opt in to being written.',
        ),
        overwrite: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'With create: take over an existing Secret this object does not own.',
        ),
        labels: stringMap('Labels of the Secret (only with create).', 'Label value.').check(
          z.superRefine((labels, context) => {
            for (const key of Object.keys(labels ?? {})) {
              if (!LABEL_KEY.test(key))
                context.addIssue({ code: 'custom', message: `"${key}" is not a valid label key`, ...given });
            }
          }),
        ),
        annotations: stringMap('Annotations of the Secret (only with create).', 'Annotation value.'),
        type: optionalText('Secret type (only with create), e.g. kubernetes.io/tls; Opaque when empty.'),
        transformation: z.optional(transformationSchema),
      },
      { error: 'expected an object with at least the Secret name' },
    ),
    'The Kubernetes Secret the data is written to.',
  ),
  (destination) => ({
    name: destination.name,
    create: destination.create,
    overwrite: destination.overwrite,
    labels: destination.labels ?? {},
    annotations: destination.annotations ?? {},
    type: destination.type || 'Opaque',
    ...(destination.transformation === undefined ? {} : { transformation: destination.transformation }),
  }),
);

export type Destination = z.output<typeof destinationSchema>;

// --- rolloutRestartTargets ---

export const rolloutRestartTargetsSchema = transformed(
  described(
    z.optional(
      z.array(
        described(
          z.object(
            {
              kind: described(
                z.enum(['Deployment', 'DaemonSet', 'StatefulSet', 'argo.Rollout'], {
                  error: 'expected one of Deployment, DaemonSet, StatefulSet, argo.Rollout',
                }),
                'Kind of the workload: Deployment, DaemonSet, StatefulSet or argo.Rollout.',
              ),
              name: requiredText('the name of the workload', 'Name of the workload, in the namespace of this object.'),
            },
            { error: 'expected an object with kind and name' },
          ),
          'A workload to restart.',
        ),
        { error: 'expected a list of workloads' },
      ),
    ),
    'Workloads in this namespace to restart (as kubectl rollout restart) when the synced data changes.',
  ),
  (targets) => targets ?? [],
);

export type RolloutRestartTarget = z.output<typeof rolloutRestartTargetsSchema>[number];

// --- status fields the synced kinds share (written by the operator; described for kubectl explain) ---

/** Unix seconds, or a generation: an int64 in the CRD. */
export const int64 = (description: string) => z.optional(withMeta(z.int(), { format: 'int64', description }));

export const lastGenerationField = int64('The metadata.generation last synced.');
export const secretMacField = described(
  z.optional(z.string()),
  'HMAC-SHA256 of the synced data (keyed per operator install): drift in the Secret is told by it without keeping the data anywhere else.',
);
export const lastForceSyncField = described(
  z.optional(z.string()),
  'The force-sync annotation value handled last: each new value syncs once.',
);

/** VSO's `status.vaultClientMeta`: the client's cache key and the token's id (a hash of its accessor). */
export const vaultClientMetaField = described(
  z.optional(
    z.object({
      cacheKey: described(
        z.optional(z.string()),
        'The Vault client used: changes when the VaultAuth or VaultConnection changes.',
      ),
      id: described(z.optional(z.string()), 'A hash of the Vault token accessor: changes with each login.'),
    }),
  ),
  'Which Vault client synced last, and which token it held.',
);

export type VaultClientMeta = NonNullable<z.output<typeof vaultClientMetaField>>;
