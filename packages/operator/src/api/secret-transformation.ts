// SecretTransformation: templates and include/exclude rules kept once and referenced by many synced
// objects (`destination.transformation.transformationRefs`), as VSO has it: Go templates (or handlebars,
// chosen by templateEngine), with `sourceTemplates` holding `define` blocks the templates may call. The
// spec is described once in zod: type, parser and CRD schema come from it (kind-schema.ts).
import type { NamedTemplateText } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { SpecError, type Condition, type ObjectMeta } from './common.ts';
import {
  addIssue,
  described,
  parseSpec,
  statusStructuralSchema,
  structuralSchema,
  transformed,
  type KindSchema,
} from './kind-schema.ts';
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

const sourceTemplate = described(
  z.object(
    {
      name: optionalText('Name of the text, used in error messages.'),
      text: described(z.string({ error: 'expected the template text' }), 'Go template text holding define blocks.'),
    },
    { error: 'expected an object with the template text under text' },
  ),
  'One text of define blocks.',
);

export const secretTransformationSpecSchema = transformed(
  described(
    z.optional(
      z.object(
        {
          templateEngine: templateEngineField,
          templates: templatesField(
            'Template name → template over { Secrets, Metadata, Annotations, Labels }; the name is the Secret data key unless the referring object gives a keyOverride.',
          ),
          sourceTemplates: described(
            z.optional(z.array(sourceTemplate, { error: 'expected a list of templates' })),
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
      ),
    ),
    'Templates and include/exclude rules shared by the synced objects that refer to this one.',
  ),
  (spec, payload) => {
    const engine = spec?.templateEngine;
    const sourceTemplates: NamedTemplateText[] = [];
    const texts = spec?.sourceTemplates ?? [];
    if (texts.length > 0 && engine === 'handlebars') {
      addIssue(payload, {
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
        addIssue(payload, {
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
      templates: compileInto(payload, ['templates'], sources, engine, sourceTemplates),
      sources,
      ...(engine === undefined ? {} : { engine }),
      /** Go only: texts holding `define` blocks, parsed with every template that uses this object. */
      sourceTemplates,
      includes: spec?.includes ?? [],
      excludes: spec?.excludes ?? [],
    };
  },
);

export type SecretTransformationSpec = z.output<typeof secretTransformationSpecSchema>;

export const secretTransformationStatusSchema = described(
  z.object({
    valid: described(z.optional(z.boolean()), 'Whether the templates compile and the regexes parse.'),
    error: described(z.optional(z.string()), 'Why not, naming the field, when they do not.'),
  }),
  'What the operator last found, written by it.',
);

export interface SecretTransformation {
  apiVersion: string;
  kind: 'SecretTransformation';
  metadata: ObjectMeta;
  spec: unknown;
  status?: z.output<typeof secretTransformationStatusSchema> & { conditions?: Condition[] };
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const secretTransformationSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(secretTransformationSpecSchema),
    status: statusStructuralSchema(secretTransformationStatusSchema),
  },
});

export function parseSecretTransformationSpec(raw: unknown): SecretTransformationSpec {
  return parseSpec(secretTransformationSpecSchema, raw);
}
