import { Connection, normalizeApiPath, type ConnectionOptions, type RawReply } from './connection.ts';
import { vaultSettingsFromEnv } from './env.ts';
import { errorFromResponse, VaultConfigError, VaultProtocolError } from './errors.ts';
import type { EventStreamOptions } from './events.ts';
import type { VaultMethod, VaultRequestOptions, VaultResponse } from './types.ts';

/** Supplies the Vault token for each request (e.g. a TokenManager that logs in and renews). */
export type TokenProvider = () => string | Promise<string>;

/**
 * Told when Vault answers 403 to a request made with `rejectedToken`. Returning true means "that
 * token is no longer valid and the provider now has a new one": the request is then retried once.
 */
export type PermissionDeniedHandler = (rejectedToken: string) => boolean | Promise<boolean>;

export interface VaultClientOptions extends ConnectionOptions {
  /** A fixed token. Ignored when `tokenProvider` is set. */
  token?: string;
  tokenProvider?: TokenProvider;
  onPermissionDenied?: PermissionDeniedHandler;
}

interface ClientAuth {
  token: string | undefined;
  tokenProvider: TokenProvider | undefined;
  onPermissionDenied: PermissionDeniedHandler | undefined;
  /** Sent as X-Vault-Namespace instead of the connection's (withNamespace). */
  namespace?: string;
}

/** A request as a response cache sees it: API path without `/v1/`, and the token it was made with. */
export interface CacheableRequest {
  readonly method: VaultMethod;
  readonly path: string;
  readonly query: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body: unknown;
  readonly token: string;
}

/**
 * Answers requests before they reach Vault and is offered every successful answer (Vault Agent's
 * lease cache routes templating through it the same way). The cache decides what it keeps.
 */
export interface VaultResponseCache {
  lookup(request: CacheableRequest): VaultResponse<unknown> | undefined;
  store(request: CacheableRequest, response: VaultResponse<unknown>): void;
}

function asResponse<T>(reply: RawReply, method: string, path: string): VaultResponse<T> | null {
  if (reply.body === undefined) return null;
  if (typeof reply.body !== 'object' || reply.body === null) {
    throw new VaultProtocolError(`Vault's answer to ${method} ${path} is not a JSON object`, {
      method,
      path,
      status: reply.status,
    });
  }
  return reply.body as VaultResponse<T>;
}

/**
 * A Vault HTTP API client. Paths are given without `/v1/` (`secret/data/app`). Network errors, 429 and
 * 5xx are retried with capped exponential backoff and full jitter; every failure is a typed VaultError.
 */
export class VaultClient {
  private readonly connection: Connection;
  private readonly auth: ClientAuth;
  private readonly responseCache: VaultResponseCache | undefined;

  constructor(options: VaultClientOptions) {
    this.connection = new Connection(options);
    this.auth = {
      token: options.token,
      tokenProvider: options.tokenProvider,
      onPermissionDenied: options.onPermissionDenied,
    };
    this.responseCache = undefined;
  }

  /**
   * A client configured from the standard VAULT_* variables (VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE,
   * VAULT_CACERT, VAULT_CAPATH, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME,
   * VAULT_SKIP_VERIFY, VAULT_CLIENT_TIMEOUT, VAULT_MAX_RETRIES); `overrides` win over the environment.
   * Configuration errors name the variable at fault.
   */
  static fromEnv(overrides: Partial<VaultClientOptions> = {}, env: NodeJS.ProcessEnv = process.env): VaultClient {
    const fromEnv = vaultSettingsFromEnv(env);
    const settingNames = {
      address: overrides.address === undefined ? 'VAULT_ADDR' : 'address',
      caFile: overrides.tls?.caFile === undefined ? 'VAULT_CACERT' : 'tls.caFile',
      caPath: overrides.tls?.caPath === undefined ? 'VAULT_CAPATH' : 'tls.caPath',
      clientCert: overrides.tls?.clientCert === undefined ? 'VAULT_CLIENT_CERT' : 'tls.clientCert',
      clientKey: overrides.tls?.clientKey === undefined ? 'VAULT_CLIENT_KEY' : 'tls.clientKey',
      ...overrides.settingNames,
    };
    // An override given as undefined does not erase what the environment says.
    const given = Object.fromEntries(
      Object.entries(overrides).filter(([, value]) => value !== undefined),
    ) as Partial<VaultClientOptions>;
    const options: VaultClientOptions = {
      ...fromEnv,
      ...given,
      tls: { ...fromEnv.tls, ...overrides.tls },
      settingNames,
    };
    // A token provider replaces VAULT_TOKEN rather than competing with it.
    if (overrides.tokenProvider) delete options.token;
    return new VaultClient(options);
  }

  /** The address, safe to show (no credentials). */
  get address(): string {
    return this.connection.address.display;
  }

  get namespace(): string | undefined {
    return this.auth.namespace ?? this.connection.namespace;
  }

  /**
   * A client with this one's token whose requests (and event subscriptions) go to Vault namespace
   * `namespace` instead of the connection's, sharing the connection pool. A blank namespace is this client.
   */
  withNamespace(namespace: string | undefined): VaultClient {
    const trimmed = namespace?.trim();
    if (!trimmed) return this;
    return this.derive({ ...this.auth, namespace: trimmed });
  }

  /** A client with a fixed token that shares this client's connection pool and caches. */
  withToken(token: string | undefined): VaultClient {
    return this.derive({
      token,
      tokenProvider: undefined,
      onPermissionDenied: undefined,
      ...(this.auth.namespace ? { namespace: this.auth.namespace } : {}),
    });
  }

  /** A client whose token comes from `provider`, sharing this client's connection pool and caches. */
  withTokenProvider(provider: TokenProvider, onPermissionDenied?: PermissionDeniedHandler): VaultClient {
    return this.derive({
      token: undefined,
      tokenProvider: provider,
      onPermissionDenied,
      ...(this.auth.namespace ? { namespace: this.auth.namespace } : {}),
    });
  }

  /** This client (same token and connection) with `request` answered from, and offered to, `cache`. */
  withResponseCache(cache: VaultResponseCache): VaultClient {
    return this.derive(this.auth, cache);
  }

  /**
   * State kept once per connection and shared by every client derived from it (withToken…), created
   * on first use. Used for caches that do not depend on the token, such as KV mount detection.
   */
  sharedState<T>(key: string, create: () => T): T {
    if (!this.connection.shared.has(key)) this.connection.shared.set(key, create());
    return this.connection.shared.get(key) as T;
  }

  /** Any request. Resolves to null when Vault answers without a body (204). Throws a VaultError on any non-2xx. */
  async request<T = Record<string, unknown>>(
    method: VaultMethod,
    path: string,
    options: VaultRequestOptions = {},
  ): Promise<VaultResponse<T> | null> {
    const apiPath = normalizeApiPath(path);
    if (this.auth.namespace)
      options = { ...options, headers: { ...options.headers, 'X-Vault-Namespace': this.auth.namespace } };
    const token = await this.currentToken();
    const cacheable =
      this.responseCache !== undefined && token !== undefined && token !== ''
        ? { method, path: apiPath, query: options.query ?? {}, body: options.body, token }
        : undefined;
    if (cacheable !== undefined) {
      const hit = this.responseCache!.lookup(cacheable);
      if (hit !== undefined) return hit as VaultResponse<T>;
    }
    const { reply, token: used } = await this.sendRetryingDenied(method, apiPath, token, options);
    const accepted = options.acceptStatuses?.includes(reply.status) === true;
    if ((reply.status < 200 || reply.status >= 300) && !accepted)
      throw errorFromResponse(method, apiPath, reply.status, reply.body);
    const response = asResponse<T>(reply, method, apiPath);
    if (
      cacheable !== undefined &&
      response !== null &&
      reply.status >= 200 &&
      reply.status < 300 &&
      used !== undefined
    ) {
      this.responseCache!.store({ ...cacheable, token: used }, response as VaultResponse<unknown>);
    }
    return response;
  }

  /**
   * Any request, answered with Vault's status and parsed body as they are (no error for a non-2xx
   * status; transport failures still throw): for relaying Vault's answer, as the agent's cache listener
   * does. Not answered from a response cache.
   */
  async raw(
    method: VaultMethod,
    path: string,
    options: Omit<VaultRequestOptions, 'acceptStatuses'> = {},
  ): Promise<RawReply> {
    const apiPath = normalizeApiPath(path);
    return (await this.sendRetryingDenied(method, apiPath, await this.currentToken(), options)).reply;
  }

  private async sendRetryingDenied(
    method: VaultMethod,
    apiPath: string,
    token: string | undefined,
    options: VaultRequestOptions,
  ): Promise<{ reply: RawReply; token: string | undefined }> {
    const reply = await this.connection.send(method, apiPath, token, options);
    if (reply.status === 403 && token && this.auth.onPermissionDenied && (await this.auth.onPermissionDenied(token))) {
      // The token was revoked or expired under us and the provider has a new one: one more try.
      const fresh = await this.currentToken();
      if (fresh && fresh !== token)
        return { reply: await this.connection.send(method, apiPath, fresh, options), token: fresh };
    }
    return { reply, token };
  }

  /** GET. Vault must answer with a body. */
  async read<T = Record<string, unknown>>(
    path: string,
    options: Omit<VaultRequestOptions, 'body'> = {},
  ): Promise<VaultResponse<T>> {
    const response = await this.request<T>('GET', path, options);
    if (response === null)
      throw new VaultProtocolError(`Vault answered GET ${path} without a body`, { method: 'GET', path });
    return response;
  }

  /** POST (Vault treats PUT the same). Resolves to null when Vault answers 204. */
  write<T = Record<string, unknown>>(
    path: string,
    body: unknown = {},
    options: Omit<VaultRequestOptions, 'body'> = {},
  ): Promise<VaultResponse<T> | null> {
    return this.request<T>('POST', path, { ...options, body });
  }

  /** LIST (sent as GET ?list=true). Vault answers 404 when there are no keys. */
  list(path: string, options: Omit<VaultRequestOptions, 'body'> = {}): Promise<VaultResponse<{ keys: string[] }>> {
    return this.read<{ keys: string[] }>(path, { ...options, query: { ...options.query, list: 'true' } });
  }

  delete<T = Record<string, unknown>>(
    path: string,
    options: VaultRequestOptions = {},
  ): Promise<VaultResponse<T> | null> {
    return this.request<T>('DELETE', path, options);
  }

  /**
   * Where and as whom a subscription to this Vault's KV events connects: this client's address,
   * namespace, TLS and token (asked again at each reconnect; a 403 asks the permission-denied handler
   * whether the token was replaced). openEventStream (events.ts) builds the stream from it. The stream is
   * not built here: a method that referred to VaultEventStream would put events.ts and, through its lazy
   * `import('ws')`, ws (~48 KB of minified source that V8 keeps in memory) in the bundle of every
   * service with a Vault client, though only the agent and the operator subscribe.
   */
  eventStreamTarget(): Pick<EventStreamOptions, 'apiBaseUrl' | 'namespace' | 'tls' | 'token' | 'onPermissionDenied'> {
    if (this.connection.address.socketPath) {
      throw new VaultConfigError('Vault events are not supported over a unix socket address; use an http(s) address', {
        setting: 'address',
      });
    }
    return {
      apiBaseUrl: this.connection.address.apiBaseUrl,
      ...(this.namespace ? { namespace: this.namespace } : {}),
      ...(this.connection.address.tls ? { tls: this.connection.tls } : {}),
      token: () => this.currentToken(),
      ...(this.auth.onPermissionDenied ? { onPermissionDenied: this.auth.onPermissionDenied } : {}),
    };
  }

  private async currentToken(): Promise<string | undefined> {
    if (this.auth.tokenProvider) return await this.auth.tokenProvider();
    return this.auth.token;
  }

  private derive(auth: ClientAuth, responseCache?: VaultResponseCache): VaultClient {
    // Built without the constructor so the connection (agents, caches) is shared, not re-created. A
    // response cache belongs to the one client it was given to, never to those derived from it.
    const client = Object.create(VaultClient.prototype) as VaultClient;
    Object.assign(client, { connection: this.connection, auth, responseCache });
    return client;
  }
}
