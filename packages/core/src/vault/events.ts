// Vault's KV events over its WebSocket (sys/events/subscribe/<event-type>), as Vault 1.13 community
// edition publishes them under `-experiment events.alpha1`. Later releases moved events to Enterprise
// and changed their shape, so everything here is the 1.13 contract, checked against a real 1.13:
//   - `GET /v1/sys/events/subscribe/<type>?json=true` upgraded to a WebSocket; `<type>` may be a glob
//     (`kv*`). The token goes in X-Vault-Token and needs `read` on `sys/events/subscribe/<type>`
//     (no `subscribe` capability exists in 1.13). 403 without it; 404 when the experiment is off.
//   - Each text frame is a CloudEvents envelope whose `data` is
//     `{event: {id, metadata: {path, current_version?, …}}, event_type, plugin_info: {mount_path, …}}`;
//     kv-v2 paths are relative to the mount with their API prefix (`data/app/db`), kv-v1's are not.
//   - Vault 1.13 does not filter events by the subscriber's policy on the secret paths: any token with
//     the subscribe permission sees every KV path and version (never a value).
//   - Delivery is best effort: nothing is replayed after a reconnect, so a consumer must resynchronise
//     what it watches each time the stream (re)subscribes (`onStatus` with state `subscribed`).
import type WebSocket from 'ws';
import { backoffDelay } from '../retry/backoff.ts';
import type { KvEvent } from './kv-event.ts';
import type { VaultClient } from './client.ts';
import type { AgentTlsOptions } from './tls.ts';

export type { KvEvent } from './kv-event.ts';

// ws and the frame parser (kv-event.ts, with its zod schema) are loaded by the first connection, not with
// this module: an agent or operator that never subscribes should not evaluate them (~2 MiB of idle RSS,
// measured in the CSI provider's bundle when it still carried this module; see the provider's README).
interface SocketModules {
  WebSocket: typeof WebSocket;
  parseKvEvent: (frame: string) => KvEvent | null;
}
let socketModules: Promise<SocketModules> | undefined;
function loadSocketModules(): Promise<SocketModules> {
  socketModules ??= Promise.all([import('ws'), import('./kv-event.ts')]).then(([ws, parser]) => ({
    WebSocket: ws.default,
    parseKvEvent: parser.parseKvEvent,
  }));
  return socketModules;
}

/** Why the stream is not delivering events; `unavailable` means "poll instead", not "try harder". */
export type EventStreamStatus =
  | { state: 'connecting' }
  | { state: 'subscribed'; resumed: boolean }
  | { state: 'retrying'; reason: string; delayMs: number }
  | { state: 'unavailable'; reason: string; delayMs: number }
  | { state: 'closed' };

export interface EventStreamOptions {
  /** Vault's API base URL, ending in `/v1/` (VaultAddress.apiBaseUrl). */
  apiBaseUrl: string;
  namespace?: string;
  tls?: AgentTlsOptions;
  /** Asked before each connection, so a renewed or re-issued token is used. Never logged. */
  token: () => string | undefined | Promise<string | undefined>;
  /**
   * Told when Vault refuses the subscription with 403 for `rejectedToken`; true means that token was
   * no longer valid and a new one is ready (a TokenManager's handler): the stream then reconnects at
   * once instead of reporting events unavailable for the policy.
   */
  onPermissionDenied?: (rejectedToken: string) => boolean | Promise<boolean>;
  /** Event type or glob; default `kv*` (all KV events, v1 and v2). */
  eventType?: string;
  /** Deadline of the opening handshake. Default 10 s. */
  connectTimeoutMs?: number;
  /** First reconnect delay cap (doubles each failure, full jitter). Default 500 ms. */
  retryBaseDelayMs?: number;
  /** Largest reconnect delay. Default 30 s. */
  retryMaxDelayMs?: number;
  /**
   * Delay before asking again after Vault said events are unavailable (404, 403): a policy or a
   * server upgrade may change that, but not within seconds. Default 5 min.
   */
  unavailableRetryMs?: number;
  /** No frame (events or pings) for this long means the connection is dead. Default 90 s. */
  idleTimeoutMs?: number;
  onEvent: (event: KvEvent) => void;
  onStatus?: (status: EventStreamStatus) => void;
  random?: () => number;
}

/** What Vault's refusal of the upgrade means, in words safe to show in a status (no token, no URL query). */
export function unavailableReason(status: number, eventType: string): string | null {
  if (status === 404) {
    return 'Vault does not serve sys/events/subscribe (1.13 needs the events.alpha1 experiment; 1.16+ community editions have no events)';
  }
  if (status === 403 || status === 401)
    return `the token may not subscribe to events: its policy needs "read" on sys/events/subscribe/${eventType}`;
  if (status === 400 || status === 405 || status === 501)
    return `Vault refused the event subscription (HTTP ${status})`;
  return null;
}

/**
 * A long-lived subscription to Vault's KV events: connects with a deadline, reconnects with capped
 * exponential backoff and full jitter, watches for a dead connection, and reports through `onStatus`
 * whether events flow (`subscribed`) or the caller must rely on polling (everything else).
 */
export class VaultEventStream {
  private socket: WebSocket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private subscribedBefore = false;
  private closed = false;
  private readonly eventType: string;
  private readonly url: string;
  private readonly options: EventStreamOptions;

  constructor(options: EventStreamOptions) {
    this.options = options;
    this.eventType = options.eventType ?? 'kv*';
    const base = options.apiBaseUrl.replace(/^http/, 'ws').replace(/\/?$/, '/');
    this.url = `${base}sys/events/subscribe/${this.eventType.split('/').map(encodeURIComponent).join('/')}?json=true`;
  }

  start(): void {
    if (this.closed || this.socket || this.timer) return;
    void this.connect();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.idleTimer);
    this.timer = undefined;
    this.socket?.terminate();
    this.socket = undefined;
    this.report({ state: 'closed' });
  }

  private report(status: EventStreamStatus): void {
    try {
      this.options.onStatus?.(status);
    } catch {
      // A consumer's bug must not stop the stream.
    }
  }

  private async connect(): Promise<void> {
    this.timer = undefined;
    if (this.closed) return;
    this.report({ state: 'connecting' });
    let token: string | undefined;
    try {
      token = await this.options.token();
    } catch (error) {
      this.retry(`no Vault token: ${error instanceof Error ? error.message : 'token provider failed'}`);
      return;
    }
    if (this.closed) return;
    let modules: SocketModules;
    try {
      modules = await loadSocketModules();
    } catch (error) {
      socketModules = undefined;
      this.retry(`cannot load the WebSocket client: ${error instanceof Error ? error.message : String(error)}`);
      return;
    }
    if (this.closed) return;
    const { WebSocket, parseKvEvent } = modules;
    const headers: Record<string, string> = {};
    if (token) headers['X-Vault-Token'] = token;
    if (this.options.namespace) headers['X-Vault-Namespace'] = this.options.namespace;
    const tls = this.options.tls;
    const socket = new WebSocket(this.url, {
      headers,
      handshakeTimeout: this.options.connectTimeoutMs ?? 10_000,
      // Vault sends no redirects for this endpoint; the token must not follow one anywhere.
      followRedirects: false,
      perMessageDeflate: false,
      maxPayload: 1024 * 1024,
      ...(tls
        ? {
            ca: tls.ca,
            cert: tls.cert,
            key: tls.key,
            servername: tls.servername,
            rejectUnauthorized: tls.rejectUnauthorized,
          }
        : {}),
    });
    this.socket = socket;
    let refusal: string | null = null;
    let handled = false;
    let opened = false;
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      refusal = unavailableReason(status, this.eventType) ?? `Vault answered HTTP ${status} instead of upgrading`;
      const unavailable = unavailableReason(status, this.eventType) !== null;
      response.resume();
      socket.terminate();
      if (!unavailable) return;
      // What happens next is decided here, not by the close that follows.
      handled = true;
      const reason = refusal;
      // A 403 may be a revoked or expired token rather than the policy: ask before giving up for minutes.
      void this.tokenReplaced(status, token).then((replaced) => {
        if (replaced) this.retryNow('the Vault token was replaced after a 403');
        else this.unavailable(reason);
      });
    });
    socket.on('open', () => {
      opened = true;
      this.failures = 0;
      this.bumpIdle(socket);
      this.report({ state: 'subscribed', resumed: this.subscribedBefore });
      this.subscribedBefore = true;
    });
    socket.on('ping', () => this.bumpIdle(socket));
    socket.on('message', (data, isBinary) => {
      this.bumpIdle(socket);
      if (isBinary) return;
      const event = parseKvEvent(data.toString());
      if (event === null) return;
      try {
        this.options.onEvent(event);
      } catch {
        // A consumer's bug must not stop the stream.
      }
    });
    // Errors carry no token (ws never puts headers in messages); only their message is kept.
    let lastError = '';
    socket.on('error', (error) => {
      lastError = error.message;
    });
    socket.on('close', (code) => {
      clearTimeout(this.idleTimer);
      if (this.socket !== socket) return;
      this.socket = undefined;
      if (this.closed || this.timer || handled) return;
      if (refusal !== null) {
        this.retry(refusal);
        return;
      }
      this.retry(
        opened
          ? `the event connection closed (code ${code})`
          : `could not connect: ${lastError || `closed with code ${code}`}`,
      );
    });
  }

  private bumpIdle(socket: WebSocket): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => socket.terminate(), this.options.idleTimeoutMs ?? 90_000);
    this.idleTimer.unref();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delayMs);
    this.timer.unref();
  }

  private retry(reason: string): void {
    if (this.closed || this.timer) return;
    const delayMs = Math.max(
      1,
      backoffDelay(this.failures, {
        baseDelayMs: this.options.retryBaseDelayMs ?? 500,
        maxDelayMs: this.options.retryMaxDelayMs ?? 30_000,
        ...(this.options.random ? { random: this.options.random } : {}),
      }),
    );
    this.failures += 1;
    this.report({ state: 'retrying', reason, delayMs });
    this.schedule(delayMs);
  }

  private async tokenReplaced(status: number, token: string | undefined): Promise<boolean> {
    if (status !== 403 || !token || !this.options.onPermissionDenied) return false;
    try {
      return await this.options.onPermissionDenied(token);
    } catch {
      return false;
    }
  }

  /** Reconnects at once (once: a second 403 with the new token means the policy). */
  private retryNow(reason: string): void {
    if (this.closed) return;
    this.report({ state: 'retrying', reason, delayMs: 0 });
    this.schedule(0);
  }

  private unavailable(reason: string): void {
    if (this.closed) return;
    const delayMs = this.options.unavailableRetryMs ?? 5 * 60_000;
    this.report({ state: 'unavailable', reason, delayMs });
    this.schedule(delayMs);
  }
}

/**
 * A subscription to `client`'s KV events with its address, namespace, TLS and token (asked again at each
 * reconnect; a 403 asks the permission-denied handler whether the token was replaced). Not started: call
 * `start()`. A function, not a VaultClient method, so that a bundle without a subscriber (the CSI
 * provider, the webhook) has neither this module nor ws in it.
 */
export function openEventStream(
  client: VaultClient,
  options: Omit<EventStreamOptions, 'apiBaseUrl' | 'namespace' | 'tls' | 'token' | 'onPermissionDenied'>,
): VaultEventStream {
  return new VaultEventStream({ ...options, ...client.eventStreamTarget() });
}
