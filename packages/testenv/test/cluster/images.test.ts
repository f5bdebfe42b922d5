// The local image builder against the Dockerfiles (no drift): each image in the archive the node
// imported has the configuration its Dockerfile declares, carries exactly the files the
// Dockerfile's COPY names with the same bytes, and runs the Node the repo pins.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { binaryPath } from '../../src/binaries.ts';
import { servicePackages, serviceImage, nodeBinary, vaultAgentImage } from '../../src/cluster/images.ts';
import { clusterStack } from './support.ts';

const env = clusterStack();

interface ManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}
interface ImageConfig {
  config: {
    Entrypoint?: string[];
    Cmd?: string[];
    User?: string;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Env?: string[];
  };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-images-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function extract(member: string): string {
  const out = path.join(work, member.replaceAll('/', '_'));
  if (!fs.existsSync(out))
    fs.writeFileSync(
      out,
      execFileSync('tar', ['-xOf', env.cluster.imageArchive, member], { maxBuffer: 512 * 1024 * 1024 }),
    );
  return out;
}

const manifest = (): ManifestEntry[] =>
  JSON.parse(fs.readFileSync(extract('manifest.json'), 'utf8')) as ManifestEntry[];
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

describe.each(servicePackages)('the %s image', (pkg) => {
  const image = serviceImage(pkg);

  it('has the entrypoint, command, user, working directory and ports of its Dockerfile', () => {
    const entry = manifest().find((m) => m.RepoTags.includes(image.reference));
    expect(entry).toBeDefined();
    const { config } = JSON.parse(fs.readFileSync(extract(entry!.Config), 'utf8')) as ImageConfig;
    const { recipe } = image;
    expect({
      entrypoint: config.Entrypoint,
      cmd: config.Cmd,
      user: config.User,
      workdir: config.WorkingDir,
      ports: Object.keys(config.ExposedPorts ?? {}),
    }).toEqual({
      entrypoint: recipe.entrypoint,
      cmd: recipe.cmd,
      user: recipe.user,
      workdir: recipe.workdir,
      ports: recipe.exposedPorts,
    });
    expect(config.Env).toContain(`NODE_VERSION=${nodeBinary().version}`);
    // The Dockerfile's ENV (the malloc tuning, the trust store's SSL_CERT_DIR and SSL_CERT_FILE) as written.
    for (const [name, value] of Object.entries(recipe.env)) expect(config.Env).toContain(`${name}=${value}`);
  });

  it("carries each file the Dockerfile's COPY names, byte for byte, in its own layer", () => {
    const entry = manifest().find((m) => m.RepoTags.includes(image.reference))!;
    const ownLayer = extract(entry.Layers.at(-1)!);
    const copied = image.recipe.steps.filter((s) => s.kind === 'copy');
    expect(copied.length).toBeGreaterThan(0);
    for (const step of copied) {
      for (const source of step.sources) {
        const from = path.join(image.contextDir, source);
        const files = fs.statSync(from).isDirectory()
          ? fs
              .readdirSync(from, { recursive: true, encoding: 'utf8' })
              .filter((f) => fs.statSync(path.join(from, f)).isFile())
              .map((f) => [path.join(from, f), path.join(step.destination, f)] as const)
          : [
              [
                from,
                step.destination.endsWith('/') || step.sources.length > 1
                  ? path.join(step.destination, path.basename(source))
                  : step.destination,
              ] as const,
            ];
        for (const [host, inImage] of files) {
          const inLayer = execFileSync('tar', ['-xOf', ownLayer, inImage.replace(/^\//, '')], {
            maxBuffer: 64 * 1024 * 1024,
          });
          expect({ file: inImage, sha: sha(inLayer) }).toEqual({ file: inImage, sha: sha(fs.readFileSync(host)) });
        }
      }
    }
  });

  it('shares the Node base layer with the other images and runs the pinned Node', () => {
    const entries = manifest().filter((m) =>
      servicePackages.some((p) => m.RepoTags.includes(serviceImage(p).reference)),
    );
    expect(new Set(entries.map((m) => m.Layers[0])).size).toBe(1);
    const base = extract(entries[0]!.Layers[0]!);
    const node = execFileSync('tar', ['-xOf', base, 'usr/local/bin/node'], { maxBuffer: 512 * 1024 * 1024 });
    expect(sha(node)).toBe(sha(fs.readFileSync(nodeBinary().file)));
  });
});

describe("the Vault Agent image (HashiCorp's, for agent-kind vault pods)", () => {
  it("holds the stack's Vault binary byte for byte, a shell, and runs as user vault (100)", () => {
    const entry = manifest().find((m) => m.RepoTags.includes(vaultAgentImage()));
    expect(entry?.Layers).toHaveLength(1);
    const { config } = JSON.parse(fs.readFileSync(extract(entry!.Config), 'utf8')) as ImageConfig;
    expect(config.User).toBe('vault');
    expect(config.Env).toEqual(expect.arrayContaining(['HOME=/home/vault', 'GODEBUG=x509negativeserial=1']));
    const layer = extract(entry!.Layers[0]!);
    const vault = execFileSync('tar', ['-xOf', layer, 'bin/vault'], { maxBuffer: 512 * 1024 * 1024 });
    expect(sha(vault)).toBe(sha(fs.readFileSync(binaryPath('vault'))));
    const listing = execFileSync('tar', ['-tvf', layer], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    for (const applet of ['bin/sh', 'bin/base64', 'bin/sleep', 'bin/touch'])
      expect(listing).toMatch(new RegExp(`${applet} -> /bin/busybox`));
    const passwd = execFileSync('tar', ['-xOf', layer, 'etc/passwd'], { encoding: 'utf8' });
    expect(passwd).toContain('vault:x:100:1000::/home/vault:/bin/sh');
  });
});
