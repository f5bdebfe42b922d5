// `up --cluster` needs root on Linux; anyone else gets a clear refusal naming what still runs, and
// nothing on the machine is touched. Run as root (as CI does), the CLI is started as `nobody`.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../src/index.ts';

test('up --cluster refuses a user who is not root, naming the command for the tiers below', () => {
  const cli = [
    '--conditions=@vaultbridge/source',
    path.join(repoRoot, 'packages/testenv/src/cli.ts'),
    'up',
    '--cluster',
  ];
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...cli], {
        encoding: 'utf8',
        timeout: 60_000,
      })
    : spawnSync(process.execPath, cli, { encoding: 'utf8', timeout: 60_000 });
  expect(result.error).toBeUndefined();
  expect(result.status).toBe(1);
  expect(result.stderr).toContain('the cluster tier needs root');
  expect(result.stderr).toContain('npm run test:api');
});
