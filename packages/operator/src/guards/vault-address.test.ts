import { VaultAddressNotAllowedError, VaultAddressPolicy } from './vault-address.ts';

const policy = new VaultAddressPolicy([
  'https://vault.vault.svc:8200',
  'http://127.0.0.1:8200/',
  'https://vault.example.com/prefix',
  'unix:///run/vault.sock',
]);

test.each([
  'https://vault.vault.svc:8200',
  'https://VAULT.vault.svc:8200/',
  'https://vault.vault.svc:8200/v1',
  'http://127.0.0.1:8200',
  'https://vault.example.com:443/prefix',
  'unix:///run/vault.sock',
])('%s is allowed', (address) => {
  expect(() => policy.check(address, 'spec.address')).not.toThrow();
});

test.each([
  'http://vault.vault.svc:8200',
  'https://vault.vault.svc:8201',
  'https://vault.vault.svc.evil.example:8200',
  'https://vault.example.com',
  'https://vault.example.com/other',
  'http://127.0.0.2:8200',
  'unix:///tmp/vault.sock',
])('%s is refused naming the field, the list and the chart value', (address) => {
  expect(() => policy.check(address, 'VaultConnection ns/evil spec.address')).toThrow(VaultAddressNotAllowedError);
  expect(() => policy.check(address, 'VaultConnection ns/evil spec.address')).toThrow(
    /^VaultConnection ns\/evil spec\.address: ".*" is not among the Vault addresses the operator is allowed to use \(https:\/\/vault\.vault\.svc:8200, .*operator\.allowedVaultAddresses/,
  );
});

test('no entries: any address, and unrestricted says so', () => {
  const open = new VaultAddressPolicy([' ', '']);
  expect(open.unrestricted).toBe(true);
  expect(() => open.check('http://anything:1234', 'spec.address')).not.toThrow();
  expect(policy.unrestricted).toBe(false);
});

test('an invalid entry is refused naming the setting', () => {
  expect(() => new VaultAddressPolicy(['vault:8200'])).toThrow('--allowed-vault-addresses');
});
