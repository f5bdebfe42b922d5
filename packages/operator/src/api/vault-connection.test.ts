// VaultConnection is described once (vaultConnectionSpecSchema): the parser and the CRD agree by construction.
import { SpecError } from './common.ts';
import { crds } from './crds.ts';
import { undescribedFields } from './kind-schema.ts';
import { parseVaultConnectionSpec } from './vault-connection.ts';

function specError(raw: unknown): SpecError {
  try {
    parseVaultConnectionSpec(raw);
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error('expected a SpecError');
}

const crd = crds().find((definition) => definition.spec.names.kind === 'VaultConnection');
const openApi = crd?.spec.versions[0]?.schema.openAPIV3Schema as {
  properties: { spec: { properties: Record<string, unknown>; required: string[] } };
};

test('every field of the CRD has a description (kubectl explain)', () => {
  expect(undescribedFields(openApi)).toEqual([]);
});

test('the CRD lists exactly the fields the parser reads, address required, skipTLSVerify defaulted', () => {
  const full = {
    address: 'https://vault:8200',
    skipTLSVerify: true,
    caCertSecretRef: 'ca',
    headers: { 'X-Team': 'web' },
    tlsServerName: 'vault.internal',
  };
  expect(parseVaultConnectionSpec(full)).toEqual(full);
  expect(Object.keys(openApi.properties.spec.properties).sort()).toEqual(Object.keys(full).sort());
  expect(openApi.properties.spec.required).toEqual(['address']);
  expect(openApi.properties.spec.properties.skipTLSVerify).toMatchObject({ default: false });
});

test('VSO defaults: empty strings and nulls are unset; unknown fields are ignored', () => {
  expect(
    parseVaultConnectionSpec({
      address: 'unix:///run/vault.sock',
      caCertSecretRef: '',
      tlsServerName: null,
      headers: null,
      skipTLSVerify: null,
      timeout: '5s',
    }),
  ).toEqual({ address: 'unix:///run/vault.sock', skipTLSVerify: false, headers: {} });
});

test.each<[string, unknown, string, string]>([
  ['no spec', undefined, 'spec', 'expected an object, got nothing'],
  ['a spec that is text', 'https://vault', 'spec', 'expected an object, got "https://vault"'],
  ['no address', {}, 'spec.address', 'expected the Vault address, e.g. https://vault.vault.svc:8200, got nothing'],
  [
    'an address without a scheme',
    { address: 'vault:8200' },
    'spec.address',
    'expected a URL like https://vault:8200 (http://, https:// or unix://), got "vault:8200"',
  ],
  [
    'skipTLSVerify as text',
    { address: 'https://v', skipTLSVerify: 'yes' },
    'spec.skipTLSVerify',
    'expected true or false, got "yes"',
  ],
  [
    'a header value that is a number',
    { address: 'https://v', headers: { 'X-Team': 5 } },
    'spec.headers.X-Team',
    'expected text, got 5',
  ],
  [
    'X-Vault-Namespace as a header',
    { address: 'https://v', headers: { 'x-vault-namespace': 'ns' } },
    'spec.headers',
    'X-Vault-Namespace may not be set as a header; use the VaultAuth or VaultStaticSecret namespace',
  ],
])('%s is refused naming the field', (_name, raw, field, message) => {
  const error = specError(raw);
  expect(error.field).toBe(field);
  expect(error.message).toBe(`${field}: ${message}`);
});
