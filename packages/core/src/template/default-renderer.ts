// What a secret becomes when the user gives no template: one `key: value` line per key, sorted by key
// (vault-k8s's `map` default, but with the KV v2 envelope unwrapped), or the data as JSON (`json`).
// Output is deterministic: keys are sorted at every level, so an unchanged secret renders the same bytes
// and no rewrite or restart is triggered.
import { TemplateError } from './errors.ts';
import { isRecord, secretData } from './secret-data.ts';

export const DEFAULT_TEMPLATE_FORMATS = ['map', 'json'] as const;
export type DefaultTemplateFormat = (typeof DEFAULT_TEMPLATE_FORMATS)[number];

/** The data of `secret` (a Vault response or its data) rendered without a template. */
export function renderDefault(secret: unknown, format: DefaultTemplateFormat = 'map'): string {
  const data = secretData(secret);
  if (!isRecord(data)) {
    throw new TemplateError(
      'TEMPLATE_RENDER',
      `default ${format}`,
      'the secret has no key/value data (is this KV v2 version deleted or destroyed?)',
    );
  }
  if (format === 'json') return `${stableJson(data)}\n`;
  return Object.keys(data)
    .sort()
    .map((key) => {
      const value = data[key];
      return `${key}: ${typeof value === 'string' ? value : stableJson(value)}\n`;
    })
    .join('');
}

/** JSON with object keys sorted at every level. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value ?? null, (_key, item: unknown) =>
    isRecord(item)
      ? Object.fromEntries(
          Object.keys(item)
            .sort()
            .map((key) => [key, item[key]]),
        )
      : item,
  );
}
