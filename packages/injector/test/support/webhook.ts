// What the webhook server tests share: a serving certificate as the files -tls-cert-file and -tls-key-file
// read, and an AdmissionReview POSTed to /mutate over HTTPS as the API server sends it.
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createCertificateAuthority, issueCertificate } from '@vaultbridge/testenv';

export interface ServingCertificateFiles {
  /** The CA that signed the certificate: what a client (or a webhook configuration's caBundle) trusts. */
  caPem: string;
  certFile: string;
  keyFile: string;
}

/** A fresh CA named `name` and a server certificate for 127.0.0.1, written as tls.crt/tls.key in a new temp dir. */
export async function servingCertificateFiles(name: string, commonName: string): Promise<ServingCertificateFiles> {
  const ca = await createCertificateAuthority(name);
  const serving = await issueCertificate(ca, { commonName, usage: 'server', ipAddresses: ['127.0.0.1'] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const certFile = path.join(dir, 'tls.crt');
  const keyFile = path.join(dir, 'tls.key');
  fs.writeFileSync(certFile, serving.certPem);
  fs.writeFileSync(keyFile, serving.keyPem);
  return { caPem: ca.certPem, certFile, keyFile };
}

/** POSTs `body` to /mutate on 127.0.0.1:`port`; resolves with the status once the whole answer is read. */
export function postReview(
  port: number,
  body: string | Buffer,
  options: { ca?: string; agent?: https.Agent; contentType?: string } = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.agent === undefined ? {} : { agent: options.agent }),
        headers: {
          'content-type': options.contentType ?? 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}
