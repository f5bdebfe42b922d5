// client-node requests have no deadline of their own: a call to an API server that stopped answering
// (or a connection silently dropped) waits for the OS. This hands a request an abort signal through a
// middleware, since the generated API calls take configuration options but no signal.
import { Observable, type ConfigurationOptions, type ObservableMiddleware, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

/** Options for a client-node API call that abort it with `signal` (added to `options`' middleware). */
export function withAbortSignal(signal: AbortSignal, options?: ConfigurationOptions<ObservableMiddleware>): ConfigurationOptions<ObservableMiddleware> {
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
