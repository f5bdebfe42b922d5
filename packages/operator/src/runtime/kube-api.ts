// The few typed calls the controllers make, with client-node's method names and parameter objects so
// the call sites read as before, over KubeJson (plain JSON; see kube-json.ts for why not client-node).
// Answers are the API server's JSON as it is: timestamps stay strings (client-node's models made Dates).
import type {
  AuthenticationV1TokenRequest,
  KubernetesListObject,
  KubernetesObject,
  V1Secret,
  V1SecretList,
} from '@kubernetes/client-node';
import { MERGE_PATCH, type KubeJson, type PatchType } from './kube-json.ts';

const segment = encodeURIComponent;

function query(params: Record<string, string | undefined>): string {
  const defined = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined);
  return defined.length === 0 ? '' : `?${new URLSearchParams(defined).toString()}`;
}

/** Secrets and service-account tokens (`/api/v1`). */
export class CoreApi {
  private readonly json: KubeJson;

  constructor(json: KubeJson) {
    this.json = json;
  }

  private secrets(namespace: string, name?: string): string {
    return `/api/v1/namespaces/${segment(namespace)}/secrets${name === undefined ? '' : `/${segment(name)}`}`;
  }

  readNamespacedSecret(request: { name: string; namespace: string }): Promise<V1Secret> {
    return this.json.get(this.secrets(request.namespace, request.name));
  }

  createNamespacedSecret(request: { namespace: string; body: V1Secret }): Promise<V1Secret> {
    return this.json.request('POST', this.secrets(request.namespace), request.body);
  }

  replaceNamespacedSecret(request: { name: string; namespace: string; body: V1Secret }): Promise<V1Secret> {
    return this.json.request('PUT', this.secrets(request.namespace, request.name), request.body);
  }

  deleteNamespacedSecret(request: { name: string; namespace: string }): Promise<unknown> {
    return this.json.request('DELETE', this.secrets(request.namespace, request.name));
  }

  listNamespacedSecret(request: { namespace: string; labelSelector?: string }): Promise<V1SecretList> {
    return this.json.get(`${this.secrets(request.namespace)}${query({ labelSelector: request.labelSelector })}`);
  }

  listSecretForAllNamespaces(request: { labelSelector?: string }): Promise<V1SecretList> {
    return this.json.get(`/api/v1/secrets${query({ labelSelector: request.labelSelector })}`);
  }

  /** The TokenRequest API (core's TokenRequestApi). */
  createNamespacedServiceAccountToken(request: {
    name: string;
    namespace: string;
    body: AuthenticationV1TokenRequest;
  }): Promise<AuthenticationV1TokenRequest> {
    return this.json.request(
      'POST',
      `/api/v1/namespaces/${segment(request.namespace)}/serviceaccounts/${segment(request.name)}/token`,
      request.body,
    );
  }
}

interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
}

/** Custom resources (`/apis/<group>/<version>`), untyped as client-node's CustomObjectsApi. */
export class CustomApi {
  private readonly json: KubeJson;

  constructor(json: KubeJson) {
    this.json = json;
  }

  private path(request: CustomObjectRef & { namespace: string; name: string }, subresource = ''): string {
    return `/apis/${request.group}/${request.version}/namespaces/${segment(request.namespace)}/${request.plural}/${segment(request.name)}${subresource}`;
  }

  getNamespacedCustomObject(request: CustomObjectRef & { namespace: string; name: string }): Promise<unknown> {
    return this.json.get(this.path(request));
  }

  replaceNamespacedCustomObjectStatus(
    request: CustomObjectRef & { namespace: string; name: string; body: object },
  ): Promise<unknown> {
    return this.json.request('PUT', this.path(request, '/status'), request.body);
  }

  /** A merge patch unless `contentType` says otherwise. */
  patchNamespacedCustomObject(
    request: CustomObjectRef & { namespace: string; name: string; body: object },
    contentType: PatchType = MERGE_PATCH,
  ): Promise<unknown> {
    return this.json.request('PATCH', this.path(request), request.body, contentType);
  }

  listClusterCustomObject(request: CustomObjectRef): Promise<KubernetesListObject<KubernetesObject>> {
    return this.json.get(`/apis/${request.group}/${request.version}/${request.plural}`);
  }
}
