// The child-process issuer against the real command line (the injector CLI's source run as node runs the
// bundle: `<node> <flags> <script> issue-certificate`), and against children that fail each way.
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { childProcessIssuer } from './issuer-process.ts';

const cli = path.join(import.meta.dirname, '../../cli/injector.ts');
const node = (...args: string[]): [string, ...string[]] => [process.execPath, ...args];
const now = Date.UTC(2026, 11, 7, 12);

describe('childProcessIssuer', () => {
  const issuer = childProcessIssuer({
    command: node(
      '--conditions=@vaultbridge/source',
      '--disable-warning=ExperimentalWarning',
      cli,
      'issue-certificate',
    ),
  });

  it('makes the CA and a serving certificate signed by it in `issue-certificate` children', async () => {
    const ca = await issuer.generateCertificateAuthority(48, now);
    expect(new X509Certificate(ca.certPem).ca).toBe(true);
    const leaf = await issuer.issueServingCertificate(ca, ['vault-agent-injector-svc.vault.svc', '127.0.0.1'], 12, now);
    const cert = new X509Certificate(leaf.certPem);
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:vault-agent-injector-svc.vault.svc, IP Address:127.0.0.1');
    expect(new Date(cert.validTo).getTime()).toBe(now + 12 * 3600_000);
  }, 30_000);

  it("passes on the child's message when the child refuses the request", async () => {
    await expect(issuer.issueServingCertificate({ certPem: 'x', keyPem: 'y' }, ['a'], 1, now)).rejects.toThrow(
      /exited with 1: issue-certificate: bad request on stdin: ca\.certPem: /,
    );
  }, 30_000);

  it('fails with a message for a child that exits, answers badly, hangs or cannot start', async () => {
    const exits = childProcessIssuer({ command: node('-e', 'console.error("no entropy"); process.exit(3)') });
    await expect(exits.generateCertificateAuthority(1, now)).rejects.toThrow(/exited with 3: no entropy$/);

    const notJson = childProcessIssuer({ command: node('-e', 'process.stdout.write("hello")') });
    await expect(notJson.generateCertificateAuthority(1, now)).rejects.toThrow(
      /answered with something that is not JSON$/,
    );

    const noPair = childProcessIssuer({
      command: node('-e', 'process.stdout.write(JSON.stringify({ certPem: "x" }))'),
    });
    await expect(noPair.generateCertificateAuthority(1, now)).rejects.toThrow(/answered without a PEM pair: certPem: /);

    const hangs = childProcessIssuer({ command: node('-e', 'setInterval(() => {}, 1000)'), timeoutMs: 300 });
    await expect(hangs.generateCertificateAuthority(1, now)).rejects.toThrow(
      /did not answer within 0.3 s; it was killed$/,
    );

    const missing = childProcessIssuer({ command: ['/nonexistent/node'] });
    await expect(missing.generateCertificateAuthority(1, now)).rejects.toThrow(
      /could not start: spawn \/nonexistent\/node ENOENT$/,
    );
  }, 30_000);
});
