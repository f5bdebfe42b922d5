/** Where a value came from: the pod, the cluster-wide annotation defaults, an injector flag, or our table. */
export type ValueSource = 'pod' | 'cluster default' | 'flag' | 'built-in';

/** One invalid annotation (or pod shape an annotation depends on). Never carries secret values. */
export interface AnnotationIssue {
  /** full annotation name, e.g. `vault.hashicorp.com/agent-pre-populate` */
  readonly annotation: string;
  /** the offending value as written (annotation values are configuration, not secrets) */
  readonly value?: string;
  readonly source: ValueSource;
  /** what is wrong, including the accepted values */
  readonly message: string;
}

export function formatIssue(issue: AnnotationIssue): string {
  const where = issue.source === 'pod' ? '' : ` (from the ${issue.source})`;
  const value = issue.value === undefined ? '' : ` ${JSON.stringify(issue.value)}`;
  return `${issue.annotation}${value}${where}: ${issue.message}`;
}

/** The pod's annotations do not describe a valid agent; every problem is listed, not only the first. */
export class InvalidAnnotationsError extends Error {
  readonly code = 'invalid-annotations';
  readonly issues: readonly AnnotationIssue[];

  constructor(issues: readonly AnnotationIssue[]) {
    super(`invalid annotations: ${issues.map(formatIssue).join('; ')}`);
    this.name = 'InvalidAnnotationsError';
    this.issues = issues;
  }
}
