// The HTTP side of a Vault client: one axios instance with keep-alive agents, shared by every client
// derived with withToken(), plus the retry policy. Knows nothing about tokens beyond sending one.
import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { HttpProxyAgent, HttpsProxyAgent } from 'hpagent';
import { retry } from '../retry/index.ts';
import { parseVaultAddress, type VaultAddress } from './address.ts';
import { parseJsonKeepingNumbers } from '../encoding/go-json.ts';
import { errorFromResponse, errorFromTransport, VaultConfigError, VaultProtocolError, VaultUnavailableError, type VaultError } from './errors.ts';
import { loadTlsOptions, tlsOptionNames, type VaultTlsOptions } from './tls.ts';
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
  /** Per-attempt timeout. Default 60 s, as the Vault CLI. */
  timeoutMs?: number;
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
function agentsFor(proxyAddress: string | undefined, tls: https.AgentOptions): { httpAgent: http.Agent; httpsAgent: https.Agent } {
  if (proxyAddress === undefined || proxyAddress.trim() === '') {
    return { httpAgent: new http.Agent({ keepAlive: true }), httpsAgent: new https.Agent({ keepAlive: true, ...tls }) };
  }
  let proxy: URL;
  try {
    proxy = new URL(proxyAddress.trim());
  } catch {
    proxy = new URL('invalid:');
  }
  if ((proxy.protocol !== 'http:' && proxy.protocol !== 'https:') || proxy.hostname === '') {
    throw new VaultConfigError(`proxyAddress must be an http or https URL such as http://proxy:3128 (got "${proxyAddress}")`, { setting: 'proxyAddress' });
  }
  return { httpAgent: new HttpProxyAgent({ keepAlive: true, proxy }), httpsAgent: new HttpsProxyAgent({ keepAlive: true, proxy, ...tls }) };
}

export class Connection {
  readonly address: VaultAddress;
  readonly namespace: string | undefined;
  /** State shared by all clients on this connection (e.g. KV mount detection). */
  readonly shared = new Map<string, unknown>();
  private readonly http: AxiosInstance;
  private readonly maxRetries: number;
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly onRetry: ((event: VaultRetryEvent) => void) | undefined;

  constructor(options: ConnectionOptions) {
    const names = { ...defaultNames, ...options.settingNames };
    this.address = parseVaultAddress(options.address, names.address);
    this.namespace = options.namespace?.trim() || undefined;
    const tls = loadTlsOptions(options.tls, names);
    const timeoutMs = options.timeoutMs ?? 60_000;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new VaultConfigError(`timeoutMs must be a positive number of milliseconds (got ${timeoutMs})`, { setting: 'timeoutMs' });
    this.maxRetries = Math.max(0, Math.floor(options.maxRetries ?? 2));
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.retryMaxDelayMs = options.retryMaxDelayMs ?? 4_000;
    this.onRetry = options.onRetry;
    this.http = axios.create({
      baseURL: this.address.apiBaseUrl,
      ...(this.address.socketPath ? { socketPath: this.address.socketPath } : {}),
      timeout: timeoutMs,
      ...agentsFor(options.proxyAddress, tls),
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
      headers: { 'X-Vault-Request': 'true', ...options.headers, ...(this.namespace ? { 'X-Vault-Namespace': this.namespace } : {}) },
    });
  }

  /** One request with retries on network errors, 429 and 5xx. Other statuses are returned as they are. */
  async send(method: VaultMethod, apiPath: string, token: string | undefined, options: VaultRequestOptions): Promise<RawReply> {
    let attempts = 0;
    const query = Object.fromEntries(Object.entries(options.query ?? {}).filter(([, v]) => v !== undefined));
    const headers: Record<string, string> = { ...options.headers };
    if (token) headers['X-Vault-Token'] = token;
    if (options.body !== undefined) headers['Content-Type'] = options.contentType ?? 'application/json';
    const attempt = async (n: number): Promise<RawReply> => {
      attempts = n;
      let response;
      try {
        response = await this.http.request({
          method,
          url: apiPath,
          params: query,
          data: options.body === undefined ? undefined : JSON.stringify(options.body),
          headers,
          ...(options.signal ? { signal: options.signal } : {}),
        });
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        // Only the code and message are kept: the axios error holds the request config, token included.
        const failure = error as { code?: string; message?: string };
        throw errorFromTransport(method, apiPath, this.address.display, { code: failure.code, message: String(failure.message ?? 'request failed') });
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
        isRetryable: (error) => error instanceof VaultUnavailableError,
        ...(options.signal ? { signal: options.signal } : {}),
        onRetry: ({ attempt: n, delayMs, error }) => this.onRetry?.({ method, path: apiPath, attempt: n, delayMs, error: error as VaultError }),
      });
    } catch (error) {
      if (error instanceof VaultUnavailableError) {
        error.attempts = attempts;
        if (attempts > 1) error.message += ` after ${attempts} attempts`;
      }
      throw error;
    }
  }
}
