// The README's annotation table, generated from ANNOTATION_TABLE so the two cannot drift: the README
// test compares them, and `node --conditions=@vaultbridge/source src/annotations/readme-table.ts`
// prints the table to paste after a change to the table.

import { ANNOTATION_TABLE, type AnnotationEntry } from './table.ts';

function defaultCell(entry: AnnotationEntry): string {
  const parts = [entry.default === undefined ? undefined : `\`${entry.default}\``, entry.defaultNote].filter(
    (part): part is string => part !== undefined,
  );
  return parts.length === 0 ? '—' : parts.join('; ');
}

function nameCell(entry: AnnotationEntry): string {
  if (entry.scope === 'pod') return `\`${entry.name}\``;
  return `\`${entry.name}-<${entry.scope === 'secret' ? 'secret' : 'param'}>\``;
}

/** The Markdown table: header, separator and one row per entry, in the table's order. */
export function annotationTableMarkdown(): string {
  const rows = Object.values(ANNOTATION_TABLE).map(
    (entry: AnnotationEntry) =>
      `| ${nameCell(entry)} | ${defaultCell(entry)} | ${entry.origin === 'upstream' ? 'upstream' : '**ours**'} | ${entry.summary} |`,
  );
  return ['| annotation | default | from | meaning |', '|---|---|---|---|', ...rows].join('\n');
}

if (import.meta.main) process.stdout.write(`${annotationTableMarkdown()}\n`);
