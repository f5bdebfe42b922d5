// The one template environment of the workspace, shared by the agent, the CSI provider and the
// operator, so a template means the same in all three. It is an isolated handlebars instance (never the
// global one, which any dependency could extend) with:
//  - output not HTML-escaped: templates produce files and Secret values, not web pages;
//  - only known helpers: a typo in a helper name fails at compile time with its line, not at render;
//  - prototype access off: `{{constructor.constructor}}` and friends resolve to nothing;
//  - no `log` helper: it would print values (secrets) to the console.
import Handlebars from 'handlebars';
import { HelperError, TemplateError } from './errors.ts';
import { HELPERS, callHelper } from './helpers.ts';

interface HandlebarsHelperOptions {
  loc?: { start?: { line?: number; column?: number } };
  data?: { root?: unknown };
}

// Built on the first compile, not at import: the agent renders Go templates and often no handlebars
// one, and the service bundles load handlebars itself only when it is first used
// (tools/bundle-plugins.js, lazyDefaultImports): ~1 MiB RSS a service without handlebars templates
// does not pay.
let environment: typeof Handlebars | undefined;

function handlebarsEnvironment(): typeof Handlebars {
  if (environment) return environment;
  const created = Handlebars.create();
  created.unregisterHelper('log');
  for (const name of Object.keys(HELPERS)) {
    created.registerHelper(name, (...all: unknown[]) => {
      // handlebars passes its options object last.
      const options = (all.pop() ?? {}) as HandlebarsHelperOptions;
      try {
        return callHelper(name, all, { root: options.data?.root });
      } catch (error) {
        if (!(error instanceof HelperError)) throw error;
        const start = options.loc?.start;
        throw new HelperError(
          name,
          error.detail,
          start?.line,
          start?.column === undefined ? undefined : start.column + 1,
        );
      }
    });
  }
  environment = created;
  return created;
}

const BUILT_IN_HELPERS = ['if', 'unless', 'each', 'with', 'lookup', 'helperMissing', 'blockHelperMissing'];
// handlebars counts `log` as known by default; it has to be switched off here as well.
const KNOWN_HELPERS = {
  ...Object.fromEntries([...BUILT_IN_HELPERS, ...Object.keys(HELPERS)].map((name) => [name, true])),
  log: false,
};

const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
};

export interface CompileTemplateOptions {
  /**
   * A field the template prints that does not exist is an error (default true), rather than empty
   * output. Helper arguments (`{{default missing "x"}}`) and `{{#if missing}}` never fail.
   */
  strict?: boolean;
}

/** Renders a compiled template; throws {@link TemplateError}. */
export type TemplateRenderer = (context: unknown) => string;

/** Names of all helpers available to templates (besides handlebars' if/unless/each/with/lookup). */
export const TEMPLATE_HELPER_NAMES: readonly string[] = Object.keys(HELPERS);

/** Compile `source`; syntax errors and unknown helpers throw {@link TemplateError} with the line. */
export function compileTemplate(name: string, source: string, options: CompileTemplateOptions = {}): TemplateRenderer {
  const compileOptions = {
    noEscape: true,
    strict: options.strict ?? true,
    knownHelpers: KNOWN_HELPERS,
    knownHelpersOnly: true,
  };
  let template: HandlebarsTemplateDelegate;
  try {
    // compile() is lazy; precompile() runs the whole compiler now so every compile-time error (not just
    // syntax) surfaces here. Templates are compiled once, so the double work is cheap.
    const handlebars = handlebarsEnvironment();
    handlebars.precompile(source, compileOptions);
    template = handlebars.compile(source, compileOptions);
  } catch (error) {
    throw parseError(name, error);
  }
  return (context) => {
    try {
      return template(context, RUNTIME_OPTIONS);
    } catch (error) {
      throw renderError(name, error);
    }
  };
}

interface HandlebarsException {
  message: string;
  lineNumber?: number;
  column?: number;
}

// handlebars appends " - line:column" to the messages of its own exceptions.
const LOCATION_SUFFIX = / - \d+:\d+$/;

function location(error: HandlebarsException): { line?: number; column?: number } {
  return {
    ...(typeof error.lineNumber === 'number' ? { line: error.lineNumber } : {}),
    ...(typeof error.column === 'number' ? { column: error.column + 1 } : {}),
  };
}

function parseError(name: string, error: unknown): TemplateError {
  const exception = error as HandlebarsException;
  const message = typeof exception.message === 'string' ? exception.message : String(error);
  // Syntax errors come from the generated parser: "Parse error on line 3:\n<excerpt>\nExpecting …".
  const syntax = /^(?:Parse|Lexical) error on line (\d+)[:.]\s*([\s\S]*)$/.exec(message);
  if (syntax !== null) {
    return new TemplateError('TEMPLATE_PARSE', name, `syntax error:\n${syntax[2] ?? ''}`, Number(syntax[1]));
  }
  const { line, column } = location(exception);
  const unknownHelper = /^You specified knownHelpersOnly, but used the unknown helper (\S+)/.exec(message);
  const reason =
    unknownHelper !== null
      ? `unknown helper "${unknownHelper[1] ?? ''}"; the helpers are ${[...BUILT_IN_HELPERS.slice(0, 5), ...TEMPLATE_HELPER_NAMES].join(', ')}`
      : message.replace(LOCATION_SUFFIX, '');
  return new TemplateError('TEMPLATE_PARSE', name, reason, line, column);
}

// Render errors are rebuilt from the names they mention; the raw message may quote a value (handlebars'
// strict mode prints the object it looked in, and a TypeError prints the string it searched).
function renderError(name: string, error: unknown): TemplateError {
  if (error instanceof HelperError)
    return new TemplateError('TEMPLATE_RENDER', name, error.message, error.line, error.column);
  const exception = error as HandlebarsException;
  const message = typeof exception?.message === 'string' ? exception.message : '';
  const { line, column } = location(exception);
  const notDefined = /^"([^"]*)" not defined in /.exec(message);
  if (notDefined !== null) {
    return new TemplateError(
      'TEMPLATE_RENDER',
      name,
      `"${notDefined[1] ?? ''}" is not defined in the data; check the name, or use (get …) with default for an optional field`,
      line,
      column,
    );
  }
  const lookedUpOnValue = /^Cannot use 'in' operator to search for '([^']*)'/.exec(message);
  if (lookedUpOnValue !== null) {
    return new TemplateError(
      'TEMPLATE_RENDER',
      name,
      `"${lookedUpOnValue[1] ?? ''}" was looked up on a value that is not a mapping`,
    );
  }
  const lookedUpOnNothing = /^Cannot read properties of (undefined|null) \(reading '([^']*)'\)/.exec(message);
  if (lookedUpOnNothing !== null) {
    return new TemplateError(
      'TEMPLATE_RENDER',
      name,
      `"${lookedUpOnNothing[2] ?? ''}" was looked up on ${lookedUpOnNothing[1] ?? ''}`,
    );
  }
  const safe = /^(?:Missing helper: "[^"]*"|The partial .* could not be found|Must pass iterator to #each)/.exec(
    message,
  );
  if (safe !== null) return new TemplateError('TEMPLATE_RENDER', name, safe[0], line, column);
  const kind = error instanceof Error ? error.name : typeof error;
  return new TemplateError(
    'TEMPLATE_RENDER',
    name,
    `rendering failed (${kind}); the message is withheld because it may quote a value`,
    line,
    column,
  );
}
