// Template errors name the template and the line, and never quote a secret value: render errors are
// rebuilt from what is known to be safe (names of fields and helpers), not passed through.

export type TemplateErrorCode = 'TEMPLATE_PARSE' | 'TEMPLATE_RENDER';

export class TemplateError extends Error {
  readonly code: TemplateErrorCode;
  /** Name the template was compiled under (e.g. the secret's name or `<ns>/<name>/<key>`). */
  readonly template: string;
  /** 1-based line in the template source, when known. */
  readonly line: number | undefined;
  readonly column: number | undefined;
  /** The reason without the template/line prefix. */
  readonly reason: string;

  constructor(code: TemplateErrorCode, template: string, reason: string, line?: number, column?: number) {
    super(`template "${template}"${line === undefined ? '' : ` line ${line}`}: ${reason}`);
    this.name = 'TemplateError';
    this.code = code;
    this.template = template;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/**
 * Thrown by helpers for bad input; the engine turns it into a {@link TemplateError} with the template's
 * name. Its message must never contain the value that was passed in.
 */
export class HelperError extends Error {
  readonly code = 'TEMPLATE_HELPER';
  readonly helper: string;
  /** The message without the helper's name. */
  readonly detail: string;
  readonly line: number | undefined;
  readonly column: number | undefined;

  constructor(helper: string, detail: string, line?: number, column?: number) {
    super(`${helper}: ${detail}`);
    this.name = 'HelperError';
    this.helper = helper;
    this.detail = detail;
    this.line = line;
    this.column = column;
  }
}
