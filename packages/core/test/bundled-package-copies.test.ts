// Every shipped bundle holds one copy of each package name@version (tools/bundle-plugins.js,
// onePackageCopy): npm installs the same version at several paths (mime-db 1.54.0 under express, accepts,
// type-is and send; yaml 2.9.1 in each workspace), and without the plugin each path is bundled and
// evaluated again. The entries are each package's bundle step's (its package.json), built with
// serviceBuildOptions and read from esbuild's metafile.
import fs from 'node:fs';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { bundleCommands, repoRoot } from '@vaultbridge/testenv';
import { duplicatePackageCopies, onePackageCopy, serviceBuildOptions } from '../../../tools/bundle-plugins.js';

/** Every `tools/bundle.js` run of every package with a bundle step: the package directory and its entries. */
const shipped = fs
  .readdirSync(path.join(repoRoot, 'packages'))
  .filter((name) => {
    const manifest = path.join(repoRoot, 'packages', name, 'package.json');
    return (
      fs.existsSync(manifest) &&
      (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { scripts?: { bundle?: string } }).scripts?.bundle
    );
  })
  .flatMap((name) => {
    const packageDir = path.join(repoRoot, 'packages', name);
    return bundleCommands(packageDir).map((args) => {
      const entries: string[] = [];
      for (let i = 0; i < args.length; i++) {
        if (args[i] === '--lazy' || args[i] === '--outdir') i++;
        else entries.push(args[i]!);
      }
      return { name: `${name}: ${entries.join(' ')}`, packageDir, entries };
    });
  });

async function metafileOf(packageDir: string, entries: string[], plugins = serviceBuildOptions.plugins) {
  const result = await build({
    ...serviceBuildOptions,
    plugins,
    entryPoints: entries,
    absWorkingDir: packageDir,
    outdir: path.join(packageDir, 'dist/bundle-copies-check'),
    entryNames: '[name]',
    outExtension: { '.js': '.mjs' },
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

/** name@version -> the installed directories a build's outputs hold it from. */
function copiesById(metafile: Metafile, packageDir: string): Map<string, Set<string>> {
  const copies = new Map<string, Set<string>>();
  for (const { inputs } of Object.values(metafile.outputs))
    for (const input of Object.keys(inputs)) {
      const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(path.resolve(packageDir, input))?.[1];
      if (dir === undefined) continue;
      // The copy's own package.json: the version esbuild bundled from that path.
      const { name, version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
        name: string;
        version: string;
      };
      const id = `${name}@${version}`;
      copies.set(id, new Set([...(copies.get(id) ?? []), dir]));
    }
  return copies;
}

test('the bundle steps of every shipped service and the kube-config-client are checked', () => {
  expect(shipped.map(({ name }) => name.split(':')[0])).toEqual(
    expect.arrayContaining(['injector', 'csi-provider', 'operator', 'agent', 'migrate']),
  );
  expect(shipped.some(({ entries }) => entries.some((entry) => entry.endsWith('kube-config-client.ts')))).toBe(true);
});

test.each(shipped)(
  '$name: one copy of each package name@version',
  async ({ packageDir, entries }) => {
    expect(duplicatePackageCopies(await metafileOf(packageDir, entries), packageDir)).toEqual([]);
  },
  120_000,
);

test('without onePackageCopy the webhook carries mime-db from several paths; with it, every such package once', async () => {
  const injector = shipped.find(({ name }) => name.startsWith('injector:') && name.includes('injector.ts'))!;
  const without = await metafileOf(
    injector.packageDir,
    injector.entries,
    serviceBuildOptions.plugins.filter((plugin) => plugin !== onePackageCopy),
  );
  const withPlugin = await metafileOf(injector.packageDir, injector.entries);
  const duplicated = [...copiesById(without, injector.packageDir)].filter(([, dirs]) => dirs.size > 1);
  expect(duplicatePackageCopies(without, injector.packageDir).length).toBe(duplicated.length);
  expect(duplicated.map(([id]) => id)).toContain('mime-db@1.54.0');
  const deduped = copiesById(withPlugin, injector.packageDir);
  for (const [id] of duplicated) expect([id, deduped.get(id)?.size]).toEqual([id, 1]);
}, 240_000);
