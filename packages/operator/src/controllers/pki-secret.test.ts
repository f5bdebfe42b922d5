import { pkiRenewalPoint, pkiSecretData } from './pki-secret.ts';

const decoded = (data: Record<string, string>) =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

describe('pkiRenewalPoint', () => {
  it('is expiry minus expiryOffset when set', () => {
    expect(pkiRenewalPoint(1000, 2000, 100_000)).toBe(2_000_000 - 100_000);
  });
  it('is two thirds of the lifetime without expiryOffset (VSO waits for expiry)', () => {
    expect(pkiRenewalPoint(1000, 4000, undefined)).toBe(3_000_000);
  });
  it('an offset as long as the lifetime falls back to two thirds (no re-issue on every reconcile)', () => {
    expect(pkiRenewalPoint(1000, 4000, 3_000_000)).toBe(3_000_000);
    expect(pkiRenewalPoint(1000, 4000, 10_000_000)).toBe(3_000_000);
  });
});

describe('pkiSecretData', () => {
  const issued = {
    certificate: 'LEAF',
    issuing_ca: 'ROOT',
    ca_chain: ['INTERMEDIATE'],
    private_key: 'KEY',
    private_key_type: 'ec',
    serial_number: '01:02',
    expiration: 1800000000,
  };
  it("keeps Vault's fields, joins ca_chain, adds _raw", () => {
    const data = decoded(pkiSecretData(issued, 'Opaque'));
    expect(data).toMatchObject({
      certificate: 'LEAF',
      issuing_ca: 'ROOT',
      ca_chain: 'INTERMEDIATE',
      private_key: 'KEY',
      serial_number: '01:02',
      expiration: '1800000000',
    });
    expect(JSON.parse(data._raw!)).toEqual(issued);
    expect(data['tls.crt']).toBeUndefined();
  });
  it('kubernetes.io/tls gets tls.crt (leaf + chain) and tls.key; ca.crt only from issuing_ca when there is no chain (as VSO)', () => {
    expect(decoded(pkiSecretData(issued, 'kubernetes.io/tls'))).toMatchObject({
      'tls.crt': 'LEAF\nINTERMEDIATE',
      'tls.key': 'KEY',
    });
    expect(decoded(pkiSecretData(issued, 'kubernetes.io/tls'))['ca.crt']).toBeUndefined();
    const rootIssued = decoded(pkiSecretData({ ...issued, ca_chain: [] }, 'kubernetes.io/tls'));
    expect(rootIssued).toMatchObject({ 'tls.crt': 'LEAF\nROOT', 'ca.crt': 'ROOT' });
  });
});
