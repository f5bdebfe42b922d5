/** A Kubernetes-side failure of the core (kubeconfig, service-account tokens). Never holds a token. */
export class KubeError extends Error {
  readonly code: string = 'KUBE_ERROR';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No usable kubeconfig: the message names the file or the lookup order. */
export class KubeConfigError extends KubeError {
  override readonly code = 'KUBE_CONFIG';
}

/** A service-account token could not be read or requested. */
export class ServiceAccountTokenError extends KubeError {
  override readonly code = 'KUBE_SERVICE_ACCOUNT_TOKEN';
  /** HTTP status of the TokenRequest call, when the API server answered. */
  readonly status: number | undefined;

  constructor(message: string, options: { cause?: unknown; status?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status;
  }
}
