// A short-lived child process of the provider (see kube-access.ts): loads the kubeconfig, reads or
// creates the HMAC key Secret, sends the key back over the IPC channel and exits. The Kubernetes client
// is evaluated in this process only; its memory goes back to the system when it exits.
import { createLogger, loadKubeConfig, type LogLevel } from '@vaultbridge/core';
import { loadOrCreateHmacKey } from './hmac-key.ts';
import type { HmacKeyReply, HmacKeyTask } from './hmac-key-child.ts';

async function run(task: HmacKeyTask): Promise<HmacKeyReply> {
  let kubeConfig;
  try {
    kubeConfig = loadKubeConfig(task.kubeconfigPath);
  } catch (error) {
    return { ok: false, stage: 'kubeconfig', message: (error as Error).message };
  }
  try {
    const logger = createLogger({ name: task.loggerName, level: task.logLevel as LogLevel });
    const key = await loadOrCreateHmacKey(kubeConfig, task.namespace, task.secretName, logger);
    return { ok: true, key: key.toString('base64') };
  } catch (error) {
    return { ok: false, stage: 'secret', message: (error as Error).message };
  }
}

if (import.meta.main) {
  const send = process.send?.bind(process);
  if (!send)
    throw new Error('hmac-key-process runs as a child of the CSI provider (with an IPC channel), not on its own');
  const reply = await run(JSON.parse(process.argv[2] ?? '{}') as HmacKeyTask);
  send(reply, () => process.disconnect());
}
