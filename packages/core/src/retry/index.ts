export {
  backoffCeiling,
  backoffDelay,
  retry,
  type BackoffOptions,
  type RetryEvent,
  type RetryOptions,
} from './backoff.ts';
