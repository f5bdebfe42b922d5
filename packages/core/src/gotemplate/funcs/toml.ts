// consul-template's toTOML: github.com/BurntSushi/toml's Encoder (v1.5.0, as consul-template v0.41.1
// pins it) over a map, with the result's surrounding space trimmed. Written from the encoder's
// documented and observed output (checked byte for byte against the real consul-template in
// test/consul-template-differential.test.ts): sorted keys, plain values before tables, sub-tables
// indented two spaces per level, a blank line before each top-level table, floats always with a
// decimal point, json.Number as an int64 when it parses as one and a float64 otherwise.
import { formatFloat } from '../fmt.ts';
import { GoFuncError } from '../errors.ts';
import { GoTyped, type GoValue } from '../values.ts';

const INDENT = '  ';

function isTable(v: GoValue): boolean {
  return v instanceof Map;
}

function isTableArray(v: GoValue): boolean {
  return Array.isArray(v) && v.length > 0 && v.every((x) => x instanceof Map);
}

function isNil(v: GoValue): boolean {
  return v === null || v === undefined;
}

function quoted(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function keyPart(k: string): string {
  return k !== '' && /^[A-Za-z0-9_-]+$/.test(k) ? k : quoted(k);
}

function tomlFloat(f: number): string {
  if (Number.isNaN(f)) return 'nan';
  if (!Number.isFinite(f)) return f > 0 ? 'inf' : '-inf';
  const text = formatFloat(f, 'f', -1);
  return text.includes('.') ? text : `${text}.0`;
}

/** Go's byte order of map keys. */
function sortedKeys(m: Map<string, GoValue>): string[] {
  return [...m.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

function element(v: GoValue): string {
  if (typeof v === 'string') return quoted(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return tomlFloat(v);
  if (v instanceof GoTyped) {
    if (v.type === 'json.Number') {
      const text = String(v.value);
      if (text === '') return '0';
      if (/^-?\d+$/.test(text) && BigInt(text) >= -(2n ** 63n) && BigInt(text) < 2n ** 63n)
        return BigInt(text).toString();
      const f = Number(text);
      if (text.trim() !== '' && !Number.isNaN(f)) return tomlFloat(f);
      throw new GoFuncError(`toTOML: unable to convert "${text}" to int64 or float64`);
    }
    if (v.kind === 'string') return quoted(String(v.value));
    if (v.kind === 'int' || v.kind === 'uint') return String(v.value);
    if (v.kind === 'float') return tomlFloat(Number(v.value));
  }
  if (Array.isArray(v)) {
    if (v.some(isNil)) throw new GoFuncError('toTOML: toml: cannot encode array with nil element');
    return `[${v.map(element).join(', ')}]`;
  }
  if (v instanceof Map) {
    const parts = sortedKeys(v)
      .filter((k) => !isNil(v.get(k)))
      .map((k) => `${keyPart(k)} = ${element(v.get(k) as GoValue)}`);
    return `{${parts.join(', ')}}`;
  }
  throw new GoFuncError(`toTOML: unsupported type`);
}

class TomlWriter {
  out = '';

  private newline(): void {
    if (this.out !== '') this.out += '\n';
  }

  private indent(key: string[]): string {
    return INDENT.repeat(Math.max(key.length - 1, 0));
  }

  private header(key: string[]): string {
    return key.map(keyPart).join('.');
  }

  encode(key: string[], v: GoValue): void {
    if (isNil(v)) return;
    if (v instanceof Map) this.table(key, v);
    else if (isTableArray(v)) this.tableArray(key, v as Map<string, GoValue>[]);
    else {
      this.out += `${this.indent(key)}${keyPart(key[key.length - 1] ?? '')} = ${element(v)}`;
      this.newline();
    }
  }

  table(key: string[], m: Map<string, GoValue>): void {
    if (key.length === 1) this.newline();
    if (key.length > 0) {
      this.out += `${this.indent(key)}[${this.header(key)}]`;
      this.newline();
    }
    this.map(key, m);
  }

  private tableArray(key: string[], list: Map<string, GoValue>[]): void {
    for (const m of list) {
      this.newline();
      this.out += `${this.indent(key)}[[${this.header(key)}]]`;
      this.newline();
      this.map(key, m);
    }
  }

  private map(key: string[], m: Map<string, GoValue>): void {
    const keys = sortedKeys(m).filter((k) => !isNil(m.get(k)));
    const direct = keys.filter((k) => !isTable(m.get(k) as GoValue) && !isTableArray(m.get(k) as GoValue));
    const sub = keys.filter((k) => isTable(m.get(k) as GoValue) || isTableArray(m.get(k) as GoValue));
    for (const k of [...direct, ...sub]) this.encode([...key, k], m.get(k) as GoValue);
  }
}

/** consul-template's `toTOML`: the map encoded as TOML, surrounding space trimmed. */
export function toToml(m: Map<string, GoValue>): string {
  const writer = new TomlWriter();
  writer.table([], m);
  return writer.out.trim();
}
