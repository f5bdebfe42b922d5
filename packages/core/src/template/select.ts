// One entry point for user templates in either engine: Go text/template (the default, as upstream)
// or handlebars (chosen explicitly). When no engine is named, the text decides:
//   1. it parses as a Go template → Go;
//   2. else, it has an action only Go writes (`{{-`/`-}}` trim markers, `{{ .x`, `{{ $x`, a `|` pipe,
//      or the words if/range/with/define/template/block/end without `#`) → Go, and Go's parse error is the answer;
//   3. else it compiles as handlebars → handlebars; else Go's error (and handlebars') is reported.
// Every handlebars field reference (`{{Secrets.x}}`, `{{secret "x"}}`, `{{#if}}`) is a Go parse error,
// since a bare name in Go must be a known function, so a working handlebars template is never taken
// for Go; only text and literals parse in both, and they render the same.
import { GoTemplate, GoTemplateError, type GoTemplateOptions, type NamedTemplateText } from '../gotemplate/index.ts';
import { fromJs, type GoValue } from '../gotemplate/values.ts';
import { compileTemplate } from './engine.ts';
import { TemplateError } from './errors.ts';

export type TemplateEngineName = 'go' | 'handlebars';

export interface UserTemplateOptions {
  /** 'auto' (default): Go when the text parses as Go, else handlebars when it compiles as handlebars. */
  engine?: TemplateEngineName | 'auto';
  /** Go: functions, delimiters, missingkey, limits. */
  go?: GoTemplateOptions;
  /** Go: templates parsed into the same set first (their `define`s are callable). */
  companions?: readonly NamedTemplateText[];
  /** Go: how numbers in plain-object context are decoded (Vault's client: json.Number). */
  numbers?: 'float64' | 'json.Number';
  /** handlebars: strict mode (default true). */
  strict?: boolean;
}

export interface UserTemplate {
  engine: TemplateEngineName;
  /** Renders; throws TemplateError whose message never quotes a value. */
  render: (context: unknown) => string;
}

/** Go's message without its "template: NAME:LINE:COL: " prefix (TemplateError adds name and line). */
function goReason(message: string): string {
  return message.replace(/^template: [^:]*:\d+(?::\d+)?: /, '');
}

function goToTemplateError(error: GoTemplateError, code: 'TEMPLATE_PARSE' | 'TEMPLATE_RENDER'): TemplateError {
  return new TemplateError(
    code,
    error.templateName,
    goReason(error.redactedMessage),
    error.line,
    error.column === undefined ? undefined : error.column + 1,
  );
}

function compileGo(name: string, text: string, options: UserTemplateOptions): UserTemplate {
  const template = GoTemplate.parse(name, text, options.go ?? {}, options.companions ?? []);
  const numbers = options.numbers ?? 'float64';
  return {
    engine: 'go',
    render: (context) => {
      try {
        return template.executeValue(fromJs(context, numbers) as GoValue);
      } catch (error) {
        if (error instanceof GoTemplateError) throw goToTemplateError(error, 'TEMPLATE_RENDER');
        throw error;
      }
    },
  };
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** An action only Go writes: trim markers, a leading field or variable, a pipe, or a Go-only keyword. */
export function looksLikeGo(text: string, delims?: readonly [string, string]): boolean {
  const left = escape(delims?.[0] || '{{');
  const right = escape(delims?.[1] || '}}');
  const go = new RegExp(
    `${left}-\\s|\\s-${right}|${left}\\s*(?:[.$][A-Za-z_]|(?:if|range|with|define|template|block|end)\\b)|${left}[^}]*\\s\\|\\s`,
  );
  return go.test(text);
}

/** Compiles a user's template; throws TemplateError (with the line) when it does not compile. */
export function compileUserTemplate(name: string, text: string, options: UserTemplateOptions = {}): UserTemplate {
  const engine = options.engine ?? 'auto';
  if (engine === 'handlebars')
    return {
      engine,
      render: compileTemplate(name, text, options.strict === undefined ? {} : { strict: options.strict }),
    };
  try {
    return compileGo(name, text, options);
  } catch (error) {
    if (!(error instanceof GoTemplateError)) throw error;
    const goError = goToTemplateError(error, 'TEMPLATE_PARSE');
    if (engine === 'go' || looksLikeGo(text, options.go?.delims)) throw goError;
    try {
      return {
        engine: 'handlebars',
        render: compileTemplate(name, text, options.strict === undefined ? {} : { strict: options.strict }),
      };
    } catch (handlebarsError) {
      if (!(handlebarsError instanceof TemplateError)) throw handlebarsError;
      // Neither: report Go's reading first (the default engine), then handlebars'.
      throw new TemplateError(
        'TEMPLATE_PARSE',
        name,
        `${goError.reason} (as a Go template; as handlebars: ${handlebarsError.reason})`,
        goError.line,
        goError.column,
      );
    }
  }
}
