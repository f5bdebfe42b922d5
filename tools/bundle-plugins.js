// esbuild plugins for the service bundles (tools/bundle.js).
//
// builtinsAsRequire: every ESM import of a Node built-in (`import http from
// 'node:http'`) becomes a require() of it. Node's ESM facade of a built-in reads every export of the
// module when it is imported, which runs the built-in's lazy getters: `node:http`'s WebSocket,
// CloseEvent and MessageEvent getters load Node's own copy of undici and the web streams, ~13 MiB RSS
// (Node 24: a bare node importing node:http is 58.8 MiB, requiring it 45.4; the webhook idle 79.0 ->
// 75.4 MiB). Through require() the getters stay lazy and nothing loads what a service never calls.
// The bundles' banner defines `require` (createRequire), which esbuild's __require calls.
import fs from 'node:fs';
import { readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import path from 'node:path';

const builtins = new Set(
  builtinModules.flatMap((name) => (name.startsWith('node:') ? [name] : [name, `node:${name}`])),
);

//
// `http2` imported by default import (axios's http adapter and Http2Sessions, for its HTTP/2 option the
// Vault client never sets) is loaded on its first use instead: a default export that requires the
// module when a property is first read. Loading it costs +2.3 MiB RSS on a bare node (agent, alternating
// runs: init peak 68.6-68.7 -> 67.8-67.9 MiB, sidecar 67.4-67.6 -> 65.8-67.0); gRPC's require('http2') in the CSI provider is not an ESM import and is untouched.
// A named or namespace import of it fails the bundle (no such export) rather than reading undefined.
// zlib likewise: axios's http adapter is its only ESM importer, and it decompresses only a compressed
// response (lazyBuiltinRequire below edits its reads at import).
const lazyBuiltins = new Set(['http2', 'node:http2', 'zlib', 'node:zlib']);

// `util` imported as ESM (commander's and core's `import { ... } from 'node:util'`) is required as a
// plain object of forwarding getters. esbuild turns the required module into the ESM import with __toESM,
// which reads every own property's descriptor, and reading a descriptor of one of Node 24 util's lazy
// properties loads what it stands for: setTraceSigInt loads worker_threads, parseArgs and diff their
// modules (33 modules in all, with the streams). The forwarding object reads a property of util when the
// importer uses it. (No other built-in the services import has such properties: checked by reading every
// descriptor of each in Node 24.) With pino's worker_threads read on use (below) and core's synchronous
// logger, the CSI provider loads no worker_threads: its node binary's resident pages 41.27 -> 40.96 MiB
// idle (/proc/<pid>/smaps, three runs each).
const forwardedBuiltins = new Set(['util', 'node:util']);
const forwardingBuiltin = (specifier) => `const builtin = require(${JSON.stringify(specifier)});
module.exports = Object.defineProperties(
  {},
  Object.fromEntries(Object.getOwnPropertyNames(builtin).map((key) => [key, { get: () => builtin[key], enumerable: true }])),
);`;

// A module whose default export requires `specifier` when a property is first read (or `in` is asked):
// what the lazy built-ins and lazyDefaultImports (below) both bundle in place of the import.
const requiredOnFirstUse = (specifier) => `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(specifier)}));
export default new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });`;

export const builtinsAsRequire = {
  name: 'builtins-as-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, (args) => {
      if (args.kind !== 'import-statement' || !builtins.has(args.path)) return undefined;
      const namespace = lazyBuiltins.has(args.path)
        ? 'builtin-lazy'
        : forwardedBuiltins.has(args.path)
          ? 'builtin-forwarding'
          : 'builtin-as-require';
      return { path: args.path, namespace };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-forwarding' }, (args) => ({
      contents: forwardingBuiltin(args.path),
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'builtin-as-require' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'builtin-lazy' }, (args) => ({
      contents: requiredOnFirstUse(args.path),
      loader: 'js',
    }));
  },
};

// lazyBuiltinRequires: Node built-ins a dependency requires at its top but calls only in functions a
// service rarely or never runs, required on first use instead (measured alone on a bare node 24: zlib
// +0.45 MiB RSS, assert +0.25). In the webhook zlib came from body-parser (it inflates a gzip, deflate,
// br or zstd request body, which the API server never sends) and prom-client's Pushgateway (never
// used); assert from pino's sonic-boom and thread-stream (one assertion each, in a function). Each
// listed `require()` becomes a stand-in that requires the built-in when it is first called or a
// property of it is read. Two edits keep the built-in unread at the top: body-parser's zstd check
// (`'createZstdDecompress' in zlib`, once at import) moves into the switch case that uses it, and
// prom-client's `const { gzipSync } = require('zlib')` becomes a function that requires zlib when
// the Pushgateway gzips. A dependency whose source no longer reads as below fails the bundle. The other
// services load both at start anyway (axios's zlib, follow-redirects's assert): only the webhook gains.
// With iconvUnicodeOnly: webhook idle 67.9 -> 67.2 MiB (footprint-webhook, alternating runs).
const lazyBuiltinRequires = [
  {
    importer: /[\\/]node_modules[\\/]body-parser[\\/]lib[\\/]read\.js$/,
    binding: "const zlib = require('node:zlib')",
  },
  { importer: /[\\/]node_modules[\\/]sonic-boom[\\/]index\.js$/, binding: "const assert = require('assert')" },
  { importer: /[\\/]node_modules[\\/]thread-stream[\\/]index\.js$/, binding: "const assert = require('assert')" },
  // The Vault client's axios: follow-redirects and https-proxy-agent assert in functions
  // (follow-redirects's one top-level call is edited below); ws (Vault's event stream) compresses only
  // with permessage-deflate; gRPC (the CSI provider's server) decompresses only a message whose call
  // compressed it and resolves DNS only for a channel to a DNS name, which a server on a unix socket never
  // makes.
  { importer: /[\\/]node_modules[\\/]follow-redirects[\\/]index\.js$/, binding: 'var assert = require("assert");' },
  {
    importer: /[\\/]node_modules[\\/]ws[\\/]lib[\\/]permessage-deflate\.js$/,
    binding: "const zlib = require('zlib');",
  },
  {
    importer: /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]compression-filter\.js$/,
    binding: 'const zlib = require("zlib");',
  },
  {
    importer: /[\\/]node_modules[\\/]https-proxy-agent[\\/]dist[\\/]agent\.js$/,
    binding: 'const assert_1 = __importDefault(require("assert"));',
  },
  {
    importer: /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]server-interceptors\.js$/,
    binding: 'const zlib = require("zlib");',
  },
  {
    importer: /[\\/]node_modules[\\/]@grpc[\\/]grpc-js[\\/]build[\\/]src[\\/]resolver-dns\.js$/,
    binding: 'const dns_1 = require("dns");',
  },
];
const builtinRequireEdits = [
  {
    // Its feature test `assert(new URL(""))` runs at import; `new URL("")` throws the same error
    // (ERR_INVALID_URL) before assert would be called, so the test keeps its answer without assert.
    file: /[\\/]node_modules[\\/]follow-redirects[\\/]index\.js$/,
    edits: [['  assert(new URL(""));\n', '  new URL("");\n']],
  },
  {
    // axios's http adapter imports zlib (by default import, bundled as a stand-in: lazyBuiltins above) and
    // at import reads its flush constants and whether brotli and zstd decoders exist. The constants are
    // read when a response is decompressed instead (getters), and the decoders' presence from
    // process.versions, which names brotli and zstd exactly when Node is built with them (the test
    // checks that against zlib in the running Node).
    file: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]adapters[\\/]http\.js$/,
    edits: [
      ...[
        ['zlibOptions', 'Z_SYNC_FLUSH'],
        ['brotliOptions', 'BROTLI_OPERATION_FLUSH'],
        ['zstdOptions', 'ZSTD_e_flush'],
      ].map(([name, constant]) => [
        `const ${name} = {\n  flush: zlib.constants.${constant},\n  finishFlush: zlib.constants.${constant},\n};`,
        `const ${name} = {\n  get flush() { return zlib.constants.${constant}; },\n  get finishFlush() { return zlib.constants.${constant}; },\n};`,
      ]),
      [
        'const isBrotliSupported = utils.isFunction(zlib.createBrotliDecompress);',
        "const isBrotliSupported = typeof process.versions.brotli === 'string';",
      ],
      [
        'const isZstdSupported = utils.isFunction(zlib.createZstdDecompress);',
        "const isZstdSupported = typeof process.versions.zstd === 'string';",
      ],
    ],
  },
  {
    file: /[\\/]node_modules[\\/]body-parser[\\/]lib[\\/]read\.js$/,
    edits: [
      ["const hasZstandardSupport = 'createZstdDecompress' in zlib\n", ''],
      ['      if (hasZstandardSupport) {', "      if ('createZstdDecompress' in zlib) {"],
    ],
  },
  {
    // worker_threads (+0.45 MiB RSS on a bare node 24 with http loaded) for pino's isMainThread, which it
    // reads only to build an asynchronous destination (core's logger writes synchronously, so never), and
    // thread-stream's Worker, made only for a pino transport (no service uses one): both read on use.
    file: /[\\/]node_modules[\\/]pino[\\/]lib[\\/]tools\.js$/,
    edits: [
      ["const { isMainThread } = require('worker_threads')\n", ''],
      ['  if (!opts.sync && isMainThread) {', "  if (!opts.sync && require('worker_threads').isMainThread) {"],
    ],
    unbound: ['isMainThread'],
  },
  {
    file: /[\\/]node_modules[\\/]thread-stream[\\/]index\.js$/,
    edits: [
      ["const { Worker } = require('worker_threads')\n", ''],
      [
        '  const worker = new Worker(toExecute, {',
        "  const worker = new (require('worker_threads').Worker)(toExecute, {",
      ],
    ],
    unbound: ['Worker'],
  },
  {
    // Not a built-in: @opentelemetry/api (0.15 MiB of V8 heap in the CSI provider, heap snapshots), which
    // prom-client's CPU counter reads only with exemplars enabled (no service enables them), required on
    // that read.
    file: /[\\/]node_modules[\\/]prom-client[\\/]lib[\\/]metrics[\\/]processCpuTotal\.js$/,
    edits: [
      ["const OtelApi = require('@opentelemetry/api');\n", ''],
      [
        '\t\t\t\tconst currentSpan = OtelApi.trace.getSpan(OtelApi.context.active());',
        "\t\t\t\tconst OtelApi = require('@opentelemetry/api');\n\t\t\t\tconst currentSpan = OtelApi.trace.getSpan(OtelApi.context.active());",
      ],
    ],
  },
  {
    file: /[\\/]node_modules[\\/]prom-client[\\/]lib[\\/]pushgateway\.js$/,
    edits: [
      ["const { gzipSync } = require('zlib');", "const gzipSync = (...args) => require('zlib').gzipSync(...args);"],
    ],
  },
];
// A built-in's stand-in: callable (assert) and with the built-in's properties (zlib.createGunzip).
const builtinOnFirstUse = (specifier) => `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(specifier)}));
module.exports = new Proxy(function () {}, {
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  // TypeScript's __importDefault asks at the importer's top whether this is an ES module; no built-in is.
  get: (_, key) => (key === '__esModule' ? undefined : load()[key]),
  has: (_, key) => key in load(),
});`;
export const lazyBuiltinRequire = {
  name: 'lazy-builtin-require',
  setup(build) {
    build.onResolve({ filter: /^[a-z0-9_:/]+$/ }, async (args) => {
      if (args.kind !== 'require-call' || !builtins.has(args.path)) return undefined;
      const lazy = lazyBuiltinRequires.find(({ importer }) => importer.test(args.importer));
      if (!lazy) return undefined;
      if (!(await readFile(args.importer, 'utf8')).includes(lazy.binding))
        throw new Error(
          `${args.importer}: no "${lazy.binding}" to require on first use; check how this version uses ${args.path} (tools/bundle-plugins.js, lazyBuiltinRequire)`,
        );
      return { path: args.path, namespace: 'builtin-on-first-use' };
    });
    build.onLoad({ filter: /.*/, namespace: 'builtin-on-first-use' }, (args) => ({
      contents: builtinOnFirstUse(args.path),
      loader: 'js',
    }));
    for (const { file, edits, unbound = [] } of builtinRequireEdits) {
      build.onLoad({ filter: file }, async (args) => {
        let source = await readFile(args.path, 'utf8');
        for (const [from, to] of edits) {
          if (!source.includes(from))
            throw new Error(
              `${args.path}: no "${from.trim()}" to change; check whether this version reads a built-in at import (tools/bundle-plugins.js, lazyBuiltinRequire)`,
            );
          source = source.replace(from, to);
        }
        // A binding the edits removed must not be used anywhere else (a ReferenceError at run time).
        for (const name of unbound) {
          const use = new RegExp(`(?<![.\\w$'])${name}\\b`);
          const line = source.split('\n').find((text) => !text.trim().startsWith('//') && use.test(text));
          if (line !== undefined)
            throw new Error(
              `${args.path}: "${line.trim()}" still uses ${name}, whose require() was moved to its use; check how this version uses it (tools/bundle-plugins.js, lazyBuiltinRequire)`,
            );
        }
        return { contents: source, loader: 'js' };
      });
    }
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
  {
    // Node's `navigator` global is a getter that loads its module (+0.17 MiB RSS on a bare node 24); axios
    // reads it at import only to tell React Native from a browser, which it asks only where window and
    // document exist (hasBrowserEnv), never in Node. platform.navigator, which it also exports, nothing in
    // axios reads.
    file: /[\\/]node_modules[\\/]axios[\\/]lib[\\/]platform[\\/]common[\\/]utils\.js$/,
    from: "const _navigator = (typeof navigator === 'object' && navigator) || undefined;",
    to: "const _navigator = (hasBrowserEnv && typeof navigator === 'object' && navigator) || undefined;",
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

// axiosWithoutFormData: axios's Node platform imports the form-data package at its top (for multipart
// bodies: `axios.toFormData`, or an object sent as multipart/form-data), and with it mime-types, whose
// mime-db table is parsed at import: ~1.2 MiB RSS and ~170 KiB of bundle in every service with a Vault
// client. Our services send JSON strings only (core's VaultConnection stringifies every body; nothing
// passes FormData to axios), so in the bundles axios's `form-data` is a class whose constructor throws
// an error saying so. Only axios's import is replaced; any other importer gets the real package.
const NO_FORM_DATA = `export default class FormData {
  constructor() {
    throw new Error('multipart/form-data bodies are not supported: this bundle leaves out the form-data package of axios (tools/bundle-plugins.js, axiosWithoutFormData); send the body as JSON');
  }
}`;
export const axiosWithoutFormData = {
  name: 'axios-without-form-data',
  setup(build) {
    build.onResolve({ filter: /^form-data$/ }, (args) =>
      /[\\/]node_modules[\\/]axios[\\/]/.test(args.importer)
        ? { path: 'form-data', namespace: 'axios-no-form-data' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'axios-no-form-data' }, () => ({ contents: NO_FORM_DATA, loader: 'js' }));
  },
};

// lazyDefaultImports: handlebars and yaml (CommonJS) evaluated on first use instead of at start, where a
// module imports them only by a default import (`import YAML from 'yaml'`): the import becomes an object
// that requires the package when a property is first read, and esbuild's CommonJS wrapper runs then.
// Core's template engine (handlebars, which also loads source-map) and consul-template's toYAML and
// parseYAML (yaml) are used only by the templates that call them, aws4 only by the aws auth method;
// evaluated at start they cost ~1.0, ~0.8 and ~0.4 MiB RSS (import-cost, with Node's built-ins loaded
// first) in every service that bundles them, though most agents render no handlebars template and no
// YAML and log in with Kubernetes auth. A module
// with a named or namespace import of the package gets the package as usual (the injector's and
// migrate's `import { stringify } from 'yaml'`; the operator's `convert` imports it by default, so a
// running operator never evaluates it); a property read at an importer's top level (as
// `Handlebars.create()` was) loads it at start again, so core's engine builds its environment on first
// compile.
const lazyDefaultPackages = ['handlebars', 'yaml', 'aws4', 'https-proxy-agent'];
// https-proxy-agent's default export is a class-like function: axios's http adapter constructs it and
// tests `instanceof` against it, only for a request that goes through a proxy (core's Vault client
// sets `proxy: false` and tunnels with hpagent). Evaluated at start it brought agent-base and debug, and
// debug loads tty and supports-color: with axios's navigator edit (above), -0.08 MiB of V8 heap in the CSI
// provider (heap snapshots; within RSS noise). Its stand-in is callable and
// constructible, and `instanceof` reads the real prototype.
const lazyDefaultConstructors = new Set(['https-proxy-agent']);
const constructibleOnFirstUse = (specifier) => `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(specifier)}));
export default new Proxy(function () {}, {
  get: (_, key) => {
    const value = Reflect.get(load(), key);
    // Symbol.hasInstance (instanceof) and static methods run with the real export as \`this\`.
    return typeof value === 'function' && key !== 'constructor' ? value.bind(load()) : value;
  },
  has: (_, key) => key in load(),
  apply: (_, self, args) => Reflect.apply(load(), self, args),
  construct: (_, args) => Reflect.construct(load(), args),
});`;
// Every value import of the package in the importer is `import Name from 'package'` (type-only imports
// are erased before bundling).
const defaultImportOnly = (source, name) => {
  const imports = [...source.matchAll(new RegExp(`^import\\s+([^;]+?)\\s+from\\s+['"]${name}['"]`, 'gm'))]
    .map((m) => m[1])
    .filter((clause) => !clause.startsWith('type '));
  return imports.length > 0 && imports.every((clause) => /^[A-Za-z_$][\w$]*$/.test(clause));
};
export const lazyDefaultImports = {
  name: 'lazy-default-imports',
  setup(build) {
    const filter = new RegExp(`^(${lazyDefaultPackages.join('|')})$`);
    build.onResolve({ filter }, async (args) => {
      if (args.kind !== 'import-statement' || !defaultImportOnly(await readFile(args.importer, 'utf8'), args.path))
        return undefined;
      return { path: args.path, namespace: 'lazy-default-import', pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-default-import' }, (args) => ({
      contents: lazyDefaultConstructors.has(args.path)
        ? constructibleOnFirstUse(args.path)
        : requiredOnFirstUse(args.path),
      loader: 'js',
      resolveDir: args.pluginData.resolveDir,
    }));
  },
};

// lazyNamedImports: re2js evaluated on first use instead of at start. It is an ES module whose classes
// build their Unicode and case-folding tables in static initialisers, which run when the module is
// evaluated: +0.8 MiB RSS on a bare node (+0.46 MiB of V8 heap), in every service whose bundle reaches
// core's Go-template functions or linear-regex, though only a template's regexp functions or a
// user-written pattern compile one (the CSI provider: only a SecretProviderClass `template:`). An import
// of only the listed names becomes, per name, a stand-in that requires the package's CommonJS build
// (which esbuild wraps and runs on the first call) when it is first used: a static call
// (`RE2JS.compile`), `new`, or `instanceof` (the stand-in's `prototype` is the class's). An importer
// that imports anything else of the package (another name, a namespace, a default) gets it as usual.
const lazyNamedPackages = { re2js: ['RE2JS', 'RE2JSException'] };
const lazyNamedModule = (specifier, names) => `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(specifier)}));
const lazy = (name) => {
  const real = () => load()[name];
  return new Proxy(function () {}, {
    get: (_, key) => {
      const value = Reflect.get(real(), key);
      // A static method runs with the class itself as \`this\`, as when called on it.
      return typeof value === 'function' && key !== 'constructor' ? value.bind(real()) : value;
    },
    has: (_, key) => key in real(),
    apply: (_, self, args) => Reflect.apply(real(), self, args),
    construct: (_, args) => Reflect.construct(real(), args),
  });
};
// lazy-named-import:${specifier}
${names.map((name) => `export const ${name} = lazy(${JSON.stringify(name)});`).join('\n')}
`;
// Every value import of the package in the importer is `import { Name, ... } from 'package'` of listed names.
const namedImportsOnly = (source, specifier, names) => {
  const imports = [...source.matchAll(new RegExp(`^import\\s+([^;]+?)\\s+from\\s+['"]${specifier}['"]`, 'gm'))]
    .map((m) => m[1])
    .filter((clause) => !clause.startsWith('type '));
  return (
    imports.length > 0 &&
    imports.every((clause) => {
      const list = /^\{([^}]*)\}$/.exec(clause.trim());
      return (
        list !== null &&
        list[1]
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '' && !name.startsWith('type '))
          .every((name) => names.includes(name))
      );
    })
  );
};
export const lazyNamedImports = {
  name: 'lazy-named-imports',
  setup(build) {
    const filter = new RegExp(`^(${Object.keys(lazyNamedPackages).join('|')})$`);
    build.onResolve({ filter }, async (args) => {
      const source = args.kind === 'import-statement' ? await readFile(args.importer, 'utf8') : '';
      if (!namedImportsOnly(source, args.path, lazyNamedPackages[args.path])) return undefined;
      return { path: args.path, namespace: 'lazy-named-import', pluginData: { resolveDir: args.resolveDir } };
    });
    build.onLoad({ filter: /.*/, namespace: 'lazy-named-import' }, (args) => ({
      contents: lazyNamedModule(args.path, lazyNamedPackages[args.path]),
      loader: 'js',
      resolveDir: args.pluginData.resolveDir,
    }));
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

// onePackageCopy: one copy of each package name@version in a bundle. npm installs the same version at
// several paths when the hoisted one is another version (nx's mime-types 2.1.35 sits at the root, so
// express, accepts, type-is and send each get their own mime-types 3.0.2 and mime-db 1.54.0; every
// workspace that depends on yaml 2.9.1 gets its own beside the root's 2.9.0), and esbuild bundles each
// path as a separate module: the webhook carried mime-db four times (157 KiB each, every one
// JSON.parse'd at start) and yaml twice (injector.mjs 2,627 -> 2,037 KiB; webhook idle 69.7 -> 67.9
// MiB, alternating runs of footprint-webhook). Every bare import (`mime-db`, `yaml/util`) is resolved as
// esbuild would, and when it lands in a copy that is not its name@version's canonical one, it is sent
// to the same file in the canonical copy, whose own imports then resolve from there (as `npm dedupe`
// would lay them out: within the ranges they declare, since the copies are the same version).
// The canonical copy is the shallowest installed path, then the first by name, of the copies the
// installed tree's lockfile lists (node_modules/.package-lock.json, else package-lock.json), each
// version read from the copy's own package.json: the same choice on every build whatever order esbuild
// resolves in. Different versions stay separate. A canonical copy without the file fails the bundle.
// duplicatePackageCopies (below) reads the build's metafile; tools/bundle.js fails when it finds any.
const repoRoot = path.resolve(import.meta.dirname, '..');
// `<dir>/node_modules/<name or @scope/name>` and the path inside it, for the innermost package of a file.
const packageDirOf = (file) => {
  const match = /^(.*[\\/]node_modules[\\/](?:@[^\\/]+[\\/])?[^\\/]+)[\\/](.+)$/.exec(file);
  return match ? { dir: match[1], inside: match[2] } : undefined;
};
const packageIds = new Map();
// "name@version" from the copy's package.json (undefined when it has none: not a package root).
const packageIdOf = (dir) => {
  if (!packageIds.has(dir)) {
    let id;
    try {
      const { name, version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (typeof name === 'string' && typeof version === 'string') id = `${name}@${version}`;
    } catch {
      id = undefined;
    }
    packageIds.set(dir, id);
  }
  return packageIds.get(dir);
};
const shallowestFirst = (a, b) => a.split('node_modules').length - b.split('node_modules').length || (a < b ? -1 : 1);
let canonicalDirs;
// name@version -> its canonical copy's directory, for every package installed at more than one path.
const canonicalCopies = () => {
  if (canonicalDirs) return canonicalDirs;
  const lockfile = [
    path.join(repoRoot, 'node_modules/.package-lock.json'),
    path.join(repoRoot, 'package-lock.json'),
  ].find((file) => fs.existsSync(file));
  if (!lockfile)
    throw new Error(
      `onePackageCopy: no node_modules/.package-lock.json nor package-lock.json in ${repoRoot}; run npm install`,
    );
  const byName = new Map();
  for (const [key, entry] of Object.entries(JSON.parse(fs.readFileSync(lockfile, 'utf8')).packages)) {
    const found = entry.link ? undefined : packageDirOf(path.join(repoRoot, key, 'package.json'));
    if (!found) continue;
    const name = found.dir.slice(found.dir.lastIndexOf('node_modules') + 'node_modules/'.length);
    byName.set(name, [...(byName.get(name) ?? []), found.dir]);
  }
  const byId = new Map();
  for (const dirs of byName.values()) {
    if (dirs.length < 2) continue;
    for (const dir of dirs) {
      const id = packageIdOf(dir);
      if (id) byId.set(id, [...(byId.get(id) ?? []), dir]);
    }
  }
  canonicalDirs = new Map(
    [...byId].filter(([, dirs]) => dirs.length > 1).map(([id, dirs]) => [id, dirs.sort(shallowestFirst)[0]]),
  );
  return canonicalDirs;
};
export const onePackageCopy = {
  name: 'one-package-copy',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData?.fromOnePackageCopy || builtins.has(args.path)) return undefined;
      const resolved = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        namespace: args.namespace,
        resolveDir: args.resolveDir,
        with: args.with,
        pluginData: { fromOnePackageCopy: true },
      });
      if (resolved.errors.length > 0 || resolved.external || resolved.namespace !== 'file') return undefined;
      const copy = packageDirOf(resolved.path);
      const canonical = copy && canonicalCopies().get(packageIdOf(copy.dir));
      if (!canonical || canonical === copy.dir) return undefined;
      const file = path.join(canonical, copy.inside);
      if (!fs.existsSync(file))
        throw new Error(
          `onePackageCopy: ${resolved.path} has no twin ${file} in the canonical copy of ${packageIdOf(copy.dir)}; reinstall (npm ci) or check tools/bundle-plugins.js`,
        );
      return { path: file, sideEffects: resolved.sideEffects, suffix: resolved.suffix };
    });
  },
};

// Each package name@version the build's outputs hold from more than one installed path, as
// "<output>: name@version from <dir>, <dir>" (empty when every package is there once). `cwd` is the
// build's working directory, which the metafile's paths are relative to.
export function duplicatePackageCopies(metafile, cwd = process.cwd()) {
  const found = [];
  for (const [output, { inputs }] of Object.entries(metafile.outputs)) {
    const dirsById = new Map();
    for (const input of Object.keys(inputs)) {
      const copy = packageDirOf(path.resolve(cwd, input));
      const id = copy && packageIdOf(copy.dir);
      if (id) dirsById.set(id, new Set([...(dirsById.get(id) ?? []), copy.dir]));
    }
    for (const [id, dirs] of dirsById)
      if (dirs.size > 1)
        found.push(`${output}: ${id} from ${[...dirs].map((dir) => path.relative(repoRoot, dir)).join(', ')}`);
  }
  return found;
}

// iconvUnicodeOnly: iconv-lite (reached through express's body-parser and raw-body) bundled with its
// Unicode codecs only: internal (utf-8, ucs-2/utf-16le, latin1/binary, base64, hex, cesu-8), utf-16,
// utf-32 and utf-7. Its single- and double-byte code pages (sbcs-*, dbcs-* and their tables) were 465
// KiB of the webhook's bundle (injector.mjs 2037 -> 1572 KiB), source V8 keeps in memory (one byte a
// character) though no request can reach them: the webhook mounts only express.raw(), which never
// decodes (body-parser skips the charset for it); body-parser's json() accepts only charsets starting
// with `utf-` (415 `unsupported charset "X"` before iconv-lite is asked), all of which are kept.
// text() (any charset) and urlencoded() (iso-8859-1) would need the tables: a module that imports
// express or body-parser and calls either fails the bundle, and so does an iconv-lite whose encodings
// list no longer reads as below. A charset left out answers what an unknown one always did:
// iconv-lite's `Encoding not recognized`, body-parser's 415. With lazyBuiltinRequire: webhook idle
// 67.9 -> 67.2 MiB (footprint-webhook, alternating runs).
const iconvEncodings = /[\\/]node_modules[\\/]iconv-lite[\\/]encodings[\\/]index\.js$/;
const iconvCodePages = `  require("./utf7"),
  require("./sbcs-codec"),
  require("./sbcs-data"),
  require("./sbcs-data-generated"),
  require("./dbcs-codec"),
  require("./dbcs-data")
]`;
const decodingParsers =
  /\.\s*(?:text|urlencoded)\s*\(|import\s*\{[^}]*\b(?:text|urlencoded)\b[^}]*\}\s*from\s*['"](?:express|body-parser)['"]/;
export const iconvUnicodeOnly = {
  name: 'iconv-unicode-only',
  setup(build) {
    build.onLoad({ filter: iconvEncodings }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes(iconvCodePages))
        throw new Error(
          `${args.path}: no list of iconv-lite's code page modules to leave out; check which codecs this iconv-lite loads and how (tools/bundle-plugins.js, iconvUnicodeOnly)`,
        );
      return { contents: source.replace(iconvCodePages, '  require("./utf7")\n]'), loader: 'js' };
    });
    build.onResolve({ filter: /^(express|body-parser)$/ }, async (args) => {
      // A service's own module (not a dependency's, nor esbuild's stdin).
      if (!path.isAbsolute(args.importer) || args.importer.includes(`${path.sep}node_modules${path.sep}`))
        return undefined;
      if (decodingParsers.test(await readFile(args.importer, 'utf8')))
        throw new Error(
          `${args.importer} mounts express/body-parser's text() or urlencoded(), whose charsets need iconv-lite's code pages, which the service bundles leave out: drop iconvUnicodeOnly from tools/bundle-plugins.js's servicePlugins (the webhook grows by 465 KiB) or parse that body with json() or raw()`,
        );
      return undefined;
    });
  },
};

// The plugins every service bundle is built with (tools/bundle.js, the import-cost bench), in this order.
// onePackageCopy comes after the plugins that answer or check a package import themselves (the lazy
// imports, axios's form-data, iconvUnicodeOnly's look at who imports express), so they still see the
// import as written; their own require() of the package then reaches it.
export const servicePlugins = [
  builtinsAsRequire,
  lazyBuiltinRequire,
  axiosWithoutUndici,
  axiosWithoutFormData,
  lazyDefaultImports,
  lazyNamedImports,
  iconvUnicodeOnly,
  onePackageCopy,
  jsonAsParse,
];

// The esbuild options every service bundle shares (tools/bundle.js, the import-cost bench and the tests
// that bundle the way the services are bundled), so a test cannot drift to a friendlier build than the
// images run. Callers add entries or stdin, output, minify and source maps.
export const serviceBuildOptions = {
  plugins: servicePlugins,
  bundle: true,
  platform: 'node',
  target: 'node24',
  format: 'esm',
  conditions: ['@vaultbridge/source'],
  // CommonJS dependencies inside an ESM bundle still call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __vbCreateRequire } from 'node:module'; const require = __vbCreateRequire(import.meta.url);",
  },
};
