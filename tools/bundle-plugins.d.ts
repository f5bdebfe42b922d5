import type { BuildOptions, Metafile, Plugin } from 'esbuild';
/** ESM imports of Node built-ins become require() calls, so their lazy getters stay lazy; util's as forwarding getters (bundle-plugins.js). */
export declare const builtinsAsRequire: Plugin;
/** zlib (body-parser, prom-client's Pushgateway), assert (sonic-boom, thread-stream), worker_threads (pino, thread-stream) and @opentelemetry/api (prom-client) required on first use, not at import (bundle-plugins.js). */
export declare const lazyBuiltinRequire: Plugin;
/** axios without its import-time reads of fetch, Request, Response and FormData (Node's undici) and of navigator (bundle-plugins.js). */
export declare const axiosWithoutUndici: Plugin;
/** axios's form-data (and mime-db) left out of the bundle: a FormData whose constructor throws (bundle-plugins.js). */
export declare const axiosWithoutFormData: Plugin;
/** handlebars, yaml, aws4 and https-proxy-agent, where only default-imported, required on first use instead of at start (bundle-plugins.js). */
export declare const lazyDefaultImports: Plugin;
/** re2js's RE2JS and RE2JSException, where only those are imported, required on first use instead of at start (bundle-plugins.js). */
export declare const lazyNamedImports: Plugin;
/** One copy of each package name@version: imports of a copy installed at several paths go to one canonical copy (bundle-plugins.js). */
export declare const onePackageCopy: Plugin;
/** Each package name@version a build's outputs hold from more than one installed path, read from its metafile (bundle-plugins.js). */
export declare function duplicatePackageCopies(metafile: Metafile, cwd?: string): string[];
/** iconv-lite with its Unicode codecs only; fails on a module that mounts body-parser's text() or urlencoded() (bundle-plugins.js). */
export declare const iconvUnicodeOnly: Plugin;
/** A dependency's large JSON file bundled as JSON.parse of a string, not as an object literal (bundle-plugins.js). */
export declare const jsonAsParse: Plugin;
/** The plugins every service bundle is built with, in order (bundle-plugins.js). */
export declare const servicePlugins: Plugin[];
/** The esbuild options every service bundle shares: plugins, platform, target, format, conditions, banner (bundle-plugins.js). */
export declare const serviceBuildOptions: BuildOptions & { plugins: Plugin[] };
