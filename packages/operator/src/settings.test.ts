// Flags and environment variables go through the same checks; errors name what the user wrote.
import { PassThrough } from 'node:stream';
import { ConfigError } from '@vaultbridge/core';
import { runOperatorCli } from './cli.ts';
import { readOperatorSettings } from './settings.ts';

function problem(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('readOperatorSettings', () => {
  it('defaults with nothing set', () => {
    expect(readOperatorSettings({ flags: {}, env: {} })).toEqual({
      operatorNamespace: 'default',
      installCrds: false,
      maxConcurrentReconciles: 100,
      healthProbeBind: { host: '0.0.0.0', port: 8081 },
      leaderElect: false,
      allowedVaultAddresses: [],
      serveVsoApiGroup: false,
      logLevel: 'info',
    });
  });

  it('reads every variable; flags win over them; empty variables count as unset', () => {
    const env = {
      KUBECONFIG: '/k',
      OPERATOR_NAMESPACE: 'ops',
      VSO_INSTALL_CRDS: 'true',
      VSO_MAX_CONCURRENT_RECONCILES: '7',
      VSO_HEALTH_PROBE_BIND_ADDRESS: '127.0.0.1:9000',
      VSO_LEADER_ELECT: 'yes',
      VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES: 'https://a:8200, https://b',
      LOG_LEVEL: 'DEBUG',
      POD_NAME: 'pod-1',
      OPERATOR_POD_UID: 'uid-1',
      VAULTBRIDGE_SERVE_VSO_API_GROUP: 'true',
    };
    expect(readOperatorSettings({ flags: {}, env })).toEqual({
      kubeconfig: '/k',
      operatorNamespace: 'ops',
      installCrds: true,
      maxConcurrentReconciles: 7,
      healthProbeBind: { host: '127.0.0.1', port: 9000 },
      leaderElect: true,
      allowedVaultAddresses: ['https://a:8200', 'https://b'],
      serveVsoApiGroup: true,
      logLevel: 'debug',
      podName: 'pod-1',
      podUid: 'uid-1',
    });
    const flagged = readOperatorSettings({
      flags: { maxConcurrentReconciles: '3', logLevel: 'warn', leaderElect: true },
      env: { ...env, VSO_LEADER_ELECT: '' },
    });
    expect([flagged.maxConcurrentReconciles, flagged.logLevel, flagged.leaderElect]).toEqual([3, 'warn', true]);
    expect(
      readOperatorSettings({ flags: {}, env: { VSO_MAX_CONCURRENT_RECONCILES: '' } }).maxConcurrentReconciles,
    ).toBe(100);
  });

  it('the in-cluster namespace file wins over OPERATOR_NAMESPACE, the flag over both (as VSO)', () => {
    expect(
      readOperatorSettings({ flags: {}, env: { OPERATOR_NAMESPACE: 'env' }, namespaceFile: 'pod-ns\n' })
        .operatorNamespace,
    ).toBe('pod-ns');
    expect(
      readOperatorSettings({ flags: { operatorNamespace: 'flag' }, env: {}, namespaceFile: 'pod-ns' })
        .operatorNamespace,
    ).toBe('flag');
  });

  it.each([
    ['VSO_MAX_CONCURRENT_RECONCILES', '-1', 'expected a whole number of 1 or more'],
    ['VSO_MAX_CONCURRENT_RECONCILES', 'many', 'expected a whole number of 1 or more'],
    ['VSO_MAX_CONCURRENT_RECONCILES', '1.5', 'expected a whole number of 1 or more'],
    ['LOG_LEVEL', 'loud', 'expected one of'],
    ['VSO_LEADER_ELECT', 'sure', 'expected true or false'],
    ['VSO_INSTALL_CRDS', 'maybe', 'expected true or false'],
    ['VSO_HEALTH_PROBE_BIND_ADDRESS', '8081', 'expected host:port'],
    ['VAULTBRIDGE_ALLOWED_VAULT_ADDRESSES', 'vault:8200', 'expected comma-separated Vault addresses'],
  ])('refuses %s=%s, naming the variable and what is expected', (name, value, expected) => {
    const error = problem(() => readOperatorSettings({ flags: {}, env: { [name]: value } }));
    expect(error.source).toBe('environment');
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.field).toBe(name);
    expect(error.issues[0]?.message).toContain(expected);
  });

  it('refuses the same values given as flags, naming the flag', () => {
    const error = problem(() =>
      readOperatorSettings({ flags: { maxConcurrentReconciles: '-1', logLevel: 'loud' }, env: {} }),
    );
    expect(error.source).toBe('flags');
    expect(error.issues.map((issue) => issue.field)).toEqual(['--max-concurrent-reconciles', '--log-level']);
  });

  it('lists every bad variable at once', () => {
    const error = problem(() =>
      readOperatorSettings({ flags: {}, env: { VSO_MAX_CONCURRENT_RECONCILES: '0', LOG_LEVEL: 'loud' } }),
    );
    expect(error.issues.map((issue) => issue.field).sort()).toEqual(['LOG_LEVEL', 'VSO_MAX_CONCURRENT_RECONCILES']);
  });
});

describe('vaultbridge-operator command line', () => {
  async function run(argv: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
    const stderr = new PassThrough();
    let text = '';
    stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const code = await runOperatorCli(argv, { stdout: new PassThrough(), stderr, env });
    return { code, stderr: text };
  }

  // Refused before anything starts: no cluster is contacted, no port is opened.
  it('stops at start on VSO_MAX_CONCURRENT_RECONCILES=-1 and LOG_LEVEL=loud, naming each and the fix', async () => {
    const { code, stderr } = await run([], { VSO_MAX_CONCURRENT_RECONCILES: '-1', LOG_LEVEL: 'loud' });
    expect(code).toBe(1);
    expect(stderr).toContain('VSO_MAX_CONCURRENT_RECONCILES: expected a whole number of 1 or more, got -1');
    expect(stderr).toContain('LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal');
    expect(stderr).toContain('fix or unset the variable');
  });

  it('stops at start on --max-concurrent-reconciles 0, naming the flag', async () => {
    const { code, stderr } = await run(['--max-concurrent-reconciles', '0'], {});
    expect(code).toBe(1);
    expect(stderr).toContain('--max-concurrent-reconciles: expected a whole number of 1 or more, got 0');
  });
});
