// A stand-in for AWS STS as Vault's AWS auth method calls it (the mount's `sts_endpoint`): no cloud is
// reachable here. It checks the SigV4 signature of the request Vault forwarded with AWS's own signer
// (@smithy/signature-v4) and the test's secret key, and answers GetCallerIdentity as STS does, or STS's
// SignatureDoesNotMatch error. Also answers AssumeRoleWithWebIdentity (unsigned, as EKS IRSA calls it)
// with the test's keys. Every request is recorded.
import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';

export interface StsRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface StsKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data)
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
    : new Uint8Array(data);
}

/** node:crypto as the Checksum @smithy/signature-v4 needs. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    throw new Error('not used');
  }
}

/** Re-signs the request with AWS's signer (same date, region, service, signed headers) and compares. */
export async function verifySigV4(request: StsRequest, keys: StsKeys): Promise<boolean> {
  const authorization = String(request.headers.authorization ?? '');
  const parts =
    /Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]+)/.exec(
      authorization,
    );
  if (!parts || parts[1] !== keys.accessKeyId) return false;
  const [, , , region, service, signedHeaders, signature] = parts as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const headers: Record<string, string> = {};
  for (const name of signedHeaders.split(';')) headers[name] = String(request.headers[name] ?? '');
  const d = headers['x-amz-date'] ?? '';
  const signingDate = new Date(
    `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({ credentials: keys, region, service, sha256: Sha256, applyChecksum: false });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: headers.host ?? '',
      path: '/',
      query: {},
      headers,
      body: request.body,
    },
    { signingDate },
  );
  return String(signed.headers.authorization ?? signed.headers.Authorization).endsWith(`Signature=${signature}`);
}

export interface StsStandIn {
  readonly url: string;
  readonly seen: StsRequest[];
  close(): Promise<void>;
}

export async function startStsStandIn(options: {
  keys: StsKeys;
  callerArn: string;
  account?: string;
}): Promise<StsStandIn> {
  const seen: StsRequest[] = [];
  const account = options.account ?? '123456789012';
  const xml = (status: number, body: string) => ({ status, body });
  const answer = async (request: StsRequest): Promise<{ status: number; body: string }> => {
    const form = new URLSearchParams(request.body);
    if (form.get('Action') === 'AssumeRoleWithWebIdentity') {
      if (!form.get('RoleArn') || !form.get('WebIdentityToken'))
        return xml(400, '<ErrorResponse><Error><Code>InvalidParameterValue</Code></Error></ErrorResponse>');
      const k = options.keys;
      return xml(
        200,
        `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials><AccessKeyId>${k.accessKeyId}</AccessKeyId><SecretAccessKey>${k.secretAccessKey}</SecretAccessKey><SessionToken>${k.sessionToken ?? ''}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
      );
    }
    if (form.get('Action') === 'GetCallerIdentity' && (await verifySigV4(request, options.keys))) {
      return xml(
        200,
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${options.callerArn}</Arn><UserId>AROAEXAMPLE:vaultbridge</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    }
    return xml(
      403,
      '<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided.</Message></Error></ErrorResponse>',
    );
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      seen.push(request);
      void answer(request).then((reply) => {
        res.writeHead(reply.status, { 'Content-Type': 'text/xml' });
        res.end(reply.body);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
