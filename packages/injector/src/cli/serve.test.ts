import type { ServeConfig } from '../webhook/config.ts';
import { runInjectorCli } from './injector.ts';
import { commandLineServeOptions } from './serve.ts';

/** The config `serve` would start with for these flags (the real command line, nothing started). */
async function configFor(args: string[]): Promise<ServeConfig> {
  let config: ServeConfig | undefined;
  let stderr = '';
  const code = await runInjectorCli(
    ['serve', ...args],
    { stdout: { write: () => true }, stderr: { write: (text: string) => (stderr += text) }, env: {} },
    { startWebhook: async (started) => void (config = started) },
  );
  if (config === undefined) throw new Error(`serve refused to start (exit ${code}):\n${stderr}`);
  return config;
}

describe('commandLineServeOptions', () => {
  const vault = ['--vault-address', 'https://vault.vault.svc:8200'];

  test('with certificate files no certificate child is set up, so the running script need not be known', async () => {
    const config = await configFor([...vault, '--tls-cert-file', '/tls/tls.crt', '--tls-key-file', '/tls/tls.key']);
    // As under `node -e`, where process.argv[1] is empty and the child's command cannot be built.
    const unknownScript = (): never => {
      throw new Error('cannot tell which script is running (process.argv[1] is empty)');
    };
    expect(commandLineServeOptions(config, unknownScript)).toEqual({ installSignalHandlers: true });
  });

  test('with --tls-auto the certificates are made by this program run again as a child', async () => {
    const config = await configFor([
      ...vault,
      '--tls-auto',
      'vault-agent-injector-cfg',
      '--tls-auto-hosts',
      'vaultbridge-injector.vault.svc',
    ]);
    const built: string[][] = [];
    const options = commandLineServeOptions(config, () => {
      const command: [string, ...string[]] = ['/usr/local/bin/node', '/app/injector.mjs', 'issue-certificate'];
      built.push(command);
      return command;
    });
    expect(options.installSignalHandlers).toBe(true);
    expect(typeof options.certificateIssuer?.generateCertificateAuthority).toBe('function');
    expect(typeof options.certificateIssuer?.issueServingCertificate).toBe('function');
    expect(built).toHaveLength(1);
  });
});
