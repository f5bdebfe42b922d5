// SecretTransformation: templates and include/exclude rules kept once and referenced by many synced
// objects (`destination.transformation.transformationRefs`), as VSO has it, with handlebars templates.
import type { TemplateRenderer } from '@vaultbridge/core';
import { asObject, conditionsSchema, SpecError, type Condition, type ObjectMeta } from './common.ts';
import { compileTemplates, regexList } from './sync-target.ts';

export interface SecretTransformationSpec {
  /** Output key → compiled template. */
  templates: Record<string, TemplateRenderer>;
  includes: RegExp[];
  excludes: RegExp[];
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
        templates: {
          type: 'object',
          description: 'Output key → {text}: a handlebars template over { Secrets, Metadata, Annotations, Labels }.',
          additionalProperties: { type: 'object', required: ['text'], properties: { name: { type: 'string' }, text: { type: 'string' } } },
        },
        sourceTemplates: {
          type: 'array',
          description: 'Go template define blocks in VSO; not supported with handlebars (refused when not empty).',
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
  const sources = spec.sourceTemplates;
  if (Array.isArray(sources) && sources.length > 0) {
    throw new SpecError('spec.sourceTemplates', 'is not supported: handlebars templates have no define blocks; put the shared text into each template');
  }
  return {
    templates: compileTemplates(spec.templates, 'spec.templates'),
    includes: regexList(spec.includes, 'spec.includes'),
    excludes: regexList(spec.excludes, 'spec.excludes'),
  };
}
