// @vaultbridge/core as application authors get it: packed with `npm pack`, installed into an empty app
// outside the workspace, and the README's application example run against the real stack. Proves the
// tarball ships only what runs, the subpath entries resolve from the built files, and an app that only
// logs in and reads a secret does not install the services' heavy dependencies.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sharedStack, type TestStack } from '@vaultbridge/testenv';

const packageDir = path.resolve(import.meta.dirname, '..');
let stack: TestStack;
let workDir: string;
let tarball: string;
let appDir: string;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: 240_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

beforeAll(() => {
  stack = sharedStack();
  if (!fs.existsSync(path.join(packageDir, 'dist/src/index.js'))) {
    throw new Error(`packages/core/dist is not built: run "npx tsc -b" from the repo root before this test`);
  }
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vaultbridge-core-pack-'));
  const packed = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', workDir], packageDir)) as Array<{
    filename: string;
  }>;
  tarball = path.join(workDir, packed[0]!.filename);
  appDir = path.join(workDir, 'app');
  fs.mkdirSync(appDir);
  fs.writeFileSync(
    path.join(appDir, 'package.json'),
    JSON.stringify({
      name: 'packed-core-app',
      private: true,
      type: 'module',
      dependencies: { '@vaultbridge/core': `file:${tarball}` },
    }),
  );
  fs.copyFileSync(path.join(import.meta.dirname, 'packed-app/app.mjs'), path.join(appDir, 'app.mjs'));
  run(
    'npm',
    ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    appDir,
  );
}, 300_000);

afterAll(() => {
  if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
});

test('the tarball holds the built library and its README only: no tests, sources or build info', () => {
  const files = run('tar', ['-tzf', tarball], workDir)
    .trim()
    .split('\n')
    .map((name) => name.replace(/^package\//, ''));
  expect(files).toContain('dist/src/index.js');
  expect(files).toContain('dist/src/vault/index.d.ts');
  expect(files.filter((name) => /\.test\.|\/test\/|^src\/|tsbuildinfo|\.map$/.test(name))).toEqual([]);
});

test('an app that logs in and reads a secret does not install client-node, prom-client or commander', () => {
  const lock = JSON.parse(fs.readFileSync(path.join(appDir, 'node_modules/.package-lock.json'), 'utf8')) as {
    packages: Record<string, unknown>;
  };
  const installed = Object.keys(lock.packages).map((key) => key.replace(/^.*node_modules\//, ''));
  expect(installed).toContain('@vaultbridge/core');
  expect(installed).not.toContain('@kubernetes/client-node');
  expect(installed).not.toContain('prom-client');
  expect(installed).not.toContain('commander');
  // Reported in the core README; a jump here means a heavy dependency came back.
  expect(installed.length).toBeLessThan(60);
});

test("the README's application example logs in with a service-account token file and reads the secret", async () => {
  const namespace = stack.uniqueName('packed');
  const role = stack.uniqueName('packed-role');
  const folder = stack.uniqueName('packed-app');
  await stack.createServiceAccount(namespace, 'web');
  await stack.writePolicy(role, `path "${stack.layout.kvV2Mount}/data/${folder}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['web'],
    namespaces: [namespace],
    policies: [role],
    audience: 'vault',
  });
  const greeting = `hello ${stack.uniqueName('from-vault')}`;
  await stack.vaultAdmin.write(`${stack.layout.kvV2Mount}/data/${folder}/web`, { data: { greeting } });
  const { token } = await stack.requestToken(namespace, 'web', { audiences: ['vault'] });
  const tokenFile = path.join(workDir, 'token');
  fs.writeFileSync(tokenFile, token, { mode: 0o600 });

  const output = run(process.execPath, ['app.mjs'], appDir, {
    PATH: process.env.PATH,
    VAULT_ADDR: stack.vaultAddr,
    VAULT_ROLE: role,
    TOKEN_FILE: tokenFile,
    SECRET_PATH: `${stack.layout.kvV2Mount}/${folder}/web`,
  });
  expect(output.trim()).toBe(`greeting=${greeting}`);
});
