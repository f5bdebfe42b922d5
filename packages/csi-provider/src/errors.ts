// Typed errors of the provider, each with a stable `code` and the gRPC status it maps to.
// Messages name the field or object and the fix; they never carry a secret value or a token.
import { status } from '@grpc/grpc-js';
import { VaultError, type ConfigIssue } from '@vaultbridge/core';

/** What stands in the driver's error for the text of Vault's `errors[]`. */
export const withheldVaultText = "Vault's message withheld, see the provider log";

/**
 * `message` without the text of Vault's `errors[]` (from `error` and its causes). gRPC details reach
 * the kubelet's events on the pod, readable by whoever can read the pod; Vault's own words (which can
 * echo request input or name policies) stay in the provider's log.
 */
export function withoutVaultText(error: unknown, message: string): string {
  const texts = new Set<string>();
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof VaultError) for (const text of cause.errors) if (text.trim() !== '') texts.add(text);
  }
  let out = message;
  for (const text of [...texts].sort((a, b) => b.length - a.length)) out = out.replaceAll(text, withheldVaultText);
  return out;
}

/** One bad parameter (`roleName`, `objects[1].filePermission`) and what is wrong: core's issue shape. */
export type { ConfigIssue } from '@vaultbridge/core';

/** The SecretProviderClass parameters or the mount request cannot be used as given. */
export class MountConfigError extends Error {
  readonly code = 'CSI_CONFIG_INVALID';
  readonly grpcStatus = status.INVALID_ARGUMENT;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      `invalid SecretProviderClass parameters: ${issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')}`,
    );
    this.name = 'MountConfigError';
    this.issues = issues;
  }
}

/** Vault answered, but what it answered cannot become the object's file (missing key, bad encoding). */
export class SecretContentError extends Error {
  readonly code = 'CSI_SECRET_CONTENT';
  readonly grpcStatus = status.FAILED_PRECONDITION;
  readonly objectName: string;

  constructor(objectName: string, message: string) {
    super(`object "${objectName}": ${message}`);
    this.name = 'SecretContentError';
    this.objectName = objectName;
  }
}

/** Reading one object from Vault failed; `cause` is the core VaultError (or token error). */
export class ObjectFetchError extends Error {
  readonly code = 'CSI_FETCH_FAILED';
  readonly grpcStatus: status;
  readonly objectName: string;
  readonly secretPath: string;

  constructor(objectName: string, secretPath: string, grpcStatus: status, message: string, cause: unknown) {
    super(`couldn't read secret "${objectName}" from ${secretPath}: ${message}`, { cause });
    this.name = 'ObjectFetchError';
    this.objectName = objectName;
    this.secretPath = secretPath;
    this.grpcStatus = grpcStatus;
  }
}

/** The files would exceed what the driver accepts (4 MiB gRPC message by default). */
export class MountTooLargeError extends Error {
  readonly code = 'CSI_MOUNT_TOO_LARGE';
  readonly grpcStatus = status.RESOURCE_EXHAUSTED;

  constructor(message: string) {
    super(message);
    this.name = 'MountTooLargeError';
  }
}
