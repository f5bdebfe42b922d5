/** The pod cannot be mutated as asked (a name clash, or an `agent-json-patch` that does not apply). */
export class MutationError extends Error {
  readonly code: 'name-conflict' | 'json-patch-failed';
  /** the annotation to look at, when one is to blame */
  readonly annotation?: string;

  constructor(code: MutationError['code'], message: string, annotation?: string) {
    super(message);
    this.name = 'MutationError';
    this.code = code;
    if (annotation !== undefined) this.annotation = annotation;
  }
}
