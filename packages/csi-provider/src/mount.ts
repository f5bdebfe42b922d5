// MountRequest (parsed) + what Vault answered → the files and object versions of the MountResponse.
// Pure: no I/O, so it is tested with tables.
import { createHmac, randomBytes } from 'node:crypto';
import type { VaultResponse } from '@vaultbridge/core';
import { fileNameProblem, type MountConfig, type SecretObject } from './config.ts';
import { goJson, objectContent } from './encode.ts';
import { MountConfigError, MountTooLargeError } from './errors.ts';

export interface MountFile {
  path: string;
  mode: number;
  contents: Buffer;
}

export interface ObjectVersion {
  id: string;
  version: string;
}

export interface MountResult {
  files: MountFile[];
  objectVersions: ObjectVersion[];
  totalBytes: number;
}

/** Above this the driver only warns (syncing to a Kubernetes Secret may fail). */
export const warnMountBytes = 1024 * 1024;
/** The driver's default --max-call-recv-msg-size: above it the driver cannot read the answer. */
export const maxMountBytes = 4 * 1024 * 1024 - 64 * 1024;

/** 32 random bytes: the HMAC key for object versions (upstream keeps it in a Kubernetes Secret). */
export function generateHmacKey(): Buffer {
  return randomBytes(32);
}

/**
 * upstream generateObjectVersion: base64url (padded) of HMAC-SHA256(key, json(config.Secret) ‖ content),
 * where json uses Go's field names of config.Secret. The config is hashed in so two secrets with the
 * same content do not tell on each other.
 */
export function objectVersion(object: SecretObject, content: Buffer, hmacKey: Buffer): string {
  const raw = object.raw;
  const config =
    `{"ObjectName":${goJson(raw.objectName)},"SecretPath":${goJson(raw.secretPath)},"SecretKey":${goJson(raw.secretKey)},` +
    `"Method":${goJson(raw.method)},"SecretArgs":${goJson(raw.secretArgs)},"FilePermission":${raw.filePermission},"Encoding":${goJson(raw.encoding)}}`;
  const digest = createHmac('sha256', hmacKey).update(config, 'utf8').update(content).digest('base64url');
  return digest.padEnd(Math.ceil(digest.length / 4) * 4, '=');
}

/** The mount's files and versions, one per object in SecretProviderClass order. */
export function buildMountResult(
  config: MountConfig,
  responses: ReadonlyMap<string, VaultResponse<unknown> | null>,
  hmacKey: Buffer,
): MountResult {
  const files: MountFile[] = [];
  const objectVersions: ObjectVersion[] = [];
  let totalBytes = 0;
  for (const object of config.objects) {
    // Checked again here: this function is the last stop before the driver writes the path.
    const problem = fileNameProblem(object.objectName);
    if (problem) throw new MountConfigError([{ field: 'objectName', message: problem }]);
    const response = responses.get(object.objectName);
    if (response === undefined) throw new Error(`no Vault response was fetched for object "${object.objectName}"`);
    const contents = objectContent(object, response);
    totalBytes += contents.length;
    if (totalBytes > maxMountBytes) {
      // Refused as soon as the total crosses the limit: many objects naming one large value must not
      // all be built first (300 × 3 MiB cost 1 GiB before this check moved into the loop).
      const sizes = [
        ...files.map((file) => `${file.path}=${file.contents.length}`),
        `${object.objectName}=${contents.length}`,
      ].join(', ');
      throw new MountTooLargeError(
        `the mount's files exceed the driver's default 4 MiB gRPC limit at object "${object.objectName}" (${totalBytes} bytes so far: ${sizes}); split the SecretProviderClass or raise --max-call-recv-msg-size on the driver`,
      );
    }
    files.push({ path: object.objectName, mode: object.filePermission || config.filePermission, contents });
    objectVersions.push({ id: object.objectName, version: objectVersion(object, contents, hmacKey) });
  }
  if (objectVersions.length === 0) {
    // The driver fails a mount with no object version ("missing object versions"); config parsing
    // already refuses an empty object list, so this is a guard, not a path.
    throw new MountConfigError([{ field: 'objects', message: 'no objects to mount' }]);
  }
  return { files, objectVersions, totalBytes };
}
