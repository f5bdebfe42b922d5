import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { binaryPath, repoRoot, toolVersions, type ServerBinary } from '../binaries.ts';
import { sandboxImage } from './containerd.ts';
import { nodeMajorOf, parseDockerfile, type ImageRecipe } from './dockerfile.ts';
import { run } from './run.ts';

/** The programs that ship as images: each package's Dockerfile, built from its bundle. The agent's image
 *  is the one the webhook injects into pods (its default --agent-image). */
export const servicePackages = ['injector', 'agent', 'csi-provider', 'operator'] as const;
export type ServicePackage = (typeof servicePackages)[number];

/** The cluster tier's app image without a shell or libc: only tools/images/envprint.c, static. */
export const shelllessAppImage = 'vaultbridge.local/envprint:v1';

/**
 * The cluster tier's stand-in for HashiCorp's `hashicorp/vault` image, for `agent-kind: vault` pods
 * (there is no registry to pull it from): the stack's own static Vault binary at /bin/vault with busybox
 * for the shell, `base64`, `touch` and `sleep` that vault-k8s's command lines and preStop hook use.
 */
export function vaultAgentImage(): string {
  const version = toolVersions().VAULT_VERSION;
  if (!version) throw new Error('tools/versions.env names no VAULT_VERSION');
  return `vaultbridge.local/vault:${version}`;
}

// Bump when the builder's output changes for the same inputs, so cached archives are rebuilt.
const builderVersion = '1';
const defaultPath = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ServiceImage {
  pkg: ServicePackage;
  /** The name the chart's default values use: vaultbridge/<package>:<package version>. */
  reference: string;
  recipe: ImageRecipe;
  contextDir: string;
}

export function serviceImage(pkg: ServicePackage): ServiceImage {
  const contextDir = path.join(repoRoot, 'packages', pkg);
  const recipe = parseDockerfile(fs.readFileSync(path.join(contextDir, 'Dockerfile'), 'utf8'));
  const { version } = JSON.parse(fs.readFileSync(path.join(contextDir, 'package.json'), 'utf8')) as { version: string };
  return { pkg, reference: `vaultbridge/${pkg}:${version}`, recipe, contextDir };
}

/** The Node binary the images carry: the npm `node` package's, the one the repo pins. */
export function nodeBinary(): { file: string; major: number; version: string } {
  const file = fs.realpathSync(path.join(repoRoot, 'node_modules/.bin/node'));
  const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules/node/package.json'), 'utf8')) as {
    version: string;
  };
  return { file, major: Number(version.split('.')[0]), version };
}

interface Layer {
  file: string;
  diffId: string;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A reproducible layer tarball of a directory: sorted, owned by root, timestamps zeroed. */
async function tarLayer(dir: string, out: string): Promise<Layer> {
  const entries = fs.readdirSync(dir).sort();
  await run(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--format=posix',
      '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime',
      '-C',
      dir,
      '-cf',
      out,
      ...entries,
    ],
    { timeoutMs: 300_000 },
  );
  return { file: out, diffId: `sha256:${await sha256File(out)}` };
}

/** The shared libraries `ldd` lists for a binary, as [path in the image, file on the host]. */
async function sharedLibraries(binary: string): Promise<Array<[string, string]>> {
  const out = await run('ldd', [binary]);
  const libraries: Array<[string, string]> = [];
  for (const line of out.split('\n')) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libraries.push([match[1], fs.realpathSync(match[1])]);
  }
  if (libraries.length === 0)
    throw new Error(`ldd found no shared libraries for ${binary}: is it a dynamic Linux executable?`);
  return libraries;
}

/** The host's static busybox at /bin/busybox with a link for each of its applets (sh, base64, sleep…). */
async function installBusybox(root: string): Promise<void> {
  fs.mkdirSync(path.join(root, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
  fs.chmodSync(path.join(root, 'bin/busybox'), 0o755);
  for (const applet of (await run('/bin/busybox', ['--list-full'])).split('\n').filter(Boolean)) {
    const target = path.join(root, applet);
    if (fs.existsSync(target)) continue;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.symlinkSync('/bin/busybox', target);
  }
}

/**
 * HashiCorp's image as vault-k8s's pods use it: `vault` on PATH (/bin/vault, which the preStop hook
 * names), a shell, and user `vault` (100) with home /home/vault. The binary is static, so no libc.
 */
async function buildVaultAgentRoot(root: string): Promise<void> {
  await installBusybox(root);
  fs.copyFileSync(binaryPath('vault'), path.join(root, 'bin/vault'));
  fs.chmodSync(path.join(root, 'bin/vault'), 0o755);
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nvault:x:100:1000::/home/vault:/bin/sh\n',
  );
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nvault:x:1000:\n');
  for (const dir of ['tmp', 'home/vault']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
}

/**
 * The `node:<major>-…` base: the pinned Node binary at /usr/local/bin/node with the libraries ldd
 * lists for it, and busybox as /bin/sh and the usual commands (the Dockerfiles' RUN steps and the
 * injector's wrapper scripts need a shell).
 */
async function buildNodeBase(root: string): Promise<void> {
  const node = nodeBinary();
  fs.mkdirSync(path.join(root, 'usr/local/bin'), { recursive: true });
  fs.copyFileSync(node.file, path.join(root, 'usr/local/bin/node'));
  fs.chmodSync(path.join(root, 'usr/local/bin/node'), 0o755);
  for (const [inImage, onHost] of await sharedLibraries(node.file)) {
    fs.mkdirSync(path.join(root, path.dirname(inImage)), { recursive: true });
    fs.copyFileSync(onHost, path.join(root, inImage));
  }
  await installBusybox(root);
  fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
  fs.writeFileSync(
    path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n',
  );
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnode:x:1000:\n');
  for (const dir of ['tmp', 'root', 'home/node']) fs.mkdirSync(path.join(root, dir), { recursive: true });
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
}

/** COPY as Docker does it for our cases: files by name, directories by their contents. */
function copyInto(contextDir: string, merged: string, sources: string[], destination: string): void {
  const toDir = destination.endsWith('/') || sources.length > 1;
  for (const source of sources) {
    const from = path.join(contextDir, source);
    if (!fs.existsSync(from))
      throw new Error(`COPY ${source}: ${from} does not exist (run the package's bundle step first)`);
    const isDir = fs.statSync(from).isDirectory();
    const target = path.join(merged, toDir && !isDir ? path.join(destination, path.basename(source)) : destination);
    fs.mkdirSync(isDir ? target : path.dirname(target), { recursive: true });
    fs.cpSync(from, target, { recursive: true });
  }
}

/**
 * One service's own layer: the Dockerfile's COPY and RUN steps applied over the base through an
 * overlay mount (RUN executes chrooted in it, with the base's busybox); the overlay's upper
 * directory is the layer.
 */
async function buildServiceLayer(image: ServiceImage, baseRoot: string, work: string): Promise<string> {
  const upper = path.join(work, 'upper');
  const overlayWork = path.join(work, 'work');
  const merged = path.join(work, 'merged');
  for (const dir of [upper, overlayWork, merged]) fs.mkdirSync(dir, { recursive: true });
  await run('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${baseRoot},upperdir=${upper},workdir=${overlayWork}`,
    merged,
  ]);
  try {
    for (const step of image.recipe.steps) {
      if (step.kind === 'copy') copyInto(image.contextDir, merged, step.sources, step.destination);
      else
        await run('chroot', [merged, '/bin/sh', '-c', `cd / && export PATH=${defaultPath} && ${step.script}`], {
          timeoutMs: 120_000,
        });
    }
  } finally {
    await run('umount', [merged]);
  }
  return upper;
}

function imageConfig(layers: Layer[], config: Record<string, unknown>): string {
  return JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
  });
}

export interface BuiltArchive {
  file: string;
  references: string[];
  /** True when an archive with the same inputs already existed. */
  cached: boolean;
}

/** Everything that decides the archive's content, so an unchanged tree reuses the last archive. */
async function inputsKey(images: ServiceImage[]): Promise<string> {
  const hash = createHash('sha256');
  const node = nodeBinary();
  hash.update(`builder ${builderVersion}\nnode ${node.version} ${fs.statSync(node.file).size}\n`);
  hash.update(`busybox ${fs.statSync('/bin/busybox').size}\npause ${await sha256File(binaryPath('pause'))}\n`);
  hash.update(`envprint ${await sha256File(binaryPath('envprint'))}\n`);
  // Hashing Vault's 170 MiB on every start would cost seconds; its version names the build.
  hash.update(`vault ${vaultAgentImage()} ${fs.statSync(binaryPath('vault')).size}\n`);
  for (const image of images) {
    hash.update(`${image.reference}\n${JSON.stringify(image.recipe)}\n`);
    for (const step of image.recipe.steps) {
      if (step.kind !== 'copy') continue;
      for (const source of step.sources) {
        const from = path.join(image.contextDir, source);
        const files = fs.statSync(from).isDirectory()
          ? fs
              .readdirSync(from, { recursive: true, encoding: 'utf8' })
              .map((f) => path.join(from, f))
              .filter((f) => fs.statSync(f).isFile())
              .sort()
          : [from];
        for (const file of files) hash.update(`${path.relative(image.contextDir, file)} ${await sha256File(file)}\n`);
      }
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * Builds one docker-archive tarball holding the pause image, the shell-less app image, the Vault Agent
 * image and every service image (they share
 * the Node base layer, stored once), in `<imagesDir>/images-<inputs hash>.tar`. The bundles must be
 * built first (bundleServices).
 */
export async function buildImageArchive(
  imagesDir: string,
  progress: (message: string) => void = () => {},
): Promise<BuiltArchive> {
  const images = servicePackages.map(serviceImage);
  const node = nodeBinary();
  for (const image of images) {
    const wanted = nodeMajorOf(image.recipe.from);
    if (wanted !== node.major)
      throw new Error(
        `packages/${image.pkg}/Dockerfile wants Node ${wanted} (FROM ${image.recipe.from}) but the repo pins Node ${node.version}: make them agree`,
      );
  }
  const references = [sandboxImage, shelllessAppImage, vaultAgentImage(), ...images.map((i) => i.reference)];
  fs.mkdirSync(imagesDir, { recursive: true });
  const key = await inputsKey(images);
  const file = path.join(imagesDir, `images-${key}.tar`);
  if (fs.existsSync(file)) return { file, references, cached: true };

  const work = fs.mkdtempSync(path.join(imagesDir, 'build-'));
  try {
    const archive = path.join(work, 'archive');
    fs.mkdirSync(archive);
    const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
    const addLayer = async (dir: string): Promise<Layer> => {
      const tmp = path.join(archive, `layer-${manifest.length}-${Date.now()}.tar`);
      const layer = await tarLayer(dir, tmp);
      const hex = layer.diffId.slice('sha256:'.length);
      fs.mkdirSync(path.join(archive, hex), { recursive: true });
      const final = path.join(archive, hex, 'layer.tar');
      fs.renameSync(tmp, final);
      return { file: `${hex}/layer.tar`, diffId: layer.diffId };
    };
    const addImage = (reference: string, layers: Layer[], config: Record<string, unknown>): void => {
      const json = imageConfig(layers, config);
      const name = `${createHash('sha256').update(json).digest('hex')}.json`;
      fs.writeFileSync(path.join(archive, name), json);
      manifest.push({ Config: name, RepoTags: [reference], Layers: layers.map((l) => l.file) });
    };

    const pauseRoot = path.join(work, 'pause-root');
    fs.mkdirSync(pauseRoot);
    fs.copyFileSync(binaryPath('pause'), path.join(pauseRoot, 'pause'));
    fs.chmodSync(path.join(pauseRoot, 'pause'), 0o755);
    addImage(sandboxImage, [await addLayer(pauseRoot)], { Entrypoint: ['/pause'], Env: [`PATH=${defaultPath}`] });

    const envprintRoot = path.join(work, 'envprint-root');
    fs.mkdirSync(envprintRoot);
    fs.copyFileSync(binaryPath('envprint'), path.join(envprintRoot, 'envprint'));
    fs.chmodSync(path.join(envprintRoot, 'envprint'), 0o755);
    addImage(shelllessAppImage, [await addLayer(envprintRoot)], {
      Entrypoint: ['/envprint'],
      Env: [`PATH=${defaultPath}`],
    });

    const vaultRoot = path.join(work, 'vault-root');
    fs.mkdirSync(vaultRoot);
    await buildVaultAgentRoot(vaultRoot);
    addImage(vaultAgentImage(), [await addLayer(vaultRoot)], {
      // The stack's Vault is built with a newer Go than HashiCorp's 1.13 release, which refuses, at start,
      // the negative serial of a CA bundled in one of Vault's libraries unless told otherwise.
      Env: [`PATH=${defaultPath}`, 'HOME=/home/vault', 'GODEBUG=x509negativeserial=1'],
      User: 'vault',
      WorkingDir: '/',
    });
    progress(`images: ${vaultAgentImage()} built`);

    const baseRoot = path.join(work, 'node-base');
    fs.mkdirSync(baseRoot);
    await buildNodeBase(baseRoot);
    const base = await addLayer(baseRoot);
    progress(`images: Node ${node.version} base layer built`);
    for (const image of images) {
      const upper = await buildServiceLayer(image, baseRoot, path.join(work, image.pkg));
      const own = await addLayer(upper);
      const { recipe } = image;
      addImage(image.reference, [base, own], {
        Env: [
          `PATH=${defaultPath}`,
          `NODE_VERSION=${node.version}`,
          ...Object.entries(recipe.env).map(([k, v]) => `${k}=${v}`),
        ],
        WorkingDir: recipe.workdir,
        ...(recipe.user ? { User: recipe.user } : {}),
        ...(recipe.entrypoint ? { Entrypoint: recipe.entrypoint } : {}),
        ...(recipe.cmd ? { Cmd: recipe.cmd } : {}),
        ...(recipe.exposedPorts.length > 0
          ? { ExposedPorts: Object.fromEntries(recipe.exposedPorts.map((p) => [p, {}])) }
          : {}),
      });
      progress(`images: ${image.reference} built`);
    }
    fs.writeFileSync(path.join(archive, 'manifest.json'), JSON.stringify(manifest));
    const entries = fs.readdirSync(archive).sort();
    await run('tar', ['-C', archive, '-cf', `${file}.tmp`, ...entries], { timeoutMs: 300_000 });
    fs.renameSync(`${file}.tmp`, file);
    // Older archives are never used again.
    for (const old of fs.readdirSync(imagesDir))
      if (/^images-[0-9a-f]+\.tar$/.test(old) && path.join(imagesDir, old) !== file)
        fs.rmSync(path.join(imagesDir, old));
    return { file, references, cached: false };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** The newest modification time of the files under `dir` (0 when it does not exist). */
function newestMtime(dir: string): number {
  if (!fs.existsSync(dir)) return 0;
  let newest = 0;
  for (const name of fs.readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const stat = fs.statSync(path.join(dir, name));
    if (stat.isFile()) newest = Math.max(newest, stat.mtimeMs);
  }
  return newest;
}

/** The workspace packages `pkg` depends on (their sources are bundled into its bundles). */
function workspaceDependencies(pkg: ServicePackage): string[] {
  const { dependencies = {} } = JSON.parse(
    fs.readFileSync(path.join(repoRoot, 'packages', pkg, 'package.json'), 'utf8'),
  ) as { dependencies?: Record<string, string> };
  return Object.keys(dependencies)
    .filter((name) => name.startsWith('@vaultbridge/'))
    .map((name) => name.slice('@vaultbridge/'.length));
}

/** The static files a package's bundle step stages next to its bundles: [name, binary, its source]. */
const stagedBinaries: Partial<Record<ServicePackage, Array<[string, ServerBinary, string]>>> = {
  agent: [['vaultbridge-exec', 'vaultbridge-exec', 'tools/images/vaultbridge-exec.c']],
};

/** True when every staged binary is there with the bytes of the one tools/install.sh built from its current source. */
function stagedFresh(pkg: ServicePackage, bundleDir: string): boolean {
  return (stagedBinaries[pkg] ?? []).every(([name, binary, source]) => {
    const staged = path.join(bundleDir, name);
    let built: string;
    try {
      built = binaryPath(binary);
    } catch {
      return false; // the bundle step builds it
    }
    return (
      fs.statSync(built).mtimeMs >= fs.statSync(path.join(repoRoot, source)).mtimeMs &&
      fs.existsSync(staged) &&
      fs.readFileSync(staged).equals(fs.readFileSync(built))
    );
  });
}

/** True when every bundle of the package is newer than its sources, its workspace dependencies' and the bundler. */
function bundlesFresh(pkg: ServicePackage): boolean {
  const bundleDir = path.join(repoRoot, 'packages', pkg, 'dist/bundle');
  if (!fs.existsSync(bundleDir) || !stagedFresh(pkg, bundleDir)) return false;
  // The images' CA directory (tools/ca-directory.js), which the bundle step writes beside the bundles.
  if (!fs.existsSync(path.join(bundleDir, 'ca-certificates'))) return false;
  // The idle trim's native addon (tools/native.js), which the bundle step builds beside the bundles too.
  if (!fs.existsSync(path.join(bundleDir, 'malloc-trim.node'))) return false;
  const bundles = fs
    .readdirSync(bundleDir)
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => fs.statSync(path.join(bundleDir, f)).mtimeMs);
  if (bundles.length === 0) return false;
  const inputs = Math.max(
    newestMtime(path.join(repoRoot, 'packages', pkg, 'src')),
    ...workspaceDependencies(pkg).map((dep) => newestMtime(path.join(repoRoot, 'packages', dep, 'src'))),
    fs.statSync(path.join(repoRoot, 'packages', pkg, 'package.json')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'package-lock.json')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'tools/bundle.js')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'tools/bundle-plugins.js')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'tools/ca-directory.js')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'tools/native.js')).mtimeMs,
    fs.statSync(path.join(repoRoot, 'tools/native/malloc-trim.c')).mtimeMs,
  );
  return Math.min(...bundles) > inputs;
}

/** Runs each service package's bundle step (esbuild; what the Dockerfiles COPY) unless its bundles are fresh. */
export async function bundleServices(progress: (message: string) => void = () => {}): Promise<void> {
  for (const pkg of servicePackages) {
    if (bundlesFresh(pkg)) continue;
    await run('npm', ['run', '--silent', 'bundle', '--workspace', `@vaultbridge/${pkg}`], {
      timeoutMs: 300_000,
      cwd: repoRoot,
    });
    progress(`images: bundled @vaultbridge/${pkg}`);
  }
}
