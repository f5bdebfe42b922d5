// Plain JSON requests to the API server, for the writes every sync makes (the destination Secret, its
// Event, the object's status). client-node's typed calls send each object through its ObjectSerializer
// both ways (models, dates, type lookup), and through undici's fetch (WHATWG streams): together most of
// the operator's CPU per sync at 1,000 objects (profiled), for answers these calls do not read. This uses
// client-node's own authentication and TLS material (applyToHTTPSOptions: bearer token, client
// certificate, CA, re-read as client-node does) over node:https with keep-alive, and client-node's
// ApiException, so callers tell 404 and 409 apart as before. Behind a proxy it falls back to client-node's fetch.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import {
  ApiException,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type KubeConfig,
} from '@kubernetes/client-node';

/** Every API call has a deadline. */
const DEADLINE_MS = 30_000;

/**
 * Sockets to the API server at once, and idle ones kept. Unbounded, the pool held one TLS socket per
 * reconcile in flight (100 by default): ~90 MiB outside V8's heap with Vault's at 1,000 objects. Writes
 * beyond it wait for a socket; 32 keeps the sync time (README, "Memory (issue 14)").
 */
export const MAX_SOCKETS = 32;
const MAX_FREE_SOCKETS = 8;

/** Distinct TLS identities kept open at once (a certificate rotation makes a second one). */
const MAX_AGENTS = 4;

export class KubeJson {
  private readonly kubeConfig: KubeConfig;
  private readonly http = new IsomorphicFetchHttpLibrary();
  /** Keep-alive agents by TLS material (client-node's own agent does not keep connections alive). */
  private readonly agents = new Map<string, http.Agent>();
  private last: { parts: unknown[]; agent: http.Agent } | undefined;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    const server = cluster?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
    if (!cluster.proxyUrl) return this.viaNodeHttp<T>(method, server, path, body);
    const context = new RequestContext(`${server.replace(/\/+$/, '')}${path}`, HttpMethod[method]);
    context.setHeaderParam('Accept', 'application/json');
    if (body !== undefined) {
      context.setHeaderParam('Content-Type', 'application/json');
      context.setBody(JSON.stringify(body));
    }
    context.setSignal(AbortSignal.timeout(DEADLINE_MS));
    await this.kubeConfig.applySecurityAuthentication(context);
    const response = await this.http.send(context).toPromise();
    const text = await response.body.text();
    const parsed = text === '' ? undefined : (JSON.parse(text) as unknown);
    if (response.httpStatusCode >= 200 && response.httpStatusCode < 300) return parsed as T;
    // The body is the API's Status (reason, message), never the object we sent.
    throw new ApiException(
      response.httpStatusCode,
      `Kubernetes API answered ${response.httpStatusCode} to ${method} ${path}`,
      parsed,
      response.headers,
    );
  }

  private async viaNodeHttp<T>(method: string, server: string, path: string, body: unknown): Promise<T> {
    const options: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(options);
    const url = new URL(`${server.replace(/\/+$/, '')}${path}`);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = {
      ...(options.headers as http.OutgoingHttpHeaders | undefined),
      Accept: 'application/json',
    };
    if (text !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = Buffer.byteLength(text);
    }
    const secure = url.protocol === 'https:';
    const agent = this.agentFor(options, secure);
    const { status, answer } = await new Promise<{ status: number; answer: string }>((resolve, reject) => {
      const request = (secure ? https : http).request(
        {
          method,
          hostname: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          headers,
          agent,
          ...(options.auth ? { auth: options.auth } : {}),
          signal: AbortSignal.timeout(DEADLINE_MS),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, answer: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
      request.end(text);
    });
    const parsed = answer === '' ? undefined : (JSON.parse(answer) as unknown);
    if (status >= 200 && status < 300) return parsed as T;
    // The body is the API's Status (reason, message), never the object we sent.
    throw new ApiException(status, `Kubernetes API answered ${status} to ${method} ${path}`, parsed, {});
  }

  /** One keep-alive agent per TLS identity; the same objects as last time skip the hashing. */
  private agentFor(options: https.RequestOptions, secure: boolean): http.Agent {
    const parts = [
      secure,
      options.ca,
      options.cert,
      options.key,
      options.pfx,
      options.passphrase,
      options.rejectUnauthorized,
      options.servername,
    ];
    const previous = this.last;
    if (previous !== undefined && parts.every((part, index) => part === previous.parts[index])) return previous.agent;
    const hash = createHash('sha256');
    for (const part of parts) {
      if (Buffer.isBuffer(part)) hash.update(part);
      else if (Array.isArray(part)) for (const item of part) hash.update(Buffer.isBuffer(item) ? item : String(item));
      else hash.update(String(part));
      hash.update('\u0000');
    }
    const key = hash.digest('hex');
    let agent = this.agents.get(key);
    if (agent === undefined) {
      const identity = {
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        pfx: options.pfx,
        passphrase: options.passphrase,
      };
      // One OpenSSL context for every socket of the agent: without it each connection parses the CA and
      // key into its own (~55 KiB each, and the pool holds one socket per reconcile in flight).
      agent = secure
        ? new https.Agent({
            keepAlive: true,
            maxSockets: MAX_SOCKETS,
            maxFreeSockets: MAX_FREE_SOCKETS,
            ...identity,
            secureContext: tls.createSecureContext(identity),
            servername: options.servername,
            ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
          })
        : new http.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, maxFreeSockets: MAX_FREE_SOCKETS });
      this.agents.set(key, agent);
      if (this.agents.size > MAX_AGENTS) {
        const [oldestKey, oldest] = this.agents.entries().next().value as [string, http.Agent];
        this.agents.delete(oldestKey);
        oldest.destroy();
      }
    }
    this.last = { parts, agent };
    return agent;
  }

  createSecret(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`, body);
  }

  replaceSecret(namespace: string, name: string, body: object): Promise<unknown> {
    return this.request(
      'PUT',
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`,
      body,
    );
  }

  createEvent(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body);
  }

  replaceStatus<T>(
    group: string,
    version: string,
    plural: string,
    namespace: string,
    name: string,
    body: object,
  ): Promise<T> {
    return this.request<T>(
      'PUT',
      `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}/status`,
      body,
    );
  }
}
