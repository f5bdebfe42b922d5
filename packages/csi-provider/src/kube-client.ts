// The Kubernetes client the provider needs only for its TokenRequest fallback, as a module of its own:
// bundled into a file of its own (dist/bundle/kube-client.mjs, next to cli.mjs) and imported by
// kube-access.ts at run time by a path the bundler does not follow. V8 keeps a script's whole source in
// the heap for as long as the script lives, so the client inside cli.mjs, even never evaluated, cost
// its ~1.7 MB of source (client-node and undici) in every idle provider.
export { loadKubeConfig, TokenRequestSource } from '@vaultbridge/core/kube';
