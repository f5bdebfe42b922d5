// client-node requests have no deadline of their own: a call to an API server that stopped answering
// (or a connection silently dropped) waits for the OS. This hands a request an abort signal through a
// middleware, since the generated API calls take configuration options but no signal.
import {
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

/** Options for a client-node API call that abort it with `signal` (added to `options`' middleware). */
export function withAbortSignal(
  signal: AbortSignal,
  options?: ConfigurationOptions<ObservableMiddleware>,
): ConfigurationOptions<ObservableMiddleware> {
  // The object-parameter API takes middleware in the observable shape (as client-node's setHeaderOptions).
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return new Observable(Promise.resolve(context));
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
  };
  return { ...options, middleware: [...(options?.middleware ?? []), middleware], middlewareMergeStrategy: 'append' };
}

const DEADLINE_PATCHED = Symbol.for('vaultbridge.kube-request-deadline');

/**
 * Gives every API call made through `config` (clients from `config.makeApiClient`) a total deadline of
 * `ms` unless the call brings its own signal (withAbortSignal): client-node has none, so a request to an
 * API server that stopped answering held its caller (a reconcile, a status write) forever. Watches keep
 * client-node's own timers (they are long by design). Idempotent; returns `config`.
 */
export function withKubeRequestDeadline<T extends object>(config: T, ms: number): T {
  const target = config as unknown as {
    applySecurityAuthentication?: (context: RequestContext) => Promise<void>;
    [DEADLINE_PATCHED]?: true;
  };
  if (target[DEADLINE_PATCHED] === true || typeof target.applySecurityAuthentication !== 'function') return config;
  const apply = target.applySecurityAuthentication.bind(config);
  target.applySecurityAuthentication = async (context: RequestContext) => {
    await apply(context);
    // Middleware (withAbortSignal) runs after this and replaces the signal when the caller has one.
    if (context.getSignal() === undefined) context.setSignal(AbortSignal.timeout(Math.ceil(ms)));
  };
  target[DEADLINE_PATCHED] = true;
  return config;
}
