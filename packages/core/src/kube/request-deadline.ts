// client-node requests have no deadline of their own: a call to an API server that stopped answering
// (or a connection silently dropped) waits for the OS. This hands a request an abort signal through a
// middleware, since the generated API calls take configuration options but no signal.
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';

/** Options for a client-node API call that abort it with `signal` (added to `options`' middleware). */
export function withAbortSignal(signal: AbortSignal, options?: ConfigurationOptions): ConfigurationOptions {
  const middleware = {
    pre: (context: RequestContext): Promise<RequestContext> => {
      context.setSignal(signal);
      return Promise.resolve(context);
    },
    post: (response: ResponseContext): Promise<ResponseContext> => Promise.resolve(response),
  };
  return { ...options, middleware: [...(options?.middleware ?? []), middleware], middlewareMergeStrategy: 'append' } as ConfigurationOptions;
}
