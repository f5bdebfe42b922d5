import { SpecError } from './common.ts';
import { crds } from './crds.ts';
import { undescribedFields } from './kind-schema.ts';
import { parseVaultAuthSpec } from './vault-auth.ts';
import {
  mergeVaultAuthGlobal,
  parseVaultAuthGlobalSpec,
  vaultAuthGlobalAllows,
  vaultAuthGlobalCandidates,
} from './vault-auth-global.ts';

// The precedence is VSO 1.4.1's (common.go MergeInVaultAuthGlobal): the VaultAuth's own value, then the
// global's method block, then the global's defaults; headers/params by mergeStrategy, default none.
const global = parseVaultAuthGlobalSpec({
  defaultAuthMethod: 'kubernetes',
  defaultMount: 'default-mount',
  defaultVaultNamespace: 'default-ns',
  vaultConnectionRef: 'shared-vault',
  headers: { 'X-Default': 'd', 'X-Both': 'default' },
  params: { p: 'default' },
  kubernetes: {
    role: 'global-role',
    serviceAccount: 'global-sa',
    audiences: ['global-aud'],
    mount: 'k8s-mount',
    namespace: 'method-ns',
    headers: { 'X-Method': 'm', 'X-Both': 'method' },
  },
  jwt: { role: 'jwt-role', serviceAccount: 'jwt-sa' },
});
const merge = (auth: Record<string, unknown>) => mergeVaultAuthGlobal(auth, global, 'platform/shared');

test('a VaultAuth naming only the global gets method, mount, namespace, connection and the method block', () => {
  const merged = merge({ vaultAuthGlobalRef: { name: 'shared' } });
  expect(merged).toMatchObject({
    method: 'kubernetes',
    mount: 'k8s-mount',
    namespace: 'method-ns',
    vaultConnectionRef: 'shared-vault',
    kubernetes: { role: 'global-role', serviceAccount: 'global-sa', audiences: ['global-aud'] },
  });
  // Headers and params: mergeStrategy none (the default) keeps the VaultAuth's, here none.
  expect(merged.headers).toBeUndefined();
  const spec = parseVaultAuthSpec(merged);
  expect(spec).toMatchObject({ method: 'kubernetes', mount: 'k8s-mount', namespace: 'method-ns', headers: {} });
  expect(spec.kubernetes).toEqual({
    role: 'global-role',
    serviceAccount: 'global-sa',
    audiences: ['global-aud'],
    tokenExpirationSeconds: 600,
  });
});

test("the VaultAuth's own values win, field by field; the method block's mount before defaultMount", () => {
  const merged = merge({
    vaultAuthGlobalRef: { name: 'shared' },
    namespace: 'own-ns',
    vaultConnectionRef: 'own-vault',
    kubernetes: { serviceAccount: 'own-sa', audiences: [], tokenExpirationSeconds: 900 },
  });
  expect(merged).toMatchObject({
    mount: 'k8s-mount',
    namespace: 'own-ns',
    vaultConnectionRef: 'own-vault',
    kubernetes: {
      role: 'global-role',
      serviceAccount: 'own-sa',
      audiences: ['global-aud'],
      tokenExpirationSeconds: 900,
    },
  });
  // A method without its block in the global: defaultMount and defaultVaultNamespace apply.
  const appRole = merge({
    vaultAuthGlobalRef: { name: 'shared' },
    method: 'appRole',
    appRole: { roleId: 'r', secretRef: 'id' },
  });
  expect(appRole).toMatchObject({ method: 'appRole', mount: 'default-mount', namespace: 'default-ns' });
});

test.each<[string, Record<string, string> | undefined, Record<string, string> | undefined]>([
  ['none', { 'X-Own': 'o' }, { 'X-Own': 'o' }],
  ['none', undefined, undefined],
  ['union', { 'X-Own': 'o', 'X-Both': 'own' }, { 'X-Default': 'd', 'X-Method': 'm', 'X-Both': 'own', 'X-Own': 'o' }],
  ['union', undefined, { 'X-Default': 'd', 'X-Method': 'm', 'X-Both': 'method' }],
  ['replace', { 'X-Own': 'o' }, { 'X-Own': 'o' }],
  ['replace', {}, { 'X-Method': 'm', 'X-Both': 'method' }],
])('headers with mergeStrategy %s and own %j: %j', (strategy, own, expected) => {
  const merged = merge({
    vaultAuthGlobalRef: { name: 'shared', mergeStrategy: { headers: strategy } },
    ...(own ? { headers: own } : {}),
  });
  expect(merged.headers).toEqual(expected);
});

test('replace falls through to the defaults when the method block has none; params follow their own strategy', () => {
  const merged = merge({
    vaultAuthGlobalRef: { name: 'shared', mergeStrategy: { headers: 'none', params: 'replace' } },
    method: 'jwt',
  });
  expect(merged.params).toEqual({ p: 'default' });
  expect(merged.headers).toBeUndefined();
  expect(merged.jwt).toEqual({ role: 'jwt-role', serviceAccount: 'jwt-sa' });
});

test('what the merge cannot fill is refused naming the field and the global', () => {
  const bare = parseVaultAuthGlobalSpec({});
  expect(() => mergeVaultAuthGlobal({ vaultAuthGlobalRef: { name: 'g' } }, bare, 'ns/g')).toThrow(
    'spec.method: is not set, and VaultAuthGlobal ns/g has no spec.defaultAuthMethod',
  );
  expect(() => mergeVaultAuthGlobal({ vaultAuthGlobalRef: { name: 'g' }, method: 'kubernetes' }, bare, 'ns/g')).toThrow(
    'spec.kubernetes: is required with method kubernetes: neither this VaultAuth nor VaultAuthGlobal ns/g',
  );
  expect(() =>
    mergeVaultAuthGlobal(
      { vaultAuthGlobalRef: { name: 'g' }, method: 'kubernetes', kubernetes: { role: 'r', serviceAccount: 's' } },
      bare,
      'ns/g',
    ),
  ).toThrow(
    'spec.mount: is not set, and VaultAuthGlobal ns/g sets neither spec.kubernetes.mount nor spec.defaultMount',
  );
  expect(() => merge({ vaultAuthGlobalRef: { name: 'shared', mergeStrategy: { headers: 'all' } } })).toThrow(
    'spec.vaultAuthGlobalRef.mergeStrategy.headers: expected union, replace or none',
  );
});

test("the reference: a name in the VaultAuth's namespace by default; allowDefault searches `default` as VSO does", () => {
  expect(vaultAuthGlobalCandidates({ name: 'g' }, 'app', 'operator')).toEqual([{ namespace: 'app', name: 'g' }]);
  expect(vaultAuthGlobalCandidates({ name: 'g', namespace: 'platform' }, 'app', 'operator')).toEqual([
    { namespace: 'platform', name: 'g' },
  ]);
  expect(vaultAuthGlobalCandidates({ allowDefault: true }, 'app', 'operator')).toEqual([
    { namespace: 'app', name: 'default' },
    { namespace: 'operator', name: 'default' },
  ]);
  expect(vaultAuthGlobalCandidates({ allowDefault: true, namespace: 'platform' }, 'app', 'operator')).toEqual([
    { namespace: 'platform', name: 'default' },
  ]);
  expect(() => vaultAuthGlobalCandidates({}, 'app', 'operator')).toThrow(SpecError);
  expect(() => vaultAuthGlobalCandidates({}, 'app', 'operator')).toThrow('spec.vaultAuthGlobalRef.name: is required');
});

test('allowed: its own namespace, listed ones or *, and anyone for `default` in the operator namespace', () => {
  const listed = parseVaultAuthGlobalSpec({ allowedNamespaces: ['app'] });
  const none = parseVaultAuthGlobalSpec({});
  expect(vaultAuthGlobalAllows({ namespace: 'app', name: 'g' }, none, 'app', 'op')).toBe(true);
  expect(vaultAuthGlobalAllows({ namespace: 'platform', name: 'g' }, listed, 'app', 'op')).toBe(true);
  expect(vaultAuthGlobalAllows({ namespace: 'platform', name: 'g' }, listed, 'other', 'op')).toBe(false);
  expect(vaultAuthGlobalAllows({ namespace: 'op', name: 'default' }, none, 'other', 'op')).toBe(true);
  expect(
    vaultAuthGlobalAllows(
      { namespace: 'platform', name: 'g' },
      parseVaultAuthGlobalSpec({ allowedNamespaces: ['*'] }),
      'x',
      'op',
    ),
  ).toBe(true);
});

test('the VaultAuthGlobal CRD describes every field and requires nothing; a bad field is named', () => {
  const crd = crds().find((definition) => definition.spec.names.kind === 'VaultAuthGlobal')!;
  const schema = crd.spec.versions[0]!.schema.openAPIV3Schema as { properties: { spec: { required?: string[] } } };
  expect(undescribedFields(schema)).toEqual([]);
  expect(schema.properties.spec.required).toBeUndefined();
  expect(() => parseVaultAuthGlobalSpec({ defaultAuthMethod: 'ldap' })).toThrow(
    'spec.defaultAuthMethod: expected one of kubernetes, jwt, appRole, aws, gcp',
  );
  expect(() => parseVaultAuthGlobalSpec({ kubernetes: { tokenExpirationSeconds: 60 } })).toThrow(
    'spec.kubernetes.tokenExpirationSeconds: expected an integer >= 600',
  );
});
