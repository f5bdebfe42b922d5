// Why this module exists: the Secrets Store CSI Driver (grpc-go) dials the provider with the socket
// path as its gRPC target, so every request carries `:authority: /var/run/secrets-store-csi-providers/
// vault.sock`. Node's HTTP/2 (nghttp2) checks `:authority` against RFC 3986's authority characters,
// finds the `/`, and resets the stream (RST_STREAM PROTOCOL_ERROR) before grpc-js sees it: every call of
// the real driver failed. grpc-js has no option to relax that check, so the provider accepts the unix
// connections itself and, on the client → server direction only, rewrites each header block whose
// `:authority` nghttp2 would refuse (to `localhost`, which is what grpc-js clients send on unix
// sockets); the connection then goes to grpc-js through `Server.createConnectionInjector`.
//
// HPACK is stateful per connection (RFC 7541 dynamic tables), so every header block is decoded and
// re-encoded in order with one decoder and one encoder per connection, even blocks that need no change:
// nghttp2's decoder then follows our encoder's table, not the client's. Everything that is not a
// header block (the preface, SETTINGS, DATA, WINDOW_UPDATE…) passes through byte for byte.
import { Duplex } from 'node:stream';
import hpack, { type Compressor, type Decompressor, type HpackHeader } from 'hpack.js';

const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const frameHeaderLength = 9;
const FRAME_HEADERS = 0x1;
const FRAME_CONTINUATION = 0x9;
const FLAG_END_STREAM = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
/** SETTINGS_HEADER_TABLE_SIZE and SETTINGS_MAX_FRAME_SIZE as Node's HTTP/2 server announces them (its defaults). */
const headerTableSize = 4096;
const maxFrameSize = 16_384;
/** A header block larger than this (compressed, across CONTINUATION frames) ends the connection. */
const maxHeaderBlockBytes = 256 * 1024;
/**
 * Decoded header list size (RFC 7540 §6.5.2: name + value + 32 per field) past which the connection
 * ends: one-byte references to a large dynamic-table entry would otherwise decode to far more than was
 * sent. Node's HTTP/2 refuses lists above 64 KiB anyway; this bounds the work before it sees them.
 */
const maxHeaderListBytes = 1024 * 1024;

/** What replaces an `:authority` nghttp2 would refuse. */
export const replacementAuthority = 'localhost';

/**
 * nghttp2's check_authority: RFC 3986 authority characters (unreserved, sub-delims, `:`, `@`, `[`,
 * `]`, `%`). Anything else, the `/` of a socket path first of all, makes it reset the stream.
 */
export function nghttp2AcceptsAuthority(value: string): boolean {
  return /^[A-Za-z0-9\-._~!$&'()*+,;=:@[\]%]*$/.test(value);
}

/** The client broke HTTP/2 framing or HPACK; the connection is closed. */
export class Http2FramingError extends Error {
  readonly code = 'CSI_HTTP2_FRAMING';
  constructor(message: string) {
    super(message);
    this.name = 'Http2FramingError';
  }
}

/** One connection's HPACK state: decode a client header block, fix `:authority`, encode it for nghttp2. */
export class HeaderBlockRewriter {
  private readonly decoder: Decompressor = hpack.decompressor.create({ table: { maxSize: headerTableSize } });
  private readonly encoder: Compressor = hpack.compressor.create({ table: { maxSize: headerTableSize } });
  private decodeError: Error | undefined;
  /** The first authority replaced on this connection (for one log line). */
  replaced: string | undefined;

  constructor() {
    // hpack.js reports decoding errors as stream events; execute() runs synchronously, so they are collected here.
    this.decoder.on('error', (error: Error) => (this.decodeError ??= error));
    this.encoder.on('error', (error: Error) => (this.decodeError ??= error));
  }

  rewrite(block: Buffer): Buffer {
    this.decoder.write(block);
    this.decoder.execute();
    this.throwCollectedError();
    const headers: HpackHeader[] = [];
    let listBytes = 0;
    for (let header = this.decoder.read(); header !== null; header = this.decoder.read()) {
      listBytes += header.name.length + header.value.length + 32;
      if (listBytes > maxHeaderListBytes)
        throw new Http2FramingError(`decoded header list larger than ${maxHeaderListBytes} bytes`);
      if (header.name === ':authority' && !nghttp2AcceptsAuthority(header.value)) {
        this.replaced ??= header.value;
        headers.push({ name: header.name, value: replacementAuthority, neverIndex: header.neverIndex ?? false });
      } else {
        headers.push({ name: header.name, value: header.value, neverIndex: header.neverIndex ?? false });
      }
    }
    if (headers.length === 0) return Buffer.alloc(0);
    this.encoder.write(headers);
    this.throwCollectedError();
    return this.encoder.read() ?? Buffer.alloc(0);
  }

  private throwCollectedError(): void {
    if (this.decodeError) throw new Http2FramingError(`HPACK: ${this.decodeError.message}`);
  }
}

function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  const header = Buffer.alloc(frameHeaderLength);
  header.writeUIntBE(length, 0, 3);
  header.writeUInt8(type, 3);
  header.writeUInt8(flags, 4);
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return header;
}

interface PendingHeaders {
  streamId: number;
  /** END_STREAM of the HEADERS frame. */
  endStream: boolean;
  /** The 5 bytes of the PRIORITY fields, when the HEADERS frame had them. */
  priority: Buffer | undefined;
  fragments: Buffer[];
  bytes: number;
}

/**
 * The client → server byte stream of one connection: frames are parsed as they arrive, header
 * blocks rewritten, everything else forwarded unchanged. `push` returns what to hand to nghttp2.
 */
export class ClientStreamRewriter {
  private readonly headers = new HeaderBlockRewriter();
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceLeft = preface.length;
  /** Bytes of the current non-header frame's payload still to forward as they come. */
  private passthroughLeft = 0;
  private pending: PendingHeaders | undefined;

  get replacedAuthority(): string | undefined {
    return this.headers.replaced;
  }

  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    this.buffered = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.prefaceLeft > 0) {
        const take = Math.min(this.prefaceLeft, data.length);
        const offset = preface.length - this.prefaceLeft;
        if (!data.subarray(0, take).equals(preface.subarray(offset, offset + take))) {
          throw new Http2FramingError('the connection does not start with the HTTP/2 client preface');
        }
        out.push(data.subarray(0, take));
        this.prefaceLeft -= take;
        data = data.subarray(take);
        continue;
      }
      if (this.passthroughLeft > 0) {
        const take = Math.min(this.passthroughLeft, data.length);
        out.push(data.subarray(0, take));
        this.passthroughLeft -= take;
        data = data.subarray(take);
        continue;
      }
      if (data.length < frameHeaderLength) break;
      const length = data.readUIntBE(0, 3);
      const type = data.readUInt8(3);
      const flags = data.readUInt8(4);
      const streamId = data.readUInt32BE(5) & 0x7fffffff;
      if (this.pending && type !== FRAME_CONTINUATION) {
        throw new Http2FramingError(
          `frame of type ${type} inside the header block of stream ${this.pending.streamId} (only CONTINUATION may follow)`,
        );
      }
      if (type !== FRAME_HEADERS && type !== FRAME_CONTINUATION) {
        // Forwarded as it arrives: DATA is never held back for a whole frame.
        out.push(data.subarray(0, frameHeaderLength));
        this.passthroughLeft = length;
        data = data.subarray(frameHeaderLength);
        continue;
      }
      if (length > maxFrameSize)
        throw new Http2FramingError(
          `a header frame of ${length} bytes is larger than SETTINGS_MAX_FRAME_SIZE ${maxFrameSize}`,
        );
      if (data.length < frameHeaderLength + length) break;
      const payload = data.subarray(frameHeaderLength, frameHeaderLength + length);
      data = data.subarray(frameHeaderLength + length);
      out.push(...this.headerFrame(type, flags, streamId, payload));
    }
    if (data.length > 0) this.buffered = Buffer.from(data);
    return out;
  }

  private headerFrame(type: number, flags: number, streamId: number, payload: Buffer): Buffer[] {
    if (type === FRAME_HEADERS) {
      let fragment = payload;
      let padding = 0;
      if (flags & FLAG_PADDED) {
        if (fragment.length < 1) throw new Http2FramingError('PADDED HEADERS frame without its pad length');
        padding = fragment.readUInt8(0);
        fragment = fragment.subarray(1);
      }
      let priority: Buffer | undefined;
      if (flags & FLAG_PRIORITY) {
        if (fragment.length < 5)
          throw new Http2FramingError('HEADERS frame with PRIORITY shorter than its 5 priority bytes');
        priority = Buffer.from(fragment.subarray(0, 5));
        fragment = fragment.subarray(5);
      }
      if (padding > fragment.length) throw new Http2FramingError('HEADERS padding longer than the frame');
      fragment = fragment.subarray(0, fragment.length - padding);
      this.pending = {
        streamId,
        endStream: (flags & FLAG_END_STREAM) !== 0,
        priority,
        fragments: [Buffer.from(fragment)],
        bytes: fragment.length,
      };
    } else {
      if (!this.pending || this.pending.streamId !== streamId)
        throw new Http2FramingError(`CONTINUATION on stream ${streamId} without a HEADERS frame before it`);
      this.pending.fragments.push(Buffer.from(payload));
      this.pending.bytes += payload.length;
    }
    if (this.pending.bytes > maxHeaderBlockBytes)
      throw new Http2FramingError(`header block larger than ${maxHeaderBlockBytes} bytes`);
    if (!(flags & FLAG_END_HEADERS)) return [];
    const pending = this.pending;
    this.pending = undefined;
    const block = this.headers.rewrite(Buffer.concat(pending.fragments));
    return encodeHeaderFrames(pending.streamId, pending.endStream, pending.priority, block);
  }
}

/** A header block as HEADERS (+ CONTINUATION) frames of at most the max frame size, without padding. */
export function encodeHeaderFrames(
  streamId: number,
  endStream: boolean,
  priority: Buffer | undefined,
  block: Buffer,
): Buffer[] {
  const frames: Buffer[] = [];
  const firstRoom = maxFrameSize - (priority ? priority.length : 0);
  const first = block.subarray(0, firstRoom);
  let rest = block.subarray(first.length);
  let flags =
    (endStream ? FLAG_END_STREAM : 0) | (priority ? FLAG_PRIORITY : 0) | (rest.length === 0 ? FLAG_END_HEADERS : 0);
  const firstPayload = priority ? Buffer.concat([priority, first]) : first;
  frames.push(frameHeader(firstPayload.length, FRAME_HEADERS, flags, streamId), firstPayload);
  while (rest.length > 0) {
    const piece = rest.subarray(0, maxFrameSize);
    rest = rest.subarray(piece.length);
    flags = rest.length === 0 ? FLAG_END_HEADERS : 0;
    frames.push(frameHeader(piece.length, FRAME_CONTINUATION, flags, streamId), piece);
  }
  return frames;
}

/**
 * The duplex handed to grpc-js (over a unix socket, or any duplex): reads are the socket's bytes after
 * `ClientStreamRewriter`, writes go to the socket unchanged. Back-pressure is kept both ways.
 *
 * Node wraps a non-native stream like this one in JSStreamSocket, which asserts (ERR_INTERNAL_ASSERTION:
 * the process dies) when the HTTP/2 session writes after the socket began to shut down, which is what
 * an end-of-stream led to when a client hung up while its answer was being written. So this duplex
 * never ends its readable side and never errors: a client that ends, errors or closes destroys it
 * (JSStreamSocket then cancels pending writes itself), and writes to a gone socket are dropped.
 */
export class AuthorityRewritingConnection extends Duplex {
  private readonly socket: Duplex;
  private readonly rewriter = new ClientStreamRewriter();
  private authorityReported = false;
  private gone = false;

  constructor(
    socket: Duplex,
    events: {
      onAuthorityReplaced?: (authority: string) => void;
      onFramingError?: (error: Http2FramingError) => void;
    } = {},
  ) {
    super({ allowHalfOpen: true });
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      if (this.gone) return;
      let parts: Buffer[];
      try {
        parts = this.rewriter.push(chunk);
      } catch (error) {
        events.onFramingError?.(error as Http2FramingError);
        this.hangUp();
        return;
      }
      if (!this.authorityReported && this.rewriter.replacedAuthority !== undefined) {
        this.authorityReported = true;
        events.onAuthorityReplaced?.(this.rewriter.replacedAuthority);
      }
      let more = true;
      for (const part of parts) more = this.push(part) && more;
      if (!more) socket.pause();
    });
    // A client's half-close, error or close all mean it is gone: gRPC clients never half-close.
    socket.on('end', () => this.hangUp());
    socket.on('error', () => this.hangUp());
    socket.on('close', () => this.hangUp());
  }

  private hangUp(): void {
    if (this.gone) return;
    this.gone = true;
    this.destroy();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed || !this.socket.writable) {
      callback();
      return;
    }
    this.socket.write(chunk, () => callback());
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.socket.destroyed) {
      callback();
      return;
    }
    let called = false;
    const done = (): void => {
      if (called) return;
      called = true;
      callback();
    };
    this.socket.once('close', done);
    this.socket.end(done);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
