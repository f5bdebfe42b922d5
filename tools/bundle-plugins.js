// esbuild plugins for the service bundles (tools/bundle.js).
//
// builtinsAsRequire: every ESM import of a Node built-in (`import http from
// 'node:http'`) becomes a require() of it. Node's ESM facade of a built-in reads every export of the
// module when it is imported, which runs the built-in's lazy getters: `node:http`'s WebSocket,
// CloseEvent and MessageEvent getters load Node's own copy of undici and the web streams, ~13 MiB RSS
// (Node 24: a bare node importing node:http is 58.8 MiB, requiring it 45.4; the webhook idle 79.0 ->
// 75.4 MiB). Through require() the getters stay lazy and nothing loads what a service never calls.
// The bundles' banner defines `require` (createRequire), which esbuild's __require calls.
import { readFile } from 'node:fs/promises';
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

// axiosWithoutUndici: axios, at import, reads globalThis.FormData (lib/utils.js, for isFormData) and
// builds its fetch adapter (lib/adapters/fetch.js: `const adapter = getFetch();`, which reads fetch,
// Request and Response). Each of those globals loads Node's own undici and the web streams: +8.2 MiB
// RSS (Node 24, reading `Request` alone), in every service with a Vault client, though in Node axios
// uses its http adapter and our Vault client sends JSON strings, never FormData. Two edits of the
// source as it is bundled: isFormData keeps its duck-typed check (Object.prototype.toString gives
// "[object FormData]" for Node's FormData) without the constructor, and the unused default fetch
// adapter's call is marked pure so esbuild drops it. An axios without either line fails the bundle, so
// a new version is looked at again rather than silently loading undici.
const axiosEdits = [
  {
    file: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]utils\.js$/,
    from: "const FormDataCtor = typeof G.FormData !== 'undefined' ? G.FormData : undefined;",
    to: 'const FormDataCtor = undefined;',
  },
  {
    file: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]adapters[\\/]fetch\.js$/,
    from: 'const adapter = getFetch();',
    to: 'const adapter = /* @__PURE__ */ getFetch();',
  },
];
export const axiosWithoutUndici = {
  name: 'axios-without-undici',
  setup(build) {
    for (const edit of axiosEdits) {
      build.onLoad({ filter: edit.file }, async (args) => {
        const source = await readFile(args.path, 'utf8');
        if (!source.includes(edit.from))
          throw new Error(
            `${args.path}: no "${edit.from}" to change; check whether this axios still reads Node's fetch globals at import (tools/bundle-plugins.js)`,
          );
        return { contents: source.replace(edit.from, edit.to), loader: 'js' };
      });
    }
  },
};

// jsonAsParse: a dependency's large JSON file (mime-db's 586 KiB table, which express loads through
// mime-types) bundled as `JSON.parse("...")` instead of as an object literal. V8 keeps a literal's
// boilerplate description beside the bytecode of the function that built it (0.86 MiB of
// ObjectBoilerplateDescription in the webhook's idle heap snapshot); parsed JSON leaves only the
// object. Webhook idle 75.4 -> 74.7 MiB. Small files stay literals: there it makes no difference.
export const jsonAsParse = {
  name: 'json-as-parse',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/].*\.json$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (text.length < 16 * 1024) return undefined;
      // Re-serialised compactly, then quoted: the bundle holds the JSON text once, as a string literal.
      return {
        contents: `module.exports = JSON.parse(${JSON.stringify(JSON.stringify(JSON.parse(text)))});`,
        loader: 'js',
      };
    });
  },
};
