// Why a reconcile failed, as the reason and message its status shows: shared by the controllers and the
// sync helpers (so sync/ never imports controllers/).
import { VaultAuthError, VaultConfigError, VaultError, VaultUnavailableError } from '@vaultbridge/core';
import { SpecError } from '../api/common.ts';
import { describeKubeError } from './kube-errors.ts';

/** A reconcile failure that becomes `Ready=False` with this reason; the message names the field and never a value. */
export class ReconcileError extends Error {
  readonly code = 'RECONCILE_FAILED';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'ReconcileError';
    this.reason = reason;
  }
}

/** Any error of a reconcile as the reason and message its status shows. */
export function toReconcileError(error: unknown): ReconcileError {
  if (error instanceof ReconcileError) return error;
  if (error instanceof SpecError) return new ReconcileError('InvalidSpec', error.message);
  if (error instanceof VaultAuthError) return new ReconcileError('VaultLoginFailed', error.message);
  if (error instanceof VaultUnavailableError) return new ReconcileError('VaultUnavailable', error.message);
  if (error instanceof VaultConfigError) return new ReconcileError('VaultConfigError', error.message);
  if (error instanceof VaultError) return new ReconcileError('VaultError', error.message);
  return new ReconcileError('ReconcileError', describeKubeError(error));
}
