// The sprig functions whose output is random, time-dependent or a crypto artefact — the last ones of
// VSO's allowlist: ago, bcrypt, buildCustomCert, htpasswd, mustToDate (and toDate), randInt, semver,
// semverCompare, shuffle. Each follows sprig v3.3.0's Go code path: the same argument types, the same
// error texts, the same output shape (a bcrypt hash is "$2a$10$…" and verifies with any bcrypt
// library; randInt is in [min, max); shuffle is a permutation of the runes).
import { createPrivateKey, randomInt, X509Certificate } from 'node:crypto';
import bcryptjs from 'bcryptjs';
import { GoFuncError } from '../errors.ts';
import { type GoFunction, fn } from '../func.ts';
import { GoTyped, type GoValue } from '../values.ts';
import { type GoTime, goTimeOf, goTimeValue, parseGoTime, sinceRoundedToSecond } from './gotime.ts';
import { SEMVER_FUNCS } from './semver.ts';
import { formatGoDuration } from './sprig.ts';

const s = (v: GoValue): string => v as string;

/** bcrypt.GenerateFromPassword(input, DefaultCost) as sprig wraps it (an error becomes the output text). */
export function goBcrypt(input: string): string {
  // golang.org/x/crypto (v0.26, sprig's) refuses more than 72 bytes; bcryptjs would cut them silently.
  if (Buffer.byteLength(input, 'utf8') > 72)
    return 'failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes';
  // Go writes the "$2a$" prefix; the algorithm is the same as bcryptjs' default "$2b$" for such inputs.
  const salt = bcryptjs.genSaltSync(10).replace(/^\$2b\$/, '$2a$');
  return bcryptjs.hashSync(input, salt);
}

/** math/rand's Intn(n) + min: a panic for n <= 0, which text/template reports as the call's error. */
function randInt(min: bigint, max: bigint): bigint {
  const n = BigInt.asIntN(64, max - min);
  if (n <= 0n) throw new GoFuncError('invalid argument to Intn');
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return BigInt(randomInt(Number(n))) + min;
  // Past 2^53: two draws make a uniform-enough 64-bit value (randomness, not security, is asked for).
  const wide = (BigInt(randomInt(2 ** 32)) << 32n) | BigInt(randomInt(2 ** 32));
  return BigInt.asIntN(64, (wide % n) + min);
}

/** xstrings.Shuffle: a random permutation of the string's runes. */
function shuffle(str: string): string {
  const runes = [...str];
  for (let i = runes.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [runes[i], runes[j]] = [runes[j] as string, runes[i] as string];
  }
  return runes.join('');
}

/** Go's base64.StdEncoding.DecodeString: strict padding and alphabet; \r and \n are skipped. */
function decodeStdBase64(text: string): Buffer | undefined {
  const clean = text.replace(/[\r\n]/g, '');
  if (clean.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(clean)) return undefined;
  return Buffer.from(clean, 'base64');
}

/** The first PEM block of the text, as pem.Decode finds it. */
function firstPemBlock(text: string): { type: string; pem: string } | undefined {
  const m = /-----BEGIN ([^\n-]*)-----\r?\n[\s\S]*?\n-----END \1-----/.exec(text);
  return m === null ? undefined : { type: m[1] as string, pem: m[0] };
}

function checkPrivateKey(pem: string): void {
  const block = firstPemBlock(pem);
  if (block === undefined) throw new GoFuncError('error parsing private key: no PEM data in input');
  if (block.type !== 'PRIVATE KEY' && !block.type.endsWith(' PRIVATE KEY')) {
    throw new GoFuncError(`error parsing private key: no private key data in PEM block of type ${block.type}`);
  }
  const kind = block.type === 'PRIVATE KEY' ? 'PKCS#8' : block.type.slice(0, -' PRIVATE KEY'.length);
  if (!['PKCS#8', 'RSA', 'EC', 'DSA'].includes(kind))
    throw new GoFuncError(`error parsing private key: invalid private key type ${block.type}`);
  try {
    createPrivateKey(block.pem);
  } catch {
    const what = kind === 'PKCS#8' ? 'decoding PEM as PKCS#8' : `parsing ${kind} private key from PEM`;
    throw new GoFuncError(`error parsing private key: ${what}: malformed key`);
  }
}

/** buildCustomCert: checks a base64 PEM certificate and key and returns them as {Cert, Key}. */
function buildCustomCert(b64cert: string, b64key: string): GoTyped {
  const cert = decodeStdBase64(b64cert);
  if (cert === undefined) throw new GoFuncError('unable to decode base64 certificate');
  const key = decodeStdBase64(b64key);
  if (key === undefined) throw new GoFuncError('unable to decode base64 private key');
  const certText = cert.toString('utf8');
  const keyText = key.toString('utf8');
  const block = firstPemBlock(certText);
  if (block === undefined) throw new GoFuncError('unable to decode certificate');
  try {
    new X509Certificate(block.pem);
  } catch {
    throw new GoFuncError('error parsing certificate: decodedCert.Bytes: x509: malformed certificate');
  }
  checkPrivateKey(keyText);
  return new GoTyped('sprig.certificate', 'struct', { Cert: certText, Key: keyText }, `{${certText} ${keyText}}`);
}

/** dateAgo: time.Since(date) rounded to the second; a date of another type is "now" (so "0s"). */
function ago(date: GoValue, now: () => number): string {
  let t: GoTime | undefined = goTimeOf(date);
  if (t === undefined) {
    const seconds =
      typeof date === 'bigint'
        ? date
        : date instanceof GoTyped && date.type === 'int64'
          ? (date.value as bigint)
          : undefined;
    if (seconds === undefined) return '0s';
    t = { unix: seconds, nsec: 0, offset: 0, zone: 'UTC' };
  }
  return formatGoDuration(sinceRoundedToSecond(t, now()));
}

/** time.ParseInLocation(layout, value, time.Local) as sprig's mustToDate calls it. */
const toDate = (layout: GoValue, value: GoValue): GoValue => goTimeValue(parseGoTime(s(layout), s(value)));

/** The Go zero time, what toDate gives for text it cannot parse. */
const ZERO_TIME: GoTime = { unix: -62135596800n, nsec: 0, offset: 0, zone: 'UTC' };

export function sprigMoreFuncs(now: () => number = Date.now): ReadonlyArray<readonly [string, GoFunction]> {
  return [
    ['ago', fn(['any'], (d) => ago(d, now))],
    ['bcrypt', fn(['string'], (v) => goBcrypt(s(v)))],
    [
      'htpasswd',
      fn(['string', 'string'], (user, password) =>
        s(user).includes(':') ? `invalid username: ${s(user)}` : `${s(user)}:${goBcrypt(s(password))}`,
      ),
    ],
    ['buildCustomCert', fn(['string', 'string'], (c, k) => buildCustomCert(s(c), s(k)))],
    ['mustToDate', fn(['string', 'string'], toDate)],
    [
      'toDate',
      fn(['string', 'string'], (layout, value) => {
        try {
          return toDate(layout, value);
        } catch (error) {
          if (error instanceof GoFuncError) return goTimeValue(ZERO_TIME);
          throw error;
        }
      }),
    ],
    ['randInt', fn(['int', 'int'], (min, max) => randInt(min as bigint, max as bigint))],
    ['shuffle', fn(['string'], (v) => shuffle(s(v)))],
    ...SEMVER_FUNCS,
  ];
}

/** The functions above over the real clock. */
export const SPRIG_MORE_FUNCS: ReadonlyMap<string, GoFunction> = new Map(sprigMoreFuncs());
