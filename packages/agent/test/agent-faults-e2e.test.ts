// Faults against the in-pod agent as the kubelet runs it (a `vaultbridge-agent sidecar` process, its
// AgentConfig from the webhook's own decision, a real TokenRequest token): Vault unavailable for 30 s,
// Vault dripping its answer, and SIGTERM / SIGKILL while files are being rewritten. The bar in every
// case: no rendered file is ever emptied, truncated or half-written, no token or value reaches the
// logs, and the sidecar renders the next change once Vault is back. Faults go through the stack's
// counting proxy, scoped to this test's Vault path, or a TCP relay only this test's agent uses, so
// concurrent tests are not disturbed.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { InterruptibleTcpProxy, sharedStack, type TestStack, writePodToken } from '@vaultbridge/testenv';
import { decide } from '@vaultbridge/injector';
import { AGENT_CONFIG_ENV, expandAgentConfig, type AgentConfig } from '../src/contract/index.ts';
import { pod } from './support/pods.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../src/cli/agent.ts');

let stack: TestStack;
let ns: string;
let role: string;

beforeAll(async () => {
  stack = sharedStack();
  ns = stack.uniqueName('agent-faults');
  role = `${ns}-app`;
  await stack.createNamespace(ns);
  await stack.createServiceAccount(ns, 'app');
  await stack.writePolicy(role, `path "${stack.layout.kvV2Mount}/data/${ns}/*" { capabilities = ["read"] }`);
  await stack.writeKubernetesRole(role, {
    serviceAccounts: ['app'],
    namespaces: [ns],
    policies: [role],
    audience: 'vault',
  });
});

afterAll(async () => {
  await stack?.setVaultFault('none');
});

const kvPath = (name: string): string => `${stack.layout.kvV2Mount}/data/${ns}/${name}`;

async function writeKv(name: string, data: Record<string, string>): Promise<void> {
  await stack.vaultAdmin.write(kvPath(name), { data });
}

/** The sidecar's AgentConfig as the webhook injects it for these annotations. */
function injectedSidecar(
  annotations: Record<string, string>,
  vaultAddress = stack.vaultAddr,
): { config: AgentConfig; encoded: string } {
  const decision = decide(pod({ role, ...annotations }, { serviceAccountName: 'app' }), ns, { vaultAddress });
  if (decision.kind !== 'inject') throw new Error(`expected an injection, got ${decision.kind}`);
  const containers: V1Container[] = [
    ...(decision.pod.spec?.initContainers ?? []),
    ...(decision.pod.spec?.containers ?? []),
  ];
  const encoded = containers
    .find((c) => c.name === 'vault-agent')
    ?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
  if (encoded === undefined) throw new Error(`no ${AGENT_CONFIG_ENV} on vault-agent`);
  return {
    config: expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as AgentConfig,
    encoded,
  };
}

async function podRoot(config: AgentConfig): Promise<string> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-faults-'));
  await writePodToken(stack, root, config.auth.serviceAccountTokenPath, ns, 'app', { audiences: ['vault'] });
  return root;
}

interface AgentRun {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startSidecar(encoded: string, root: string, extraEnv: Record<string, string> = {}): AgentRun {
  const child = spawn(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'sidecar'],
    {
      // Trace level: the strictest check that no token or value is ever logged.
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        [AGENT_CONFIG_ENV]: encoded,
        VAULTBRIDGE_AGENT_ROOT: root,
        VAULT_LOG_LEVEL: 'trace',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

async function waitFor(
  what: string,
  check: () => boolean,
  run: AgentRun,
  timeoutMs = 30_000,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent output:\n${run.output()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const read = (file: string): string => fs.readFileSync(file, 'utf8');

/** Leftover temporary files of the atomic writer (`.<name>.<random>.tmp`) in a directory. */
const temporaries = (dir: string): string[] => fs.readdirSync(dir).filter((entry) => entry.endsWith('.tmp'));

test('Vault unavailable for 30 s (15 s answering 503, 15 s stopped: every connection refused, login and renewal included): the file keeps its content, the sidecar re-renders the change after', async () => {
  await writeKv('outage', { password: 'before-outage' });
  // A relay in front of the stack's proxy, for this agent alone: cutting it is Vault stopped for the
  // agent (every request: KV reads, token renewal, re-login, the event stream) and for no other test.
  const stackVault = new URL(stack.vaultAddr);
  const relay = new InterruptibleTcpProxy({ host: stackVault.hostname, port: Number(stackVault.port) });
  await relay.listen();
  const { config, encoded } = injectedSidecar(
    {
      'agent-inject-secret-app': kvPath('outage'),
      'agent-inject-template-app': 'password={{secret "password"}}\n',
      'template-static-secret-render-interval': '1s',
    },
    `http://127.0.0.1:${relay.port}`,
  );
  const root = await podRoot(config);
  const run = startSidecar(encoded, root);
  const file = path.join(root, '/vault/secrets/app');
  try {
    await waitFor('the first render', () => fs.existsSync(file), run);
    expect(read(file)).toBe('password=before-outage\n');

    let checks = 0;
    const holds = async (ms: number): Promise<void> => {
      for (const end = Date.now() + ms; Date.now() < end; checks++) {
        // Every half second of the outage the file is whole and unchanged, and the agent still runs.
        expect(read(file)).toBe('password=before-outage\n');
        expect(run.child.exitCode).toBeNull();
        await sleep(500);
      }
    };
    try {
      await stack.setVaultFault('unavailable', { pathPrefix: kvPath('outage') });
      await holds(15_000);
      // The value changes in Vault while the agent cannot reach it.
      await writeKv('outage', { password: 'after-outage' });
      relay.cut();
      await stack.setVaultFault('none');
      await holds(15_000);
    } finally {
      relay.restore();
      await stack.setVaultFault('none');
    }
    const restoredAt = Date.now();
    await waitFor('the new value after Vault is back', () => read(file) === 'password=after-outage\n', run, 30_000, 20);
    console.info(
      `agent-faults-e2e: outage: ${checks} checks held; re-rendered ${Date.now() - restoredAt} ms after Vault was back`,
    );
    expect(checks).toBeGreaterThanOrEqual(40);
    expect(temporaries(path.dirname(file))).toEqual([]);
    // The failures were logged, the values never.
    expect(run.output()).toContain('"secretName":"app"');
    expect(run.output()).not.toContain('before-outage');
    expect(run.output()).not.toContain('after-outage');
    expect(run.output()).not.toContain(read(path.join(root, '/home/vault/.vault-token')));
    run.child.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
  } finally {
    run.child.kill('SIGKILL');
    await relay.close();
  }
}, 60_000);

test('Vault dripping its answer (1 byte/s): the file is untouched, each attempt ends at the client timeout, and the change is rendered once Vault answers normally', async () => {
  await writeKv('drip', { password: 'before-drip' });
  const { config, encoded } = injectedSidecar({
    'agent-inject-secret-app': kvPath('drip'),
    'agent-inject-template-app': 'password={{secret "password"}}\n',
    'template-static-secret-render-interval': '1s',
  });
  const root = await podRoot(config);
  // VAULT_CLIENT_TIMEOUT (the pod's agent-client-timeout): a total deadline per request.
  const run = startSidecar(encoded, root, { VAULT_CLIENT_TIMEOUT: '2s' });
  const file = path.join(root, '/vault/secrets/app');
  try {
    await waitFor('the first render', () => fs.existsSync(file), run);
    await stack.setVaultFault('drip', { pathPrefix: kvPath('drip') });
    try {
      await writeKv('drip', { password: 'after-drip' });
      for (let check = 0; check < 16; check++) {
        expect(read(file)).toBe('password=before-drip\n');
        expect(run.child.exitCode).toBeNull();
        await sleep(500);
      }
    } finally {
      await stack.setVaultFault('none');
    }
    const restoredAt = Date.now();
    await waitFor('the new value after the drip', () => read(file) === 'password=after-drip\n', run, 30_000, 20);
    console.info(`agent-faults-e2e: drip: re-rendered ${Date.now() - restoredAt} ms after Vault answered normally`);
    // The dripping reads failed on the client's timeout (they were not waited out).
    expect(run.output()).toMatch(/"secretName":"app"[^\n]*(timed out|timeout|aborted)/i);
    expect(run.output()).not.toContain('after-drip');
    expect(temporaries(path.dirname(file))).toEqual([]);
  } finally {
    run.child.kill('SIGKILL');
  }
}, 60_000);

describe.each(['SIGTERM', 'SIGKILL'] as const)('%s while 12 files of 256 KiB are being rewritten', (signal) => {
  test('every file is whole (the old or the new content, never a mix or a prefix), and no token or value is logged', async () => {
    const name = `big-${signal.toLowerCase()}`;
    const size = 256 * 1024;
    const before = 'a'.repeat(size);
    const after = 'b'.repeat(size);
    await writeKv(name, { blob: before });
    const annotations: Record<string, string> = { 'template-static-secret-render-interval': '1s' };
    const files = Array.from({ length: 12 }, (_, i) => `f${i}`);
    for (const file of files) {
      annotations[`agent-inject-secret-${file}`] = kvPath(name);
      annotations[`agent-inject-template-${file}`] = '{{secret "blob"}}';
    }
    const { config, encoded } = injectedSidecar(annotations);
    const root = await podRoot(config);
    const dir = path.join(root, '/vault/secrets');
    const run = startSidecar(encoded, root);
    try {
      await waitFor('the first render', () => files.every((file) => fs.existsSync(path.join(dir, file))), run);
      expect(files.map((file) => read(path.join(dir, file)) === before)).toEqual(files.map(() => true));

      await writeKv(name, { blob: after });
      // The signal comes as soon as the first file has the new content: the others are being rewritten.
      await waitFor(
        'the first rewritten file',
        () => files.some((file) => read(path.join(dir, file)) === after),
        run,
        30_000,
        5,
      );
      run.child.kill(signal);
      const exit = await run.exited;
      if (signal === 'SIGTERM') expect(exit.code).toBe(0);
      else expect(exit.signal).toBe('SIGKILL');

      const contents = files.map((file) => read(path.join(dir, file)));
      const states = contents.map((content) =>
        content === before ? 'old' : content === after ? 'new' : `broken (${content.length} bytes)`,
      );
      console.info(
        `agent-faults-e2e: ${signal}: ${states.filter((s) => s === 'new').length} new, ${states.filter((s) => s === 'old').length} old, ${temporaries(dir).length} temporary files left`,
      );
      expect(states.every((state) => state === 'old' || state === 'new')).toBe(true);
      // A graceful stop finishes or abandons a write cleanly; only a SIGKILL may leave a temporary file,
      // which is never the file the application reads.
      if (signal === 'SIGTERM') expect(temporaries(dir)).toEqual([]);
      expect(run.output()).not.toContain('aaaaaaaa');
      expect(run.output()).not.toContain('bbbbbbbb');
      expect(run.output()).not.toContain(read(path.join(root, '/home/vault/.vault-token')));

      // The next sidecar on the same volume (a restarted container) brings every file to the new content.
      const next = startSidecar(encoded, root);
      try {
        await waitFor(
          'every file rewritten by the next sidecar',
          () => files.every((file) => read(path.join(dir, file)) === after),
          next,
        );
        next.child.kill('SIGTERM');
        expect((await next.exited).code).toBe(0);
      } finally {
        next.child.kill('SIGKILL');
      }
    } finally {
      run.child.kill('SIGKILL');
    }
  }, 60_000);
});
