// VaultConnection: how to reach a Vault server. The spec is described once (vaultConnectionSpecSchema);
// the type, the parser and the CRD schema all come from it (kind-schema.ts).
import { NO_GIVEN_VALUE } from '@vaultbridge/core';
import * as z from 'zod/mini';
import { conditionsSchema, type Condition, type ObjectMeta } from './common.ts';
import { described, parseSpec, structuralSchema, transformed, type KindSchema } from './kind-schema.ts';

const ADDRESS = /^(https?|unix):\/\/./;

export const vaultConnectionSpecSchema = transformed(
  described(
    z.object(
      {
        address: described(
          z
            .string({ error: 'expected the Vault address, e.g. https://vault.vault.svc:8200' })
            .check(
              z.regex(ADDRESS, { error: 'expected a URL like https://vault:8200 (http://, https:// or unix://)' }),
            ),
          'Vault address, e.g. https://vault.vault.svc:8200 (http://, https:// or unix://). An operator started with --allowed-vault-addresses refuses any other.',
        ),
        skipTLSVerify: described(
          z._default(z.boolean({ error: 'expected true or false' }), false),
          'Skip verifying the Vault server certificate (development only).',
        ),
        caCertSecretRef: described(
          z.optional(z.string({ error: 'expected the name of a Secret' })),
          'Secret in this namespace holding the CA certificate PEM under the key ca.crt, to verify the Vault server with.',
        ),
        headers: described(
          z.optional(
            z.record(z.string(), described(z.string({ error: 'expected text' }), 'Header value.'), {
              error: 'expected a mapping of header names to text',
            }),
          ),
          'HTTP headers sent on every Vault request. X-Vault-Namespace is refused: set the namespace on the VaultAuth or the synced object.',
        ).check(
          z.superRefine((headers, context) => {
            if (Object.keys(headers ?? {}).some((name) => name.toLowerCase() === 'x-vault-namespace')) {
              context.addIssue({
                code: 'custom',
                message:
                  'X-Vault-Namespace may not be set as a header; use the VaultAuth or VaultStaticSecret namespace',
                params: NO_GIVEN_VALUE,
              });
            }
          }),
        ),
        tlsServerName: described(
          z.optional(z.string({ error: 'expected text' })),
          'TLS server name (SNI) to send to Vault and to verify its certificate against, when not the address host.',
        ),
      },
      { error: 'expected an object' },
    ),
    'How to reach the Vault server.',
  ),
  // Empty strings mean "not set", as in VSO (omitempty).
  (spec) => ({
    address: spec.address,
    skipTLSVerify: spec.skipTLSVerify,
    headers: spec.headers ?? {},
    ...(spec.caCertSecretRef ? { caCertSecretRef: spec.caCertSecretRef } : {}),
    ...(spec.tlsServerName ? { tlsServerName: spec.tlsServerName } : {}),
  }),
);

export type VaultConnectionSpec = z.output<typeof vaultConnectionSpecSchema>;

export interface VaultConnection {
  apiVersion: string;
  kind: 'VaultConnection';
  metadata: ObjectMeta;
  spec: VaultConnectionSpec;
  status?: { valid?: boolean; conditions?: Condition[] };
}

/** The CRD's `spec` and `status` schema, generated when first asked for (kind-table.ts). */
export const vaultConnectionSchema = (): KindSchema => ({
  type: 'object',
  properties: {
    spec: structuralSchema(vaultConnectionSpecSchema),
    status: {
      type: 'object',
      description: 'What the operator last found, written by it.',
      properties: {
        valid: { type: 'boolean', description: 'Whether the spec is usable (VSO status field).' },
        conditions: conditionsSchema,
      },
    },
  },
});

export function parseVaultConnectionSpec(raw: unknown): VaultConnectionSpec {
  return parseSpec(vaultConnectionSpecSchema, raw);
}
