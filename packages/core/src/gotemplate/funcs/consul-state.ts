// consul-template's functions that keep state or touch files: `scratch` (a key/value store that
// lives for one execution of a template), `writeToFile`, `file`, `explode` and `explodeMap`.
//
// consul-template builds a fresh scratch for every execution, and writes files while the template
// runs, on every pass of its render loop. Here the writes are recorded during a pass and carried out
// by renderWithDependencies after the last pass only, through a writer the caller gives (the agent's
// writer is confined to the pod's volumes, atomic, and never follows a symlink): a pass that still
// waited for Vault never writes a half-rendered value.
import fs from 'node:fs';
import path from 'node:path';
import { GoFuncError } from '../errors.ts';
import { type GoFunction, fn } from '../func.ts';
import { sprintf } from '../fmt.ts';
import { GoTyped, type GoMap, type GoValue, sortedKeys, typeName } from '../values.ts';

/** One `writeToFile` call, as the writer carries it out. */
export interface TemplateFileWrite {
  /** The path as the template wrote it. */
  path: string;
  /** User name or numeric id; '' keeps the writer's own. */
  user: string;
  /** Group name or numeric id; '' keeps the writer's own. */
  group: string;
  /** Permission bits (strconv.ParseUint(perms, 8, 32), its permission part). */
  mode: number;
  /** Appends to the file instead of replacing it. */
  append: boolean;
  /** The bytes to write (with the "newline" flag's "\n" already added). */
  content: string;
}

/** Carries out one write; throws to fail the render (the message names the path and the fix). */
export type TemplateFileWriter = (write: TemplateFileWrite) => Promise<void>;

/** Reads a file for `file` (synchronously: template functions run to completion); throws when refused. */
export type TemplateFileReader = (file: string) => string;

/** What one execution of a template holds: its scratch and the files it asked to write. */
export class ExecutionState {
  readonly scratch: GoMap = new Map();
  readonly writes: TemplateFileWrite[] = [];
}

const s = (v: GoValue): string => v as string;

/** Go's `%q` of a value, as fmt.Errorf quotes it in consul-template's errors. */
const quoteValue = (v: GoValue): string => sprintf('%q', [v]);

function isGoInterfaceMap(v: GoValue): v is GoMap {
  return v instanceof Map && typeName(v) === 'map[string]interface {}';
}

/** consul-template's *Scratch: Key, Get, Set, SetX, MapSet, MapSetX, MapValues. */
export function scratchValue(state: () => ExecutionState): GoTyped {
  const values = (): GoMap => state().scratch;
  const mapSet = (k: string, mk: string, v: GoValue, override: boolean): string => {
    const m = values();
    if (!m.has(k)) m.set(k, new Map());
    const target = m.get(k) as GoValue;
    if (!isGoInterfaceMap(target)) throw new GoFuncError(`${JSON.stringify(k)} is not a map`);
    // Go writes into the map itself: a map that was Set (parseJSON's, a secret's data) changes too.
    if (override || !target.has(mk)) target.set(mk, v);
    return '';
  };
  const methods = new Map<string, GoFunction>([
    ['Key', fn(['string'], (k) => values().has(s(k)))],
    ['Get', fn(['string'], (k) => values().get(s(k)) ?? null)],
    [
      'Set',
      fn(['string', 'any'], (k, v) => {
        values().set(s(k), v);
        return '';
      }),
    ],
    [
      'SetX',
      fn(['string', 'any'], (k, v) => {
        if (!values().has(s(k))) values().set(s(k), v);
        return '';
      }),
    ],
    ['MapSet', fn(['string', 'string', 'any'], (k, mk, v) => mapSet(s(k), s(mk), v, true))],
    ['MapSetX', fn(['string', 'string', 'any'], (k, mk, v) => mapSet(s(k), s(mk), v, false))],
    [
      'MapValues',
      fn(['string'], (k) => {
        const m = values().get(s(k));
        // Go returns a nil []interface{} for a key that holds no map (it prints "[]").
        if (m === undefined || !isGoInterfaceMap(m)) return [];
        return sortedKeys(m).map((key) => m.get(key) as GoValue);
      }),
    ],
  ]);
  return new GoTyped('*template.Scratch', 'struct', {}, '&{<scratch>}', methods);
}

/** strconv.ParseUint(text, 8, 32)'s error as consul-template returns it. */
function parsePermissions(text: string): number {
  if (!/^[0-7]+$/.test(text))
    throw new GoFuncError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`);
  const value = BigInt(`0o${text}`);
  if (value >= 1n << 32n)
    throw new GoFuncError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`);
  // os.Chmod applies the permission bits of an os.FileMode; the higher octal digits are not its setuid bits.
  return Number(value & 0o777n);
}

/**
 * `writeToFile PATH USER GROUP PERMS [FLAGS] CONTENT` (content last, so it pipes): returns "" and
 * records the write; FLAGS holds "append" and/or "newline". With two trailing arguments the first is
 * the flags; with more, as in Go, the flags are ignored and the last is the content.
 */
export function writeToFileFunction(state: () => ExecutionState): GoFunction {
  return fn(
    ['string', 'string', 'string', 'string'],
    (file, user, group, perms, ...args) => {
      // Go indexes args[len(args)-1]: no content is a runtime panic that text/template reports.
      if (args.length === 0) throw new GoFuncError('runtime error: index out of range [-1]');
      const flags = args.length === 2 ? s(args[0]) : '';
      const mode = parsePermissions(s(perms));
      const content = s(args[args.length - 1]) + (flags.includes('newline') ? '\n' : '');
      state().writes.push({
        path: s(file),
        user: s(user),
        group: s(group),
        mode,
        append: flags.includes('append'),
        content,
      });
      return '';
    },
    'string',
  );
}

/** `file PATH`: the file's contents, through the reader the caller allows (none: an error naming why). */
export function fileFunction(read: TemplateFileReader | undefined): GoFunction {
  return fn(['string'], (file) => {
    if (s(file) === '') return '';
    if (read === undefined)
      throw new GoFuncError("this renderer reads no files; the agent reads files only inside the pod's volumes");
    return read(s(file));
  });
}

/**
 * A `file` reader confined to `roots` (absolute directories): the path must be absolute, lie inside
 * a root once every symlink is resolved, and be a regular file no larger than `maxBytes`.
 */
export function confinedFileReader(roots: readonly string[], maxBytes = 1 << 20): TemplateFileReader {
  const realRoots = roots.map((root) => {
    try {
      return fs.realpathSync(root);
    } catch {
      return path.resolve(root);
    }
  });
  return (file) => {
    if (!path.isAbsolute(file))
      throw new GoFuncError(`file(${file}): the path must be absolute, inside ${roots.join(' or ')}`);
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (error) {
      throw new GoFuncError(
        `file(${file}): ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : 'cannot be read'}`,
      );
    }
    if (!realRoots.some((root) => real === root || real.startsWith(`${root}/`))) {
      throw new GoFuncError(`file(${file}): outside the readable volumes (${roots.join(', ')})`);
    }
    const stat = fs.statSync(real);
    if (!stat.isFile()) throw new GoFuncError(`file(${file}): not a regular file`);
    if (stat.size > maxBytes) throw new GoFuncError(`file(${file}): larger than ${maxBytes} bytes`);
    return fs.readFileSync(real, 'utf8');
  };
}

/** consul-template's explodeHelper: "a/b/c" = v becomes a → b → c = v, writing into existing maps. */
function explodeInto(m: GoMap, key: string, value: GoValue, whole: string): void {
  const slash = key.indexOf('/');
  if (slash >= 0) {
    const top = key.slice(0, slash);
    const rest = key.slice(slash + 1);
    if (!m.has(top)) m.set(top, new Map());
    const nest = m.get(top) as GoValue;
    if (!isGoInterfaceMap(nest))
      throw new GoFuncError(
        `not a map: ${JSON.stringify(whole)}: ${JSON.stringify(top)} already has value ${quoteValue(nest)}`,
      );
    explodeInto(nest, rest, value, key);
    return;
  }
  if (key !== '') m.set(key, value);
}

/** explodeMap: a one-level map with "a/b" keys → nested maps, keys taken in sorted order. */
export function explodeMap(input: GoMap): GoMap {
  const out: GoMap = new Map();
  for (const key of sortedKeys(input)) {
    try {
      explodeInto(out, key, input.get(key) as GoValue, key);
    } catch (error) {
      if (error instanceof GoFuncError) throw new GoFuncError(`explodeMap: ${error.message}`);
      throw error;
    }
  }
  return out;
}

/**
 * explode takes Consul's []*dependency.KeyPair (from `tree`/`ls`), which the agent never has: nil or
 * no value gives an empty map, anything else Go's "wrong type" error (the parameter type says so).
 */
export const explodeFunction: GoFunction = fn(['keypairs'], () => new Map());
