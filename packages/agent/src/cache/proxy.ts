// The sidecar's cache listener (agent-cache-enable): the app calls it as if it were Vault
// (`VAULT_ADDR=http://127.0.0.1:8200`). Each `/v1/…` request goes to Vault with the token
// `use_auto_auth_token` says (true: the app's own if it sent one, else the agent's; force: always the
// agent's; false: only the app's), and leased answers come from the lease cache while they live.
// `/agent/v1/cache-clear` evicts, as Vault Agent's does. Vault's answers are relayed as they are
// (status and JSON body); nothing here logs a token or a body.

import type http from 'node:http';
import {
  isVaultDown,
  VaultError,
  type Logger,
  type VaultClient,
  type VaultMethod,
  type VaultResponse,
} from '@vaultbridge/core';
import type { CacheAutoAuthToken } from '../contract/index.ts';
import { AUTO_AUTH_TOKEN, type LeaseCache } from './lease-cache.ts';
import { issuesToken, type TokenCache } from './token-cache.ts';

const METHODS: ReadonlySet<string> = new Set(['GET', 'LIST', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** Request headers passed on to Vault besides the token (the rest are the connection's own). */
const FORWARDED_HEADERS = [
  'x-vault-wrap-ttl',
  'x-vault-wrap-format',
  'x-vault-namespace',
  'x-vault-request',
  'x-vault-mfa',
];
const MAX_BODY_BYTES = 1024 * 1024;

export interface CacheProxyOptions {
  /** the agent's client: its token is the auto-auth token, re-logging in when Vault refuses it */
  readonly autoAuth: VaultClient;
  readonly useAutoAuthToken: CacheAutoAuthToken;
  readonly cache: LeaseCache;
  /** Tokens from logins and token creations made through the listener (Vault Agent caches them too). */
  readonly tokens?: TokenCache;
  /** The agent's own rendering cache (the init handover included): the app asking with the auto-auth
   *  token for what the agent rendered gets the same lease, as one Vault Agent cache would answer. */
  readonly rendered?: LeaseCache;
  readonly logger: Logger;
}

function reply(response: http.ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  response
    .writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
    .end(text);
}

async function readBody(request: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function headerValue(request: http.IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

const CLEAR_TYPES = ['all', 'request_path', 'lease', 'token', 'token_accessor'] as const;
type ClearType = (typeof CLEAR_TYPES)[number];
const VALUE_NAMES: Record<Exclude<ClearType, 'all'>, string> = {
  request_path: 'request path',
  lease: 'lease id',
  token: 'token',
  token_accessor: 'token accessor',
};

/** `/agent/v1/cache-clear` with `{"type": "all" | "request_path" | "lease" | "token" | "token_accessor", "value": …}`. */
async function cacheClear(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  options: CacheProxyOptions,
): Promise<void> {
  if (request.method !== 'POST' && request.method !== 'PUT') {
    response.writeHead(405, { Allow: 'POST, PUT' }).end();
    return;
  }
  let input: { type?: unknown; value?: unknown };
  try {
    input = JSON.parse((await readBody(request)).toString('utf8') || '{}') as typeof input;
  } catch {
    reply(response, 400, { errors: ['expected a JSON body such as {"type": "all"}'] });
    return;
  }
  const type = input.type as ClearType;
  if (!CLEAR_TYPES.includes(type)) {
    reply(response, 400, { errors: [`type: expected one of ${CLEAR_TYPES.join(', ')}`] });
    return;
  }
  if (type !== 'all' && (typeof input.value !== 'string' || input.value === '')) {
    reply(response, 400, { errors: [`value: expected the ${VALUE_NAMES[type]} to clear`] });
    return;
  }
  const value = typeof input.value === 'string' ? input.value : undefined;
  let cleared: number;
  if (type === 'token' || type === 'token_accessor') {
    // The token, the tokens it created and (through onEvict) the leases they created.
    cleared = options.tokens?.clear(type, value!) ?? 0;
  } else {
    cleared = options.cache.clear(type, value) + (type === 'all' ? (options.tokens?.clearAll() ?? 0) : 0);
  }
  // The value may be a token: never logged.
  options.logger.info({ type, cleared }, 'cache cleared on request');
  reply(response, 200);
}

/** A token revoked through the listener leaves the cache, with what it created (as in Vault Agent). */
/** Whether a client error's path (segment-encoded once more by the client) is the request's own path. */
function isPath(errorPath: string | undefined, apiPath: string): boolean {
  if (errorPath === undefined) return false;
  if (errorPath === apiPath) return true;
  try {
    return decodeURIComponent(errorPath) === apiPath;
  } catch {
    return false;
  }
}

function evictRevokedToken(
  apiPath: string,
  body: unknown,
  ownToken: string | undefined,
  options: CacheProxyOptions,
): void {
  if (options.tokens === undefined) return;
  const field = (name: string): string | undefined => {
    const value = (body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  let target: ['token' | 'token_accessor', string | undefined] | undefined;
  if (apiPath === 'auth/token/revoke' || apiPath === 'auth/token/revoke-orphan') target = ['token', field('token')];
  else if (apiPath === 'auth/token/revoke-accessor') target = ['token_accessor', field('accessor')];
  else if (apiPath === 'auth/token/revoke-self') target = ['token', ownToken];
  // revoke-orphan leaves the token's children alive in Vault: they stay cached.
  if (target?.[1] !== undefined)
    options.tokens.clear(target[0], target[1], { children: apiPath !== 'auth/token/revoke-orphan' });
}

/** Handles one request on the cache listener; resolves when answered. */
export async function handleCacheRequest(
  request: http.IncomingMessage,
  response: http.ServerResponse,
  options: CacheProxyOptions,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  if (url.pathname === '/agent/v1/cache-clear') return cacheClear(request, response, options);
  if (!url.pathname.startsWith('/v1/')) {
    reply(response, 404, { errors: ['not a Vault API path (/v1/…)'] });
    return;
  }
  const method = (request.method ?? 'GET').toUpperCase();
  if (!METHODS.has(method)) {
    reply(response, 405, { errors: [`method ${method} is not a Vault API method`] });
    return;
  }
  let body: unknown;
  try {
    const raw = await readBody(request);
    body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
  } catch (error) {
    reply(response, 400, { errors: [error instanceof RangeError ? error.message : 'the request body is not JSON'] });
    return;
  }
  const apiPath = url.pathname.slice('/v1/'.length);
  const query = Object.fromEntries(url.searchParams);
  const headers: Record<string, string> = {};
  for (const name of FORWARDED_HEADERS) {
    const value = headerValue(request, name);
    if (value !== undefined) headers[name] = value;
  }
  const ownToken =
    headerValue(request, 'x-vault-token') ??
    (headerValue(request, 'authorization')?.replace(/^Bearer\s+/i, '') || undefined);
  const useAutoAuth =
    options.useAutoAuthToken === 'force' || (options.useAutoAuthToken === 'true' && ownToken === undefined);
  const client = useAutoAuth ? options.autoAuth : options.autoAuth.withToken(ownToken);
  try {
    const token = useAutoAuth ? AUTO_AUTH_TOKEN : ownToken;
    const cacheable =
      token === undefined || headers['x-vault-wrap-ttl'] !== undefined
        ? undefined
        : { method: method as VaultMethod, path: apiPath, query, body, token };
    // A login needs no token of the caller's: it is cached whoever sends it (keyed without the token).
    const tokenRequest =
      options.tokens !== undefined && issuesToken(method, apiPath) && headers['x-vault-wrap-ttl'] === undefined
        ? { method: method as VaultMethod, path: apiPath, query, body, token: token ?? '' }
        : undefined;
    const tokenHit = tokenRequest === undefined ? undefined : options.tokens?.lookup(tokenRequest);
    const hit =
      tokenHit ??
      (cacheable === undefined || tokenRequest !== undefined
        ? undefined
        : (options.cache.lookup(cacheable) ?? (useAutoAuth ? options.rendered?.lookup(cacheable) : undefined)));
    if (hit !== undefined) {
      options.logger.debug({ path: apiPath }, 'cache hit');
      reply(response, 200, hit);
      return;
    }
    const answer = await client.raw(method as VaultMethod, apiPath, {
      ...(body === undefined ? {} : { body }),
      query,
      headers,
    });
    if (answer.status >= 200 && answer.status < 300) {
      // Revokes answer 204 without a body: only what is stored needs one.
      if (answer.body !== undefined) {
        if (tokenRequest !== undefined) options.tokens?.store(tokenRequest, answer.body as VaultResponse<unknown>);
        else if (cacheable !== undefined) options.cache.store(cacheable, answer.body as VaultResponse<unknown>);
      }
      // A lease revoked through the listener leaves the cache too.
      if (
        /^sys\/(leases\/)?revoke$/.test(apiPath) &&
        typeof (body as { lease_id?: unknown } | undefined)?.lease_id === 'string'
      ) {
        options.cache.clear('lease', (body as { lease_id: string }).lease_id);
      }
      evictRevokedToken(apiPath, body, ownToken, options);
    }
    reply(response, answer.status, answer.body);
  } catch (error) {
    // Vault answered the app's own request with an error the client keeps retrying (a 5xx such as
    // userpass's 500 for a wrong password): relay Vault's status and errors as Vault Agent does.
    if (error instanceof VaultError && error.status !== undefined && isPath(error.path, apiPath)) {
      options.logger.warn({ path: apiPath, status: error.status }, 'cache listener: Vault answered with an error');
      reply(response, error.status, { errors: error.errors });
      return;
    }
    // Vault unreachable, or the agent could not log in: the app sees a gateway error naming the cause.
    const status = error instanceof VaultError && error.status !== undefined && !isVaultDown(error) ? 502 : 503;
    options.logger.warn({ path: apiPath, err: error }, 'cache listener: request to Vault failed');
    reply(response, status, { errors: [`vaultbridge-agent: ${(error as Error).message}`] });
  }
}
