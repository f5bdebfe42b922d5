// SecretTransformation: templates and include/exclude rules kept once and referenced by many synced
// objects (`destination.transformation.transformationRefs`), as VSO has it: Go templates (or handlebars,
// chosen by templateEngine), with `sourceTemplates` holding `define` blocks the templates may call.
import type { LinearRegex, NamedTemplateText, TemplateEngineName, TemplateRenderer } from '@vaultbridge/core';
import { asObject, asString, conditionsSchema, SpecError, type Condition, type ObjectMeta } from './common.ts';
import { compileTemplates, compileTransformationTemplate, parseTemplateEngine, regexList, templateEngineSchema, templateSources, type TemplateSource } from './sync-target.ts';

export interface SecretTransformationSpec {
  /** Output key → compiled template. */
  templates: Record<string, TemplateRenderer>;
  sources: Record<string, TemplateSource>;
  engine?: TemplateEngineName;
  /** Go only: texts holding `define` blocks, parsed with every template that uses this object. */
  sourceTemplates: NamedTemplateText[];
  includes: LinearRegex[];
  excludes: LinearRegex[];
}

export interface SecretTransformation {
  apiVersion: string;
  kind: 'SecretTransformation';
  metadata: ObjectMeta;
  spec: unknown;
  status?: { valid?: boolean; error?: string; conditions?: Condition[] };
}

export const secretTransformationSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      properties: {
        templateEngine: templateEngineSchema,
        templates: {
          type: 'object',
          description: 'Output key → {text}: a Go (or handlebars) template over { Secrets, Metadata, Annotations, Labels }.',
          additionalProperties: { type: 'object', required: ['text'], properties: { name: { type: 'string' }, text: { type: 'string' } } },
        },
        sourceTemplates: {
          type: 'array',
          description: 'Go templates holding define blocks that the templates (and those of objects referring to this one) may call; never rendered as keys. Not with handlebars.',
          items: { type: 'object', properties: { name: { type: 'string' }, text: { type: 'string' } } },
        },
        includes: { type: 'array', items: { type: 'string' } },
        excludes: { type: 'array', items: { type: 'string' } },
      },
    },
    status: { type: 'object', properties: { valid: { type: 'boolean' }, error: { type: 'string' }, conditions: conditionsSchema } },
  },
};

export function parseSecretTransformationSpec(raw: unknown): SecretTransformationSpec {
  const spec = asObject(raw, 'spec') ?? {};
  const engine = parseTemplateEngine(spec.templateEngine, 'spec.templateEngine');
  const sourceTemplates = parseSourceTemplates(spec.sourceTemplates, engine);
  const sources = templateSources(spec.templates, 'spec.templates');
  return {
    templates: compileTemplates(sources, engine, sourceTemplates),
    sources,
    ...(engine === undefined ? {} : { engine }),
    sourceTemplates,
    includes: regexList(spec.includes, 'spec.includes'),
    excludes: regexList(spec.excludes, 'spec.excludes'),
  };
}

/** `spec.sourceTemplates`: Go texts with `define` blocks; each must parse on its own. */
function parseSourceTemplates(raw: unknown, engine: TemplateEngineName | undefined): NamedTemplateText[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new SpecError('spec.sourceTemplates', 'expected a list');
  if (raw.length > 0 && engine === 'handlebars') {
    throw new SpecError('spec.sourceTemplates', 'is not supported with templateEngine handlebars (no define blocks); remove templateEngine to use Go templates');
  }
  return raw.map((item, index) => {
    const field = `spec.sourceTemplates[${index}]`;
    const entry = asObject(item, field, true)!;
    const text = asString(entry.text, `${field}.text`, true)!;
    const name = asString(entry.name, `${field}.name`) ?? `sourceTemplates[${index}]`;
    compileTransformationTemplate({ name, text, field: `${field}.text` }, 'go');
    return { name, text };
  });
}
