import { SpecError } from './common.ts';
import { parseVaultAuthSpec } from './vault-auth.ts';

const kubernetes = (extra: object = {}) => ({ method: 'kubernetes', mount: 'kubernetes', kubernetes: { role: 'app', serviceAccount: 'app', ...extra } });

test('token audiences default to ["vault"], never to the API server\'s (VSO leaves them empty)', () => {
  expect(parseVaultAuthSpec(kubernetes()).kubernetes?.audiences).toEqual(['vault']);
  expect(parseVaultAuthSpec(kubernetes({ audiences: [] })).kubernetes?.audiences).toEqual(['vault']);
  expect(parseVaultAuthSpec({ method: 'jwt', mount: 'jwt', jwt: { role: 'r', serviceAccount: 'app' } }).jwt?.audiences).toEqual(['vault']);
});

test('given audiences are kept; an empty one is refused naming the field', () => {
  expect(parseVaultAuthSpec(kubernetes({ audiences: ['vault-prod'] })).kubernetes?.audiences).toEqual(['vault-prod']);
  expect(() => parseVaultAuthSpec(kubernetes({ audiences: [''] }))).toThrow(SpecError);
  expect(() => parseVaultAuthSpec(kubernetes({ audiences: [''] }))).toThrow('spec.kubernetes.audiences');
});
