// A small Kubernetes API client on node:https: JSON in and out, one keep-alive agent per TLS identity, a
// deadline on every call. For services that make a handful of kinds of request and should not load
// @kubernetes/client-node for them: the webhook's TLS-auto (its Secret, Lease and webhook configuration)
// and its annotation-defaults ConfigMap. client-node with undici costs ~10 MiB RSS beyond what Node's own
// modules cost, ~26 MiB on a bare node (tools/bench/import-cost.ts); this is ~20 KiB of bundle.
//
// It is also the operator's whole API path: its informers' lists and watches (watch(), below) and every
// other call (packages/operator/src/runtime/kube-json.ts is a thin layer over it). Credentials come
// either from the pod's service account, read exactly as
// client-node's in-cluster config reads it (KubeConfig.loadFromCluster + FileAuth), or from a KubeConfig
// the caller already holds (its applyToHTTPSOptions, a method call: nothing is imported).
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeConfigError, KubeError } from './errors.ts';
import { WatchLineParser, type WatchEvent } from './watch-stream.ts';

/** Where client-node's in-cluster config finds the pod's service account (the same paths). */
export const serviceAccountDir = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Every API call has a deadline; a caller's signal can only shorten it. */
export const KUBE_HTTP_DEADLINE_MS = 30_000;

/** Distinct TLS identities kept open at once (a CA or client certificate rotation makes a second one). */
const MAX_AGENTS = 4;

/** What one request is sent with: the server and the TLS material and headers that authenticate it. */
export interface KubeCredentials {
  server: string;
  ca?: Buffer | string | undefined;
  cert?: Buffer | string | undefined;
  key?: Buffer | string | undefined;
  servername?: string | undefined;
  rejectUnauthorized?: boolean | undefined;
  /** Authorization, Impersonate-User... */
  headers: Record<string, string>;
  /** user:password (basic auth), as client-node sends it. */
  auth?: string | undefined;
  /** The kubeconfig cluster's proxy-url (http or https; client-node tunnels through it with hpagent too). */
  proxyUrl?: string | undefined;
}

/** client-node's FileAuth (as client-go) re-reads a token file once the token it holds is older than this. */
const TOKEN_REREAD_MS = 60_000;
/** How stale the in-cluster CA may be: a rotated ca.crt is used for calls from this long after it changed. */
export const CA_REREAD_MS = 5_000;

/** A failed API call that the API server answered: its HTTP status and the Status it sent (never the request body). */
export class KubeApiError extends KubeError {
  override readonly code = 'KUBE_API';
  readonly status: number;
  /** The API's Status reason (NotFound, Conflict, AlreadyExists...), when it sent one. */
  readonly reason: string | undefined;

  constructor(method: string, path: string, status: number, answer: unknown) {
    const statusObject = (answer ?? {}) as { reason?: unknown; message?: unknown };
    const reason = typeof statusObject.reason === 'string' ? statusObject.reason : undefined;
    const detail = typeof statusObject.message === 'string' ? `: ${statusObject.message}` : '';
    super(`Kubernetes API answered ${status}${reason ? ` ${reason}` : ''} to ${method} ${path}${detail}`);
    this.status = status;
    this.reason = reason;
  }
}

export interface KubeRequestOptions {
  body?: unknown;
  /** Default application/json; patches name their strategy (application/merge-patch+json, application/json-patch+json). */
  contentType?: string;
  /** Aborts the call earlier than the deadline. */
  signal?: AbortSignal;
}

/** A watch that received no byte (event, bookmark or header) for its idle timeout: the connection is presumed dead. */
export class KubeWatchIdleError extends KubeError {
  override readonly code = 'KUBE_WATCH_IDLE';
}

export interface KubeWatchOptions {
  /**
   * No byte for this long ends the watch with KubeWatchIdleError. A watch has no total deadline (the
   * API server ends it at its timeoutSeconds); this is what bounds a half-open connection.
   */
  idleTimeoutMs: number;
  /** Ends the watch (the promise rejects with the abort reason). */
  signal?: AbortSignal;
}

export interface KubeHttpOptions {
  deadlineMs?: number;
  /** Sockets to the API server at once per identity; calls beyond it wait for one. */
  maxSockets?: number;
  /** Idle sockets kept open per identity (default 2). */
  maxFreeSockets?: number;
  /** The namespace the credentials belong to (in-cluster: the service account's), for callers that default to it. */
  namespace?: string;
}

/**
 * The in-cluster connection as client-node's KubeConfig.loadFromCluster builds it: the server from
 * KUBERNETES_SERVICE_HOST/PORT (http for ports 80, 8080 and 8001, IPv6 in brackets), the CA file, and
 * the token file re-read once it is more than 60 s old (client-node's FileAuth, as client-go), so a
 * rotated projected token is picked up. client-node reads the CA file on every request
 * (bufferFromFileOrString); here it is re-read once it is more than 5 s old (CA_REREAD_MS), so a rotated
 * CA is used within 5 s, and a file with the same bytes keeps the same Buffer and answer object: the
 * operator's reconciles made one read (a FileHandle, its promises, a Buffer: ~7 KiB) per API call
 * (README of the operator, "Memory (issue 14)"). `root` prefixes the paths (client-node's pathPrefix),
 * `env` stands in for process.env, `now` for the clock (tests).
 */
export function inClusterCredentials(
  options: { root?: string; env?: NodeJS.ProcessEnv; now?: () => number } = {},
): () => Promise<KubeCredentials> {
  const env = options.env ?? process.env;
  const now = options.now ?? Date.now;
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new KubeConfigError(
      'not running in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set; pass a kubeconfig instead',
    );
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const server = `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const dir = `${options.root ?? ''}${serviceAccountDir}`;
  const tokenFile = `${dir}/token`;
  const caFile = `${dir}/ca.crt`;
  const token = rereadFile(tokenFile, TOKEN_REREAD_MS, now, 'token', (bytes) => bytes.toString('utf8').trim());
  // The same bytes keep the same Buffer, so KubeHttp finds its agent by identity, without comparing.
  const ca = rereadFile(caFile, CA_REREAD_MS, now, 'CA', (bytes, previous: Buffer | undefined) =>
    previous?.equals(bytes) ? previous : bytes,
  );
  // The answer last built, handed out again while the token and the CA are the same.
  let last: { credentials: KubeCredentials; token: string; ca: Buffer } | undefined;
  return async (): Promise<KubeCredentials> => {
    // Fresh copies are taken as they are: no promise to await on every call.
    const tokenValue = token.fresh() ?? (await token.read());
    const caValue = ca.fresh() ?? (await ca.read());
    if (last === undefined || last.token !== tokenValue || last.ca !== caValue) {
      const headers: Record<string, string> = {};
      if (tokenValue) headers.Authorization = `Bearer ${tokenValue}`;
      last = { credentials: { server, ca: caValue, headers }, token: tokenValue, ca: caValue };
    }
    return last.credentials;
  };
}

/**
 * A service-account file's content, read again once the copy is older than `maxAgeMs`. Calls that come
 * while it is being read wait for that one read (a sync has a hundred API calls in flight: each made its
 * own read when the copy went stale). A failed read fails the calls that waited for it, naming the file,
 * and the next call reads again. `fresh()` is the copy while it is fresh, else undefined (then `read()`).
 */
function rereadFile<T>(
  file: string,
  maxAgeMs: number,
  now: () => number,
  what: string,
  decode: (bytes: Buffer, previous: T | undefined) => T,
): { fresh: () => T | undefined; read: () => Promise<T> } {
  let kept: { value: T; readAt: number } | undefined;
  let reading: Promise<T> | undefined;
  const fresh = (): T | undefined => (kept !== undefined && now() - kept.readAt <= maxAgeMs ? kept.value : undefined);
  const read = (): Promise<T> => {
    reading ??= fs.promises
      .readFile(file)
      .then(
        (bytes) => {
          kept = { value: decode(bytes, kept?.value), readAt: now() };
          return kept.value;
        },
        (error: unknown) => {
          throw new KubeConfigError(
            `cannot read the service account ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
          );
        },
      )
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  return { fresh, read };
}

/** The namespace file of the in-cluster service account, or undefined when there is none. */
export function inClusterNamespace(root = ''): string | undefined {
  try {
    return fs.readFileSync(`${root}${serviceAccountDir}/namespace`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Credentials from a KubeConfig the caller holds, through its own applyToHTTPSOptions on every request
 * (bearer token, exec and token-file auth providers, client certificates re-read, TLS server name). An
 * http(s) proxy-url is tunnelled through as client-node does (hpagent); a socks one is refused by name.
 */
export function kubeConfigCredentials(config: KubeConfig): () => Promise<KubeCredentials> {
  return async () => {
    const cluster = config.getCurrentCluster();
    if (!cluster?.server) throw new KubeConfigError('the kubeconfig has no current cluster with a server URL');
    if (cluster.proxyUrl && !/^https?:/.test(cluster.proxyUrl))
      throw new KubeConfigError(
        `the kubeconfig's cluster ${cluster.name} has a proxy-url this client cannot use (only http and https proxies): ${new URL(cluster.proxyUrl).protocol}`,
      );
    const options: https.RequestOptions = {};
    await config.applyToHTTPSOptions(options);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      if (typeof value === 'string') headers[name] = value;
    }
    return {
      server: cluster.server,
      ca: options.ca as Buffer | string | undefined,
      cert: options.cert as Buffer | string | undefined,
      key: options.key as Buffer | string | undefined,
      servername: options.servername ?? undefined,
      rejectUnauthorized: options.rejectUnauthorized,
      headers,
      auth: options.auth ?? undefined,
      proxyUrl: cluster.proxyUrl,
    };
  };
}

/** Same bytes; compared without copying (a kubeconfig's CA and key are new Buffers on every request). */
function sameBytes(x: Buffer | string | undefined, y: Buffer | string | undefined): boolean {
  if (x === y) return true;
  if (x === undefined || y === undefined) return false;
  if (typeof x === 'string' && typeof y === 'string') return false;
  return (typeof x === 'string' ? Buffer.from(x) : x).equals(typeof y === 'string' ? Buffer.from(y) : y);
}

function sameMaterial(a: KubeCredentials, b: KubeCredentials): boolean {
  return (
    a.server === b.server &&
    a.proxyUrl === b.proxyUrl &&
    sameBytes(a.ca, b.ca) &&
    sameBytes(a.cert, b.cert) &&
    sameBytes(a.key, b.key) &&
    a.servername === b.servername &&
    a.rejectUnauthorized === b.rejectUnauthorized
  );
}

export class KubeHttp {
  readonly namespace: string | undefined;
  private readonly credentials: () => Promise<KubeCredentials>;
  private readonly deadlineMs: number;
  private readonly maxSockets: number;
  private readonly maxFreeSockets: number;
  /** Keep-alive agents by TLS identity, newest last. */
  private agents: { material: KubeCredentials; agent: http.Agent }[] = [];

  constructor(credentials: () => Promise<KubeCredentials>, options: KubeHttpOptions = {}) {
    this.credentials = credentials;
    this.deadlineMs = options.deadlineMs ?? KUBE_HTTP_DEADLINE_MS;
    this.maxSockets = options.maxSockets ?? 8;
    this.maxFreeSockets = options.maxFreeSockets ?? 2;
    this.namespace = options.namespace;
  }

  /** The pod's service account, as client-node's in-cluster config. */
  static inCluster(options: { root?: string; env?: NodeJS.ProcessEnv } & KubeHttpOptions = {}): KubeHttp {
    return new KubeHttp(inClusterCredentials(options), {
      ...options,
      namespace: options.namespace ?? inClusterNamespace(options.root),
    });
  }

  /** The current context of a KubeConfig the caller already loaded. */
  static fromKubeConfig(config: KubeConfig, options: KubeHttpOptions = {}): KubeHttp {
    const namespace = config.getContextObject(config.getCurrentContext())?.namespace;
    return new KubeHttp(kubeConfigCredentials(config), {
      ...options,
      ...(options.namespace === undefined && namespace ? { namespace } : {}),
    });
  }

  /** Another client on the same credentials with its own pool (e.g. long-lived watches apart from short calls). */
  withPool(options: Pick<KubeHttpOptions, 'maxSockets' | 'maxFreeSockets'>): KubeHttp {
    return new KubeHttp(this.credentials, {
      deadlineMs: this.deadlineMs,
      maxSockets: options.maxSockets ?? this.maxSockets,
      maxFreeSockets: options.maxFreeSockets ?? this.maxFreeSockets,
      ...(this.namespace === undefined ? {} : { namespace: this.namespace }),
    });
  }

  get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, signal ? { signal } : {});
  }

  /** Sends `method path` and returns the parsed JSON answer; throws KubeApiError for a non-2xx answer. */
  async request<T>(method: string, path: string, options: KubeRequestOptions = {}): Promise<T> {
    const credentials = await this.credentials();
    const text = options.body === undefined ? undefined : JSON.stringify(options.body);
    const target = this.requestTarget(credentials, method, path);
    if (text !== undefined) {
      target.options.headers['Content-Type'] = options.contentType ?? 'application/json';
      target.options.headers['Content-Length'] = Buffer.byteLength(text);
    }
    const deadline = AbortSignal.timeout(this.deadlineMs);
    const signal = options.signal ? AbortSignal.any([deadline, options.signal]) : deadline;
    const { status, answer } = await new Promise<{ status: number; answer: string }>((resolve, reject) => {
      const request = target.transport.request({ ...target.options, signal }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, answer: Buffer.concat(chunks).toString('utf8') }),
        );
        response.on('error', reject);
      });
      request.on('error', (error) =>
        reject(
          signal.aborted && deadline.aborted
            ? new KubeError(`${method} ${path}: no answer from the API server within ${this.deadlineMs} ms`, {
                cause: error,
              })
            : error,
        ),
      );
      request.end(text);
    });
    let parsed: unknown;
    try {
      parsed = answer === '' ? undefined : (JSON.parse(answer) as unknown);
    } catch {
      if (status >= 200 && status < 300)
        throw new KubeError(`${method} ${path}: the API server answered ${status} with a body that is not JSON`);
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed as T;
    throw new KubeApiError(method, path, status, parsed);
  }

  /**
   * Streams a watch (`path` with `watch=1`): `onEvent` gets each event as its line completes. Resolves when
   * the API server ends the body (its timeoutSeconds), rejects with KubeApiError for a non-2xx answer
   * (410 Gone: the resourceVersion is too old), KubeWatchIdleError when no byte came for the idle timeout,
   * WatchStreamError for a line that is not an event, or what `onEvent` threw (the request is closed then).
   */
  async watch(path: string, onEvent: (event: WatchEvent) => void, options: KubeWatchOptions): Promise<void> {
    const credentials = await this.credentials();
    const target = this.requestTarget(credentials, 'GET', path);
    await new Promise<void>((resolve, reject) => {
      let settled = false;
      let idle: NodeJS.Timeout | undefined;
      const finish = (error?: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(idle);
        options.signal?.removeEventListener('abort', onAbort);
        if (error === undefined) resolve();
        else {
          request.destroy();
          reject(error instanceof Error ? error : new KubeError(String(error)));
        }
      };
      const onAbort = (): void => finish(options.signal?.reason ?? new KubeError(`GET ${path}: aborted`));
      const touch = (): void => {
        clearTimeout(idle);
        idle = setTimeout(
          () =>
            finish(new KubeWatchIdleError(`GET ${path}: no byte from the API server in ${options.idleTimeoutMs} ms`)),
          options.idleTimeoutMs,
        );
      };
      const request = target.transport.request(target.options, (response) => {
        touch();
        const status = response.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          // A refused watch answers a Status (small); read it for its reason.
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            let answer: unknown;
            try {
              answer = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            } catch {
              answer = undefined;
            }
            finish(new KubeApiError('GET', path, status, answer));
          });
          response.on('error', finish);
          return;
        }
        const parser = new WatchLineParser();
        const deliver = (events: WatchEvent[]): boolean => {
          try {
            for (const event of events) onEvent(event);
            return true;
          } catch (error) {
            finish(error);
            return false;
          }
        };
        response.on('data', (chunk: Buffer) => {
          if (settled) return;
          touch();
          try {
            deliver(parser.push(chunk));
          } catch (error) {
            finish(error);
          }
        });
        response.on('end', () => {
          if (settled) return;
          try {
            if (deliver(parser.end())) finish();
          } catch (error) {
            finish(error);
          }
        });
        response.on('error', finish);
      });
      request.on('error', finish);
      if (options.signal?.aborted) return onAbort();
      options.signal?.addEventListener('abort', onAbort, { once: true });
      touch();
      request.end();
    });
  }

  /** Closes the kept-alive sockets (idle ones would otherwise hold a process open only until they time out). */
  close(): void {
    for (const { agent } of this.agents) agent.destroy();
    this.agents = [];
  }

  /** Where `method path` goes on these credentials: node:http or node:https, and the request's options. */
  private requestTarget(
    credentials: KubeCredentials,
    method: string,
    path: string,
  ): { transport: typeof http | typeof https; options: http.RequestOptions & { headers: http.OutgoingHttpHeaders } } {
    const url = new URL(`${credentials.server.replace(/\/+$/, '')}${path}`);
    const secure = url.protocol === 'https:';
    return {
      transport: secure ? https : http,
      options: {
        method,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        headers: { ...credentials.headers, Accept: 'application/json' },
        agent: this.agentFor(credentials, secure),
        ...(credentials.auth ? { auth: credentials.auth } : {}),
      },
    };
  }

  /** One keep-alive agent, and one OpenSSL context, per TLS identity: a rotated CA or certificate gets a new one. */
  private agentFor(material: KubeCredentials, secure: boolean): http.Agent {
    const found = this.agents.find((entry) => sameMaterial(entry.material, material));
    if (found) return found.agent;
    let agent: http.Agent;
    if (secure) {
      const identity = {
        ...(material.ca === undefined ? {} : { ca: material.ca }),
        ...(material.cert === undefined ? {} : { cert: material.cert }),
        ...(material.key === undefined ? {} : { key: material.key }),
      };
      const agentOptions = {
        keepAlive: true,
        maxSockets: this.maxSockets,
        maxFreeSockets: this.maxFreeSockets,
        ...identity,
        secureContext: tls.createSecureContext(identity),
        ...(material.servername ? { servername: material.servername } : {}),
        ...(material.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: material.rejectUnauthorized }),
      };
      agent = material.proxyUrl
        ? new HttpsProxyAgent({ ...agentOptions, proxy: material.proxyUrl })
        : new https.Agent(agentOptions);
    } else {
      const agentOptions = { keepAlive: true, maxSockets: this.maxSockets, maxFreeSockets: this.maxFreeSockets };
      agent = material.proxyUrl
        ? new HttpProxyAgent({ ...agentOptions, proxy: material.proxyUrl })
        : new http.Agent(agentOptions);
    }
    this.agents.push({ material, agent });
    if (this.agents.length > MAX_AGENTS) this.agents.shift()?.agent.destroy();
    return agent;
  }
}
