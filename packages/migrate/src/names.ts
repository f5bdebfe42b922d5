// Names for the objects a migration creates: lower-case DNS names derived from what they replace, so a
// reviewer can tell where each came from, and Secret data keys that are valid.
import { createHash } from 'node:crypto';

const MAX_NAME = 253;

/** `parts` joined by `-` as a DNS subdomain name (lower-case, [a-z0-9.-], starting and ending alphanumeric). */
export function dnsName(...parts: string[]): string {
  const joined = parts
    .filter((part) => part !== '')
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '');
  if (joined.length === 0) return 'vault';
  if (joined.length <= MAX_NAME) return joined;
  // Keep the name unique when it must be shortened.
  const hash = createHash('sha256').update(joined).digest('hex').slice(0, 8);
  return `${joined.slice(0, MAX_NAME - 9).replace(/[^a-z0-9]+$/, '')}-${hash}`;
}

/** A Secret data key for a file path (`config/app.json` → `config_app.json`); keys allow [-._a-zA-Z0-9]. */
export function secretKeyFor(file: string): string {
  const key = file.replace(/[^-._a-zA-Z0-9]+/g, '_');
  return key === '' || key === '.' || key === '..' ? `file${key}` : key;
}

/** Go duration text for the CRDs' duration pattern (`300000` ms → `5m`, `90000` → `90s`). */
export function durationText(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.max(1, Math.round(ms / 1000))}s`;
}
