// Plain JSON requests to the API server, for the writes every sync makes (the destination Secret, its
// Event, the object's status). client-node's typed calls send each object through its ObjectSerializer
// both ways (models, dates, type lookup): about a quarter of the operator's CPU per sync at 1,000
// objects (profiled), for answers these calls do not read. This keeps client-node's own authentication,
// TLS, fetch and connection reuse (applySecurityAuthentication, IsomorphicFetchHttpLibrary), and its
// ApiException, so callers tell 404 and 409 apart as before.
import { ApiException, HttpMethod, IsomorphicFetchHttpLibrary, RequestContext, type KubeConfig } from '@kubernetes/client-node';

/** Every API call has a deadline. */
const DEADLINE_MS = 30_000;

export class KubeJson {
  private readonly kubeConfig: KubeConfig;
  private readonly http = new IsomorphicFetchHttpLibrary();

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
  }

  async request<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<T> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig has no current cluster');
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
    throw new ApiException(response.httpStatusCode, `Kubernetes API answered ${response.httpStatusCode} to ${method} ${path}`, parsed, response.headers);
  }

  createSecret(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`, body);
  }

  replaceSecret(namespace: string, name: string, body: object): Promise<unknown> {
    return this.request('PUT', `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets/${encodeURIComponent(name)}`, body);
  }

  createEvent(namespace: string, body: object): Promise<unknown> {
    return this.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, body);
  }

  replaceStatus<T>(group: string, version: string, plural: string, namespace: string, name: string, body: object): Promise<T> {
    return this.request<T>('PUT', `/apis/${group}/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}/${encodeURIComponent(name)}/status`, body);
  }
}
