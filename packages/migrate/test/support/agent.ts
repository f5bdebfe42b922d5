// The injector side of the e2e proofs: an annotated Deployment and the files its agent renders, the agent
// run as a process with the configuration the webhook gives its init container (as the injector's own
// e2e runs it), logging in with the pod's service-account token.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Container } from '@kubernetes/client-node';
import { AGENT_CONFIG_ENV, expandAgentConfig } from '@vaultbridge/agent/contract';
import { applyServiceAccountAdmission, decide, findPod } from '@vaultbridge/injector';
import { writePodToken, type TestStack } from '@vaultbridge/testenv';
import type { Manifest } from '../../src/manifests.ts';

const AGENT_CLI = path.join(import.meta.dirname, '../../../agent/src/cli/agent.ts');

export interface AgentFiles {
  readonly root: string;
  read(file: string): string;
  mode(file: string): number;
}

export async function agentFiles(
  stack: TestStack,
  namespace: string,
  serviceAccount: string,
  workload: Manifest,
): Promise<AgentFiles> {
  const decision = decide(applyServiceAccountAdmission(findPod(workload)!.pod), namespace, {
    vaultAddress: stack.vaultAddr,
  });
  if (decision.kind !== 'inject') throw new Error(`the injector would not inject: ${JSON.stringify(decision)}`);
  const init = (decision.pod.spec?.initContainers ?? []).find((c: V1Container) => c.name === 'vault-agent-init')!;
  const encoded = init.env!.find((e) => e.name === AGENT_CONFIG_ENV)!.value!;
  const config = expandAgentConfig(JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'))) as {
    auth: { serviceAccountTokenPath: string };
  };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-agent-'));
  // The pod's own projected token: the API server's default audience.
  await writePodToken(stack, root, config.auth.serviceAccountTokenPath, namespace, serviceAccount);
  const child = spawn(
    process.execPath,
    ['--conditions=@vaultbridge/source', '--disable-warning=ExperimentalWarning', AGENT_CLI, 'init'],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', [AGENT_CONFIG_ENV]: encoded, VAULTBRIDGE_AGENT_ROOT: root },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the agent exited ${code}:\n${output}`);
  return {
    root,
    read: (file) => fs.readFileSync(path.join(root, file), 'utf8'),
    mode: (file) => fs.statSync(path.join(root, file)).mode & 0o777,
  };
}

/** The Deployment both injector e2e files migrate: defaults, a template with a custom path and mode, JSON, database. */
export function annotatedDeployment(namespace: string, role: string, kvSecretPath: string, dbPath: string): Manifest {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: {
          labels: { app: 'web' },
          annotations: {
            'vault.hashicorp.com/agent-inject': 'true',
            'vault.hashicorp.com/role': role,
            // the default rendering (key: value lines)
            'vault.hashicorp.com/agent-inject-secret-config.txt': kvSecretPath,
            // a template with the secret helper and a field, in a custom directory and file name, with a mode
            'vault.hashicorp.com/agent-inject-secret-dsn': kvSecretPath,
            'vault.hashicorp.com/agent-inject-template-dsn': 'user={{secret "username"}}\npassword={{password}}\n',
            'vault.hashicorp.com/secret-volume-path-dsn': '/etc/app',
            'vault.hashicorp.com/agent-inject-file-dsn': 'conf/dsn.env',
            'vault.hashicorp.com/agent-inject-perms-dsn': '0400',
            // the JSON default for one secret
            'vault.hashicorp.com/agent-inject-secret-settings.json': kvSecretPath,
            'vault.hashicorp.com/agent-inject-default-template-settings.json': 'json',
            // one key alone (upstream CSI's secretKey)
            'vault.hashicorp.com/agent-inject-secret-password': kvSecretPath,
            'vault.hashicorp.com/agent-inject-template-password': '{{password}}',
            // a database credential with a template
            'vault.hashicorp.com/agent-inject-secret-db': dbPath,
            'vault.hashicorp.com/agent-inject-template-db': 'postgresql://{{username}}:{{password}}@db/app',
          },
        },
        spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'busybox' }] },
      },
    },
  };
}

export const DB_DSN = /^postgresql:\/\/([^:]+):([^@]+)@db\/app$/;
