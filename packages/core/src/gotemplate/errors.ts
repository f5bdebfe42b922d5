// Errors of the Go template engine, worded as Go's text/template words them
// ("template: NAME:LINE: …" for parsing, "template: NAME:LINE:COL: executing \"NAME\" at <…>: …"
// for execution), with the parts broken out so callers can name the field, line and column.

export type GoTemplatePhase = 'parse' | 'exec' | 'limit';

export class GoTemplateError extends Error {
  override readonly name = 'GoTemplateError';
  readonly code: 'GOTEMPLATE_PARSE' | 'GOTEMPLATE_EXEC' | 'GOTEMPLATE_LIMIT';
  /**
   * The same message with every value the template touched replaced by `<redacted>`, for logs, events
   * and status (a value may be a secret). `message` is Go's full wording, for the user's own terminal.
   */
  readonly redactedMessage: string;
  readonly phase: GoTemplatePhase;
  /** The template file the failing node is in (Go's ParseName). */
  readonly templateName: string;
  readonly line: number | undefined;
  /** Byte offset in the line, from 0, as Go reports it (exec errors only). */
  readonly column: number | undefined;

  constructor(
    phase: GoTemplatePhase,
    templateName: string,
    message: string,
    line?: number,
    column?: number,
    redactedMessage?: string,
  ) {
    super(message);
    this.phase = phase;
    this.templateName = templateName;
    this.line = line;
    this.column = column;
    this.code = phase === 'parse' ? 'GOTEMPLATE_PARSE' : phase === 'exec' ? 'GOTEMPLATE_EXEC' : 'GOTEMPLATE_LIMIT';
    this.redactedMessage = redactedMessage ?? message;
  }
}

/** Thrown by functions; the executor wraps it as "error calling NAME: …". */
export class GoFuncError extends Error {
  override readonly name = 'GoFuncError';
  readonly redacted: string;
  constructor(message: string, redacted?: string) {
    super(message);
    this.redacted = redacted ?? message;
  }
}
