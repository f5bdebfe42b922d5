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
  // Without splitting: this runs for every secret of every review.
  return value === '..' || value.startsWith('../') || value.endsWith('/..') || value.includes('/../');
}

/** A file name under a secrets directory, normalised (`./a//b` → `a/b`). */
export function parseRelativeFile(raw: string): Parsed<string> {
  if (raw === '' || raw.includes('\0') || raw.startsWith('/') || hasParentSegment(raw)) return reject(FILE_EXPECTED);
  // A plain name, the usual case (the secret's own name), is already normal.
  if (raw !== '.' && !raw.includes('/')) return raw;
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

/**
 * The absolute file a secret renders to, from a directory parseMountPath gave and a file parseRelativeFile
 * gave: both are normal already, so joining them is putting a slash between them.
 */
export function destinationOf(mountPath: string, file: string): string {
  return mountPath === '/' ? `/${file}` : `${mountPath}/${file}`;
}
