// The service images' trust store: Node's bundled Mozilla roots (tls.rootCertificates) written as an
// OpenSSL hashed directory (each root in a file named <subject hash>.<n>, what `openssl rehash` makes).
//
// Why: Node 24 parses its ~145 bundled roots into X509 objects on a thread as soon as `tls` loads
// (crypto_context.cc, started from lib/tls.js), whether or not a connection ever uses them: ~0.8 MiB
// RSS in every service, even those whose every TLS client passes an explicit `ca`. Only
// --use-openssl-ca skips that load; OpenSSL's default store is then used instead, and a hashed
// directory (SSL_CERT_DIR) is read lazily: a root is parsed only when a chain being verified names its
// subject. The images run node with --use-openssl-ca, SSL_CERT_DIR at this directory and SSL_CERT_FILE
// at a path that does not exist (a CA file is parsed whole for every new store). The set of roots is
// exactly the bundling Node's tls.rootCertificates, so a connection without `ca` trusts what it did.
//
// The subject hash is computed here rather than by `openssl rehash`, so the bundle step needs no
// OpenSSL command line: OpenSSL's X509_NAME_hash (since 1.0.0), the first 4 bytes, little-endian, of
// the SHA-1 of the subject's canonical encoding (each RDN's SET with string values re-encoded as
// UTF8String, trimmed, inner whitespace runs collapsed to one space and ASCII lower-cased; the outer
// SEQUENCE header left out). packages/testenv/test/ca-directory.test.ts checks every name against
// `openssl x509 -subject_hash` and the directory with `openssl verify -CApath`.
import { createHash, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

/** One DER element at `offset` of `der`: its tag, where its contents start and end. */
function element(der, offset) {
  if (offset + 2 > der.length) throw new Error(`DER: element at ${offset} runs past the end`);
  const tag = der[offset];
  let length = der[offset + 1];
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) throw new Error(`DER: unsupported length form at ${offset}`);
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i];
    start += bytes;
  }
  const end = start + length;
  if (end > der.length) throw new Error(`DER: element at ${offset} runs past the end`);
  return { tag, offset, start, end };
}

/** The elements inside a constructed element. */
function children(der, parent) {
  const result = [];
  for (let at = parent.start; at < parent.end;) {
    const child = element(der, at);
    result.push(child);
    at = child.end;
  }
  return result;
}

function encodeLength(length) {
  if (length < 0x80) return Buffer.from([length]);
  const bytes = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function encode(tag, contents) {
  return Buffer.concat([Buffer.from([tag]), encodeLength(contents.length), contents]);
}

const utf8String = 0x0c;
// The string types OpenSSL canonicalises (ASN1_MASK_CANON), each with how its bytes decode.
const canonicalStrings = new Map([
  [0x0c, (bytes) => bytes.toString('utf8')], // UTF8String
  [0x13, (bytes) => bytes.toString('latin1')], // PrintableString
  [0x14, (bytes) => bytes.toString('latin1')], // T61String: OpenSSL reads it as Latin-1
  [0x16, (bytes) => bytes.toString('latin1')], // IA5String
  [0x1a, (bytes) => bytes.toString('latin1')], // VisibleString
  [
    0x1c,
    (bytes) => String.fromCodePoint(...Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readUInt32BE(i * 4))),
  ], // UniversalString
  [
    0x1e,
    (bytes) => String.fromCharCode(...Array.from({ length: bytes.length / 2 }, (_, i) => bytes.readUInt16BE(i * 2))),
  ], // BMPString
]);
// OpenSSL's ossl_isspace: space, \t, \n, \v, \f, \r.
const isSpace = (byte) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/** A string value as OpenSSL's asn1_string_canon leaves it: UTF-8, trimmed, spaces collapsed, ASCII lower-cased. */
function canonicalValue(bytes) {
  let from = 0;
  let to = bytes.length;
  while (from < to && isSpace(bytes[from])) from++;
  while (to > from && isSpace(bytes[to - 1])) to--;
  const out = [];
  for (let i = from; i < to;) {
    const byte = bytes[i];
    if (byte >= 0x80) {
      out.push(byte);
      i++;
    } else if (isSpace(byte)) {
      out.push(0x20);
      while (i < to && isSpace(bytes[i])) i++;
    } else {
      out.push(byte >= 0x41 && byte <= 0x5a ? byte + 0x20 : byte);
      i++;
    }
  }
  return Buffer.from(out);
}

/** DER's SET OF order: by encoding, as OpenSSL sorts them (memcmp, then the shorter first). */
function derOrder(a, b) {
  const common = Math.min(a.length, b.length);
  const byBytes = Buffer.compare(a.subarray(0, common), b.subarray(0, common));
  return byBytes !== 0 ? byBytes : a.length - b.length;
}

/** The subject Name element of a DER certificate. */
function subjectOf(der) {
  const certificate = element(der, 0);
  const [tbs] = children(der, certificate);
  if (!tbs) throw new Error('DER: the certificate has no tbsCertificate');
  const fields = children(der, tbs);
  // tbsCertificate: [0] version (optional), serialNumber, signature, issuer, validity, subject, ...
  const subject = fields[(fields[0]?.tag === 0xa0 ? 1 : 0) + 4];
  if (!subject || subject.tag !== 0x30) throw new Error('DER: no subject Name in the certificate');
  return subject;
}

/** OpenSSL's X509_NAME_hash of a certificate's subject (what `openssl x509 -subject_hash` prints), as 8 hex digits. */
export function subjectHash(pem) {
  const der = new X509Certificate(pem).raw;
  const rdns = children(der, subjectOf(der)).map((rdn) => {
    const entries = children(der, rdn).map((attribute) => {
      const [type, value] = children(der, attribute);
      if (!type || !value) throw new Error('DER: an attribute of the subject has no type or value');
      const decode = canonicalStrings.get(value.tag);
      const canonical = decode
        ? encode(utf8String, canonicalValue(Buffer.from(decode(der.subarray(value.start, value.end)), 'utf8')))
        : der.subarray(value.offset, value.end);
      return encode(0x30, Buffer.concat([der.subarray(type.offset, type.end), canonical]));
    });
    return encode(0x31, Buffer.concat(entries.sort(derOrder)));
  });
  const digest = createHash('sha1').update(Buffer.concat(rdns)).digest();
  return digest.readUInt32LE(0).toString(16).padStart(8, '0');
}

/**
 * Writes `certificates` (PEM strings, by default Node's bundled roots) into `dir` as an OpenSSL hashed
 * directory, replacing what was there: one PEM file per root, `<subject hash>.<n>`, n counting roots
 * whose subjects hash alike. Returns the number of files.
 */
export function writeCaDirectory(dir, certificates = tls.rootCertificates) {
  const staging = `${dir}.tmp-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true, mode: 0o755 });
  const taken = new Map();
  for (const pem of certificates) {
    const hash = subjectHash(pem);
    const n = taken.get(hash) ?? 0;
    taken.set(hash, n + 1);
    fs.writeFileSync(path.join(staging, `${hash}.${n}`), pem.endsWith('\n') ? pem : `${pem}\n`, { mode: 0o644 });
  }
  // Readable by the images' non-root users whatever the umask that wrote it.
  fs.chmodSync(staging, 0o755);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.renameSync(staging, dir);
  return certificates.length;
}
