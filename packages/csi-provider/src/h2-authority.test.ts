// The rewriter in front of Node's real HTTP/2 server: client bytes written by hand (preface, SETTINGS,
// HEADERS with PADDED/PRIORITY, CONTINUATION, DATA) go through AuthorityRewritingConnection into
// http2.createServer(), which must accept the streams and see the headers as sent, `:authority` aside.
import { randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import { duplexPair, type Duplex } from 'node:stream';
import hpack from 'hpack.js';
import {
  AuthorityRewritingConnection,
  ClientStreamRewriter,
  Http2FramingError,
  nghttp2AcceptsAuthority,
} from './h2-authority.ts';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId, 5);
  return Buffer.concat([header, payload]);
}

/** A client's HPACK encoder: its dynamic table carries over from one request to the next, as grpc-go's does. */
function clientEncoder(): (headers: Array<[string, string]>) => Buffer {
  const compressor = hpack.compressor.create({ table: { maxSize: 4096 } });
  return (headers) => {
    compressor.write(headers.map(([name, value]) => ({ name, value })));
    return compressor.read() ?? Buffer.alloc(0);
  };
}

const socketAuthority = '/var/run/secrets-store-csi-providers/vault.sock';
const grpcHeaders = (authority: string, extra: Array<[string, string]> = []): Array<[string, string]> => [
  [':method', 'POST'],
  [':scheme', 'http'],
  [':path', '/v1alpha1.CSIDriverProvider/Mount'],
  [':authority', authority],
  ['content-type', 'application/grpc'],
  ['user-agent', 'grpc-go/1.56.3'],
  ['te', 'trailers'],
  ...extra,
];

interface Seen {
  headers: http2.IncomingHttpHeaders;
  body: string;
}

/** Node's HTTP/2 server behind the rewriter; resolves each request it sees (answering 200). */
function serverBehindRewriter(expected: number): {
  client: Duplex;
  seen: Promise<Seen[]>;
  replaced: string[];
  errors: Error[];
} {
  const [client, serverSide] = duplexPair();
  const server = http2.createServer();
  const seen: Seen[] = [];
  const replaced: string[] = [];
  const errors: Error[] = [];
  const done = new Promise<Seen[]>((resolve, reject) => {
    server.on('stream', (stream, headers) => {
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        seen.push({ headers, body });
        stream.respond({ ':status': 200 }, { endStream: true });
        if (seen.length === expected) resolve(seen);
      });
    });
    server.on('sessionError', reject);
  });
  const connection = new AuthorityRewritingConnection(serverSide, {
    onAuthorityReplaced: (authority) => replaced.push(authority),
    onFramingError: (error) => errors.push(error),
  });
  connection.on('error', (error) => errors.push(error));
  server.emit('connection', connection);
  client.on('data', () => undefined);
  return { client, seen: done, replaced, errors };
}

/** Writes `bytes` in pieces of `size` bytes, so frames and header blocks arrive split. */
async function dribble(client: Duplex, bytes: Buffer, size = 1): Promise<void> {
  for (let index = 0; index < bytes.length; index += size) {
    client.write(bytes.subarray(index, index + size));
    if (index % 512 < size) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('nghttp2AcceptsAuthority', () => {
  it.each([
    ['localhost', true],
    ['localhost:50051', true],
    ['[::1]:8080', true],
    ['user@host', true],
    [socketAuthority, false],
    ['vault.sock path', false],
    ['host/extra', false],
  ])('%s → %s', (value, accepted) => {
    expect(nghttp2AcceptsAuthority(value)).toBe(accepted);
  });
});

describe('AuthorityRewritingConnection in front of Node HTTP/2', () => {
  it('serves two requests whose :authority is a socket path (split into 1-byte writes, PADDED + PRIORITY, dynamic table reused)', async () => {
    const { client, seen, replaced, errors } = serverBehindRewriter(2);
    const encode = clientEncoder();
    const first = encode(grpcHeaders(socketAuthority, [['x-request', 'one']]));
    const padding = Buffer.alloc(7);
    const priority = Buffer.from([0, 0, 0, 0, 15]);
    const padded = Buffer.concat([Buffer.from([padding.length]), priority, first, padding]);
    // The second block names the same headers: the encoder now refers to its dynamic table.
    const second = encode(grpcHeaders(socketAuthority, [['x-request', 'two']]));
    expect(second.length).toBeLessThan(first.length);
    const bytes = Buffer.concat([
      preface,
      frame(0x4, 0, 0, Buffer.alloc(0)),
      frame(0x1, 0x8 | 0x20 | 0x4, 1, padded),
      frame(0x0, 0x1, 1, Buffer.from('hello')),
      frame(0x1, 0x4, 3, second),
      frame(0x0, 0x1, 3, Buffer.from('again')),
    ]);
    await dribble(client, bytes);
    const requests = await seen;
    expect(
      requests.map((request) => [
        request.headers[':authority'],
        request.headers['x-request'],
        request.headers[':path'],
        request.body,
      ]),
    ).toEqual([
      ['localhost', 'one', '/v1alpha1.CSIDriverProvider/Mount', 'hello'],
      ['localhost', 'two', '/v1alpha1.CSIDriverProvider/Mount', 'again'],
    ]);
    expect(requests[0]?.headers['user-agent']).toBe('grpc-go/1.56.3');
    expect(replaced).toEqual([socketAuthority]);
    expect(errors).toEqual([]);
    client.destroy();
  });

  it('re-splits a header block larger than one frame into HEADERS + CONTINUATION, and leaves a valid authority alone', async () => {
    const { client, seen, replaced } = serverBehindRewriter(1);
    const encode = clientEncoder();
    const big = randomBytes(18_000).toString('base64');
    const block = encode(grpcHeaders('provider.local:443', [['x-big', big]]));
    expect(block.length).toBeGreaterThan(16_384);
    const cut = [block.subarray(0, 10_000), block.subarray(10_000, 20_000), block.subarray(20_000)];
    await dribble(
      client,
      Buffer.concat([
        preface,
        frame(0x4, 0, 0, Buffer.alloc(0)),
        frame(0x1, 0x1, 1, cut[0] as Buffer),
        frame(0x9, 0, 1, cut[1] as Buffer),
        frame(0x9, 0x4, 1, cut[2] as Buffer),
      ]),
      7,
    );
    const [request] = await seen;
    expect(request?.headers[':authority']).toBe('provider.local:443');
    expect(request?.headers['x-big']).toBe(big);
    expect(replaced).toEqual([]);
    client.destroy();
  });
});

describe('a client that hangs up while its answer is being written', () => {
  it.each(['end', 'destroy'] as const)(
    '(%s) closes the session and nothing else: the process lives on and a new connection is served',
    async (hangUp) => {
      const [client, serverSide] = duplexPair();
      const server = http2.createServer();
      const answered = new Promise<void>((resolve) => {
        server.on('stream', (stream) => {
          stream.resume();
          stream.on('end', () => {
            stream.respond({ ':status': 200 });
            // An answer larger than the flow-control window, so writes are still pending when the client goes.
            stream.end(Buffer.alloc(200_000, 1));
            resolve();
          });
        });
      });
      const sessionClosed = new Promise<void>((resolve) =>
        server.on('session', (session) => session.on('close', () => resolve())),
      );
      server.emit('connection', new AuthorityRewritingConnection(serverSide));
      const encode = clientEncoder();
      client.write(
        Buffer.concat([
          preface,
          frame(0x4, 0, 0, Buffer.alloc(0)),
          frame(0x1, 0x4 | 0x1, 1, encode(grpcHeaders(socketAuthority))),
        ]),
      );
      await answered;
      if (hangUp === 'end') client.end();
      else client.destroy();
      await sessionClosed;

      const next = serverBehindRewriter(1);
      next.client.write(
        Buffer.concat([
          preface,
          frame(0x4, 0, 0, Buffer.alloc(0)),
          frame(0x1, 0x4 | 0x1, 1, clientEncoder()(grpcHeaders(socketAuthority))),
        ]),
      );
      expect((await next.seen)[0]?.headers[':authority']).toBe('localhost');
      next.client.destroy();
    },
  );
});

describe('ClientStreamRewriter refuses broken framing', () => {
  const settings = frame(0x4, 0, 0, Buffer.alloc(0));
  it.each([
    ['a connection without the preface', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), /client preface/],
    [
      'DATA inside a header block',
      Buffer.concat([preface, settings, frame(0x1, 0, 1, Buffer.from([0x82])), frame(0x0, 0, 1, Buffer.from('x'))]),
      /only CONTINUATION may follow/,
    ],
    [
      'CONTINUATION without HEADERS',
      Buffer.concat([preface, settings, frame(0x9, 0x4, 1, Buffer.from([0x82]))]),
      /without a HEADERS frame/,
    ],
    [
      'padding longer than the frame',
      Buffer.concat([preface, settings, frame(0x1, 0x8 | 0x4, 1, Buffer.from([9, 0x82]))]),
      /padding longer/,
    ],
    [
      'an HPACK index past the tables',
      Buffer.concat([preface, settings, frame(0x1, 0x4, 1, Buffer.from([0xff, 0x7f]))]),
      /HPACK/,
    ],
    [
      'an HPACK bomb (one-byte references to a 4 KiB table entry)',
      (() => {
        // A 4000-byte literal added to the dynamic table (index 62), then 300 one-byte references to it: 300 × 4 KiB decoded.
        const literal = Buffer.concat([
          Buffer.from([0x40, 0x01, 0x78, 0x7f, ((4000 - 127) & 0x7f) | 0x80, (4000 - 127) >> 7]),
          Buffer.alloc(4000, 0x61),
        ]);
        const block = Buffer.concat([literal, Buffer.alloc(300, 0x80 | 62)]);
        return Buffer.concat([preface, settings, frame(0x1, 0x4, 1, block)]);
      })(),
      /decoded header list larger than/,
    ],
  ])('%s', (_name, bytes, message) => {
    const rewriter = new ClientStreamRewriter();
    let error: unknown;
    try {
      rewriter.push(bytes);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(Http2FramingError);
    expect((error as Error).message).toMatch(message);
  });
});
