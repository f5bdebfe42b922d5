// The service images' trust store (tools/ca-directory.js, packages/core/README.md "trust store"): node runs
// with --use-openssl-ca and SSL_CERT_DIR at Node's bundled roots written as an OpenSSL hashed directory.
// Proved here: the directory holds exactly tls.rootCertificates under the names OpenSSL looks them up by
// (against the openssl command line itself), and a process started with each image's node flags and ENV
// verifies a server by that directory without `ca`, still honours an explicit `ca` and NODE_EXTRA_CA_CERTS,
// trusts nothing else, and no longer parses Node's bundled store when tls loads.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { subjectHash, writeCaDirectory } from '../../../tools/ca-directory.js';
import {
  createCertificateAuthority,
  issueCertificate,
  parseDockerfile,
  repoRoot,
  type ImageRecipe,
} from '../src/index.ts';

const run = promisify(execFile);
const services = ['injector', 'agent', 'csi-provider', 'operator'] as const;
const offThreadLoad = 'Started loading bundled root certificates off-thread';
let work: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-ca-directory-'));
});
afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

/** `openssl <args>` with none of this machine's trust settings, which would add CAs to what is checked. */
function openssl(args: string[], input?: string): string {
  const { SSL_CERT_FILE: _file, SSL_CERT_DIR: _dir, NODE_EXTRA_CA_CERTS: _extra, ...env } = process.env;
  return execFileSync('openssl', args, { env, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
}

function opensslHash(pem: string): string {
  return openssl(['x509', '-noout', '-subject_hash'], pem).trim();
}

/** A self-signed certificate whose subject is `subject`, made by `openssl req` with `stringMask` (its string types). */
function opensslCertificate(name: string, subject: string, stringMask: string): string {
  const config = path.join(work, `${name}.cnf`);
  fs.writeFileSync(config, `[req]\ndistinguished_name = dn\nstring_mask = ${stringMask}\n[dn]\n`);
  const out = path.join(work, `${name}.pem`);
  openssl([
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    path.join(work, `${name}.key`),
    '-out',
    out,
    '-days',
    '1',
    '-utf8',
    '-multivalue-rdn',
    '-config',
    config,
    '-subj',
    subject,
  ]);
  return fs.readFileSync(out, 'utf8');
}

describe('the CA directory', () => {
  test('names every bundled root as `openssl x509 -subject_hash` does', () => {
    expect(tls.rootCertificates.length).toBeGreaterThan(100);
    const differing = tls.rootCertificates.filter((pem) => subjectHash(pem) !== opensslHash(pem));
    expect(differing).toEqual([]);
  });

  test('canonicalises subjects as OpenSSL does: case, spaces, string types, multi-valued RDNs', () => {
    const cases: Array<[string, string, string]> = [
      ['mixed', '/CN=  Mixed   CASE  Name /O=\u00dc\u00f1\u00ed\u00e7\u00f8d\u00e9 Org', 'utf8only'],
      ['multi', '/O=B+OU=A+CN=x/C=DE', 'utf8only'],
      ['email', '/C=DE/L=a  b/emailAddress=ME@Example.COM', 'nombstr'],
      ['t61', '/CN=\u00dc\u00f1\u00ed Latin/O=x', 'default'],
      ['bmp', '/CN=\u03a9mega  Greek/O=x', 'default'],
    ];
    for (const [name, subject, mask] of cases) {
      const pem = opensslCertificate(name, subject, mask);
      expect({ name, hash: subjectHash(pem) }).toEqual({ name, hash: opensslHash(pem) });
    }
    // The string types above are the ones the cases are meant to cover.
    const types = (name: string) =>
      openssl(['x509', '-noout', '-subject', '-nameopt', 'RFC2253,show_type', '-in', path.join(work, `${name}.pem`)]);
    expect(types('t61')).toContain('T61STRING');
    expect(types('bmp')).toContain('BMPSTRING');
    expect(types('email')).toContain('IA5STRING');
  });

  test('holds exactly tls.rootCertificates, each found by `openssl verify -CApath`', () => {
    const dir = path.join(work, 'roots');
    expect(writeCaDirectory(dir)).toBe(tls.rootCertificates.length);
    const files = fs.readdirSync(dir).sort();
    expect(files.every((file) => /^[0-9a-f]{8}\.\d+$/.test(file))).toBe(true);
    const contents = files.map((file) => fs.readFileSync(path.join(dir, file), 'utf8').trim()).sort();
    expect(contents).toEqual(tls.rootCertificates.map((pem) => pem.trim()).sort());
    for (const file of files) expect(fs.statSync(path.join(dir, file)).mode & 0o777).toBe(0o644);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o755);

    // A root verifies only when OpenSSL finds it in the directory by its subject's hash. -no_check_time:
    // a root's own dates are not what is checked here.
    const paths = files.map((file) => path.join(dir, file));
    const verified = (caPath: string) => {
      let output: string;
      try {
        output = openssl(['verify', '-no-CAfile', '-no-CAstore', '-CApath', caPath, '-no_check_time', ...paths]);
      } catch (error) {
        output = String((error as { stdout?: string }).stdout ?? '');
      }
      return output.split('\n').filter((line) => line.endsWith(': OK')).length;
    };
    expect(verified(dir)).toBe(files.length);
    const empty = path.join(work, 'empty');
    fs.mkdirSync(empty);
    expect(verified(empty)).toBe(0);
  });
});

/** The node flags an image starts node with: its exec-form ENTRYPOINT's, or its wrapper script's (`exec node ... /app/`). */
function imageNodeFlags(recipe: ImageRecipe): string[] {
  if (recipe.entrypoint?.[0] === 'node') return recipe.entrypoint.slice(1).filter((arg) => arg.startsWith('--'));
  for (const step of recipe.steps) {
    const wrapper = step.kind === 'run' ? /exec node ((?:--\S+ )*)\/app\//.exec(step.script) : null;
    if (wrapper) return (wrapper[1] ?? '').split(' ').filter(Boolean);
  }
  throw new Error('the Dockerfile starts node neither from its ENTRYPOINT nor from a wrapper script');
}

function recipeOf(pkg: string): ImageRecipe {
  return parseDockerfile(fs.readFileSync(path.join(repoRoot, 'packages', pkg, 'Dockerfile'), 'utf8'));
}

describe.each(services)('the %s image', (pkg) => {
  test('runs node with --use-openssl-ca and OpenSSL reading only the COPYed CA directory', () => {
    const recipe = recipeOf(pkg);
    expect(imageNodeFlags(recipe)).toContain('--use-openssl-ca');
    const copy = recipe.steps.find((step) => step.kind === 'copy' && step.destination === recipe.env.SSL_CERT_DIR);
    expect(copy).toEqual({
      kind: 'copy',
      sources: ['dist/bundle/ca-certificates'],
      destination: '/app/ca-certificates',
    });
    // No CA file: OpenSSL parses a file whole for every new store.
    expect(recipe.env.SSL_CERT_FILE).toBe('/nonexistent');
  });
});

describe.each(services)('the %s image', (pkg) => {
  // core's idle memory trim loads malloc-trim.node from beside the bundle it runs in (runtime/malloc-trim.ts).
  test('COPYs malloc-trim.node into the directory of the bundle it runs', () => {
    const recipe = recipeOf(pkg);
    const copies = recipe.steps.filter((step) => step.kind === 'copy');
    const bundle = copies.find((step) => step.sources.some((source) => source.endsWith('.mjs')));
    const addon = copies.find((step) => step.sources.includes('dist/bundle/malloc-trim.node'));
    expect(bundle).toBeDefined();
    const bundleDirectory = bundle!.destination.endsWith('/')
      ? bundle!.destination
      : `${path.posix.dirname(bundle!.destination)}/`;
    expect(addon).toEqual({ kind: 'copy', sources: ['dist/bundle/malloc-trim.node'], destination: bundleDirectory });
  });
});

describe('a process started as each image starts node', () => {
  let server: https.Server;
  let port: number;
  let caFile: string;
  let otherCaFile: string;
  let withTestCa: string;
  let bundledOnly: string;
  let client: string;

  beforeAll(async () => {
    const ca = await createCertificateAuthority('vaultbridge ca-directory test CA');
    const other = await createCertificateAuthority('vaultbridge unrelated CA');
    const leaf = await issueCertificate(ca, { commonName: 'localhost', ipAddresses: ['127.0.0.1'], usage: 'server' });
    caFile = path.join(work, 'test-ca.pem');
    fs.writeFileSync(caFile, ca.certPem);
    otherCaFile = path.join(work, 'other-ca.pem');
    fs.writeFileSync(otherCaFile, other.certPem);
    // The bundled roots plus the test CA, as a user's own hashed directory would add one.
    withTestCa = path.join(work, 'roots-and-test-ca');
    writeCaDirectory(withTestCa, [...tls.rootCertificates, ca.certPem]);
    bundledOnly = path.join(work, 'roots-only');
    writeCaDirectory(bundledOnly);
    server = https.createServer({ key: leaf.keyPem, cert: leaf.certPem }, (_, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    client = path.join(work, 'client.mjs');
    fs.writeFileSync(
      client,
      `import fs from 'node:fs';
import https from 'node:https';
const ca = process.env.CLIENT_CA ? { ca: fs.readFileSync(process.env.CLIENT_CA) } : {};
const req = https.get({ host: '127.0.0.1', port: ${port}, timeout: 10000, ...ca }, (res) => {
  res.resume();
  res.on('end', () => console.log('verified'));
});
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', (error) => console.log(error.code ?? error.message));
`,
    );
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  /** Runs the client with the image's flags and ENV (SSL_CERT_DIR at `dir`), and none of this machine's trust settings. */
  async function connect(
    pkg: string,
    dir: string,
    extra: Record<string, string> = {},
    flags?: string[],
  ): Promise<{ result: string; stderr: string }> {
    const recipe = recipeOf(pkg);
    const env = { PATH: process.env.PATH ?? '', ...recipe.env, SSL_CERT_DIR: dir, ...extra };
    const { stdout, stderr } = await run(process.execPath, [...(flags ?? imageNodeFlags(recipe)), client], {
      env,
      timeout: 30_000,
    });
    return { result: stdout.trim(), stderr };
  }

  test.each(services)('%s: verifies by the directory without `ca`, and trusts nothing else', async (pkg) => {
    const found = await connect(pkg, withTestCa, { NODE_DEBUG_NATIVE: 'crypto' });
    expect(found.result).toBe('verified');
    // Node's bundled store was not parsed when tls loaded.
    expect(found.stderr).not.toContain(offThreadLoad);
    // The host's store, Node's bundled roots in memory and the CA file do not stand in for the directory.
    expect((await connect(pkg, bundledOnly)).result).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test.each(services)('%s: honours an explicit `ca` and NODE_EXTRA_CA_CERTS', async (pkg) => {
    expect((await connect(pkg, bundledOnly, { CLIENT_CA: caFile })).result).toBe('verified');
    expect((await connect(pkg, bundledOnly, { NODE_EXTRA_CA_CERTS: caFile })).result).toBe('verified');
    // An explicit `ca` replaces the default store, as without --use-openssl-ca: the directory's CA is not used.
    expect((await connect(pkg, withTestCa, { CLIENT_CA: otherCaFile })).result).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('without --use-openssl-ca Node parses its bundled store when tls loads (what the flag saves)', async () => {
    const flags = imageNodeFlags(recipeOf('csi-provider')).filter((flag) => flag !== '--use-openssl-ca');
    const { result, stderr } = await connect('csi-provider', bundledOnly, { NODE_DEBUG_NATIVE: 'crypto' }, flags);
    expect(stderr).toContain(offThreadLoad);
    // And trusts by its bundled roots, not the directory: the test CA is in neither.
    expect(result).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });
});
