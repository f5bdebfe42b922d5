// The HTTP side of a Vault client: one axios instance with keep-alive agents, shared by every client
// derived with withToken(), plus the retry policy. Knows nothing about tokens beyond sending one.
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { retry } from '../retry/index.ts';
import { parseVaultAddress, type VaultAddress } from './address.ts';
import { parseJsonKeepingNumbers } from '../encoding/go-json.ts';
import {
  errorFromResponse,
  errorFromTransport,
  VaultConfigError,
  VaultProtocolError,
  VaultUnavailableError,
  type VaultError,
} from './errors.ts';
import { loadTlsOptions, tlsOptionNames, type AgentTlsOptions, type VaultTlsOptions } from './tls.ts';
import type { VaultMethod, VaultRequestOptions } from './types.ts';

export interface VaultRetryEvent {
  method: string;
  path: string;
  /** Attempt that failed, from 1. */
  attempt: number;
  delayMs: number;
  error: VaultError;
}

/** Names used in configuration error messages, so each caller's messages name its own settings. */
export interface VaultSettingNames {
  address: string;
  caFile: string;
  caPath: string;
  clientCert: string;
  clientKey: string;
}

export interface ConnectionOptions {
  address: string;
  namespace?: string;
  tls?: VaultTlsOptions;
  /**
   * Deadline of one attempt, from sending the request to the last byte of the answer (a total, as Go's
   * http.Client.Timeout the Vault CLI uses, not an idle timeout: a Vault dripping one byte a second is
   * cut off at it). Default 60 s, as the Vault CLI.
   */
  timeoutMs?: number;
  /**
   * Deadline of one request including its retries and the waits between them; no retry starts that
   * could not finish before it, and the last attempt is cut off at it. Default none: the request then
   * ends within (maxRetries + 1) × timeoutMs plus the backoff waits.
   */
  requestDeadlineMs?: number;
  /** Largest answer read; a longer one is cut off and refused (not retried). Default 32 MiB. */
  maxResponseBytes?: number;
  /** Retries after the first attempt, on network errors, 429 and 5xx only. Default 2, as the Vault CLI. */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Extra headers on every request. */
  headers?: Record<string, string>;
  /**
   * HTTP(S) proxy to reach Vault through (CONNECT tunnel; TLS to Vault stays end to end, verified as
   * without a proxy). Only this setting is used: HTTP(S)_PROXY from the environment never is.
   */
  proxyAddress?: string;
  /**
   * Sockets open to Vault at once (Node's agent `maxSockets`); requests beyond it wait for a free one.
   * Default unbounded, as Node's agent: one keep-alive socket per request in flight. A service with many
   * requests in flight (the operator's reconciles) bounds it, each socket costing its buffers (and a TLS
   * session) for as long as it is pooled. Idle sockets kept at most: a quarter of it, at least 2.
   */
  maxSockets?: number;
  /** Told before each retry (to log or count); the error carries no token or body. */
  onRetry?: (event: VaultRetryEvent) => void;
  settingNames?: Partial<VaultSettingNames>;
}

export interface RawReply {
  status: number;
  /** Parsed JSON body; undefined when Vault sent none (204). */
  body: unknown;
}

const defaultNames: VaultSettingNames = { address: 'address', ...tlsOptionNames };

function parseBody(text: unknown, ok: boolean, method: string, path: string): unknown {
  if (typeof text !== 'string' || text.trim() === '') return undefined;
  try {
    // Numbers keep their literal text where JS would print them differently (Go's json.Number does).
    return parseJsonKeepingNumbers(text);
  } catch {
    // An error page from a proxy in front of Vault is not JSON; its status still says what happened.
    if (!ok) return undefined;
    throw new VaultProtocolError(`Vault's answer to ${method} ${path} is not JSON`, { method, path });
  }
}

function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status !== 501);
}

/** `secret/data/app` → validated, each segment URL-encoded; `/v1/` prefixes are tolerated. */
export function normalizeApiPath(path: string): string {
  const trimmed = path.replace(/^\/+/, '').replace(/^v1\//, '');
  if (trimmed === '') throw new VaultConfigError('a Vault API path is empty', { setting: 'path' });
  const segments = trimmed.split('/');
  // "." and ".." would be resolved by URL handling and reach a different path than the one asked for.
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new VaultConfigError(`the Vault API path "${path}" contains "." or ".." segments`, { setting: 'path' });
  }
  return segments.map((s) => encodeURIComponent(s)).join('/');
}

/** The keep-alive agents, tunnelling through `proxyAddress` when one is given (hpagent: CONNECT, then TLS). */
function agentsFor(
  proxyAddress: string | undefined,
  tls: https.AgentOptions,
  maxSockets: number | undefined,
): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  const pool =
    maxSockets === undefined
      ? { keepAlive: true }
      : { keepAlive: true, maxSockets, maxFreeSockets: Math.max(2, Math.floor(maxSockets / 4)) };
  if (proxyAddress === undefined || proxyAddress.trim() === '') {
    return { httpAgent: new http.Agent(pool), httpsAgent: new https.Agent({ ...pool, ...tls }) };
  }
  let proxy: URL;
  try {
    proxy = new URL(proxyAddress.trim());
  } catch {
    proxy = new URL('invalid:');
  }
  if ((proxy.protocol !== 'http:' && proxy.protocol !== 'https:') || proxy.hostname === '') {
    throw new VaultConfigError(
      `proxyAddress must be an http or https URL such as http://proxy:3128 (got "${proxyAddress}")`,
      { setting: 'proxyAddress' },
    );
  }
  return {
    httpAgent: new HttpProxyAgent({ ...pool, proxy }),
    httpsAgent: new HttpsProxyAgent({ ...pool, proxy, ...tls }),
  };
}

function positive(value: number, setting: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new VaultConfigError(`${setting} must be a positive number (got ${value})`, { setting });
  return value;
}

export class Connection {
  readonly address: VaultAddress;
  readonly namespace: string | undefined;
  /** State shared by all clients on this connection (e.g. KV mount detection). */
  readonly shared = new Map<string, unknown>();
  /** The TLS settings in effect, for other transports to the same Vault (the event WebSocket). */
  readonly tls: AgentTlsOptions;
  private readonly http: AxiosInstance;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly onRetry: ((event: VaultRetryEvent) => void) | undefined;
  private readonly timeoutMs: number;
  private readonly requestDeadlineMs: number | undefined;
  private readonly maxResponseBytes: number;

  constructor(options: ConnectionOptions) {
    const names = { ...defaultNames, ...options.settingNames };
    this.address = parseVaultAddress(options.address, names.address);
    this.namespace = options.namespace?.trim() || undefined;
    const tls = loadTlsOptions(options.tls, names);
    this.tls = tls;
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new VaultConfigError(`timeoutMs must be a positive number of milliseconds (got ${timeoutMs})`, {
        setting: 'timeoutMs',
      });
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
    this.timeoutMs = timeoutMs;
    this.requestDeadlineMs =
      options.requestDeadlineMs === undefined ? undefined : positive(options.requestDeadlineMs, 'requestDeadlineMs');
    this.maxResponseBytes = positive(options.maxResponseBytes ?? 32 * 1024 * 1024, 'maxResponseBytes');
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 4_000;
    this.onRetry = options.onRetry;
    this.http = axios.create({
      baseURL: this.address.apiBaseUrl,
      ...(this.address.socketPath ? { socketPath: this.address.socketPath } : {}),
      // No axios `timeout`: on Node it is a socket idle timeout. Each attempt gets an abort signal
      // that fires at its deadline instead (see send).
      maxContentLength: this.maxResponseBytes,
      ...agentsFor(
        options.proxyAddress,
        tls,
        options.maxSockets === undefined ? undefined : Math.ceil(positive(options.maxSockets, 'maxSockets')),
      ),
      // Every status is handled here; axios errors are only transport failures.
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      // A relative path must never turn into a request to another host.
      allowAbsoluteUrls: false,
      // HTTP(S)_PROXY from the environment is not applied: Vault is usually in-cluster, and axios does
      // not tunnel HTTPS through a proxy correctly.
      proxy: false,
      // Vault redirects from standby nodes only when request forwarding is off; the token must not
      // follow a redirect to a host nobody configured.
      maxRedirects: 0,
      headers: {
        'X-Vault-Request': 'true',
        ...options.headers,
        ...(this.namespace ? { 'X-Vault-Namespace': this.namespace } : {}),
      },
    });
  }

  /** One request with retries on network errors, 429 and 5xx. Other statuses are returned as they are. */
  async send(
    method: VaultMethod,
    apiPath: string,
    token: string | undefined,
    options: VaultRequestOptions,
  ): Promise<RawReply> {
    let attempts = 0;
    const query = Object.fromEntries(Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined));
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers['X-Vault-Token'] = token;
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    const deadline = this.requestDeadlineMs === undefined ? undefined : Date.now() + this.requestDeadlineMs;
    const attempt = async (n: number): Promise<RawReply> => {
      attempts = n;
      const remainingMs = deadline === undefined ? Infinity : deadline - Date.now();
      const cutByDeadline = remainingMs < this.timeoutMs;
      if (remainingMs <= 0) throw this.deadlineError(method, apiPath, 'request deadline');
      const attemptDeadline = AbortSignal.timeout(Math.ceil(cutByDeadline ? remainingMs : this.timeoutMs));
      let response;
      try {
        response = await this.http.request({
          method,
          url: apiPath,
          params: query,
          data: options.body === undefined ? undefined : JSON.stringify(options.body),
          headers,
          signal: options.signal ? AbortSignal.any([options.signal, attemptDeadline]) : attemptDeadline,
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (attemptDeadline.aborted)
          throw this.deadlineError(method, apiPath, cutByDeadline ? 'request deadline' : 'timeout');
        // Only the code and message are kept: the axios error holds the request config, token included.
        const failure = error as { code?: string; message?: string };
        if (failure.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(String(failure.message))) {
          throw new VaultProtocolError(
            `Vault's answer to ${method} ${apiPath} is larger than ${this.maxResponseBytes} bytes (maxResponseBytes); refused`,
            { method, path: apiPath },
          );
        }
        throw errorFromTransport(method, apiPath, this.address.display, {
          code: failure.code,
          message: String(failure.message ?? 'request failed'),
        });
      }
      const ok = response.status >= 200 && response.status < 300;
      const body = parseBody(response.data, ok, method, apiPath);
      if (isRetryableStatus(response.status)) throw errorFromResponse(method, apiPath, response.status, body);
      return { status: response.status, body };
    };
    try {
      return await retry(attempt, {
        maxAttempts: this.maxRetries + 1,
        baseDelayMs: this.retryBaseDelayMs,
        maxDelayMs: this.retryMaxDelayMs,
        // A retry that could not even wait out its backoff before the deadline is not started.
        isRetryable: (error) =>
          error instanceof VaultUnavailableError && (deadline === undefined || Date.now() < deadline),
        ...(deadline === undefined ? {} : { deadline }),
        ...(options.signal ? { signal: options.signal } : {}),
        onRetry: ({ attempt: n, delayMs, error }) =>
          this.onRetry?.({ method, path: apiPath, attempt: n, delayMs, error: error as VaultError }),
      });
    } catch (error) {
      if (error instanceof VaultUnavailableError) {
        error.attempts = attempts;
        if (attempts > 1) error.message += ` after ${attempts} attempts`;
      }
      throw error;
    }
  }

  /** Vault did not answer completely in time: unreachable for now, as for a network error (retryable). */
  private deadlineError(method: string, apiPath: string, which: 'timeout' | 'request deadline'): VaultUnavailableError {
    const ms = which === 'timeout' ? this.timeoutMs : this.requestDeadlineMs;
    return errorFromTransport(method, apiPath, this.address.display, {
      code: 'ETIMEDOUT',
      message: `no complete answer within the ${which} of ${ms} ms`,
    }) as VaultUnavailableError;
  }
}
