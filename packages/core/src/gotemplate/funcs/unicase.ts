// Go's case mapping is Unicode's simple (one rune to one rune) mapping; JavaScript's toUpperCase and
// toLowerCase use the full mapping ("ß" → "SS", "ᾀ" → "ἈΙ"). These apply Go's rule: a rune whose full
// mapping is several runes keeps its simple mapping, which for the Greek iota-subscript letters is
// their titlecase form and for the rest (ß, ŉ, ǰ, ligatures…) is the rune itself.

function simpleUpperOfMulti(cp: number): number {
  if ((cp >= 0x1f80 && cp <= 0x1f87) || (cp >= 0x1f90 && cp <= 0x1f97) || (cp >= 0x1fa0 && cp <= 0x1fa7)) return cp + 8;
  if (cp === 0x1fb3) return 0x1fbc;
  if (cp === 0x1fc3) return 0x1fcc;
  if (cp === 0x1ff3) return 0x1ffc;
  return cp;
}

/** unicode.ToUpper of one rune. */
export function upperRune(ch: string): string {
  const up = ch.toUpperCase();
  if (
    up.length === ch.length &&
    up.codePointAt(0) !== undefined &&
    String.fromCodePoint(up.codePointAt(0) as number) === up
  )
    return up;
  return String.fromCodePoint(simpleUpperOfMulti(ch.codePointAt(0) as number));
}

/** unicode.ToLower of one rune ("İ" → "i", not "i̇"). */
export function lowerRune(ch: string): string {
  const low = ch.toLowerCase();
  const first = low.codePointAt(0) as number;
  return String.fromCodePoint(first);
}

const TITLE_DIGRAPHS: Readonly<Record<number, number>> = {
  0x1c4: 0x1c5,
  0x1c5: 0x1c5,
  0x1c6: 0x1c5,
  0x1c7: 0x1c8,
  0x1c8: 0x1c8,
  0x1c9: 0x1c8,
  0x1ca: 0x1cb,
  0x1cb: 0x1cb,
  0x1cc: 0x1cb,
  0x1f1: 0x1f2,
  0x1f2: 0x1f2,
  0x1f3: 0x1f2,
};

/** unicode.ToTitle of one rune. */
export function titleRune(ch: string): string {
  const cp = ch.codePointAt(0) as number;
  const digraph = TITLE_DIGRAPHS[cp];
  if (digraph !== undefined) return String.fromCodePoint(digraph);
  if (cp >= 0x1f88 && cp <= 0x1faf && (cp & 0xf) >= 8) return ch;
  if (cp === 0x1fbc || cp === 0x1fcc || cp === 0x1ffc) return ch;
  return upperRune(ch);
}

/** strings.ToUpper. */
export function goToUpper(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toUpperCase();
  let out = '';
  for (const ch of s) out += upperRune(ch);
  return out;
}

/** strings.ToLower. */
export function goToLower(s: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) out += lowerRune(ch);
  return out;
}
