// Quoting for the two places secrets most often end up in besides plain files: shell scripts that
// `source` a file, and dotenv-style `KEY="value"` files.

/** POSIX shell single quotes: `it's` → `'it'\''s'`. Nothing inside single quotes is expanded. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A double-quoted value for a dotenv line `KEY="value"`: backslash, double quote, `$` and backtick are
 * escaped (no expansion by dotenv-expand, Compose or a shell), newlines and carriage returns become
 * `\n` and `\r`, so one value stays on one line.
 */
export function envQuote(value: string): string {
  const escaped = value.replace(/[\\"$`\n\r]/g, (character) => {
    switch (character) {
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      default:
        return `\\${character}`;
    }
  });
  return `"${escaped}"`;
}
