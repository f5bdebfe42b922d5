// Why: the first mount after a start paid for compiling everything it touches (the protobuf codec,
// the YAML parser, JSON and Go encoding, HMAC, HPACK, the Vault HTTP client) on top of its Vault
// round trips: 169 ms against upstream's 62 ms. The provider runs that code once on made-up input
// before its socket is served, so the driver's first call finds it compiled. Nothing is kept: what the
// warm-up allocates is garbage afterwards, so idle memory does not grow (only V8's compiled code).
import { duplexPair } from 'node:stream';
import type * as grpc from '@grpc/grpc-js';
import type { VaultResponse } from '@vaultbridge/core';
import hpack from 'hpack.js';
import { parseMountRequest, type MountConfig, type ProviderFlags } from './config.ts';
import { AuthorityRewritingConnection, encodeHeaderFrames } from './h2-authority.ts';
import { buildMountResult } from './mount.ts';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** A MountRequest as the driver builds it, with objects that take the common paths (key, whole, octal mode, base64). */
function sampleRequest(): {
  attributes: string;
  secrets: string;
  target_path: string;
  permission: string;
  current_object_version: [];
} {
  const tokens = JSON.stringify({
    vault: { token: 'warm-up', expirationTimestamp: new Date(Date.now() + 3_600_000).toISOString() },
  });
  const objects = [
    '- objectName: username',
    '  secretPath: secret/data/warm-up',
    '  secretKey: username',
    '- objectName: dir/password',
    '  secretPath: /v1/secret/data/warm-up?version=1',
    '  secretKey: password',
    '  filePermission: 0600',
    '- objectName: whole.json',
    '  secretPath: secret/data/warm-up',
    '- objectName: blob',
    '  secretPath: kv/warm-up',
    '  secretKey: blob',
    '  encoding: base64',
    '- objectName: cert',
    '  secretPath: pki/issue/warm-up',
    '  method: PUT',
    '  secretArgs:',
    '    common_name: warm-up.example',
    '    ttl: 1h',
    '',
  ].join('\n');
  return {
    attributes: JSON.stringify({
      roleName: 'warm-up',
      objects,
      secretProviderClass: 'warm-up',
      'csi.storage.k8s.io/pod.name': 'warm-up',
      'csi.storage.k8s.io/pod.namespace': 'warm-up',
      'csi.storage.k8s.io/pod.uid': '00000000-0000-4000-8000-000000000000',
      'csi.storage.k8s.io/serviceAccount.name': 'warm-up',
      'csi.storage.k8s.io/serviceAccount.tokens': tokens,
      'csi.storage.k8s.io/ephemeral': 'false',
    }),
    secrets: 'null',
    target_path: '/var/lib/kubelet/pods/warm-up/volumes/kubernetes.io~csi/warm-up/mount',
    permission: '420',
    current_object_version: [],
  };
}

function sampleAnswer(data: Record<string, unknown>): VaultResponse<unknown> {
  return {
    request_id: 'warm-up',
    lease_id: '',
    lease_duration: 0,
    renewable: false,
    data,
    auth: null,
    warnings: null,
    wrap_info: null,
  };
}

/**
 * Runs the mount path once on made-up input, without Vault: protobuf decode and encode as grpc-js
 * does, parsing, file building and object versions. Returns the parsed sample, whose
 * connection settings are those of a SecretProviderClass that names no address of its own.
 */
export function warmUpMountPath(service: grpc.ServiceDefinition, flags: ProviderFlags, hmacKey: Buffer): MountConfig {
  const method = service.Mount as grpc.MethodDefinition<unknown, unknown>;
  const wire = method.requestSerialize(sampleRequest());
  const request = method.requestDeserialize(wire) as ReturnType<typeof sampleRequest>;
  const config = parseMountRequest(
    {
      attributes: request.attributes,
      targetPath: request.target_path,
      permission: request.permission,
      secrets: request.secrets,
    },
    flags,
  );
  const kv = sampleAnswer({
    data: { username: 'warm-up', password: 'warm-up<&>', port: 5432, nested: { list: [1, 'two', true] } },
    metadata: { version: 1 },
  });
  const responses = new Map<string, VaultResponse<unknown>>([
    ['username', kv],
    ['dir/password', kv],
    ['whole.json', kv],
    ['blob', sampleAnswer({ blob: Buffer.from('warm-up').toString('base64') })],
    [
      'cert',
      {
        ...sampleAnswer({
          certificate: '-----BEGIN CERTIFICATE-----\nwarm-up\n-----END CERTIFICATE-----',
          serial_number: '01:02',
        }),
        lease_id: 'pki/issue/warm-up/x',
        lease_duration: 3600,
      },
    ],
  ]);
  const result = buildMountResult(config, responses, hmacKey);
  method.responseSerialize({ object_version: result.objectVersions, files: result.files });
  (service.Version as grpc.MethodDefinition<unknown, unknown>).responseSerialize({
    version: 'v1alpha1',
    runtime_name: 'warm-up',
    runtime_version: '0',
  });
  return config;
}

/**
 * One Version call through grpc-js as the driver's calls arrive (an injected connection behind the
 * authority rewriter), over an in-memory pair instead of the socket, written as raw HTTP/2 frames (no
 * HTTP/2 client is compiled that production never uses): grpc-js's and Node's HTTP/2 server paths are
 * compiled before the first real call. Resolves true once the call's trailers came back, false when it
 * gave up after `timeoutMs`; never throws.
 */
export async function warmUpGrpc(
  service: grpc.ServiceDefinition,
  injector: grpc.ConnectionInjector,
  timeoutMs = 2000,
): Promise<boolean> {
  const [clientSide, serverSide] = duplexPair();
  injector.injectConnection(new AuthorityRewritingConnection(serverSide));
  const message = (service.Version as grpc.MethodDefinition<unknown, unknown>).requestSerialize({
    version: 'v1alpha1',
  });
  const data = Buffer.alloc(5 + message.length);
  data.writeUInt32BE(message.length, 1);
  message.copy(data, 5);
  const dataFrame = Buffer.alloc(9);
  dataFrame.writeUIntBE(data.length, 0, 3);
  dataFrame.writeUInt8(0x0, 3);
  dataFrame.writeUInt8(0x1, 4);
  dataFrame.writeUInt32BE(1, 5);
  try {
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      let seen = Buffer.alloc(0);
      clientSide.on('data', (chunk: Buffer) => {
        // Done at the trailers: a HEADERS frame with END_STREAM on stream 1 (or the stream's reset).
        seen = Buffer.concat([seen, chunk]);
        while (seen.length >= 9) {
          const length = seen.readUIntBE(0, 3);
          if (seen.length < 9 + length) break;
          const type = seen.readUInt8(3);
          const flags = seen.readUInt8(4);
          const stream = seen.readUInt32BE(5) & 0x7fffffff;
          seen = seen.subarray(9 + length);
          if (stream === 1 && ((type === 0x1 && (flags & 0x1) !== 0) || type === 0x3)) {
            clearTimeout(timer);
            resolve(type === 0x1);
          }
        }
      });
      clientSide.on('error', () => undefined);
      clientSide.write(
        Buffer.concat([
          preface,
          Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
          ...encodeHeaderFrames(1, false, undefined, versionHeaders()),
          dataFrame,
          data,
        ]),
      );
    });
  } finally {
    clientSide.destroy();
  }
}

/** The header block grpc-go sends for Version on the provider socket. */
function versionHeaders(): Buffer {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  compressor.write([
    { name: ':method', value: 'POST' },
    { name: ':scheme', value: 'http' },
    { name: ':path', value: '/v1alpha1.CSIDriverProvider/Version' },
    { name: ':authority', value: '/var/run/secrets-store-csi-providers/vault.sock' },
    { name: 'content-type', value: 'application/grpc' },
    { name: 'user-agent', value: 'grpc-go/1.56.3' },
    { name: 'te', value: 'trailers' },
    { name: 'grpc-timeout', value: '4999m' },
  ]);
  return compressor.read() ?? Buffer.alloc(0);
}
