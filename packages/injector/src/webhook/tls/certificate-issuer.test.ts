import { X509Certificate, createPrivateKey } from 'node:crypto';
import { answerIssueRequest, inProcessIssuer } from './certificate-issuer.ts';

const now = Date.UTC(2026, 11, 7, 12);

describe('answerIssueRequest (what the issue-certificate child does)', () => {
  it('makes a CA valid for the hours asked, whose key pairs with it', async () => {
    const answer = JSON.parse(await answerIssueRequest(JSON.stringify({ make: 'ca', validityHours: 24, now })));
    const cert = new X509Certificate(answer.certPem);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toBe('CN=Vaultbridge Injector CA');
    expect(new Date(cert.validTo).getTime()).toBe(now + 24 * 3600_000);
    expect(cert.checkPrivateKey(createPrivateKey(answer.keyPem))).toBe(true);
  });

  it('makes a serving certificate for the hosts, signed by the CA it was given', async () => {
    const ca = await inProcessIssuer.generateCertificateAuthority(24, now);
    const request = { make: 'serving', ca, hosts: ['injector.vault.svc', '10.0.0.7'], validityHours: 2, now };
    const answer = JSON.parse(await answerIssueRequest(JSON.stringify(request)));
    const leaf = new X509Certificate(answer.certPem);
    expect(leaf.ca).toBe(false);
    expect(leaf.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe('DNS:injector.vault.svc, IP Address:10.0.0.7');
    expect(leaf.checkPrivateKey(createPrivateKey(answer.keyPem))).toBe(true);
  });

  it('names what is wrong with a request, and never echoes the CA key it was sent', async () => {
    await expect(answerIssueRequest('{"make":')).rejects.toThrow(
      'the request on stdin is not JSON: send one object with "make": "ca" or "serving"',
    );
    await expect(answerIssueRequest(JSON.stringify({ make: 'leaf', validityHours: 1, now }))).rejects.toThrow(
      /^bad request on stdin: make: /,
    );
    const secretKey = '-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----\n';
    const noHosts = {
      make: 'serving',
      ca: { certPem: 'not a PEM', keyPem: secretKey },
      hosts: [],
      validityHours: 1,
      now,
    };
    const error = await answerIssueRequest(JSON.stringify(noHosts)).then(
      () => undefined,
      (thrown: unknown) => thrown as Error,
    );
    expect(error?.message).toMatch(/^bad request on stdin: ca\.certPem: /);
    expect(error?.message).not.toContain('c2VjcmV0');
    await expect(
      answerIssueRequest(JSON.stringify({ ...noHosts, ca: { certPem: secretKey, keyPem: secretKey } })),
    ).rejects.toThrow(/^bad request on stdin: hosts: /);
  });
});
