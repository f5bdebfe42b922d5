// The CRDs, one per row of the kind table (kind-table.ts), from the schemas each kind describes once.
import { VSO_API } from './common.ts';
import { KIND_TABLE, servedKinds, type KindDefinition, type KindNames, type PrinterColumn } from './kind-table.ts';

export { kinds, type KindNames } from './kind-table.ts';

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: {
    group: string;
    names: KindNames;
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: object };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

function crd(definition: KindDefinition): CustomResourceDefinition {
  const { kind, plural, singular, listKind, group, version } = definition;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.${group}`, labels: { 'app.kubernetes.io/name': 'vaultbridge-operator' } },
    spec: {
      group,
      names: { kind, plural, singular, listKind },
      scope: 'Namespaced',
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              description: definition.description,
              type: 'object',
              properties: {
                apiVersion: { type: 'string', description: `The API version: ${group}/${version}.` },
                kind: { type: 'string', description: `The kind: ${kind}.` },
                // The API server refuses anything but `type` here (metadata's schema is its own).
                metadata: { type: 'object' },
                ...definition.schema().properties,
              },
            },
          },
          subresources: { status: {} },
          additionalPrinterColumns: definition.printerColumns,
        },
      ],
    },
  };
}

let ours: CustomResourceDefinition[] | undefined;

/** Our CRDs, one per kind; built on the first call (a running operator never needs them: kind-table.ts). */
export function crds(): CustomResourceDefinition[] {
  return (ours ??= KIND_TABLE.map(crd));
}

/**
 * Our CRDs under VSO's group, for clusters (and tests) that have no VSO CRDs left: a cluster migrating
 * from VSO normally keeps VSO's own, which `helm uninstall` leaves in place with every object.
 */
export const vsoGroupCrds = (): CustomResourceDefinition[] => servedKinds(VSO_API).map(crd);
