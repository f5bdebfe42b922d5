import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startStack, useExistingStack, type RunningStack } from './stack.ts';

const usage = `vaultbridge-testenv up [--handle-file FILE] [--existing] [--keep-logs] [--cluster]

Starts etcd, kube-apiserver, PostgreSQL and a dev Vault on free loopback ports, configures Vault
(kv-v2, kv-v1, database, pki, transit, kubernetes auth) and prints the exports to use them.
Stays up until Ctrl-C (SIGINT) or SIGTERM, then stops every server.

  --handle-file FILE  also write the stack's handle (JSON) to FILE, for tests (VAULTBRIDGE_STACK)
  --existing          use KUBECONFIG, VAULT_ADDR and VAULT_TOKEN instead of starting servers
  --keep-logs         keep the work dir with the servers' logs after stopping
  --cluster           also run a real one-node Kubernetes (root, Linux; tools/install.sh cluster)
                      with the service images imported; state in /var/lib/vaultbridge-cluster`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'handle-file': { type: 'string' },
      existing: { type: 'boolean', default: false },
      'keep-logs': { type: 'boolean', default: false },
      cluster: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals[0] !== 'up') {
    console.log(usage);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const started = Date.now();
  const onProgress = (message: string): void => console.error(`[testenv] ${message}`);
  const useExisting = values.existing || process.env.VAULTBRIDGE_USE_EXISTING === '1';

  // Installed before starting: a signal during a (long) cluster start stops what started so far
  // once the start returns, instead of leaving the node's daemons behind.
  // eslint-disable-next-line prefer-const -- assigned once below, after `stop` (which reads it) is installed
  let stack: RunningStack | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.error(`[testenv] ${signal}: stopping`);
    if (!stack) return;
    await stack.stop();
    if (values['handle-file']) fs.rmSync(values['handle-file'], { force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));

  stack = useExisting
    ? await useExistingStack({ onProgress })
    : await startStack({ onProgress, keepWorkDir: values['keep-logs'], cluster: values.cluster });
  if (stopping) {
    await stack.stop();
    process.exit(0);
  }

  if (values['handle-file']) {
    const file = path.resolve(values['handle-file']);
    // Written atomically: a reader waiting for the file never sees half of it.
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(stack.handle, null, 2), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  }
  const h = stack.handle;
  console.error(
    `[testenv] stack up in ${((Date.now() - started) / 1000).toFixed(1)}s; logs in ${path.join(h.workDir, 'logs')}`,
  );
  console.log(`export KUBECONFIG=${h.kubeconfigPath} VAULT_ADDR=${h.vault.addr} VAULT_TOKEN=${h.vault.token}`);
  if (h.postgres)
    console.log(
      `# PostgreSQL: postgresql://${h.postgres.user}@${h.postgres.host}:${h.postgres.port}/${h.postgres.database}`,
    );
  console.log(`# Vault request counts: curl ${h.vault.addr}/_testenv/requests`);
}

main().catch((error: unknown) => {
  console.error(`[testenv] ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
