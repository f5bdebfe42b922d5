// client-node's kubeconfig reader, the one part of @kubernetes/client-node the provider still needs (only
// when it runs with a kubeconfig, not in a pod), as a module of its own: bundled into a file of its own
// (dist/bundle/kube-client.mjs, next to cli.mjs) and imported by kube-access.ts at run time by a path the
// bundler does not follow. V8 keeps a script's whole source in the heap for as long as the script lives,
// so the client inside cli.mjs, even never evaluated, cost its ~1.4 MB of source in every provider.
export { loadKubeConfig } from '@vaultbridge/core/kube';
