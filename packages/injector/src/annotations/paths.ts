// Path rules for rendered files and mount directories. Upstream joins `agent-inject-file` onto the mount
// path with filepath.Join, so `../../etc/x` escapes the shared volume; we refuse such names instead.

import path from 'node:path/posix';
import { type Parsed, type Rejected } from '@vaultbridge/agent/contract';
import { valueSyntax } from './values.ts';

const FILE_EXPECTED = 'a relative file path without `..` segments, such as `db.txt` or `config/app.env`';
const DIR_EXPECTED = 'an absolute directory path without `..` segments, such as /vault/secrets';

function reject(expected: string): Rejected {
  return { rejected: true, expected };
}

function hasParentSegment(value: string): boolean {
  return value.split('/').includes('..');
}

/** A file name under a secrets directory, normalised (`./a//b` → `a/b`). */
export function parseRelativeFile(raw: string): Parsed<string> {
  if (raw === '' || raw.includes('\0') || raw.startsWith('/') || hasParentSegment(raw)) return reject(FILE_EXPECTED);
  const normalised = path.normalize(raw);
  if (normalised === '.' || normalised.endsWith('/')) return reject(FILE_EXPECTED);
  return normalised;
}

/** A mount directory, normalised without a trailing slash. */
export function parseMountPath(raw: string): Parsed<string> {
  if (!raw.startsWith('/') || raw.includes('\0') || raw.includes(':') || hasParentSegment(raw))
    return reject(DIR_EXPECTED);
  const normalised = path.normalize(raw);
  return normalised.length > 1 && normalised.endsWith('/') ? normalised.slice(0, -1) : normalised;
}

export const relativeFileValue = valueSyntax(parseRelativeFile);
export const mountPathValue = valueSyntax(parseMountPath);

/** The absolute file a secret renders to. */
export function destinationOf(mountPath: string, file: string): string {
  return path.join(mountPath, file);
}
