import { SpecError } from './common.ts';
import { crds } from './crds.ts';
import { undescribedFields } from './kind-schema.ts';
import { parseVaultAuthSpec } from './vault-auth.ts';

const kubernetes = (extra: object = {}) => ({
  method: 'kubernetes',
  mount: 'kubernetes',
  kubernetes: { role: 'app', serviceAccount: 'app', ...extra },
});

test('token audiences default to ["vault"], never to the API server\'s (VSO leaves them empty)', () => {
  expect(parseVaultAuthSpec(kubernetes()).kubernetes?.audiences).toEqual(['vault']);
  expect(parseVaultAuthSpec(kubernetes({ audiences: [] })).kubernetes?.audiences).toEqual(['vault']);
  expect(
    parseVaultAuthSpec({ method: 'jwt', mount: 'jwt', jwt: { role: 'r', serviceAccount: 'app' } }).jwt?.audiences,
  ).toEqual(['vault']);
});

test('given audiences are kept; an empty one is refused naming the field', () => {
  expect(parseVaultAuthSpec(kubernetes({ audiences: ['vault-prod'] })).kubernetes?.audiences).toEqual(['vault-prod']);
  expect(() => parseVaultAuthSpec(kubernetes({ audiences: [''] }))).toThrow(SpecError);
  expect(() => parseVaultAuthSpec(kubernetes({ audiences: [''] }))).toThrow('spec.kubernetes.audiences');
});

describe('one schema (vaultAuthSpecSchema): the CRD and the parser agree', () => {
  const crd = crds().find((definition) => definition.spec.names.kind === 'VaultAuth');
  const openApi = crd?.spec.versions[0]?.schema.openAPIV3Schema as {
    properties: { spec: { properties: Record<string, { properties?: Record<string, unknown> }>; required: string[] } };
  };

  test('every field of the CRD has a description (kubectl explain)', () => {
    expect(undescribedFields(openApi)).toEqual([]);
  });

  test("the CRD requires nothing a VaultAuthGlobal may give (as VSO's), and keeps the VSO fields refused by the parser so VSO manifests apply", () => {
    expect(openApi.properties.spec.required).toBeUndefined();
    expect(openApi.properties.spec.properties.kubernetes).not.toHaveProperty('required');
    expect(() => parseVaultAuthSpec({ mount: 'k', kubernetes: { role: 'r', serviceAccount: 'a' } })).toThrow(
      'spec.method: expected one of kubernetes, jwt, appRole, got nothing',
    );
    expect(() => parseVaultAuthSpec({ method: 'kubernetes', mount: 'k', kubernetes: { serviceAccount: 'a' } })).toThrow(
      'spec.kubernetes.role: expected the Vault role, got nothing',
    );
    expect(openApi.properties.spec.properties.appRole?.properties).toHaveProperty('secretIDPath');
    expect(() => parseVaultAuthSpec({ method: 'gcp', mount: 'gcp' })).toThrow(
      'spec.method: "gcp" is not supported yet',
    );
  });

  test.each<[string, unknown, string]>([
    [
      'no mount',
      { method: 'kubernetes', kubernetes: { role: 'r', serviceAccount: 'a' } },
      'spec.mount: expected the auth mount, got nothing',
    ],
    [
      'a method without its section',
      { method: 'kubernetes', mount: 'k' },
      'spec.kubernetes: is required with method kubernetes',
    ],
    [
      'a short token lifetime',
      kubernetes({ tokenExpirationSeconds: 60 }),
      'spec.kubernetes.tokenExpirationSeconds: expected an integer >= 600',
    ],
    [
      'appRole without secretRef',
      { method: 'appRole', mount: 'approle', appRole: { roleId: 'r' } },
      'spec.appRole.secretRef: is required: the Secret whose key id holds the secret_id',
    ],
    [
      'an appRole secretRef that is no Secret name',
      { method: 'appRole', mount: 'approle', appRole: { roleId: 'r', secretRef: 'Not A Name' } },
      'spec.appRole.secretRef: expected a Secret name (the given value is not shown',
    ],
    [
      'an unknown method',
      { method: 'ldap', mount: 'ldap' },
      'spec.method: expected one of kubernetes, jwt, appRole, got "ldap"',
    ],
  ])('%s is refused naming the field', (_name, raw, message) => {
    expect(() => parseVaultAuthSpec(raw)).toThrow(message);
  });

  test("only the chosen method's section is kept; storageEncryption mount loses its slashes", () => {
    const spec = parseVaultAuthSpec({
      ...kubernetes(),
      jwt: { role: 'r', serviceAccount: 'a' },
      storageEncryption: { mount: '/transit/', keyName: 'k' },
      vaultConnectionRef: '',
    });
    expect(spec).toEqual({
      allowedNamespaces: [],
      method: 'kubernetes',
      mount: 'kubernetes',
      headers: {},
      storageEncryption: { mount: 'transit', keyName: 'k' },
      kubernetes: { role: 'app', serviceAccount: 'app', audiences: ['vault'], tokenExpirationSeconds: 600 },
    });
  });
});
