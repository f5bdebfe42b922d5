// Start-up without V8's optimising compiler, turned on once the service serves. The webhook's image
// starts node with --no-turbofan and VAULTBRIDGE_TURBOFAN_WHEN_READY=on: while the bundle evaluates and
// the service starts, functions that are hot only then (module wrappers, schema and table building) are
// not optimised, so the compiler's own code in the node binary is never paged in and its output never
// kept by a service that then sits idle (webhook idle 76 -> 69 MiB, injector README). Under load TurboFan
// is what keeps a review at ~380 µs of CPU, so it is on before the first review arrives. V8 reads the
// flag at each tier-up decision, and Node 24 applies a flag set at run time (v8.setFlagsFromString;
// measured with --trace-opt: nothing optimised before, optimised code after).
import v8 from 'node:v8';
import type { Logger } from 'pino';

/** `on` turns TurboFan on when the service is ready (the image starts node with --no-turbofan). */
export const TURBOFAN_WHEN_READY_ENV = 'VAULTBRIDGE_TURBOFAN_WHEN_READY';

export interface TurbofanWhenReadyOptions {
  logger: Pick<Logger, 'debug' | 'warn'>;
  /** Where VAULTBRIDGE_TURBOFAN_WHEN_READY is read; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Sets V8 flags; default v8.setFlagsFromString. */
  setFlags?: (flags: string) => void;
  /**
   * The compilers turned on, as V8 flags; default `--turbofan`. The operator's image starts without
   * Maglev as well and turns on only `--maglev` once its first sync is done (operator README, memory).
   */
  compilers?: readonly string[];
}

/**
 * Called once the service is ready: turns TurboFan on unless VAULTBRIDGE_TURBOFAN_WHEN_READY is unset,
 * empty or `off` (then node keeps the flags it was started with). Returns whether it turned it on.
 */
export function turnOnTurbofanWhenReady(options: TurbofanWhenReadyOptions): boolean {
  const {
    logger,
    env = process.env,
    setFlags = (flags) => v8.setFlagsFromString(flags),
    compilers = ['--turbofan'],
  } = options;
  const setting = env[TURBOFAN_WHEN_READY_ENV];
  if (setting === undefined || setting === '' || setting === 'off') return false;
  // Read once the service already runs: a typo must not leave it without its optimising compiler for
  // good (the image starts node without it), so it is said and TurboFan turned on.
  if (setting !== 'on')
    logger.warn(
      `${TURBOFAN_WHEN_READY_ENV}="${setting}" is neither "on" nor "off": ${compilers.join(' ')} is turned on`,
    );
  for (const flag of compilers) setFlags(flag);
  logger.debug({ compilers }, 'optimising compilers on: the service started without them');
  return true;
}
