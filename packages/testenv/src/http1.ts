// Just enough HTTP/1.1 to forward requests byte for byte: message heads and body framing
// (Content-Length, chunked, until close). The counting proxy needs it because Node's HTTP server
// answers 400 to any method its parser does not know (Vault's LIST, lower-case, made-up methods),
// so a test through it could never see what a client really sends Vault.
import type { Socket } from 'node:net';

const crlf = Buffer.from('\r\n');
const headEnd = Buffer.from('\r\n\r\n');
/** A request or response head larger than this is refused. */
export const maxHeadBytes = 64 * 1024;

export class Http1Error extends Error {
  readonly code = 'TESTENV_HTTP1';
}

/** Bytes of one socket, read on demand. */
export class SocketReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.length += chunk.length;
      this.notify();
    });
    const end = (): void => {
      this.ended = true;
      this.notify();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', end);
  }

  /** The socket ended (or failed): no byte will come after those buffered. */
  get isEnded(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for more bytes; false once the socket has ended. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    await new Promise<void>((resolve) => (this.wake = resolve));
    return true;
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return out;
  }

  /** Everything up to and including `delimiter`; null when the socket ends before any byte. */
  async readThrough(delimiter: Buffer, max: number): Promise<Buffer | null> {
    for (;;) {
      if (this.length > 0) {
        const all = Buffer.concat(this.chunks);
        this.chunks = [all];
        const at = all.indexOf(delimiter);
        if (at !== -1) return this.take(at + delimiter.length);
        if (all.length > max)
          throw new Http1Error(`no ${JSON.stringify(delimiter.toString('latin1'))} within ${max} bytes`);
      }
      if (!(await this.more())) {
        if (this.length === 0) return null;
        throw new Http1Error('the connection ended inside a message');
      }
    }
  }

  /** Exactly `n` bytes, handed to `sink` as they arrive. */
  async copy(n: number, sink: (chunk: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.length === 0 && !(await this.more())) throw new Http1Error('the connection ended inside a body');
      const piece = this.take(Math.min(left, this.length));
      left -= piece.length;
      if (piece.length > 0) sink(piece);
    }
  }

  /** Everything until the socket ends (a response body without length). */
  async copyToEnd(sink: (chunk: Buffer) => void): Promise<void> {
    for (;;) {
      if (this.length > 0) sink(this.take(this.length));
      if (!(await this.more())) return;
    }
  }
}

export interface MessageHead {
  /** The head as received, start line to the blank line. */
  raw: Buffer;
  startLine: string;
  headers: Array<[string, string]>;
}

export function parseHead(raw: Buffer): MessageHead {
  const lines = raw
    .subarray(0, raw.length - headEnd.length)
    .toString('latin1')
    .split('\r\n');
  const startLine = lines.shift() ?? '';
  const headers: Array<[string, string]> = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Http1Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return { raw, startLine, headers };
}

export async function readHead(reader: SocketReader): Promise<MessageHead | null> {
  const raw = await reader.readThrough(headEnd, maxHeadBytes);
  return raw === null ? null : parseHead(raw);
}

export function header(head: MessageHead, name: string): string | undefined {
  return head.headers.find(([key]) => key === name)?.[1];
}

export type BodyFraming =
  { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/** RFC 9112 §6.3: chunked wins over Content-Length; a request without either has no body. */
export function framing(head: MessageHead, isRequest: boolean): BodyFraming {
  const transferEncoding = header(head, 'transfer-encoding');
  if (transferEncoding && /(^|,)\s*chunked\s*$/i.test(transferEncoding)) return { kind: 'chunked' };
  const contentLength = header(head, 'content-length');
  if (contentLength !== undefined) {
    if (!/^\d+$/.test(contentLength)) throw new Http1Error(`bad Content-Length ${JSON.stringify(contentLength)}`);
    return { kind: 'length', length: Number(contentLength) };
  }
  return isRequest ? { kind: 'none' } : { kind: 'close' };
}

/** Reads one body with `framing`, handing every byte (chunk sizes and trailers too) to `sink` unchanged. */
export async function copyBody(reader: SocketReader, body: BodyFraming, sink: (chunk: Buffer) => void): Promise<void> {
  if (body.kind === 'none') return;
  if (body.kind === 'length') return reader.copy(body.length, sink);
  if (body.kind === 'close') return reader.copyToEnd(sink);
  for (;;) {
    const sizeLine = await reader.readThrough(crlf, 4096);
    if (sizeLine === null) throw new Http1Error('the connection ended inside a chunked body');
    sink(sizeLine);
    const size = Number.parseInt(sizeLine.toString('latin1').split(';')[0]?.trim() ?? '', 16);
    if (!Number.isInteger(size) || size < 0)
      throw new Http1Error(`bad chunk size line ${JSON.stringify(sizeLine.toString('latin1').slice(0, 40))}`);
    if (size === 0) {
      // Trailer fields, then the blank line.
      for (;;) {
        const line = await reader.readThrough(crlf, maxHeadBytes);
        if (line === null) throw new Http1Error('the connection ended inside chunk trailers');
        sink(line);
        if (line.length === crlf.length) return;
      }
    }
    await reader.copy(size + crlf.length, sink);
  }
}
