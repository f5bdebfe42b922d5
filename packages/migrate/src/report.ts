// What a migration could not carry over, item by item: each names the object, the source field and the
// reason, so a reviewer can decide before applying the output.

/** The object a finding is about, as written in the input. */
export interface SourceRef {
  readonly apiVersion?: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
}

/**
 * - `error`: the converted object will not work as the original did until someone acts (or it was not
 *   converted at all);
 * - `dropped`: a field was left out because the target method has no equivalent; the rest works;
 * - `changed`: expressed, but the target behaves differently in a way a user could notice;
 * - `info`: a choice the converter made that a reviewer may want to know about.
 */
export type Severity = 'error' | 'dropped' | 'changed' | 'info';

export interface Finding {
  readonly severity: Severity;
  readonly source: SourceRef;
  /** path of the source field, e.g. `spec.aws` or `metadata.annotations["vault.hashicorp.com/agent-inject-command-db"]` */
  readonly field: string;
  readonly reason: string;
}

/** Collects findings for one conversion run. */
export class Findings {
  readonly list: Finding[] = [];

  add(severity: Severity, source: SourceRef, field: string, reason: string): void {
    this.list.push({ severity, source, field, reason });
  }

  /** Errors reported about `source` (same kind, namespace and name) so far. */
  errorsFor(source: SourceRef): number {
    return this.list.filter((finding) => finding.severity === 'error' && sameSource(finding.source, source)).length;
  }
}

export function sameSource(a: SourceRef, b: SourceRef): boolean {
  return a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '');
}

export function annotationField(name: string): string {
  return `metadata.annotations[${JSON.stringify(name)}]`;
}

export function describeSource(source: SourceRef): string {
  const where = source.namespace ? `${source.namespace}/` : '';
  return `${source.kind} ${where}${source.name}`;
}

/** One line per finding, grouped by object, in the order found. */
export function formatFindings(findings: readonly Finding[]): string {
  if (findings.length === 0) return 'Everything was converted; nothing to report.\n';
  const lines: string[] = [];
  let last = '';
  for (const finding of findings) {
    const object = describeSource(finding.source);
    if (object !== last) {
      lines.push(`${object}:`);
      last = object;
    }
    lines.push(`  ${finding.severity.padEnd(7)} ${finding.field}: ${finding.reason}`);
  }
  const counts = (['error', 'dropped', 'changed', 'info'] as const).map(
    (severity) => `${findings.filter((f) => f.severity === severity).length} ${severity}`,
  );
  lines.push(
    `${counts.join(', ')}${findings.some((f) => f.severity === 'error') ? ' — the objects with errors need a person before this is applied' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
