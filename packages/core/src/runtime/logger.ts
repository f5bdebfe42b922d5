// The one logger of the workspace: pino writing JSON lines, with three layers of redaction so that a
// token or a secret value never reaches a log (the injector/CSI driver CVEs came from logging request
// attributes that held tokens):
//  1. pino `redact` paths censor the usual fields (token, password, headers, data…) at fixed depths;
//  2. every logged object is walked and any field named like a secret is censored at any depth, and
//     errors lose the HTTP request/response they carry;
//  3. every serialized line is scrubbed of registered secret values and of token-shaped strings,
//     inside its string values only, so the line stays valid JSON.
import { pino, type DestinationStream, type Logger } from 'pino';
import { REDACT_PATHS, scrubForLog, serializeError } from './log-redaction.ts';
import { REDACTED, defaultSecretRedactor, type SecretRedactor } from './secret-redactor.ts';

export type { Logger } from 'pino';

/** Log levels, most verbose first; `silent` logs nothing. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** Component name, written as `name` on every line (e.g. `vaultbridge-agent`). */
  name: string;
  /** Default `info`. */
  level?: LogLevel;
  /**
   * Where lines go; default standard output, written synchronously (below). Tests pass an object with a
   * `write(line)` method.
   */
  destination?: DestinationStream;
  /** Registered secret values to scrub; default the process-wide {@link defaultSecretRedactor}. */
  redactor?: SecretRedactor;
  /** Fields written on every line; default pid and hostname. */
  base?: Record<string, unknown>;
}

/**
 * Standard output, written synchronously: each line is written (fs.writeSync on fd 1) before the log call
 * returns, so an exit right after loses none and nothing needs flushing. pino's default is an asynchronous
 * SonicBoom, which registers a flush at exit and, to know whether it may, reads worker_threads'
 * isMainThread: that loaded worker_threads into every service (+0.45 MiB RSS on a bare node 24 with http
 * loaded; the bundles now require it only on use, tools/bundle-plugins.js). The trade: on a pipe whose
 * reader stops reading, a log call blocks until the reader makes room, where lines used to wait in
 * memory. Node's own process.stdout is synchronous on files and terminals and asynchronous on POSIX
 * pipes (Node's docs, process, "A note on process I/O"). Write errors are pino's: a closed pipe (EPIPE)
 * stops logging, anything else is the stream's 'error'.
 */
function standardOutput(): DestinationStream {
  return pino.destination({ dest: 1, sync: true });
}

/** A pino JSON logger whose lines never contain a token or a registered secret value. */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = options.redactor ?? defaultSecretRedactor;
  return pino(
    {
      name: options.name,
      level: options.level ?? 'info',
      ...(options.base === undefined ? {} : { base: options.base }),
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      serializers: { err: serializeError, error: serializeError },
      formatters: {
        level: (label) => ({ level: label }),
        bindings: (bindings) => scrubForLog(bindings) as Record<string, unknown>,
        log: (object) => scrubForLog(object) as Record<string, unknown>,
      },
      hooks: { streamWrite: (line) => redactor.redactJsonLine(line) },
    },
    options.destination ?? standardOutput(),
  );
}
