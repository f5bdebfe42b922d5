// PKI issue and transit round trips against the real Vault of the test stack.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';
import {
  issueCertificate,
  parseCertificate,
  revokeCertificate,
  transitDecrypt,
  transitEncrypt,
  VaultClient,
  VaultError,
} from '../src/vault/index.ts';

let stack: TestStack;
let client: VaultClient;

beforeAll(() => {
  stack = sharedStack();
  client = new VaultClient({ address: stack.vaultAddr, token: stack.rootToken });
});

describe('PKI', () => {
  test('issues a certificate with its key and chain, and parses it', async () => {
    const host = `${stack.uniqueName('svc')}.${stack.layout.pkiDomain}`;
    const issued = await issueCertificate(client, {
      mount: stack.layout.pkiMount,
      role: stack.layout.pkiRole,
      commonName: host,
      altNames: [`alt.${host}`],
      ipSans: ['127.0.0.1'],
      ttl: '1h',
    });
    expect(issued.certificate).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(issued.privateKeyType).toBe('ec');
    expect(createPrivateKey(issued.privateKey).asymmetricKeyType).toBe('ec');
    expect(issued.caChain.length).toBeGreaterThanOrEqual(1);
    expect(issued.caChain[0]).toBe(issued.issuingCa);

    const { parsed } = issued;
    expect(parsed.commonName).toBe(host);
    expect(parsed.dnsNames.sort()).toEqual([host, `alt.${host}`].sort());
    expect(parsed.ipAddresses).toEqual(['127.0.0.1']);
    expect(parsed.issuer).toContain('CN=vaultbridge-testenv-root');
    expect(parsed.isCa).toBe(false);
    // Vault writes serials as aa:bb:…, node as AABB…: the same number.
    expect(parsed.serialNumber.toLowerCase()).toBe(issued.serialNumber.replaceAll(':', '').toLowerCase());
    expect(Math.abs(parsed.notAfter.getTime() - issued.expiration.getTime())).toBeLessThan(1000);
    expect(parsed.notAfter.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(parsed.notAfter.getTime() - Date.now()).toBeLessThanOrEqual(3_600_000);

    // The certificate is signed by the issuing CA, and its key matches the private key.
    const cert = new X509Certificate(issued.certificate);
    expect(cert.verify(new X509Certificate(issued.issuingCa).publicKey)).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(issued.privateKey))).toBe(true);
    expect(issued.secret.path).toBe(`${stack.layout.pkiMount}/issue/${stack.layout.pkiRole}`);
  });

  test('through a named issuer, in DER, with roots left out of the chain; revokeCertificate revokes it in Vault', async () => {
    const host = `${stack.uniqueName('der')}.${stack.layout.pkiDomain}`;
    const issued = await issueCertificate(client, {
      mount: stack.layout.pkiMount,
      role: stack.layout.pkiRole,
      issuerRef: 'default',
      commonName: host,
      ttl: '10m',
      format: 'der',
      removeRootsFromChain: true,
    });
    expect(issued.secret.path).toBe(`${stack.layout.pkiMount}/issuer/default/issue/${stack.layout.pkiRole}`);
    expect(issued.certificate).not.toContain('BEGIN');
    expect(new X509Certificate(Buffer.from(issued.certificate, 'base64')).subject).toContain(`CN=${host}`);
    expect(issued.parsed.commonName).toBe(host);

    await revokeCertificate(client, { mount: stack.layout.pkiMount, serialNumber: issued.serialNumber });
    const record = await client.read<{ revocation_time: number }>(
      `${stack.layout.pkiMount}/cert/${issued.serialNumber}`,
    );
    expect(record.data.revocation_time).toBeGreaterThan(0);
  });

  test("a name outside the role is refused with Vault's reason", async () => {
    const error = await issueCertificate(client, {
      mount: stack.layout.pkiMount,
      role: stack.layout.pkiRole,
      commonName: 'evil.example.com',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultError);
    expect((error as VaultError).status).toBe(400);
    expect((error as VaultError).message).toContain('evil.example.com');
  });

  test('parseCertificate reads the first certificate of a chain', () => {
    const chain = `${stack.handle.apiServer.caPem}\n${stack.handle.apiServer.caPem}`;
    const parsed = parseCertificate(chain);
    expect(parsed.isCa).toBe(true);
    expect(parsed.notAfter.getTime()).toBeGreaterThan(Date.now());
  });
});

describe('transit', () => {
  test('encrypts and decrypts text and bytes', async () => {
    const options = { mount: stack.layout.transitMount, key: stack.layout.transitKey };
    const ciphertext = await transitEncrypt(client, 'hello, wörld', options);
    expect(ciphertext).toMatch(/^vault:v1:/);
    expect((await transitDecrypt(client, ciphertext, options)).toString('utf8')).toBe('hello, wörld');

    const bytes = Uint8Array.from([0, 255, 1, 254, 10, 13]);
    const binary = await transitEncrypt(client, bytes, options);
    expect([...(await transitDecrypt(client, binary, options))]).toEqual([...bytes]);

    const empty = await transitEncrypt(client, '', options);
    expect((await transitDecrypt(client, empty, options)).length).toBe(0);
  });

  test('derived keys need the same context to decrypt', async () => {
    const key = stack.uniqueName('derived');
    await stack.vaultAdmin.write(`${stack.layout.transitMount}/keys/${key}`, { derived: true });
    const options = { mount: stack.layout.transitMount, key };
    const ciphertext = await transitEncrypt(client, 'tenant data', { ...options, context: 'tenant-a' });
    expect((await transitDecrypt(client, ciphertext, { ...options, context: 'tenant-a' })).toString()).toBe(
      'tenant data',
    );
    await expect(transitDecrypt(client, ciphertext, { ...options, context: 'tenant-b' })).rejects.toBeInstanceOf(
      VaultError,
    );
  });
});
