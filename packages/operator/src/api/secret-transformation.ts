// SecretTransformation: templates and include/exclude rules kept once and referenced by many synced
// objects (`destination.transformation.transformationRefs`), as VSO has it: Go templates (or handlebars,
// chosen by templateEngine), with `sourceTemplates` holding `define` blocks the templates may call. The
// spec is described once in zod: type, parser and CRD schema come from it (kind-schema.ts).
import type { NamedTemplateText } from '@vaultbridge/core';
import { z } from 'zod';
import { SpecError, type Condition, type ObjectMeta } from './common.ts';
import { parseSpec, statusStructuralSchema, structuralSchema } from './kind-schema.ts';
import {
  compileInto,
  compileTransformationTemplate,
  given,
  optionalText,
  regexListField,
  templateEngineField,
  templatesField,
  templateSources,
} from './sync-target.ts';

const sourceTemplate = z
  .object(
    {
      name: optionalText('Name of the text, used in error messages.'),
      text: z.string({ error: 'expected the template text' }).describe('Go template text holding define blocks.'),
    },
    { error: 'expected an object with the template text under text' },
  )
  .describe('One text of define blocks.');

export const secretTransformationSpecSchema = z
  .object(
    {
      templateEngine: templateEngineField,
      templates: templatesField(
        'Template name → template over { Secrets, Metadata, Annotations, Labels }; the name is the Secret data key unless the referring object gives a keyOverride.',
      ),
      sourceTemplates: z
        .array(sourceTemplate, { error: 'expected a list of templates' })
        .optional()
        .describe(
          'Go templates holding define blocks that the templates (and those of objects referring to this one) may call; never rendered as keys. Not with handlebars.',
        ),
      includes: regexListField(
        'Keys of the Vault answer to keep (RE2), added to those of each referring object unless it sets ignoreIncludes.',
      ),
      excludes: regexListField(
        'Keys of the Vault answer to drop (RE2), added to those of each referring object unless it sets ignoreExcludes.',
      ),
    },
    { error: 'expected an object' },
  )
  .optional()
  .describe('Templates and include/exclude rules shared by the synced objects that refer to this one.')
  .transform((spec, context) => {
    const engine = spec?.templateEngine;
    const sourceTemplates: NamedTemplateText[] = [];
    const texts = spec?.sourceTemplates ?? [];
    if (texts.length > 0 && engine === 'handlebars') {
      context.addIssue({
        code: 'custom',
        path: ['sourceTemplates'],
        message:
          'is not supported with templateEngine handlebars (no define blocks); remove templateEngine to use Go templates',
        ...given,
      });
      return z.NEVER;
    }
    for (const [index, item] of texts.entries()) {
      const name = item.name || `sourceTemplates[${index}]`;
      try {
        compileTransformationTemplate({ name, text: item.text, field: `spec.sourceTemplates[${index}].text` }, 'go');
      } catch (error) {
        if (!(error instanceof SpecError)) throw error;
        context.addIssue({
          code: 'custom',
          path: ['sourceTemplates', index, 'text'],
          message: error.message.slice(`spec.sourceTemplates[${index}].text: `.length),
          ...given,
        });
        return z.NEVER;
      }
      sourceTemplates.push({ name, text: item.text });
    }
    const sources = templateSources(spec?.templates, 'spec.templates');
    return {
      /** Output key → compiled template. */
      templates: compileInto(context, ['templates'], sources, engine, sourceTemplates),
      sources,
      ...(engine === undefined ? {} : { engine }),
      /** Go only: texts holding `define` blocks, parsed with every template that uses this object. */
      sourceTemplates,
      includes: spec?.includes ?? [],
      excludes: spec?.excludes ?? [],
    };
  });

export type SecretTransformationSpec = z.output<typeof secretTransformationSpecSchema>;

export const secretTransformationStatusSchema = z
  .object({
    valid: z.boolean().optional().describe('Whether the templates compile and the regexes parse.'),
    error: z.string().optional().describe('Why not, naming the field, when they do not.'),
  })
  .describe('What the operator last found, written by it.');

export interface SecretTransformation {
  apiVersion: string;
  kind: 'SecretTransformation';
  metadata: ObjectMeta;
  spec: unknown;
  status?: z.output<typeof secretTransformationStatusSchema> & { conditions?: Condition[] };
}

export const secretTransformationSchema = {
  type: 'object',
  properties: {
    spec: structuralSchema(secretTransformationSpecSchema),
    status: statusStructuralSchema(secretTransformationStatusSchema),
  },
};

export function parseSecretTransformationSpec(raw: unknown): SecretTransformationSpec {
  return parseSpec(secretTransformationSpecSchema, raw);
}
