import { asBoolean, asObject, asString, asStringMap, conditionsSchema, SpecError, stringMapSchema, type Condition, type ObjectMeta } from './common.ts';

export interface VaultConnectionSpec {
  address: string;
  skipTLSVerify: boolean;
  /** Secret in the VaultConnection's namespace holding the CA PEM under `ca.crt`. */
  caCertSecretRef?: string;
  headers: Record<string, string>;
  tlsServerName?: string;
}

export interface VaultConnection {
  apiVersion: string;
  kind: 'VaultConnection';
  metadata: ObjectMeta;
  spec: VaultConnectionSpec;
  status?: { valid?: boolean; conditions?: Condition[] };
}

export const vaultConnectionSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['address'],
      properties: {
        address: { type: 'string', minLength: 1, pattern: '^(https?://|unix://).+', description: 'Vault address, e.g. https://vault.vault.svc:8200.' },
        skipTLSVerify: { type: 'boolean', default: false, description: 'Skip TLS verification (development only).' },
        caCertSecretRef: { type: 'string', description: 'Secret in this namespace holding the CA PEM under key ca.crt.' },
        headers: { ...stringMapSchema, description: 'Headers sent on every Vault request (X-Vault-Namespace is refused).' },
        tlsServerName: { type: 'string', description: 'TLS server name (SNI).' },
      },
    },
    status: { type: 'object', properties: { valid: { type: 'boolean' }, conditions: conditionsSchema } },
  },
};

export function parseVaultConnectionSpec(raw: unknown): VaultConnectionSpec {
  const spec = asObject(raw, 'spec', true)!;
  const address = asString(spec.address, 'spec.address', true)!;
  if (!/^(https?|unix):\/\/./.test(address)) throw new SpecError('spec.address', `"${address}" is not a URL like https://vault:8200`);
  const headers = asStringMap(spec.headers, 'spec.headers');
  if (Object.keys(headers).some((name) => name.toLowerCase() === 'x-vault-namespace')) {
    throw new SpecError('spec.headers', 'X-Vault-Namespace may not be set as a header; use the VaultAuth or VaultStaticSecret namespace');
  }
  const caCertSecretRef = asString(spec.caCertSecretRef, 'spec.caCertSecretRef');
  const tlsServerName = asString(spec.tlsServerName, 'spec.tlsServerName');
  return {
    address,
    skipTLSVerify: asBoolean(spec.skipTLSVerify, 'spec.skipTLSVerify', false),
    headers,
    ...(caCertSecretRef ? { caCertSecretRef } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
  };
}
