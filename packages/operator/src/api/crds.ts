// The CRDs, generated from the schemas beside each kind (the one source of truth for both).
import { GROUP, healthyReadyColumns, VERSION } from './common.ts';
import { vaultAuthSchema } from './vault-auth.ts';
import { vaultConnectionSchema } from './vault-connection.ts';
import { vaultDynamicSecretSchema } from './vault-dynamic-secret.ts';
import { vaultPkiSecretSchema } from './vault-pki-secret.ts';
import { secretTransformationSchema } from './secret-transformation.ts';
import { vaultStaticSecretSchema } from './vault-static-secret.ts';

export interface KindNames {
  kind: string;
  plural: string;
  singular: string;
  listKind: string;
}

export const kinds = {
  VaultConnection: { kind: 'VaultConnection', plural: 'vaultconnections', singular: 'vaultconnection', listKind: 'VaultConnectionList' },
  VaultAuth: { kind: 'VaultAuth', plural: 'vaultauths', singular: 'vaultauth', listKind: 'VaultAuthList' },
  VaultStaticSecret: { kind: 'VaultStaticSecret', plural: 'vaultstaticsecrets', singular: 'vaultstaticsecret', listKind: 'VaultStaticSecretList' },
  VaultDynamicSecret: { kind: 'VaultDynamicSecret', plural: 'vaultdynamicsecrets', singular: 'vaultdynamicsecret', listKind: 'VaultDynamicSecretList' },
  VaultPKISecret: { kind: 'VaultPKISecret', plural: 'vaultpkisecrets', singular: 'vaultpkisecret', listKind: 'VaultPKISecretList' },
  SecretTransformation: { kind: 'SecretTransformation', plural: 'secrettransformations', singular: 'secrettransformation', listKind: 'SecretTransformationList' },
} as const satisfies Record<string, KindNames>;

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
}

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

function crd(names: KindNames, description: string, schema: { type: string; properties: object }, columns: PrinterColumn[]): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${names.plural}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'vaultbridge-operator' } },
    spec: {
      group: GROUP,
      names,
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              description,
              type: 'object',
              properties: {
                apiVersion: { type: 'string', description: `The API version: ${GROUP}/${VERSION}.` },
                kind: { type: 'string', description: `The kind: ${names.kind}.` },
                // The API server refuses anything but `type` here (metadata's schema is its own).
                metadata: { type: 'object' },
                ...schema.properties,
              },
            },
          },
          subresources: { status: {} },
          additionalPrinterColumns: columns,
        },
      ],
    },
  };
}

export const crds: CustomResourceDefinition[] = [
  crd(kinds.VaultConnection, 'VaultConnection: how to reach a Vault server.', vaultConnectionSchema, healthyReadyColumns),
  crd(kinds.VaultAuth, 'VaultAuth: how to log in to Vault.', vaultAuthSchema, healthyReadyColumns),
  crd(kinds.VaultStaticSecret, 'VaultStaticSecret: a KV secret synced into a Kubernetes Secret.', vaultStaticSecretSchema, [
    { name: 'Synced', type: 'string', jsonPath: '.status.conditions[?(@.type=="SecretSynced")].status' },
    ...healthyReadyColumns,
  ]),
  crd(kinds.VaultDynamicSecret, 'VaultDynamicSecret: leased Vault credentials synced into a Kubernetes Secret, renewed and rotated.', vaultDynamicSecretSchema, [
    { name: 'Synced', type: 'string', jsonPath: '.status.conditions[?(@.type=="SecretSynced")].status' },
    ...healthyReadyColumns,
  ]),
  crd(kinds.VaultPKISecret, 'VaultPKISecret: a certificate from a Vault PKI role in a Kubernetes Secret, re-issued before it expires.', vaultPkiSecretSchema, [
    { name: 'Synced', type: 'string', jsonPath: '.status.conditions[?(@.type=="SecretSynced")].status' },
    ...healthyReadyColumns,
  ]),
  crd(kinds.SecretTransformation, 'SecretTransformation: templates and include/exclude rules shared by synced objects (transformationRefs).', secretTransformationSchema, healthyReadyColumns),
];
