// The body of a Kubernetes watch (`GET ...?watch=1`): one JSON event per line, `{"type": ..., "object": ...}`,
// arriving in chunks that cut lines (and multi-byte characters) anywhere. Bytes are kept until their line
// is complete and decoded then, so a cut UTF-8 sequence is never mangled.
import { KubeError } from './errors.ts';

/** The event types the API server sends on a watch (BOOKMARK only with allowWatchBookmarks=true). */
export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent {
  type: WatchEventType;
  /** The object; for ERROR a metav1.Status (code 410 when the resourceVersion is too old). */
  object: Record<string, unknown>;
}

const EVENT_TYPES = new Set<string>(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
const NEWLINE = 0x0a;

/** A watch line that is not an event: the stream is not what the API server sends, so it is not trusted further. */
export class WatchStreamError extends KubeError {
  override readonly code = 'KUBE_WATCH_STREAM';
}

function parseLine(line: Buffer): WatchEvent | undefined {
  const text = line.toString('utf8').trim();
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Never the line itself: it may be a Secret.
    throw new WatchStreamError(`a watch line of ${line.length} bytes is not JSON`);
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (typeof event.type !== 'string' || !EVENT_TYPES.has(event.type))
    throw new WatchStreamError(`a watch event has an unknown type: ${JSON.stringify(String(event.type)).slice(0, 40)}`);
  if (event.object === null || typeof event.object !== 'object' || Array.isArray(event.object))
    throw new WatchStreamError(`a ${event.type} watch event has no object`);
  return { type: event.type as WatchEventType, object: event.object as Record<string, unknown> };
}

/** Splits a watch body into events: push each chunk as it arrives, end() when the body ends. */
export class WatchLineParser {
  private pending: Buffer[] = [];

  /** The complete events in `chunk` (with what earlier chunks left unfinished). */
  push(chunk: Buffer): WatchEvent[] {
    const events: WatchEvent[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline !== -1; newline = chunk.indexOf(NEWLINE, start)) {
      const piece = chunk.subarray(start, newline);
      const line = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
      this.pending = [];
      const event = parseLine(line);
      if (event) events.push(event);
      start = newline + 1;
    }
    // A copy: the socket's buffer may be reused.
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
    return events;
  }

  /** The last event when the body did not end with a newline; an error if it stopped inside one. */
  end(): WatchEvent[] {
    const rest = Buffer.concat(this.pending);
    this.pending = [];
    const event = parseLine(rest);
    return event ? [event] : [];
  }
}
