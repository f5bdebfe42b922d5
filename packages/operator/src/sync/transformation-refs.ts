// `destination.transformation.transformationRefs`: SecretTransformation objects merged into the
// object's own transformation when it syncs. Read at every sync, so an edited SecretTransformation
// applies at the next sync of each object that uses it (refresh, renewal, or a force-sync annotation).
import { CustomApi } from '../runtime/kube-api.ts';
import type { NamedTemplateText, TemplateRenderer } from '@vaultbridge/core';
import { OUR_API, SpecError, type ApiGroup } from '../api/common.ts';
import { kinds } from '../api/crds.ts';
import { parseSecretTransformationSpec, type SecretTransformation } from '../api/secret-transformation.ts';
import { compileTemplates, type Transformation } from '../api/sync-target.ts';
import { isNotFound } from '@vaultbridge/core';
import { ReconcileError } from '../runtime/reconcile-error.ts';

/** The transformation with every ref's templates, includes and excludes merged in; inline templates win. */
export async function resolveTransformationRefs(
  custom: CustomApi,
  objectNamespace: string,
  transformation: Transformation | undefined,
  /** The SecretTransformation informer's cache; a miss (not listed yet, or really absent) falls back to a GET. */
  cached?: (namespace: string, name: string) => SecretTransformation | undefined,
  api: ApiGroup = OUR_API,
): Promise<Transformation | undefined> {
  if (transformation === undefined || transformation.refs.length === 0) return transformation;
  const templates: Record<string, TemplateRenderer> = {};
  // As VSO parses every template into one set: the refs' define blocks are callable from inline templates.
  const companions: NamedTemplateText[] = [];
  const includes = [...transformation.includes];
  const excludes = [...transformation.excludes];
  for (const [index, ref] of transformation.refs.entries()) {
    const field = `spec.destination.transformation.transformationRefs[${index}]`;
    const namespace = ref.namespace ?? objectNamespace;
    let object: SecretTransformation | undefined = cached?.(namespace, ref.name);
    if (object === undefined)
      try {
        object = (await custom.getNamespacedCustomObject({
          group: api.group,
          version: api.version,
          namespace,
          plural: kinds.SecretTransformation.plural,
          name: ref.name,
        })) as SecretTransformation;
      } catch (error) {
        if (isNotFound(error))
          throw new ReconcileError(
            'SecretTransformationNotFound',
            `${field}: SecretTransformation ${namespace}/${ref.name} not found`,
          );
        throw error;
      }
    let spec;
    try {
      spec = parseSecretTransformationSpec(object.spec);
    } catch (error) {
      if (error instanceof SpecError)
        throw new ReconcileError(
          'InvalidSecretTransformation',
          `${field}: SecretTransformation ${namespace}/${ref.name}: ${error.message}`,
        );
      throw error;
    }
    const picked =
      ref.templateRefs.length === 0
        ? Object.keys(spec.templates).map((name) => ({ name, key: name }))
        : ref.templateRefs.map((templateRef) => ({
            name: templateRef.name,
            key: templateRef.keyOverride ?? templateRef.name,
          }));
    for (const { name, key } of picked) {
      const render = spec.templates[name];
      if (render === undefined)
        throw new ReconcileError(
          'InvalidSecretTransformation',
          `${field}.templateRefs: SecretTransformation ${namespace}/${ref.name} has no template "${name}"`,
        );
      if (Object.hasOwn(templates, key))
        throw new ReconcileError(
          'InvalidSecretTransformation',
          `${field}: the key "${key}" comes from two SecretTransformation templates; give one a keyOverride`,
        );
      templates[key] = render;
    }
    companions.push(...spec.sourceTemplates);
    if (!ref.ignoreIncludes) includes.push(...spec.includes);
    if (!ref.ignoreExcludes) excludes.push(...spec.excludes);
  }
  let inline = transformation.templates;
  if (companions.length > 0) {
    try {
      inline = compileTemplates(transformation.sources, transformation.engine, companions);
    } catch (error) {
      if (error instanceof SpecError) throw new ReconcileError('InvalidSpec', error.message);
      throw error;
    }
  }
  return { ...transformation, templates: { ...templates, ...inline }, includes, excludes, refs: [] };
}
