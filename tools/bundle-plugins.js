// esbuild plugins for the service bundles (tools/bundle.js).
//
// builtinsAsRequire: every ESM import of a Node built-in (`import http from
// 'node:http'`) becomes a require() of it. Node's ESM facade of a built-in reads every export of the
// module when it is imported, which runs the built-in's lazy getters: `node:http`'s WebSocket,
// CloseEvent and MessageEvent getters load Node's own copy of undici and the web streams, ~13 MiB RSS
// (Node 24: a bare node importing node:http is 58.8 MiB, requiring it 45.4; the webhook idle 79.0 ->
// 75.4 MiB). Through require() the getters stay lazy and nothing loads what a service never calls.
// The bundles' banner defines `require` (createRequire), which esbuild's __require calls.
import { builtinModules } from 'node:module';

const builtins = new Set(
  builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`])),
);

export const builtinsAsRequire = {
  name: 'builtins-as-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) =>
      args.kind === 'import-statement' && builtins.has(args.path)
        ? { path: args.path, namespace: 'builtin-as-require' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'builtin-as-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};
