// Runtime helpers shared by the services: logging with redaction, metrics, health endpoints, graceful
// shutdown, atomic secret files confined to their volume, configuration parsing and CLI plumbing.
export { createLogger, LOG_LEVELS, type Logger, type LoggerOptions, type LogLevel } from './logger.ts';
export {
  REDACTED,
  SecretRedactor,
  defaultSecretRedactor,
  registerSecret,
  registerSecretData,
  type SecretRedactorOptions,
} from './secret-redactor.ts';
export { REDACT_PATHS, isSensitiveKey, scrubForLog, serializeError } from './log-redaction.ts';
export {
  MetricsError,
  MetricsRegistry,
  countIdleMemoryTrims,
  createMetricsRegistry,
  type MetricsRegistryOptions,
  type TrimmedMemory,
} from './metrics.ts';
export {
  IDLE_MEMORY_TRIM_ENV,
  createIdleMemoryTrimmer,
  startServiceMemoryTrim,
  takeExposedGc,
  type IdleMemoryTrimOptions,
  type IdleMemoryTrimmer,
  type MemoryReducingCollect,
  type MemoryTrim,
  type ServiceMemoryTrimOptions,
} from './idle-memory-trim.ts';
export { MALLOC_TRIM_ADDON, loadMallocTrim, type MallocTrim, type MallocTrimLoad } from './malloc-trim.ts';
export {
  TURBOFAN_WHEN_READY_ENV,
  turnOnTurbofanWhenReady,
  type TurbofanWhenReadyOptions,
} from './turbofan-when-ready.ts';
export {
  HealthServer,
  HealthServerError,
  createHealthServer,
  type BoundAddress,
  type HealthCheck,
  type HealthReport,
  type HealthServerOptions,
} from './health.ts';
export {
  GracefulShutdown,
  ShutdownHookError,
  createShutdown,
  type ShutdownHook,
  type ShutdownHookOptions,
  type ShutdownOptions,
  type SignalSource,
} from './shutdown.ts';
export {
  AtomicWriteError,
  writeFileAtomic,
  type AtomicWriteStep,
  type WriteFileAtomicOptions,
} from './atomic-write.ts';
export { UnsafePathError, resolveInside, validateRelativePath, type UnsafePathReason } from './safe-path.ts';
export {
  ConfigError,
  fromEnv,
  NO_GIVEN_VALUE,
  parseConfig,
  type ConfigIssue,
  type FromEnvOptions,
  type ParseConfigOptions,
} from './config.ts';
export {
  booleanValue,
  durationMs,
  fileMode,
  httpUrl,
  logLevel,
  parseBoolean,
  parseDuration,
  parseFileMode,
} from './config-values.ts';
export {
  createProgram,
  readStdin,
  runProgram,
  type CliIo,
  type RunProgramOptions,
  type TextSink,
} from './cli-program.ts';
